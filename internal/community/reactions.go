package community

import (
	"context"
	"errors"

	"github.com/ucc-video/ucc/internal/accounts"
	"github.com/ucc-video/ucc/internal/errs"
	"github.com/ucc-video/ucc/internal/videos"
)

// Likes and dislikes.

// React sets u's like/dislike on the video (ReactionNone clears it) and
// returns the new counts.
func (s *Service) React(ctx context.Context, u *accounts.User, publicID string, r Reaction) (ReactionState, error) {
	if u == nil {
		return ReactionState{}, errs.New(errs.ErrUnauthorized, "unauthorized", "sign in to like videos")
	}
	v, err := s.videos.Visible(ctx, publicID, u)
	if err != nil {
		return ReactionState{}, err
	}
	st, err := s.store.React(ctx, u.ID, v.ID, r)
	if errors.Is(err, errs.ErrNotFound) {
		return ReactionState{}, videos.ErrNotFound
	}
	return st, err
}

// ReactionOf returns u's reaction to the video with internal id videoID.
func (s *Service) ReactionOf(ctx context.Context, u *accounts.User, videoID int64) (Reaction, error) {
	if u == nil {
		return ReactionNone, nil
	}
	return s.store.ReactionOf(ctx, u.ID, videoID)
}
