// Package errs is UCC's one error vocabulary: sentinel kinds that every
// domain wraps, and Error, which carries a message meant for a person.
//
// Storage adapters map driver errors (pgx.ErrNoRows, SQLSTATE 23505, ...) to
// these kinds; internal/web maps the kinds to HTTP statuses in one place.
//
// An Error's Message is English. Other languages come from the message
// catalogs (internal/i18n), which find an error's message by its Code (and
// Variant, when one code has several messages) and fill it in with the
// error's Params: the arguments of the English format, named with P.
package errs

import (
	"errors"
	"fmt"
	"strconv"
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
	Message string // in English, shown to the user as is where no catalog has the code
	// Variant tells apart messages that share a Code (the catalog key is
	// Code.Variant): "unauthorized" says "sign in to comment" or "sign in to
	// like videos". It never reaches an API client.
	Variant string
	// Args are the arguments the English message was formatted with, in
	// order; Params names them for the catalogs.
	Args []any
}

// Error is the message for a person.
func (e *Error) Error() string { return e.Message }

// Unwrap lets errors.Is match the kind.
func (e *Error) Unwrap() error { return e.Kind }

// Key is the error's catalog key: "code" or "code.variant".
func (e *Error) Key() string {
	if e.Variant == "" {
		return e.Code
	}
	return e.Code + "." + e.Variant
}

// Params are the message's arguments by name, for a catalog message: an
// argument given as P(name, v) is name; any other is Arg1, Arg2, ... by
// its position.
func (e *Error) Params() map[string]any {
	if len(e.Args) == 0 {
		return nil
	}
	m := make(map[string]any, len(e.Args))
	for i, a := range e.Args {
		if p, ok := a.(Param); ok {
			m[p.Name] = p.Value
			continue
		}
		m["Arg"+strconv.Itoa(i+1)] = a
	}
	return m
}

// Param is a named argument of an error message. It formats as its Value,
// so the English format uses it like any other argument; a catalog message
// refers to it as {{.Name}}.
type Param struct {
	Name  string
	Value any
}

// P names the argument v of an error message.
func P(name string, v any) Param { return Param{Name: name, Value: v} }

// Format prints the value with the verb and flags it was given.
func (p Param) Format(f fmt.State, verb rune) { fmt.Fprintf(f, fmt.FormatString(f, verb), p.Value) }

// New returns an *Error of kind with code and a formatted message.
func New(kind error, code, format string, args ...any) error {
	return &Error{Kind: kind, Code: code, Message: fmt.Sprintf(format, args...), Args: args}
}

// NewVariant is New for one of several messages that share code: variant
// tells the catalogs which one it is.
func NewVariant(kind error, code, variant, format string, args ...any) error {
	return &Error{Kind: kind, Code: code, Variant: variant, Message: fmt.Sprintf(format, args...), Args: args}
}

// Invalid is shorthand for New(ErrInvalid, code, ...).
func Invalid(code, format string, args ...any) error {
	return New(ErrInvalid, code, format, args...)
}

// InvalidVariant is shorthand for NewVariant(ErrInvalid, code, variant, ...).
func InvalidVariant(code, variant, format string, args ...any) error {
	return NewVariant(ErrInvalid, code, variant, format, args...)
}
