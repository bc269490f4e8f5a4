package web

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/ucc-video/ucc/internal/errs"
	"github.com/ucc-video/ucc/internal/videos"
)

// apiCreateChannel opens the user's channel: 201 with the channel; the
// user becomes a creator.
func (s *Server) apiCreateChannel(c *gin.Context) {
	var in videos.NewChannel
	if err := bindJSON(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	ch, err := s.deps.Videos.OpenChannel(c, currentUser(c), in)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Location", "/api/v1/channels/"+ch.Handle)
	c.JSON(http.StatusCreated, gin.H{"channel": ch})
}

// apiMyChannel returns the user's channel (404 no_channel when none).
func (s *Server) apiMyChannel(c *gin.Context) {
	ch, err := s.deps.Videos.ChannelOf(c, currentUser(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"channel": ch})
}

// channelNewPage shows the form to open a channel (or sends an owner to the studio).
func (s *Server) channelNewPage(c *gin.Context) {
	if _, err := s.deps.Videos.ChannelOf(c, currentUser(c)); err == nil {
		c.Redirect(http.StatusSeeOther, "/studio")
		return
	} else if !errors.Is(err, errs.ErrNotFound) {
		s.fail(c, err)
		return
	}
	s.html(c, http.StatusOK, "channel_new", "Open a channel", videos.NewChannel{})
}

// channelNewSubmit opens the channel from the form.
func (s *Server) channelNewSubmit(c *gin.Context) {
	in := videos.NewChannel{Name: c.PostForm("name"), Handle: c.PostForm("handle"), Description: c.PostForm("description")}
	if _, err := s.deps.Videos.OpenChannel(c, currentUser(c), in); err != nil {
		s.formFailed(c, "channel_new", "Open a channel", in, err)
		return
	}
	s.redirectFlash(c, "/studio", flash{Kind: flashNotice, Message: "Your channel is open. Upload your first video!"})
}
