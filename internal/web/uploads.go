package web

import (
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ucc-video/ucc/internal/bytesize"
	"github.com/ucc-video/ucc/internal/errs"
	"github.com/ucc-video/ucc/internal/uploads"
)

// uploadIdleTimeout is how long a PATCH body may stall before the
// connection is dropped (every byte already stored stays stored).
const uploadIdleTimeout = 2 * time.Minute

// tusHeaders sets the headers every tus answer carries.
func (s *Server) tusHeaders(c *gin.Context) {
	c.Header("Tus-Resumable", uploads.TusVersion)
	c.Header("Cache-Control", "no-store")
	c.Next()
}

// errTusVersion refuses a tus request for another protocol version (412).
var errTusVersion = &protocolError{http.StatusPreconditionFailed, "tus_version",
	"this endpoint speaks tus " + uploads.TusVersion + "; send the header Tus-Resumable: " + uploads.TusVersion}

// tusResumable refuses requests for another protocol version.
func (s *Server) tusResumable(c *gin.Context) {
	if v := c.GetHeader("Tus-Resumable"); v != uploads.TusVersion {
		c.Header("Tus-Version", uploads.TusVersion)
		s.fail(c, errTusVersion)
	}
}

// tusOptions describes the server's tus support.
func (s *Server) tusOptions(c *gin.Context) {
	c.Header("Tus-Version", uploads.TusVersion)
	c.Header("Tus-Extension", uploads.TusExtensions)
	if m := s.deps.Uploads.MaxBytes(); m > 0 {
		c.Header("Tus-Max-Size", strconv.FormatInt(m, 10))
	}
	c.Status(http.StatusNoContent)
}

func uploadLocation(id string) string { return "/api/v1/uploads/" + id }

func setExpires(c *gin.Context, sess uploads.Session) {
	c.Header("Upload-Expires", sess.ExpiresAt.UTC().Format(http.TimeFormat))
}

// tusCreate starts an upload (creation extension).
func (s *Server) tusCreate(c *gin.Context) {
	if c.GetHeader("Upload-Defer-Length") != "" {
		s.fail(c, errs.Invalid("defer_length_unsupported", "Upload-Defer-Length is not supported; send Upload-Length"))
		return
	}
	length, err := uploads.ParseLength(c.GetHeader("Upload-Length"))
	if err != nil {
		s.fail(c, err)
		return
	}
	meta, err := uploads.ParseMetadata(c.GetHeader("Upload-Metadata"))
	if err != nil {
		s.fail(c, err)
		return
	}
	sess, err := s.deps.Uploads.Create(c, currentUser(c).ID, length, meta)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Location", uploadLocation(sess.ID))
	c.Header("Upload-Offset", "0")
	setExpires(c, sess)
	c.Status(http.StatusCreated)
}

// tusHead reports how much of an upload the server holds.
func (s *Server) tusHead(c *gin.Context) {
	sess, err := s.deps.Uploads.Get(c, currentUser(c).ID, c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Upload-Offset", strconv.FormatInt(sess.Offset, 10))
	c.Header("Upload-Length", strconv.FormatInt(sess.Length, 10))
	c.Header("Upload-Metadata", uploads.FormatMetadata(sess.Metadata))
	setExpires(c, sess)
	c.Status(http.StatusOK)
}

// tusPatch appends the body at Upload-Offset, streaming it to storage.
func (s *Server) tusPatch(c *gin.Context) {
	if c.ContentType() != "application/offset+octet-stream" {
		s.fail(c, errs.New(errs.ErrUnsupported, "content_type", "a PATCH must have Content-Type: application/offset+octet-stream"))
		return
	}
	offset, err := uploads.ParseOffset(c.GetHeader("Upload-Offset"))
	if err != nil {
		s.fail(c, err)
		return
	}
	// The body reads through a deadlineReader (bodyGuard): a stalled PATCH is cut off.
	res, err := s.deps.Uploads.Write(c, currentUser(c).ID, c.Param("id"), offset, c.Request.Body, c.Request.ContentLength)
	if err != nil {
		if res.Session.ID != "" {
			c.Header("Upload-Offset", strconv.FormatInt(res.Session.Offset, 10))
		}
		if errors.Is(err, errs.ErrTooLarge) || errors.Is(err, errs.ErrConflict) {
			// Do not read a body we refuse; let the client's next request come on a fresh connection.
			c.Header("Connection", "close")
		}
		s.fail(c, err)
		return
	}
	c.Header("Upload-Offset", strconv.FormatInt(res.Session.Offset, 10))
	if res.Done {
		if res.VideoID != "" {
			c.Header("Upload-Video-Id", res.VideoID)
		}
	} else {
		setExpires(c, res.Session)
	}
	c.Status(http.StatusNoContent)
}

// tusDelete cancels an upload and removes what it stored (termination extension).
func (s *Server) tusDelete(c *gin.Context) {
	if err := s.deps.Uploads.Terminate(c, currentUser(c).ID, c.Param("id")); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// deadlineReader pushes the connection's read deadline forward while bytes
// flow, so a long upload is never cut off but a stalled one is.
type deadlineReader struct {
	r    io.Reader
	rc   *http.ResponseController
	last time.Time
}

// Read reads from the body, extending the read deadline at most once a
// second, and lifting it once the body has been read, so that work after
// the upload (finishing it) is not cut off.
func (d *deadlineReader) Read(p []byte) (int, error) {
	if now := time.Now(); now.Sub(d.last) > time.Second {
		_ = d.rc.SetReadDeadline(now.Add(uploadIdleTimeout))
		d.last = now
	}
	n, err := d.r.Read(p)
	if err == io.EOF {
		_ = d.rc.SetReadDeadline(time.Time{})
	}
	return n, err
}

// Close closes the underlying body.
func (d *deadlineReader) Close() error {
	if c, ok := d.r.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

// uploadPage is the creator's upload form (a tus client in static/js/upload.js).
func (s *Server) uploadPage(c *gin.Context) {
	if _, err := s.deps.Videos.ChannelOf(c, currentUser(c)); errors.Is(err, errs.ErrNotFound) {
		c.Redirect(http.StatusSeeOther, "/channels/new?next=/upload")
		return
	} else if err != nil {
		s.fail(c, err)
		return
	}
	s.htmlPage(c, http.StatusOK, "upload", Page{Title: "Upload a video", Data: gin.H{
		"MaxBytes": s.deps.Uploads.MaxBytes(),
		"MaxSize":  bytesize.Format(s.deps.Uploads.MaxBytes()),
	}})
}
