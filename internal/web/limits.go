package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"os"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/ucc-video/ucc/internal/errs"
)

// Limits on requests: headers (net/http), bodies and how slowly they may arrive.
const (
	// MaxHeaderBytes bounds a request's header block; net/http answers 431
	// beyond it.
	MaxHeaderBytes = 64 << 10
	// ReadHeaderTimeout is how long a client may take to send its headers.
	ReadHeaderTimeout = 10 * time.Second
	// IdleTimeout closes keep-alive connections idle this long.
	IdleTimeout = 2 * time.Minute
	// maxBodyBytes caps the body of every route but the upload routes
	// (handlers set smaller caps of their own).
	maxBodyBytes = 1 << 20
	// DefaultBodyReadTimeout is how long a body outside the upload routes
	// may take to arrive, in total.
	DefaultBodyReadTimeout = 30 * time.Second
)

// bodyRule is a route's policy for its request body and its deadline, set
// in the route table (route.limit, route.streamsBody, route.streamsAnswer).
// The zero rule buffers a body of at most maxBodyBytes, read within the
// body read timeout, and bounds the request's work by RequestTimeout.
type bodyRule struct {
	max        int64 // largest buffered body; 0 is maxBodyBytes
	stream     bool  // the handler streams the body itself, with its own cap
	longAnswer bool  // the answer streams: no request deadline
}

// maxBytes is the largest body the rule buffers.
func (b bodyRule) maxBytes() int64 {
	if b.max > 0 {
		return b.max
	}
	return maxBodyBytes
}

// NewHTTPServer is the http.Server `ucc serve` runs h in: header size and
// time limits are set here; body limits and deadlines per route by the
// Server's middleware (uploads stream for as long as bytes flow, so there
// is no whole-request ReadTimeout or WriteTimeout).
func NewHTTPServer(addr string, h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: ReadHeaderTimeout,
		IdleTimeout:       IdleTimeout,
		MaxHeaderBytes:    MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// guard applies rule before any other middleware or handler of a route
// reads the request. A buffered body is read whole into memory, at most
// rule.maxBytes (413) within the body read timeout (408), and form fields
// that are not valid UTF-8 or hold NUL are refused (400), so every handler
// sees a complete, bounded body and clean text; the request's work then
// gets RequestTimeout unless its answer streams. A streamed body gets an
// idle read deadline instead, and no request deadline.
func (s *Server) guard(rule bodyRule) gin.HandlerFunc {
	readTimeout := s.cfg.BodyReadTimeout
	if readTimeout <= 0 {
		readTimeout = DefaultBodyReadTimeout
	}
	deadline := s.cfg.RequestTimeout
	if deadline <= 0 {
		deadline = RequestTimeout
	}
	limit := rule.maxBytes()
	return func(c *gin.Context) {
		r := c.Request
		if rule.stream {
			if r.Body != nil && r.Body != http.NoBody {
				r.Body = &deadlineReader{r: r.Body, rc: http.NewResponseController(c.Writer)}
			}
			c.Next()
			return
		}
		if r.Body != nil && r.Body != http.NoBody && !s.bufferBody(c, readTimeout, limit) {
			return
		}
		if !rule.longAnswer {
			ctx, cancel := context.WithTimeout(r.Context(), deadline)
			defer cancel()
			c.Request = c.Request.WithContext(ctx)
		}
		c.Next()
	}
}

// bufferBody reads the request body into memory (at most limit bytes,
// within timeout) and checks its form fields; false when it answered with
// the refusal.
func (s *Server) bufferBody(c *gin.Context, timeout time.Duration, limit int64) bool {
	r := c.Request
	tooLarge := errs.New(errs.ErrTooLarge, "body_too_large", "the request body is larger than %d bytes", limit)
	if r.ContentLength > limit {
		s.refuseBody(c, tooLarge)
		return false
	}
	rc := http.NewResponseController(c.Writer)
	_ = rc.SetReadDeadline(time.Now().Add(timeout))
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, r.Body, limit))
	_ = rc.SetReadDeadline(time.Time{})
	if err != nil {
		var maxErr *http.MaxBytesError
		switch {
		case errors.As(err, &maxErr):
			err = tooLarge
		case errors.Is(err, os.ErrDeadlineExceeded):
			err = errBodyTimeout
		default:
			err = errs.Invalid("unreadable_body", "the request body could not be read; send it again")
		}
		s.refuseBody(c, err)
		return false
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	if err := checkFormText(r, limit); err != nil {
		s.fail(c, err)
		return false
	}
	return true
}

// refuseBody answers err for a body not (completely) read, and closes the
// connection rather than reading the rest.
func (s *Server) refuseBody(c *gin.Context, err error) {
	c.Header("Connection", "close")
	s.fail(c, err)
}

// checkFormText parses a form body (URL-encoded or multipart of at most
// limit bytes) and refuses a field that is not valid UTF-8 text without NUL.
func checkFormText(r *http.Request, limit int64) error {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var err error
	switch mt {
	case "application/x-www-form-urlencoded":
		err = r.ParseForm()
	case "multipart/form-data":
		err = r.ParseMultipartForm(limit)
	default:
		return nil
	}
	if err != nil {
		return errs.Invalid("invalid_form", "the form data is malformed")
	}
	for name, vs := range r.PostForm {
		for _, v := range append([]string{name}, vs...) {
			if err := checkText(name, v); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkText refuses text that is not valid UTF-8 or holds NUL (which
// PostgreSQL cannot store), naming the field.
func checkText(field, v string) error {
	if !utf8.ValidString(v) {
		return errs.Invalid("invalid_utf8", "the field %q is not valid UTF-8 text", field)
	}
	if strings.IndexByte(v, 0) >= 0 {
		return errs.Invalid("invalid_text", "the field %q contains a NUL character", field)
	}
	return nil
}

// checkJSONText refuses a JSON document that is not valid UTF-8 or whose
// strings (keys included) hold NUL. encoding/json would otherwise replace
// invalid bytes with U+FFFD silently.
func checkJSONText(raw []byte) error {
	if !utf8.Valid(raw) {
		return errs.Invalid("invalid_utf8", "the request body is not valid UTF-8 text")
	}
	if !bytes.Contains(raw, []byte(`\u0000`)) {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil // syntax errors are reported by the real decode
		}
		if str, ok := tok.(string); ok && strings.IndexByte(str, 0) >= 0 {
			return errs.Invalid("invalid_text", "the request body holds a NUL character (\\u0000) in a string")
		}
	}
}

// RequestTimeout bounds the work of a request outside the streaming routes
// and media downloads: a dependency that hangs mid-query then answers 503
// (context.DeadlineExceeded) instead of holding the request forever.
const RequestTimeout = 60 * time.Second
