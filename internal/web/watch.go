package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/ucc-video/ucc/internal/community"
	"github.com/ucc-video/ucc/internal/errs"
	"github.com/ucc-video/ucc/internal/videos"
	"github.com/ucc-video/ucc/internal/views"
)

// watchCommentsPerPage is how many top-level comments the watch page shows at once.
const watchCommentsPerPage = 20

// watchData is what templates/pages/watch.html receives.
type watchData struct {
	Video        videos.Video
	Channel      community.ChannelInfo
	Reaction     string
	IsOwner      bool
	CanModerate  bool
	Sources      []videos.Rendition // the chosen quality first
	Quality      int
	Comments     community.CommentPage
	CommentSort  string
	Thread       *community.Comment // ?thread=ID: a top-level comment with all its replies
	ThreadNext   string
	EditID       int64
	ReplyTo      int64
	More         []videos.Video
	PageURL      string
	Sub          subscribeView
	CSRF         string
	SignedIn     bool
	CommentList  []commentView
	ThreadView   *commentView
	NextComments string
	Play         views.Grant // the play token the view beacon reports with
	HasPlay      bool
}

// commentView is a comment with what the current user may do with it.
type commentView struct {
	community.Comment
	Replies     []commentView
	CanEdit     bool
	CanDelete   bool
	Editing     bool
	Replying    bool
	CanReply    bool
	MoreReplies bool
	ThreadURL   string
	CSRF        string
	VideoID     string
	Back        string // the page URL forms return to
}

// commentViews decorates comments for the watch page.
func (s *Server) commentViews(c *gin.Context, d *watchData, cs []community.Comment) []commentView {
	u := currentUser(c)
	out := make([]commentView, 0, len(cs))
	for _, cm := range cs {
		v := commentView{Comment: cm, CSRF: d.CSRF, VideoID: d.Video.PublicID, Back: c.Request.URL.RequestURI()}
		if !cm.Deleted && u != nil {
			v.CanEdit = cm.Author.ID == u.ID
			v.CanDelete = v.CanEdit || d.CanModerate
			v.CanReply = d.Video.CommentsEnabled
			v.Editing = v.CanEdit && d.EditID == cm.ID
			v.Replying = v.CanReply && d.ReplyTo == cm.ID
		}
		v.Replies = s.commentViews(c, d, cm.Replies)
		if cm.ParentID == nil && cm.ReplyCount > int64(len(cm.Replies)) {
			v.MoreReplies = true
			v.ThreadURL = fmt.Sprintf("/watch/%s?thread=%d#c%d", url.PathEscape(d.Video.PublicID), cm.ID, cm.ID)
		}
		out = append(out, v)
	}
	return out
}

// watchPage renders /watch/{id}: player, counts, description, comments and
// more from the channel. Each section is one query; comments are paged.
func (s *Server) watchPage(c *gin.Context) {
	u := currentUser(c)
	v, err := s.deps.Videos.Get(c, c.Param("id"), u)
	if err != nil {
		s.fail(c, err)
		return
	}
	d := watchData{Video: v, IsOwner: v.IsOwner(u), CanModerate: v.IsOwner(u) || u.IsAdmin(), PageURL: "/watch/" + v.PublicID}
	if d.Channel, err = s.deps.Community.ChannelByID(c, v.Channel.ID, u); err != nil {
		s.fail(c, err)
		return
	}
	r, err := s.deps.Community.ReactionOf(c, u, v.ID)
	if err != nil {
		s.fail(c, err)
		return
	}
	d.Reaction = r.String()
	d.Quality, d.Sources = pickQuality(v.Renditions, c.Query("quality"))

	sort, err := community.ParseCommentSort(c.Query("sort"))
	if err != nil {
		sort = community.SortNewest
	}
	d.CommentSort = string(sort)
	cur, err := community.ParseCursor(c.Query("cursor"))
	if err != nil {
		s.fail(c, err)
		return
	}
	if d.Comments, err = s.deps.Community.Comments(c, v, sort, cur, watchCommentsPerPage); err != nil {
		s.fail(c, err)
		return
	}
	if t, err := strconv.ParseInt(c.Query("thread"), 10, 64); err == nil && t > 0 {
		rcur, _ := community.ParseCursor(c.Query("rcursor"))
		if parent, _, err := s.deps.Community.CommentWithVideo(c, t, u); err == nil && parent.VideoID == v.ID && parent.ParentID == nil {
			rp, err := s.deps.Community.Replies(c, t, u, rcur, community.MaxLimit)
			if err != nil {
				s.fail(c, err)
				return
			}
			parent.Replies = rp.Comments
			d.Thread, d.ThreadNext = &parent, rp.Next
		}
	}
	d.EditID, _ = strconv.ParseInt(c.Query("edit"), 10, 64)
	d.ReplyTo, _ = strconv.ParseInt(c.Query("reply"), 10, 64)
	if d.More, err = s.deps.Community.MoreFromChannel(c, v, 8); err != nil {
		s.fail(c, err)
		return
	}

	d.CSRF, d.SignedIn = s.csrfToken(c), u != nil
	d.Play, d.HasPlay = s.playGrant(c, v.PublicID)
	d.Sub = s.subscribeButton(c, d.Channel, d.PageURL)
	d.CommentList = s.commentViews(c, &d, d.Comments.Comments)
	if d.Thread != nil {
		tv := s.commentViews(c, &d, []community.Comment{*d.Thread})[0]
		tv.MoreReplies = false
		d.ThreadView = &tv
		// The open thread is shown whole above the list; don't show it twice.
		list := d.CommentList[:0]
		for _, cv := range d.CommentList {
			if cv.ID != d.Thread.ID {
				list = append(list, cv)
			}
		}
		d.CommentList = list
	}
	if d.Comments.Next != "" {
		d.NextComments = d.PageURL + "?sort=" + d.CommentSort + "&cursor=" + url.QueryEscape(d.Comments.Next) + "#comments"
	}
	og := map[string]string{"og:type": "video.other", "og:url": s.absURL("/watch/" + v.PublicID)}
	if v.ThumbnailURL != "" {
		og["og:image"] = s.absURL(v.ThumbnailURL)
	}
	if len(d.Sources) > 0 {
		og["og:video"] = s.absURL(d.Sources[0].URL)
		og["og:video:type"] = "video/mp4"
		og["og:video:width"] = strconv.Itoa(d.Sources[0].Width)
		og["og:video:height"] = strconv.Itoa(d.Sources[0].Height)
	}
	desc := v.Description
	if r := []rune(desc); len(r) > 200 {
		desc = string(r[:200]) + "…"
	}
	if desc == "" {
		desc = "A video by " + v.Channel.Name + " on UCC."
	}
	s.htmlPage(c, http.StatusOK, "watch", Page{Title: v.Title, Description: desc, OG: og, Data: d})
}

// pickQuality puts the rendition of the asked height first (720p, or the
// tallest below it, by default) and returns its height.
func pickQuality(rs []videos.Rendition, asked string) (int, []videos.Rendition) {
	if len(rs) == 0 {
		return 0, nil
	}
	want, _ := strconv.Atoi(strings.TrimSuffix(asked, "p"))
	pick := -1
	for i, r := range rs {
		if r.Height == want {
			pick = i
		}
	}
	if pick < 0 {
		pick = 0
		for i, r := range rs { // renditions are ordered by height
			if r.Height <= 720 {
				pick = i
			}
		}
	}
	out := make([]videos.Rendition, 0, len(rs))
	out = append(out, rs[pick])
	for i := len(rs) - 1; i >= 0; i-- {
		if i != pick {
			out = append(out, rs[i])
		}
	}
	return rs[pick].Height, out
}

// absURL makes a site-relative URL absolute with the base URL.
func (s *Server) absURL(u string) string {
	if strings.HasPrefix(u, "/") {
		return strings.TrimSuffix(s.cfg.BaseURL, "/") + u
	}
	return u
}

// backTo redirects to a local path given in the form's "next", or to fallback.
func backTo(c *gin.Context, fallback string) {
	next := c.PostForm("next")
	if next == "" || safeNext(next) != next {
		next = fallback
	}
	c.Redirect(http.StatusSeeOther, next)
}

func (s *Server) watchCommentSubmit(c *gin.Context) {
	var parent *int64
	if p := c.PostForm("parent_id"); p != "" {
		id, err := strconv.ParseInt(p, 10, 64)
		if err != nil {
			s.fail(c, errs.Invalid("invalid_parent", "parent_id must be a comment id"))
			return
		}
		parent = &id
	}
	cm, err := s.deps.Community.PostComment(c, currentUser(c), c.Param("id"), c.PostForm("body"), parent)
	if err != nil {
		s.fail(c, err)
		return
	}
	anchor := fmt.Sprintf("#c%d", cm.ID)
	if cm.ParentID != nil {
		c.Redirect(http.StatusSeeOther, fmt.Sprintf("/watch/%s?thread=%d%s", url.PathEscape(cm.VideoPubID), *cm.ParentID, anchor))
		return
	}
	c.Redirect(http.StatusSeeOther, "/watch/"+url.PathEscape(cm.VideoPubID)+anchor)
}

func (s *Server) watchLikeSubmit(c *gin.Context) {
	r, err := community.ParseReaction(c.PostForm("value"))
	if err != nil {
		s.fail(c, err)
		return
	}
	if _, err := s.deps.Community.React(c, currentUser(c), c.Param("id"), r); err != nil {
		s.fail(c, err)
		return
	}
	backTo(c, "/watch/"+url.PathEscape(c.Param("id")))
}

func (s *Server) watchCommentSettingsSubmit(c *gin.Context) {
	on := c.PostForm("enabled") == "true"
	if err := s.deps.Community.SetCommentsEnabled(c, currentUser(c), c.Param("id"), on); err != nil {
		s.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/watch/"+url.PathEscape(c.Param("id"))+"#comments")
}

func (s *Server) commentEditSubmit(c *gin.Context) {
	id, err := commentID(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	cm, err := s.deps.Community.EditComment(c, currentUser(c), id, c.PostForm("body"))
	if err != nil {
		s.fail(c, err)
		return
	}
	backTo(c, fmt.Sprintf("/watch/%s#c%d", url.PathEscape(cm.VideoPubID), cm.ID))
}

func (s *Server) commentDeleteSubmit(c *gin.Context) {
	id, err := commentID(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	cm, err := s.deps.Community.DeleteComment(c, currentUser(c), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	backTo(c, "/watch/"+url.PathEscape(cm.VideoPubID)+"#comments")
}

func (s *Server) subscribeSubmit(c *gin.Context) {
	on := c.PostForm("action") != "unsubscribe"
	if _, err := s.deps.Community.Subscribe(c, currentUser(c), c.Param("handle"), on); err != nil {
		s.fail(c, err)
		return
	}
	backTo(c, "/c/"+url.PathEscape(c.Param("handle")))
}
