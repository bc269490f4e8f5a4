package accounts

import (
	"context"
	"time"

	"github.com/riverqueue/river"
)

// CleanupArgs is the periodic River job that deletes expired sessions.
type CleanupArgs struct{}

// Kind names the job in River's table.
func (CleanupArgs) Kind() string { return "accounts.cleanup_sessions" }

// CleanupWorker runs CleanupArgs.
type CleanupWorker struct {
	river.WorkerDefaults[CleanupArgs]
	Service *Service
}

// Work deletes expired sessions.
func (w *CleanupWorker) Work(ctx context.Context, _ *river.Job[CleanupArgs]) error {
	_, err := w.Service.store.DeleteExpiredSessions(ctx, w.Service.now())
	return err
}

// CleanupPeriodicJob schedules CleanupArgs every hour.
func CleanupPeriodicJob() *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(time.Hour),
		func() (river.JobArgs, *river.InsertOpts) { return CleanupArgs{}, nil },
		&river.PeriodicJobOpts{RunOnStart: true})
}
