package community

import (
	"context"
	"errors"
	"strings"

	"github.com/ucc-video/ucc/internal/accounts"
	"github.com/ucc-video/ucc/internal/errs"
	"github.com/ucc-video/ucc/internal/videos"
)

// Channels as viewers see them: counts, whether they subscribe, their videos.

var errNoChannel = errs.New(errs.ErrNotFound, "channel_not_found", "no such channel")

// Channel returns the channel with handle, its counts, and whether viewer subscribes.
func (s *Service) Channel(ctx context.Context, handle string, viewer *accounts.User) (ChannelInfo, error) {
	ch, err := s.byHandle(ctx, handle)
	if err != nil {
		return ChannelInfo{}, err
	}
	return s.finishChannel(ctx, ch, viewer)
}

// byHandle looks a channel up by its handle (any case, "@" allowed).
func (s *Service) byHandle(ctx context.Context, handle string) (ChannelInfo, error) {
	handle = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(handle), "@"))
	if handle == "" || len(handle) > 30 {
		return ChannelInfo{}, errNoChannel
	}
	return found(s.store.ChannelByHandle(ctx, handle))
}

// ChannelByID is Channel by internal id.
func (s *Service) ChannelByID(ctx context.Context, id int64, viewer *accounts.User) (ChannelInfo, error) {
	ch, err := found(s.store.ChannelByID(ctx, id))
	if err != nil {
		return ChannelInfo{}, err
	}
	return s.finishChannel(ctx, ch, viewer)
}

// found is a store lookup of a channel with "not found" told as no such channel.
func found(ch ChannelInfo, err error) (ChannelInfo, error) {
	if errors.Is(err, errs.ErrNotFound) {
		return ChannelInfo{}, errNoChannel
	}
	return ch, err
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
