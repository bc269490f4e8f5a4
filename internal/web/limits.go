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

// streamingRoutes read large bodies themselves, as streams, with their own
// size caps; they get an idle cutoff (uploadIdleTimeout) instead of a
// total deadline, so a long upload is never cut off while bytes flow.
var streamingRoutes = map[string]bool{
	"POST /api/v1/videos":               true, // simple upload
	"PATCH /api/v1/uploads/:id":         true, // tus
	"PUT /api/v1/videos/:id/thumbnail":  true,
	"POST /studio/videos/:id/thumbnail": true,
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

// bodyGuard enforces the body rules before any handler runs. Outside the
// upload routes it reads the whole body into memory, at most maxBodyBytes
// (413) within the body read timeout (408), and refuses form fields that are
// not valid UTF-8 or hold NUL (400), so every handler sees a complete,
// bounded body and clean text. Upload routes get an idle read deadline.
func (s *Server) bodyGuard() gin.HandlerFunc {
	timeout := s.cfg.BodyReadTimeout
	if timeout <= 0 {
		timeout = DefaultBodyReadTimeout
	}
	return func(c *gin.Context) {
		r := c.Request
		if r.Body == nil || r.Body == http.NoBody {
			c.Next()
			return
		}
		rc := http.NewResponseController(c.Writer)
		if streamingRoutes[r.Method+" "+c.FullPath()] {
			r.Body = &deadlineReader{r: r.Body, rc: rc}
			c.Next()
			return
		}
		if r.ContentLength > maxBodyBytes {
			s.refuseBody(c, errs.New(errs.ErrTooLarge, "body_too_large", "the request body is larger than %d bytes", maxBodyBytes))
			return
		}
		_ = rc.SetReadDeadline(time.Now().Add(timeout))
		body, err := io.ReadAll(http.MaxBytesReader(c.Writer, r.Body, maxBodyBytes))
		_ = rc.SetReadDeadline(time.Time{})
		if err != nil {
			var maxErr *http.MaxBytesError
			switch {
			case errors.As(err, &maxErr):
				err = errs.New(errs.ErrTooLarge, "body_too_large", "the request body is larger than %d bytes", maxBodyBytes)
			case errors.Is(err, os.ErrDeadlineExceeded):
				err = errBodyTimeout
			default:
				err = errs.Invalid("unreadable_body", "the request body could not be read; send it again")
			}
			s.refuseBody(c, err)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		if err := checkFormText(r); err != nil {
			s.fail(c, err)
			return
		}
		c.Next()
	}
}

// refuseBody answers err for a body not (completely) read, and closes the
// connection rather than reading the rest.
func (s *Server) refuseBody(c *gin.Context, err error) {
	c.Header("Connection", "close")
	s.fail(c, err)
}

// checkFormText parses a form body (URL-encoded or multipart without files
// bigger than the body cap) and refuses a field that is not valid UTF-8
// text without NUL.
func checkFormText(r *http.Request) error {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var err error
	switch mt {
	case "application/x-www-form-urlencoded":
		err = r.ParseForm()
	case "multipart/form-data":
		err = r.ParseMultipartForm(maxBodyBytes)
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

// longRoutes are exempt from RequestTimeout: their bodies or answers may
// stream for as long as bytes flow.
var longRoutes = map[string]bool{"GET /media/*key": true}

// requestDeadline puts RequestTimeout on the request's context.
func (s *Server) requestDeadline() gin.HandlerFunc {
	timeout := s.cfg.RequestTimeout
	if timeout <= 0 {
		timeout = RequestTimeout
	}
	return func(c *gin.Context) {
		route := c.Request.Method + " " + c.FullPath()
		if streamingRoutes[route] || longRoutes[route] {
			c.Next()
			return
		}
		ctx, cancel := context.WithTimeout(c.Request.Context(), timeout)
		defer cancel()
		c.Request = c.Request.WithContext(ctx)
		c.Next()
	}
}
