package web

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/ucc-video/ucc/internal/bytesize"
	"github.com/ucc-video/ucc/internal/errs"
	"github.com/ucc-video/ucc/internal/videos"
)

// maxFieldBytes caps each non-file field of an upload form.
const maxFieldBytes = 64 << 10

// apiUploadVideo is the simple upload: multipart/form-data with file,
// title, description and visibility. The file part is streamed straight to
// object storage (never parsed into memory or spooled to disk) and the size
// cap is enforced while it streams.
func (s *Server) apiUploadVideo(c *gin.Context) {
	boundary, err := multipartBoundary(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	up, err := s.deps.Videos.BeginUpload(c, currentUser(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	defer up.Abort(c)
	// The whole body may exceed the file cap by the other fields and the
	// multipart framing only.
	limit := up.MaxBytes() + 4*maxFieldBytes + 4096
	if c.Request.ContentLength > limit {
		s.fail(c, up.TooLarge())
		return
	}
	mr := multipart.NewReader(http.MaxBytesReader(c.Writer, c.Request.Body, limit), boundary)
	var meta videos.UploadMeta
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			s.fail(c, uploadBodyError(err, up))
			return
		}
		switch part.FormName() {
		case "file":
			if err := up.Store(c, part); err != nil {
				s.fail(c, tooLargeBody(err, up))
				return
			}
		case "title", "description", "visibility":
			b, err := io.ReadAll(io.LimitReader(part, maxFieldBytes+1))
			if err != nil {
				s.fail(c, uploadBodyError(err, up))
				return
			}
			if len(b) > maxFieldBytes {
				s.fail(c, errs.Invalid("field_too_long", "the %s field is too long", errs.P("Field", part.FormName())))
				return
			}
			v := string(b)
			switch part.FormName() {
			case "title":
				meta.Title = v
				_, err = videos.ValidateTitle(v)
			case "description":
				meta.Description = v
				_, err = videos.ValidateDescription(v)
			case "visibility":
				meta.Visibility = v
				_, err = videos.ParseVisibility(v)
			}
			if err != nil { // refuse before the file is sent, when fields come first
				s.fail(c, err)
				return
			}
		default:
			if _, err := io.Copy(io.Discard, io.LimitReader(part, maxFieldBytes)); err != nil {
				s.fail(c, uploadBodyError(err, up))
				return
			}
		}
		part.Close()
	}
	v, err := up.Finish(c, meta)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Location", "/api/v1/videos/"+v.PublicID)
	c.JSON(http.StatusCreated, gin.H{"video": v})
}

// multipartBoundary checks the request is multipart/form-data.
func multipartBoundary(c *gin.Context) (string, error) {
	mt, params, err := mime.ParseMediaType(c.GetHeader("Content-Type"))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		return "", errs.New(errs.ErrUnsupported, "multipart_required", "send the upload as multipart/form-data with a \"file\" part")
	}
	return params["boundary"], nil
}

// uploadBodyError explains a failure of the multipart reader (the framing,
// or the client's stream under it): the body cap passed, or the upload
// interrupted or malformed.
func uploadBodyError(err error, up *videos.Upload) error {
	if err = tooLargeBody(err, up); errors.Is(err, errs.ErrTooLarge) || errors.Is(err, errs.ErrInvalid) {
		return err
	}
	return fmt.Errorf("%w: %w", videos.ErrInterrupted, err)
}

// tooLargeBody turns a read past the request's body cap into the upload's
// size error (file_too_large or quota_exceeded); other errors pass as they are.
func tooLargeBody(err error, up *videos.Upload) error {
	var maxErr *http.MaxBytesError
	if errors.As(err, &maxErr) {
		return up.TooLarge()
	}
	return err
}

// apiGetVideo returns a video the requester may see.
func (s *Server) apiGetVideo(c *gin.Context) {
	v, err := s.deps.Videos.Get(c, c.Param("id"), currentUser(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	if v.Renditions == nil {
		v.Renditions = []videos.Rendition{}
	}
	c.Header("Cache-Control", "private, no-store")
	c.JSON(http.StatusOK, gin.H{"video": v})
}

// apiPatchVideo edits title, description, visibility, comments_enabled.
func (s *Server) apiPatchVideo(c *gin.Context) {
	var p videos.VideoPatch
	if err := bindJSON(c, &p); err != nil {
		s.fail(c, err)
		return
	}
	v, err := s.deps.Videos.Update(c, c.Param("id"), currentUser(c), p)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"video": v})
}

// apiPutThumbnail replaces the thumbnail: the body is the image, or a
// multipart form whose first file part is.
func (s *Server) apiPutThumbnail(c *gin.Context) {
	r, err := thumbnailReader(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	v, err := s.deps.Videos.ReplaceThumbnail(c, c.Param("id"), currentUser(c), r)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"video": v})
}

// thumbnailReader returns the image in the request body.
func thumbnailReader(c *gin.Context) (io.Reader, error) {
	body := http.MaxBytesReader(c.Writer, c.Request.Body, videos.MaxThumbnailBytes+64<<10)
	if c.Request.ContentLength > videos.MaxThumbnailBytes+64<<10 {
		return nil, errs.New(errs.ErrTooLarge, "thumbnail_too_large", "the thumbnail must be at most %s", errs.P("Limit", bytesize.Format(videos.MaxThumbnailBytes)))
	}
	mt, params, _ := mime.ParseMediaType(c.GetHeader("Content-Type"))
	if mt != "multipart/form-data" {
		return body, nil
	}
	mr := multipart.NewReader(body, params["boundary"])
	for {
		part, err := mr.NextPart()
		if err != nil {
			var maxErr *http.MaxBytesError
			if errors.As(err, &maxErr) {
				return nil, errs.New(errs.ErrTooLarge, "thumbnail_too_large", "the thumbnail must be at most %s", errs.P("Limit", bytesize.Format(videos.MaxThumbnailBytes)))
			}
			return nil, errs.InvalidVariant("missing_file", "thumbnail", "the form has no image file")
		}
		if part.FileName() != "" || part.FormName() == "thumbnail" || part.FormName() == "file" {
			return part, nil
		}
	}
}

// apiDeleteVideo deletes a video and every object of it.
func (s *Server) apiDeleteVideo(c *gin.Context) {
	if err := s.deps.Videos.Delete(c, c.Param("id"), currentUser(c)); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// apiMyVideos lists the creator's videos with status, progress and failure reasons.
func (s *Server) apiMyVideos(c *gin.Context) {
	vs, err := s.deps.Videos.MyVideos(c, currentUser(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, gin.H{"videos": vs})
}

// serveMedia serves stored objects on the fs driver with Range support
// (206), only to requesters allowed to see them.
func (s *Server) serveMedia(c *gin.Context) {
	key := strings.TrimPrefix(c.Param("key"), "/")
	m, err := s.deps.Videos.MediaFile(c, key, currentUser(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	f, err := os.Open(m.Path)
	if err != nil {
		s.fail(c, errNoRoute)
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || st.IsDir() {
		s.fail(c, errNoRoute)
		return
	}
	h := c.Writer.Header()
	h.Set("Content-Type", m.ContentType)
	if m.Public {
		// Shared caches may keep it but must ask again before each use, so a
		// video turned private stops being served from them at once (the
		// answer to a revalidation is a cheap 304 while it stays public).
		h.Set("Cache-Control", "public, no-cache")
	} else {
		h.Set("Cache-Control", "private, max-age=3600")
	}
	http.ServeContent(c.Writer, c.Request, "", st.ModTime(), f)
}
