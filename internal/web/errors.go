package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ucc-video/ucc/internal/errs"
)

var errNoRoute = errs.New(errs.ErrNotFound, "not_found", "there is nothing at this address")

// protocolError is a refusal of the HTTP exchange itself rather than of
// what it asks a domain for: a body that arrived too slowly (408), a tus
// client speaking another protocol version (412). The errs kinds have no
// such statuses, so the error carries its own; classify reads it like any
// other error.
type protocolError struct {
	status        int
	code, message string
}

func (e *protocolError) Error() string { return e.message }

// errBodyTimeout is a body that did not arrive within its deadline (408).
var errBodyTimeout = &protocolError{http.StatusRequestTimeout, "request_timeout", "the request body arrived too slowly; send it again"}

// apiError is the body of every JSON error: {"error": {"code", "message"}}.
type apiError struct {
	Error apiErrorBody `json:"error"`
}

type apiErrorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// The messages classify gives errors that carry none of their own.
var (
	errBodyTooLarge = errs.New(errs.ErrTooLarge, "too_large", "the request body is too large")
	errUnavailable  = errs.New(errs.ErrUnavailable, "unavailable", "a service UCC depends on is not answering; try again in a moment")
	errCanceled     = errs.New(context.Canceled, "canceled", "the request was canceled")
	errInternal     = errs.New(nil, "internal", "something went wrong on our side; it has been logged")
)

// classify maps an error to an HTTP status, a code and a message a person
// understands (in English: the error writer translates it by its code).
// It is the one place error kinds become statuses.
func classify(err error) (status int, code, msg string, unexpected bool) {
	var e *errs.Error
	if errors.As(err, &e) {
		code, msg = e.Code, e.Message
	}
	var maxErr *http.MaxBytesError
	var pe *protocolError
	switch {
	case errors.As(err, &maxErr):
		status = http.StatusRequestEntityTooLarge
		code, msg = codeAndMessage(errBodyTooLarge)
	case errors.As(err, &pe):
		status, code, msg = pe.status, pe.code, pe.message
	case kindStatus(err) != 0:
		status = kindStatus(err)
	case errors.Is(err, errs.ErrUnavailable), isNetErr(err):
		status = http.StatusServiceUnavailable
		if code == "" {
			code, msg = codeAndMessage(errUnavailable)
		}
	case errors.Is(err, context.Canceled):
		status = 499
		code, msg = codeAndMessage(errCanceled)
	default:
		code, msg = codeAndMessage(errInternal)
		return http.StatusInternalServerError, code, msg, true
	}
	if code == "" {
		code, msg = codeAndMessage(kindDefault(status))
	}
	return status, code, msg, false
}

// kindStatus is the status of err's kind among the errs kinds a client
// caused (0 for the others).
func kindStatus(err error) int {
	for _, k := range []struct {
		kind   error
		status int
	}{
		{errs.ErrInvalid, http.StatusBadRequest}, {errs.ErrNotFound, http.StatusNotFound},
		{errs.ErrConflict, http.StatusConflict}, {errs.ErrUnauthorized, http.StatusUnauthorized},
		{errs.ErrForbidden, http.StatusForbidden}, {errs.ErrRateLimited, http.StatusTooManyRequests},
		{errs.ErrTooLarge, http.StatusRequestEntityTooLarge}, {errs.ErrUnsupported, http.StatusUnsupportedMediaType},
	} {
		if errors.Is(err, k.kind) {
			return k.status
		}
	}
	return 0
}

// kindDefault is the code and message of an error of a kind (by its
// status) that carries none of its own.
func kindDefault(status int) error {
	switch status {
	case http.StatusNotFound:
		return errs.NewVariant(errs.ErrNotFound, "not_found", "default", "not found")
	case http.StatusUnauthorized:
		return errs.New(errs.ErrUnauthorized, "unauthorized", "sign in first")
	case http.StatusForbidden:
		return errs.New(errs.ErrForbidden, "forbidden", "you are not allowed to do that")
	case http.StatusConflict:
		return errs.New(errs.ErrConflict, "conflict", "that conflicts with what is already there")
	case http.StatusTooManyRequests:
		return errs.New(errs.ErrRateLimited, "too_many_requests", "too many requests; slow down and try again shortly")
	case http.StatusRequestEntityTooLarge:
		return errs.New(errs.ErrTooLarge, "request_entity_too_large", "request entity too large")
	case http.StatusUnsupportedMediaType:
		return errs.New(errs.ErrUnsupported, "unsupported_media_type", "unsupported media type")
	}
	return errs.New(errs.ErrInvalid, "bad_request", "bad request")
}

// codeAndMessage are the code and message of err, an *errs.Error.
func codeAndMessage(err error) (code, msg string) {
	e := err.(*errs.Error)
	return e.Code, e.Message
}

func isNetErr(err error) bool {
	var ne net.Error
	var oe *net.OpError
	return errors.As(err, &oe) || (errors.As(err, &ne) && ne.Timeout()) || errors.Is(err, context.DeadlineExceeded)
}

// wantsJSON reports whether the client should get JSON rather than a page.
func wantsJSON(c *gin.Context) bool {
	return strings.HasPrefix(c.Request.URL.Path, "/api/") ||
		strings.Contains(c.GetHeader("Accept"), "application/json") && !strings.Contains(c.GetHeader("Accept"), "text/html")
}

// fail answers with the error: JSON under /api, an error page otherwise.
// Only unexpected errors are logged with their detail.
func (s *Server) fail(c *gin.Context, err error) {
	status, code, msg, unexpected := classify(err)
	if unexpected {
		s.log.ErrorContext(c, "request failed", "method", c.Request.Method, "path", c.Request.URL.Path, "err", err)
	} else if status == http.StatusServiceUnavailable {
		s.log.WarnContext(c, "dependency unavailable", "path", c.Request.URL.Path, "err", err)
	}
	setRetryAfter(c, status, err)
	msg = s.errorText(c, err, code, msg)
	c.Header("Content-Language", s.language(c))
	if wantsJSON(c) {
		c.AbortWithStatusJSON(status, apiError{apiErrorBody{Code: code, Message: msg}})
		return
	}
	c.Abort()
	s.html(c, status, "error", s.t(c, "error.title"), gin.H{"Status": status, "Message": msg})
}

// setRetryAfter tells a refused client when to come back: the wait the
// error carries (errs.WithRetryAfter), else 5 s for a 503.
func setRetryAfter(c *gin.Context, status int, err error) {
	if d, ok := errs.RetryAfter(err); ok {
		c.Header("Retry-After", strconv.FormatInt(max(1, int64((d+time.Second-1)/time.Second)), 10))
	} else if status == http.StatusServiceUnavailable {
		c.Header("Retry-After", "5")
	}
}

// bindJSON decodes the JSON body into v; the route's body rule has already
// bounded it (route.limit). The body must be valid UTF-8 without NUL in its
// strings.
func bindJSON(c *gin.Context, v any) error {
	raw, err := io.ReadAll(c.Request.Body)
	if err != nil {
		return errs.Invalid("unreadable_body", "the request body could not be read; send it again")
	}
	if err := checkJSONText(raw); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return errs.Invalid("invalid_json", "the request body must be a JSON object")
		}
		return errs.InvalidVariant("invalid_json", "syntax", "the request body is not valid JSON: %s", errs.P("Detail", jsonErrText(err)))
	}
	if dec.More() {
		return errs.InvalidVariant("invalid_json", "single", "the request body must hold a single JSON object")
	}
	return nil
}

func jsonErrText(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return "field " + te.Field + " has the wrong type (want " + te.Type.String() + ")"
	}
	return err.Error()
}
