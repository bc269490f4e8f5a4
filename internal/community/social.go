package community

import (
	"context"
	"errors"
	"strings"
	"unicode"

	"github.com/ucc-video/ucc/internal/accounts"
	"github.com/ucc-video/ucc/internal/errs"
	"github.com/ucc-video/ucc/internal/videos"
)

// NormalizeQuery makes any input a safe search query: invalid UTF-8 and
// control characters are dropped, whitespace collapsed, and the result cut
// to MaxQueryRunes runes.
func NormalizeQuery(q string) string {
	q = strings.ToValidUTF8(q, " ")
	q = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.IsSpace(r) {
			return ' '
		}
		return r
	}, q)
	q = strings.Join(strings.Fields(q), " ")
	if r := []rune(q); len(r) > MaxQueryRunes {
		q = strings.TrimSpace(string(r[:MaxQueryRunes]))
	}
	return q
}

// Search ranks public videos whose title, description or channel matches q
// (web-search syntax: words, "phrases", -exclusions, or). Empty and junk
// queries give an empty page, never an error.
func (s *Service) Search(ctx context.Context, q string, cur Cursor, limit int) (VideoPage, error) {
	limit = ClampLimit(limit)
	q = NormalizeQuery(q)
	if q == "" {
		return VideoPage{Videos: []videos.Video{}}, nil
	}
	vs, err := s.store.SearchVideos(ctx, q, cur.Offset, limit+1)
	if err != nil {
		return VideoPage{}, err
	}
	return s.offsetPage(ctx, vs, cur.Offset, limit)
}

var errNoChannel = errs.New(errs.ErrNotFound, "channel_not_found", "no such channel")

// Channel returns the channel with handle, its counts, and whether viewer subscribes.
func (s *Service) Channel(ctx context.Context, handle string, viewer *accounts.User) (ChannelInfo, error) {
	handle = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(handle), "@"))
	if handle == "" || len(handle) > 30 {
		return ChannelInfo{}, errNoChannel
	}
	ch, err := s.store.ChannelByHandle(ctx, handle)
	if errors.Is(err, errs.ErrNotFound) {
		return ChannelInfo{}, errNoChannel
	}
	if err != nil {
		return ChannelInfo{}, err
	}
	return s.finishChannel(ctx, ch, viewer)
}

// ChannelByID is Channel by internal id.
func (s *Service) ChannelByID(ctx context.Context, id int64, viewer *accounts.User) (ChannelInfo, error) {
	ch, err := s.store.ChannelByID(ctx, id)
	if errors.Is(err, errs.ErrNotFound) {
		return ChannelInfo{}, errNoChannel
	}
	if err != nil {
		return ChannelInfo{}, err
	}
	return s.finishChannel(ctx, ch, viewer)
}

func (s *Service) finishChannel(ctx context.Context, ch ChannelInfo, viewer *accounts.User) (ChannelInfo, error) {
	var err error
	if ch.AvatarURL, err = s.videos.Media().URL(ctx, ch.AvatarKey); err != nil {
		return ch, err
	}
	if ch.BannerURL, err = s.videos.Media().URL(ctx, ch.BannerKey); err != nil {
		return ch, err
	}
	if viewer != nil {
		if ch.Subscribed, err = s.store.Subscribed(ctx, viewer.ID, ch.ID); err != nil {
			return ch, err
		}
	}
	return ch, nil
}

// ChannelVideos lists a channel's public videos: SortNewest (default) or SortPopular.
func (s *Service) ChannelVideos(ctx context.Context, channelID int64, sort Sort, cur Cursor, limit int) (VideoPage, error) {
	limit = ClampLimit(limit)
	switch sort {
	case "", SortNewest:
		vs, err := s.store.ChannelVideos(ctx, channelID, SortNewest, cur, limit+1)
		if err != nil {
			return VideoPage{}, err
		}
		return s.keysetPage(ctx, vs, limit, published(vs))
	case SortPopular:
		vs, err := s.store.ChannelVideos(ctx, channelID, SortPopular, cur, limit+1)
		if err != nil {
			return VideoPage{}, err
		}
		return s.offsetPage(ctx, vs, cur.Offset, limit)
	}
	return VideoPage{}, errs.Invalid("invalid_sort", `sort must be "newest" or "popular"`)
}

// MoreFromChannel lists up to limit other public videos of v's channel.
func (s *Service) MoreFromChannel(ctx context.Context, v videos.Video, limit int) ([]videos.Video, error) {
	vs, err := s.store.ChannelVideos(ctx, v.Channel.ID, SortNewest, Cursor{}, limit+1)
	if err != nil {
		return nil, err
	}
	out := vs[:0]
	for _, o := range vs {
		if o.ID != v.ID && len(out) < limit {
			out = append(out, o)
		}
	}
	return out, s.finishList(ctx, out)
}

// Subscribe subscribes u to the channel (on) or unsubscribes; both are
// idempotent. Subscribing to one's own channel is refused.
func (s *Service) Subscribe(ctx context.Context, u *accounts.User, channelID int64, on bool) (SubscriptionState, error) {
	if u == nil {
		return SubscriptionState{}, errs.New(errs.ErrUnauthorized, "unauthorized", "sign in to subscribe")
	}
	ch, err := s.store.ChannelByID(ctx, channelID)
	if errors.Is(err, errs.ErrNotFound) {
		return SubscriptionState{}, errNoChannel
	}
	if err != nil {
		return SubscriptionState{}, err
	}
	if on && ch.OwnerID == u.ID {
		return SubscriptionState{}, errs.Invalid("own_channel", "you cannot subscribe to your own channel")
	}
	st, err := s.store.Subscribe(ctx, u.ID, channelID, on)
	if errors.Is(err, errs.ErrNotFound) {
		return SubscriptionState{}, errNoChannel
	}
	return st, err
}

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
