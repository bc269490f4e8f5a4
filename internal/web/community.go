package web

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/ucc-video/ucc/internal/community"
	"github.com/ucc-video/ucc/internal/errs"
	"github.com/ucc-video/ucc/internal/videos"
)

// ViewCounts gives the view counts to display (PostgreSQL totals plus views
// still pending in Redis); views.Service implements it.
type ViewCounts interface {
	// Displayed returns the displayed count of each video id.
	Displayed(ctx context.Context, ids []int64) (map[int64]int64, error)
}

// commentBodyLimit bounds a comment request body: 10,000 characters of
// 4-byte UTF-8 with JSON escaping fit well within it.
const commentBodyLimit = 128 << 10

// communityRoutes registers the viewer-side pages and API (issue 4).
func (s *Server) communityRoutes(e *gin.Engine, api *gin.RouterGroup) {
	// Pages.
	e.GET("/watch/:id", s.watchPage)
	e.GET("/v/:id", func(c *gin.Context) {
		c.Redirect(http.StatusMovedPermanently, "/watch/"+c.Param("id"))
	})
	e.POST("/watch/:id/comments", s.requireUser, s.watchCommentSubmit)
	e.POST("/watch/:id/like", s.requireUser, s.watchLikeSubmit)
	e.POST("/watch/:id/comment-settings", s.requireUser, s.watchCommentSettingsSubmit)
	e.POST("/comments/:id/edit", s.requireUser, s.commentEditSubmit)
	e.POST("/comments/:id/delete", s.requireUser, s.commentDeleteSubmit)
	e.GET("/c/:handle", s.channelPage)
	e.POST("/c/:handle/subscribe", s.requireUser, s.subscribeSubmit)
	e.GET("/search", s.searchPage)
	e.GET("/liked", s.requireUser, s.likedPage)
	e.GET("/feed/subscriptions", s.requireUser, s.feedPage)

	// JSON API.
	api.GET("/videos", s.apiListVideos)
	api.GET("/search", s.apiSearch)
	api.GET("/videos/:id/comments", s.apiListComments)
	api.POST("/videos/:id/comments", s.requireUser, s.apiPostComment)
	api.PUT("/videos/:id/comment-settings", s.requireUser, s.apiCommentSettings)
	api.PUT("/videos/:id/like", s.requireUser, s.apiLike)
	api.GET("/comments/:id/replies", s.apiReplies)
	api.PATCH("/comments/:id", s.requireUser, s.apiEditComment)
	api.DELETE("/comments/:id", s.requireUser, s.apiDeleteComment)
	api.GET("/channels/:id", s.apiChannel) // :id is the channel handle here
	api.PUT("/channels/:id/subscription", s.requireUser, s.apiSubscribe(true))
	api.DELETE("/channels/:id/subscription", s.requireUser, s.apiSubscribe(false))
	api.GET("/me/liked", s.requireUser, s.apiLiked)
	api.GET("/me/feed", s.requireUser, s.apiFeed)
}

// listParams reads ?cursor= and ?limit=.
func listParams(c *gin.Context) (community.Cursor, int, error) {
	cur, err := community.ParseCursor(c.Query("cursor"))
	if err != nil {
		return cur, 0, err
	}
	limit := 0
	if l := c.Query("limit"); l != "" {
		if limit, err = strconv.Atoi(l); err != nil || limit < 1 {
			return cur, 0, errs.Invalid("invalid_limit", "limit must be a number from 1 to %d", community.MaxLimit)
		}
	}
	return cur, limit, nil
}

// showViews replaces PostgreSQL view totals with the displayed counts
// (including views pending in Redis) when a ViewCounts is wired. A failure
// keeps the PostgreSQL totals: a count a few seconds old beats no page.
func (s *Server) showViews(ctx context.Context, vs []videos.Video) {
	if s.deps.ViewCounts == nil || len(vs) == 0 {
		return
	}
	ids := make([]int64, len(vs))
	for i, v := range vs {
		ids[i] = v.ID
	}
	m, err := s.deps.ViewCounts.Displayed(ctx, ids)
	if err != nil {
		s.log.WarnContext(ctx, "displayed view counts unavailable", "err", err)
		return
	}
	for i := range vs {
		if n, ok := m[vs[i].ID]; ok {
			vs[i].Views = n
		}
	}
}

func (s *Server) apiListVideos(c *gin.Context) {
	cur, limit, err := listParams(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	p, err := s.deps.Community.List(c, community.Sort(c.DefaultQuery("sort", "recent")), cur, limit)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.showViews(c, p.Videos)
	c.JSON(http.StatusOK, p)
}

func (s *Server) apiSearch(c *gin.Context) {
	cur, limit, err := listParams(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	q := community.NormalizeQuery(c.Query("q"))
	p, err := s.deps.Community.Search(c, q, cur, limit)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.showViews(c, p.Videos)
	c.JSON(http.StatusOK, gin.H{"query": q, "videos": p.Videos, "next_cursor": p.Next})
}

func (s *Server) apiListComments(c *gin.Context) {
	cur, limit, err := listParams(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	sort, err := community.ParseCommentSort(c.Query("sort"))
	if err != nil {
		s.fail(c, err)
		return
	}
	p, err := s.deps.Community.VideoComments(c, c.Param("id"), currentUser(c), sort, cur, limit)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, p)
}

func (s *Server) apiReplies(c *gin.Context) {
	id, err := commentID(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	cur, limit, err := listParams(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	p, err := s.deps.Community.Replies(c, id, currentUser(c), cur, limit)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, p)
}

// commentRequest is the body of POST comments and PATCH comment.
type commentRequest struct {
	Body     *string `json:"body"`
	ParentID *int64  `json:"parent_id"`
}

func (s *Server) apiPostComment(c *gin.Context) {
	var req commentRequest
	if err := bindJSON(c, &req, commentBodyLimit); err != nil {
		s.fail(c, err)
		return
	}
	if req.Body == nil {
		s.fail(c, errs.Invalid("comment_empty", `the request needs a "body"`))
		return
	}
	cm, err := s.deps.Community.PostComment(c, currentUser(c), c.Param("id"), *req.Body, req.ParentID)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, gin.H{"comment": cm})
}

func commentID(c *gin.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, errs.New(errs.ErrNotFound, "comment_not_found", "no such comment")
	}
	return id, nil
}

func (s *Server) apiEditComment(c *gin.Context) {
	id, err := commentID(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	var req commentRequest
	if err := bindJSON(c, &req, commentBodyLimit); err != nil {
		s.fail(c, err)
		return
	}
	if req.Body == nil {
		s.fail(c, errs.Invalid("comment_empty", `the request needs a "body"`))
		return
	}
	cm, err := s.deps.Community.EditComment(c, currentUser(c), id, *req.Body)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"comment": cm})
}

func (s *Server) apiDeleteComment(c *gin.Context) {
	id, err := commentID(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	if _, err := s.deps.Community.DeleteComment(c, currentUser(c), id); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (s *Server) apiCommentSettings(c *gin.Context) {
	var req struct {
		Enabled *bool `json:"enabled"`
	}
	if err := bindJSON(c, &req, 1<<10); err != nil {
		s.fail(c, err)
		return
	}
	if req.Enabled == nil {
		s.fail(c, errs.Invalid("invalid_setting", `the request needs "enabled": true or false`))
		return
	}
	if err := s.deps.Community.SetCommentsEnabled(c, currentUser(c), c.Param("id"), *req.Enabled); err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"comments_enabled": *req.Enabled})
}

func (s *Server) apiLike(c *gin.Context) {
	var req struct {
		Value string `json:"value"`
	}
	if err := bindJSON(c, &req, 1<<10); err != nil {
		s.fail(c, err)
		return
	}
	r, err := community.ParseReaction(req.Value)
	if err != nil {
		s.fail(c, err)
		return
	}
	st, err := s.deps.Community.React(c, currentUser(c), c.Param("id"), r)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, st)
}

func (s *Server) apiChannel(c *gin.Context) {
	cur, limit, err := listParams(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	ch, err := s.deps.Community.Channel(c, c.Param("id"), currentUser(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	sort := community.Sort(c.DefaultQuery("sort", "newest"))
	p, err := s.deps.Community.ChannelVideos(c, ch.ID, sort, cur, limit)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.showViews(c, p.Videos)
	c.JSON(http.StatusOK, gin.H{"channel": ch, "videos": p.Videos, "next_cursor": p.Next})
}

func (s *Server) apiSubscribe(on bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		id, err := strconv.ParseInt(strings.TrimSpace(c.Param("id")), 10, 64)
		if err != nil || id <= 0 {
			s.fail(c, errs.New(errs.ErrNotFound, "channel_not_found", "no such channel (use the channel's numeric id)"))
			return
		}
		st, err := s.deps.Community.Subscribe(c, currentUser(c), id, on)
		if err != nil {
			s.fail(c, err)
			return
		}
		c.JSON(http.StatusOK, st)
	}
}

func (s *Server) apiLiked(c *gin.Context) {
	cur, limit, err := listParams(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	p, err := s.deps.Community.Liked(c, currentUser(c), cur, limit)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.showViews(c, p.Videos)
	c.JSON(http.StatusOK, p)
}

func (s *Server) apiFeed(c *gin.Context) {
	cur, limit, err := listParams(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	p, err := s.deps.Community.Feed(c, currentUser(c), cur, limit)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.showViews(c, p.Videos)
	c.JSON(http.StatusOK, p)
}
