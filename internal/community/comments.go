package community

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/ucc-video/ucc/internal/accounts"
	"github.com/ucc-video/ucc/internal/errs"
	"github.com/ucc-video/ucc/internal/videos"
)

var (
	errNoComment       = errs.New(errs.ErrNotFound, "comment_not_found", "no such comment")
	errCommentsOff     = errs.New(errs.ErrForbidden, "comments_disabled", "comments are turned off for this video")
	errNotYourComment  = errs.New(errs.ErrForbidden, "not_your_comment", "you can only edit your own comments")
	errCannotRemove    = errs.New(errs.ErrForbidden, "not_your_comment", "you can only delete your own comments, or comments on your own videos")
	errNotYourVideo    = errs.New(errs.ErrForbidden, "not_your_video", "only the video's creator can change its comment settings")
	errCommentDeleted  = errs.New(errs.ErrNotFound, "comment_deleted", "that comment was deleted")
	errSignInToComment = errs.New(errs.ErrUnauthorized, "unauthorized", "sign in to comment")
)

// ValidateComment trims a comment body and checks its length.
func ValidateComment(body string) (string, error) {
	if !utf8.ValidString(body) {
		return "", errs.Invalid("invalid_comment", "the comment is not valid UTF-8 text")
	}
	body = strings.ReplaceAll(body, "\x00", "")
	body = strings.ReplaceAll(body, "\r\n", "\n")
	body = strings.TrimSpace(body)
	if body == "" {
		return "", errs.Invalid("comment_empty", "the comment is empty")
	}
	if n := utf8.RuneCountInString(body); n > MaxCommentRunes {
		return "", errs.Invalid("comment_too_long", "a comment can be at most 10,000 characters; this one has %d", n)
	}
	return body, nil
}

// ParseCommentSort reads "newest" (default) or "top". Top orders by number
// of replies, then newest first.
func ParseCommentSort(s string) (Sort, error) {
	switch Sort(s) {
	case "", SortNewest:
		return SortNewest, nil
	case SortTop:
		return SortTop, nil
	}
	return "", errs.Invalid("invalid_sort", `sort must be "newest" or "top"`)
}

// Comments lists a video's top-level comments, each with its first
// RepliesPreview replies (oldest first). Newest uses a keyset cursor; top an offset.
func (s *Service) Comments(ctx context.Context, v videos.Video, sort Sort, cur Cursor, limit int) (CommentPage, error) {
	limit = ClampLimit(limit)
	cs, err := s.store.Comments(ctx, v.ID, sort, cur, limit+1, RepliesPreview)
	if err != nil {
		return CommentPage{}, err
	}
	p := CommentPage{Comments: cs, Sort: sort, Total: v.CommentCount}
	if len(cs) > limit {
		p.Comments = cs[:limit]
		last := p.Comments[limit-1]
		if sort == SortTop {
			p.Next = Cursor{Offset: cur.Offset + limit}.String()
		} else {
			p.Next = Cursor{AfterAt: last.CreatedAt, AfterID: last.ID}.String()
		}
	}
	if p.Comments == nil {
		p.Comments = []Comment{}
	}
	for i := range p.Comments {
		p.Comments[i].VideoPubID = v.PublicID
		for j := range p.Comments[i].Replies {
			p.Comments[i].Replies[j].VideoPubID = v.PublicID
		}
	}
	return p, nil
}

// VideoComments is Comments for a video given by public id, checking that viewer may see it.
func (s *Service) VideoComments(ctx context.Context, publicID string, viewer *accounts.User, sort Sort, cur Cursor, limit int) (CommentPage, error) {
	v, err := s.videos.Visible(ctx, publicID, viewer)
	if err != nil {
		return CommentPage{}, err
	}
	return s.Comments(ctx, v, sort, cur, limit)
}

// Replies lists the replies to a top-level comment, oldest first.
func (s *Service) Replies(ctx context.Context, commentID int64, viewer *accounts.User, cur Cursor, limit int) (CommentPage, error) {
	limit = ClampLimit(limit)
	c, v, err := s.commentAndVideo(ctx, commentID, viewer)
	if err != nil {
		return CommentPage{}, err
	}
	if c.ParentID != nil {
		return CommentPage{}, errs.Invalid("not_top_level", "replies have no replies; ask for the top-level comment")
	}
	rs, err := s.store.Replies(ctx, c.ID, cur.AfterID, limit+1)
	if err != nil {
		return CommentPage{}, err
	}
	p := CommentPage{Comments: rs, Sort: "oldest", Total: c.ReplyCount}
	if len(rs) > limit {
		p.Comments = rs[:limit]
		last := p.Comments[limit-1]
		p.Next = Cursor{AfterAt: last.CreatedAt, AfterID: last.ID}.String()
	}
	if p.Comments == nil {
		p.Comments = []Comment{}
	}
	for i := range p.Comments {
		p.Comments[i].VideoPubID = v.PublicID
	}
	return p, nil
}

// CommentWithVideo returns a comment and its video, if viewer may see them.
func (s *Service) CommentWithVideo(ctx context.Context, id int64, viewer *accounts.User) (Comment, videos.Video, error) {
	return s.commentAndVideo(ctx, id, viewer)
}

// commentAndVideo loads a comment and its video as viewer may see them.
func (s *Service) commentAndVideo(ctx context.Context, id int64, viewer *accounts.User) (Comment, videos.Video, error) {
	c, err := s.store.Comment(ctx, id)
	if errors.Is(err, errs.ErrNotFound) {
		return c, videos.Video{}, errNoComment
	}
	if err != nil {
		return c, videos.Video{}, err
	}
	v, err := s.videos.Visible(ctx, c.VideoPubID, viewer)
	if errors.Is(err, errs.ErrNotFound) {
		return c, v, errNoComment
	}
	return c, v, err
}

// PostComment adds u's comment to the video; parentID, when set, makes it a
// reply (a reply to a reply joins the top-level thread).
func (s *Service) PostComment(ctx context.Context, u *accounts.User, publicID, body string, parentID *int64) (Comment, error) {
	if u == nil {
		return Comment{}, errSignInToComment
	}
	body, err := ValidateComment(body)
	if err != nil {
		return Comment{}, err
	}
	v, err := s.videos.Visible(ctx, publicID, u)
	if err != nil {
		return Comment{}, err
	}
	if !v.CommentsEnabled {
		return Comment{}, errCommentsOff
	}
	n, err := s.limiter.Hit(ctx, "comment:"+strconv.FormatInt(u.ID, 10), s.cfg.CommentWindow)
	if err != nil {
		return Comment{}, errs.New(errs.ErrUnavailable, "unavailable", "comments cannot be posted right now; try again in a moment")
	}
	if n > s.cfg.CommentLimit {
		return Comment{}, errs.New(errs.ErrRateLimited, "comment_rate_limited", "you are commenting too fast; wait a minute and try again")
	}
	c, err := s.store.AddComment(ctx, v.ID, u.ID, parentID, body, s.now())
	switch {
	case errors.Is(err, errs.ErrForbidden):
		return Comment{}, errCommentsOff
	case errors.Is(err, errs.ErrNotFound) && parentID != nil:
		return Comment{}, errs.New(errs.ErrNotFound, "parent_not_found", "the comment you are replying to does not exist or was deleted")
	case err != nil:
		return Comment{}, err
	}
	c.VideoPubID = v.PublicID
	c.Author = Author{ID: u.ID, Name: u.DisplayName}
	return c, nil
}

// EditComment replaces the body of u's own comment.
func (s *Service) EditComment(ctx context.Context, u *accounts.User, id int64, body string) (Comment, error) {
	if u == nil {
		return Comment{}, errSignInToComment
	}
	body, err := ValidateComment(body)
	if err != nil {
		return Comment{}, err
	}
	c, v, err := s.commentAndVideo(ctx, id, u)
	if err != nil {
		return Comment{}, err
	}
	if c.Deleted {
		return Comment{}, errCommentDeleted
	}
	if c.Author.ID != u.ID {
		return Comment{}, errNotYourComment
	}
	out, err := s.store.EditComment(ctx, id, body, s.now())
	if errors.Is(err, errs.ErrNotFound) {
		return Comment{}, errNoComment
	}
	out.VideoPubID = v.PublicID
	return out, err
}

// DeleteComment deletes a comment: its author, the video's creator and
// admins may.
func (s *Service) DeleteComment(ctx context.Context, u *accounts.User, id int64) (Comment, error) {
	if u == nil {
		return Comment{}, errSignInToComment
	}
	c, v, err := s.commentAndVideo(ctx, id, u)
	if err != nil {
		return Comment{}, err
	}
	if c.Deleted {
		return Comment{}, errCommentDeleted
	}
	if c.Author.ID != u.ID && c.CreatorID != u.ID && !u.IsAdmin() {
		return Comment{}, errCannotRemove
	}
	if err := s.store.DeleteComment(ctx, id, s.now()); err != nil {
		if errors.Is(err, errs.ErrNotFound) {
			return Comment{}, errNoComment
		}
		return Comment{}, err
	}
	c.VideoPubID = v.PublicID
	return c, nil
}

// SetCommentsEnabled turns comments on or off; only the video's creator (or an admin) may.
func (s *Service) SetCommentsEnabled(ctx context.Context, u *accounts.User, publicID string, on bool) error {
	if u == nil {
		return errs.New(errs.ErrUnauthorized, "unauthorized", "sign in first")
	}
	v, err := s.videos.Visible(ctx, publicID, u)
	if err != nil {
		return err
	}
	if !v.IsOwner(u) && !u.IsAdmin() {
		return errNotYourVideo
	}
	return s.store.SetCommentsEnabled(ctx, v.ID, on)
}
