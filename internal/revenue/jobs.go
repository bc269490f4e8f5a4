package revenue

import (
	"context"
	"errors"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/ucc-video/ucc/internal/errs"
)

// CalculateArgs is the River job that calculates a period's draft, for
// scheduled or operator-triggered runs. (The API's calculate runs the same
// Service.Calculate synchronously so finance sees the result or the
// conflict at once.)
type CalculateArgs struct {
	Period string `json:"period"`
}

// Kind names the job in River's table.
func (CalculateArgs) Kind() string { return "revenue.calculate" }

// InsertOpts keeps one queued calculation per period.
func (CalculateArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: []rivertype.JobState{
		rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning, rivertype.JobStateScheduled, rivertype.JobStateRetryable}}}
}

// CalculateWorker runs CalculateArgs.
type CalculateWorker struct {
	river.WorkerDefaults[CalculateArgs]
	Service *Service
}

// Work calculates the period. A run already in progress snoozes the job;
// an approved or missing period cancels it (retrying cannot help).
func (w *CalculateWorker) Work(ctx context.Context, job *river.Job[CalculateArgs]) error {
	_, err := w.Service.Calculate(ctx, Actor{Name: "revenue job"}, job.Args.Period)
	var e *errs.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &e) && (e.Code == "calculation_running" || e.Code == "views_pending" ||
		e.Code == "buckets_changed_during_calculation"):
		// Another run, or views of the period still on their way from
		// Redis: try again when the flusher has had its turn.
		return river.JobSnooze(30 * time.Second)
	case errors.Is(err, errs.ErrConflict), errors.Is(err, errs.ErrNotFound), errors.Is(err, errs.ErrInvalid):
		return river.JobCancel(err)
	}
	return err
}
