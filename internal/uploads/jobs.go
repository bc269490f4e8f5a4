package uploads

import (
	"context"
	"time"

	"github.com/riverqueue/river"
)

// ExpireArgs is the periodic River job that aborts uploads not completed in time.
type ExpireArgs struct{}

// Kind names the job in River's table.
func (ExpireArgs) Kind() string { return "uploads.expire_sessions" }

// ExpireWorker runs ExpireArgs.
type ExpireWorker struct {
	river.WorkerDefaults[ExpireArgs]
	Service *Service
}

// Work aborts expired sessions and removes their parts, tails and rows.
func (w *ExpireWorker) Work(ctx context.Context, _ *river.Job[ExpireArgs]) error {
	n, err := w.Service.ExpireOld(ctx)
	if n > 0 {
		w.Service.log.InfoContext(ctx, "expired uploads removed", "count", n)
	}
	return err
}

// ExpirePeriodicJob schedules ExpireArgs every hour.
func ExpirePeriodicJob() *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(time.Hour),
		func() (river.JobArgs, *river.InsertOpts) { return ExpireArgs{}, nil },
		&river.PeriodicJobOpts{RunOnStart: true})
}
