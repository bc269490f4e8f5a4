package errs

import (
	"errors"
	"time"
)

// WithRetryAfter wraps err (an *Error of kind ErrRateLimited or
// ErrUnavailable, usually) with how long the client should wait before it
// tries again; the web layer sends it as the Retry-After header. The
// wrapper changes neither the kind nor the message.
func WithRetryAfter(err error, d time.Duration) error {
	if err == nil {
		return nil
	}
	return &retryError{err: err, after: d}
}

type retryError struct {
	err   error
	after time.Duration
}

func (e *retryError) Error() string { return e.err.Error() }
func (e *retryError) Unwrap() error { return e.err }

// RetryAfter returns the wait WithRetryAfter put on err, if any.
func RetryAfter(err error) (time.Duration, bool) {
	var r *retryError
	if errors.As(err, &r) {
		return r.after, true
	}
	return 0, false
}
