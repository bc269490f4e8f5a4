package videos

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"
)

// TranscodeQueue is the River queue transcoding jobs run on, apart from
// short jobs so a long encode never delays them.
const TranscodeQueue = "transcode"

// TranscodeArgs is the River job that turns a video's original into
// renditions and a thumbnail. It is enqueued in the transaction that
// creates the video row.
type TranscodeArgs struct {
	VideoID int64 `json:"video_id"`
}

// Kind names the job in River's table.
func (TranscodeArgs) Kind() string { return "videos.transcode" }

// InsertOpts puts the job on TranscodeQueue with 5 attempts (River's
// exponential backoff between them).
func (TranscodeArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: TranscodeQueue, MaxAttempts: 5}
}

// TranscodeWorker runs TranscodeArgs.
type TranscodeWorker struct {
	river.WorkerDefaults[TranscodeArgs]
	Service *Service
}

// NewTranscodeWorker returns the worker for s.
func NewTranscodeWorker(s *Service) *TranscodeWorker { return &TranscodeWorker{Service: s} }

// Timeout stops a runaway job after UCC_TRANSCODE_TIMEOUT; ffmpeg is killed
// with the job's context.
func (w *TranscodeWorker) Timeout(*river.Job[TranscodeArgs]) time.Duration {
	return w.Service.cfg.TranscodeTimeout
}

// Work processes the video. A permanent failure (the file cannot be
// decoded) marks the video failed and cancels the job; a transient one
// (storage, database) is retried with backoff, and the last attempt marks
// the video failed.
//
// A job that runs past UCC_TRANSCODE_TIMEOUT is permanent too: the file
// would take as long again at every attempt. A creator with
// Limits.PerCreator jobs running already, or a worker short of disk, waits
// (the job is snoozed, which costs no attempt).
func (w *TranscodeWorker) Work(ctx context.Context, job *river.Job[TranscodeArgs]) error {
	s := w.Service
	if job.JobRow != nil && job.ID > 0 {
		ahead, err := s.store.TranscodesAhead(ctx, job.Args.VideoID, job.ID)
		if err != nil {
			return err
		}
		if ahead >= s.limits.PerCreator {
			return river.JobSnooze(perCreatorWait)
		}
	}
	err := s.Process(ctx, job.Args.VideoID)
	if err == nil {
		return nil
	}
	var perm *permanentError
	last := job.JobRow != nil && job.Attempt >= job.MaxAttempts
	switch {
	case errors.As(err, &perm):
		s.failVideo(ctx, job.Args.VideoID, perm.reason, err)
		return river.JobCancel(err)
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		reason := errTookTooLong(s.cfg.TranscodeTimeout)
		s.failVideo(ctx, job.Args.VideoID, reason.Error(), err)
		return river.JobCancel(fmt.Errorf("%w: %w", reason, err))
	case errors.Is(err, errNoDisk):
		s.log.WarnContext(ctx, "transcode waits for disk space", "video_id", job.Args.VideoID, "err", err)
		return river.JobSnooze(noDiskWait)
	case last:
		s.failVideo(ctx, job.Args.VideoID, errGaveUp.Error(), err)
	}
	return err
}

// How long a job waits before it looks again for a free per-creator slot
// or for disk space.
const (
	perCreatorWait = 15 * time.Second
	noDiskWait     = time.Minute
)

// permanentError is a failure retrying cannot fix.
type permanentError struct {
	reason string // shown to the creator
	err    error
}

func (e *permanentError) Error() string { return e.reason + ": " + e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// failVideo marks a video failed and removes partial outputs.
func (s *Service) failVideo(ctx context.Context, id int64, reason string, cause error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	s.log.WarnContext(ctx, "video processing failed", "video_id", id, "reason", reason, "err", cause)
	if v, err := s.store.VideoByID(ctx, id); err == nil {
		s.cleanOutputs(ctx, v.PublicID)
	}
	if err := s.store.MarkFailed(ctx, id, reason); err != nil {
		s.log.ErrorContext(ctx, "could not mark video failed", "video_id", id, "err", err)
	}
}

// SweepArgs is the periodic job that removes objects left by uploads that
// never became videos (a crash between storing and committing).
type SweepArgs struct{}

// Kind names the job in River's table.
func (SweepArgs) Kind() string { return "videos.sweep_orphans" }

// SweepWorker runs SweepArgs.
type SweepWorker struct {
	river.WorkerDefaults[SweepArgs]
	Service *Service
}

// SweepGrace is how old an object without a video must be before the sweep
// deletes it, so uploads in flight are never touched.
const SweepGrace = 24 * time.Hour

// Work deletes objects under videos/ whose video does not exist and that
// are older than SweepGrace.
func (w *SweepWorker) Work(ctx context.Context, _ *river.Job[SweepArgs]) error {
	_, err := w.Service.SweepOrphans(ctx)
	return err
}

// SweepPeriodicJob schedules SweepArgs every 6 hours.
func SweepPeriodicJob() *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(6*time.Hour),
		func() (river.JobArgs, *river.InsertOpts) { return SweepArgs{}, nil }, nil)
}
