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
	Notice     string
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
	switch {
	case c.Query("opened") != "":
		d.Notice = "Your channel is open. Upload your first video!"
	case c.Query("deleted") != "":
		d.Notice = "The video was deleted."
	}
	s.html(c, http.StatusOK, "studio", "Studio", d)
}

// editData is what the video edit page shows.
type editData struct {
	Video  videos.Video
	Error  string
	Notice string
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
	d := editData{Video: v}
	switch c.Query("saved") {
	case "details":
		d.Notice = "Saved."
	case "thumbnail":
		d.Notice = "Thumbnail replaced."
	}
	s.html(c, http.StatusOK, "video_edit", "Edit "+v.Title, d)
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
	c.Redirect(http.StatusSeeOther, "/studio/videos/"+url.PathEscape(c.Param("id"))+"/edit?saved=details")
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
	c.Redirect(http.StatusSeeOther, "/studio/videos/"+url.PathEscape(c.Param("id"))+"/edit?saved=thumbnail")
}

// videoDeleteSubmit deletes the video.
func (s *Server) videoDeleteSubmit(c *gin.Context) {
	if err := s.deps.Videos.Delete(c, c.Param("id"), currentUser(c)); err != nil {
		s.editError(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/studio?deleted=1")
}

// editError re-renders the edit page with err, or the error page when the
// video itself is not the creator's.
func (s *Server) editError(c *gin.Context, err error) {
	status, _, msg, unexpected := classify(err)
	v, verr := s.deps.Videos.Get(c, c.Param("id"), currentUser(c))
	if unexpected || verr != nil || !v.IsOwner(currentUser(c)) {
		s.fail(c, err)
		return
	}
	s.html(c, status, "video_edit", "Edit "+v.Title, editData{Video: v, Error: msg})
}
