package web

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/ucc-video/ucc/internal/community"
	"github.com/ucc-video/ucc/internal/errs"
)

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

// videoPage fetches one page of a video list for a cursor and a page size.
type videoPage func(cur community.Cursor, limit int) (community.VideoPage, error)

// apiVideoList answers a video list: {"videos", "next_cursor"}.
func (s *Server) apiVideoList(c *gin.Context, fetch videoPage) {
	cur, limit, err := listParams(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	p, err := fetch(cur, limit)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, p)
}

func (s *Server) apiListVideos(c *gin.Context) {
	s.apiVideoList(c, func(cur community.Cursor, limit int) (community.VideoPage, error) {
		return s.deps.Community.List(c, community.Sort(c.DefaultQuery("sort", "recent")), cur, limit)
	})
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
	if err := bindJSON(c, &req); err != nil {
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
	if err := bindJSON(c, &req); err != nil {
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
	if err := bindJSON(c, &req); err != nil {
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
	if err := bindJSON(c, &req); err != nil {
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
	ch, err := s.deps.Community.Channel(c, c.Param("handle"), currentUser(c))
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
	c.JSON(http.StatusOK, gin.H{"channel": ch, "videos": p.Videos, "next_cursor": p.Next})
}

// apiSubscribe subscribes to (on) or unsubscribes from the channel with the
// handle in the path.
func (s *Server) apiSubscribe(on bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		st, err := s.deps.Community.Subscribe(c, currentUser(c), c.Param("handle"), on)
		if err != nil {
			s.fail(c, err)
			return
		}
		c.JSON(http.StatusOK, st)
	}
}

func (s *Server) apiLiked(c *gin.Context) {
	s.apiVideoList(c, func(cur community.Cursor, limit int) (community.VideoPage, error) {
		return s.deps.Community.Liked(c, currentUser(c), cur, limit)
	})
}

func (s *Server) apiFeed(c *gin.Context) {
	s.apiVideoList(c, func(cur community.Cursor, limit int) (community.VideoPage, error) {
		return s.deps.Community.Feed(c, currentUser(c), cur, limit)
	})
}
