package videos

import (
	"errors"
	"strings"
	"time"

	"github.com/ucc-video/ucc/internal/errs"
)

// Why processing a video failed, as the creator reads it. The video keeps
// the reason's English text (failure_reason); Failure turns a stored text
// back into its error, so the pages can show it in the reader's language.
var (
	errNoFrame       = errs.New(errs.ErrUnsupported, "no_frame", "no frame of the video could be decoded")
	errUnconvertible = errs.New(errs.ErrUnsupported, "unconvertible", "the video could not be converted; it may be damaged or use a codec UCC cannot decode")
	errGaveUp        = errs.New(errs.ErrUnavailable, "processing_failed", "processing failed repeatedly; delete the video and upload it again")
)

// errNoDisk is a worker without the disk space a job needs; the job waits
// and tries again, so a creator only reads it if that never changes.
var errNoDisk = errs.New(errs.ErrUnavailable, "no_disk_space", "the worker has no disk space for this video now; it will try again later")

// errTookTooLong is the failure of processing that ran past limit.
func errTookTooLong(limit time.Duration) error {
	return errs.New(errs.ErrTooLarge, "processing_timeout", "processing took longer than the %s limit", errs.P("Limit", limit))
}

// Failure is the error a video's stored failure reason says: one of the
// reasons processing gives, or for a text it does not know, that text.
func Failure(reason string) error {
	for _, e := range []error{errNoFrame, errUnconvertible, errGaveUp} {
		if e.Error() == reason {
			return e
		}
	}
	if e, ok := parseLimitError(reason); ok {
		return e
	}
	if reason == errNoDisk.Error() {
		return errNoDisk
	}
	if s, ok := strings.CutPrefix(reason, "processing took longer than the "); ok {
		if s, ok = strings.CutSuffix(s, " limit"); ok {
			if d, err := time.ParseDuration(s); err == nil {
				return errTookTooLong(d)
			}
		}
	}
	return errors.New(reason)
}
