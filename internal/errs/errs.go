// Package errs is UCC's one error vocabulary: sentinel kinds that every
// domain wraps, and Error, which carries a message meant for a person.
//
// Storage adapters map driver errors (pgx.ErrNoRows, SQLSTATE 23505, ...) to
// these kinds; internal/web maps the kinds to HTTP statuses in one place.
package errs

import (
	"errors"
	"fmt"
)

// Error kinds. Wrap them with %w or build an *Error with New.
var (
	ErrInvalid      = errors.New("invalid input")
	ErrNotFound     = errors.New("not found")
	ErrConflict     = errors.New("conflict")
	ErrUnauthorized = errors.New("sign-in required")
	ErrForbidden    = errors.New("forbidden")
	ErrRateLimited  = errors.New("too many requests")
	ErrTooLarge     = errors.New("too large")
	ErrUnavailable  = errors.New("service unavailable")
	ErrUnsupported  = errors.New("unsupported media")
)

// Error is an error of a known kind with a stable machine code and a message
// a person understands.
type Error struct {
	Kind    error  // one of the Err* kinds
	Code    string // stable, snake_case, e.g. "email_taken"
	Message string // shown to the user as is
}

// Error is the message for a person.
func (e *Error) Error() string { return e.Message }

// Unwrap lets errors.Is match the kind.
func (e *Error) Unwrap() error { return e.Kind }

// New returns an *Error of kind with code and a formatted message.
func New(kind error, code, format string, args ...any) error {
	return &Error{Kind: kind, Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid is shorthand for New(ErrInvalid, code, ...).
func Invalid(code, format string, args ...any) error {
	return New(ErrInvalid, code, format, args...)
}
