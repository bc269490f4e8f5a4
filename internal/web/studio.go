package web

import (
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"

	"github.com/ucc-video/ucc/internal/videos"
)

// studioData is what the studio page shows.
type studioData struct {
	Channel    *videos.Channel
	Videos     []videos.Video
	Processing bool
}

// studioPage lists the creator's videos with status, progress and failure reasons.
func (s *Server) studioPage(c *gin.Context) {
	u := currentUser(c)
	d := studioData{}
	if ch, err := s.deps.Videos.ChannelOf(c, u); err == nil {
		d.Channel = &ch
	}
	if d.Channel != nil {
		vs, err := s.deps.Videos.MyVideos(c, u)
		if err != nil {
			s.fail(c, err)
			return
		}
		d.Videos = vs
		for _, v := range vs {
			if v.Status == videos.StatusProcessing || v.Status == videos.StatusUploading {
				d.Processing = true
			}
		}
	}
	s.html(c, http.StatusOK, "studio", "Studio", d)
}

// editData is what the video edit page shows.
type editData struct {
	Video videos.Video
}

func (s *Server) ownVideo(c *gin.Context) (videos.Video, bool) {
	v, err := s.deps.Videos.Get(c, c.Param("id"), currentUser(c))
	if err == nil && !v.IsOwner(currentUser(c)) {
		err = videos.ErrNotOwner
	}
	if err != nil {
		s.fail(c, err)
		return v, false
	}
	return v, true
}

// videoEditPage shows the form to edit, re-thumbnail or delete a video.
func (s *Server) videoEditPage(c *gin.Context) {
	v, ok := s.ownVideo(c)
	if !ok {
		return
	}
	s.html(c, http.StatusOK, "video_edit", "Edit "+v.Title, editData{Video: v})
}

// videoEditSubmit saves the edit form.
func (s *Server) videoEditSubmit(c *gin.Context) {
	title, desc, vis := c.PostForm("title"), c.PostForm("description"), c.PostForm("visibility")
	comments := c.PostForm("comments_enabled") != ""
	_, err := s.deps.Videos.Update(c, c.Param("id"), currentUser(c),
		videos.VideoPatch{Title: &title, Description: &desc, Visibility: &vis, CommentsEnabled: &comments})
	if err != nil {
		s.editError(c, err)
		return
	}
	s.redirectFlash(c, "/studio/videos/"+url.PathEscape(c.Param("id"))+"/edit", flash{Kind: flashNotice, Message: "Saved."})
}

// videoThumbnailSubmit replaces the thumbnail from a multipart form.
func (s *Server) videoThumbnailSubmit(c *gin.Context) {
	r, err := thumbnailReader(c)
	if err == nil {
		_, err = s.deps.Videos.ReplaceThumbnail(c, c.Param("id"), currentUser(c), r)
	}
	if err != nil {
		s.editError(c, err)
		return
	}
	s.redirectFlash(c, "/studio/videos/"+url.PathEscape(c.Param("id"))+"/edit", flash{Kind: flashNotice, Message: "Thumbnail replaced."})
}

// videoDeleteSubmit deletes the video.
func (s *Server) videoDeleteSubmit(c *gin.Context) {
	if err := s.deps.Videos.Delete(c, c.Param("id"), currentUser(c)); err != nil {
		s.editError(c, err)
		return
	}
	s.redirectFlash(c, "/studio", flash{Kind: flashNotice, Message: "The video was deleted."})
}

// editError re-renders the edit page with err, or the error page when the
// video itself is not the creator's.
func (s *Server) editError(c *gin.Context, err error) {
	v, verr := s.deps.Videos.Get(c, c.Param("id"), currentUser(c))
	if verr != nil || !v.IsOwner(currentUser(c)) {
		s.fail(c, err)
		return
	}
	s.formFailed(c, "video_edit", "Edit "+v.Title, editData{Video: v}, err)
}
