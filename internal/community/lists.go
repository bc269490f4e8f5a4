package community

import (
	"context"
	"sync"
	"time"

	"github.com/ucc-video/ucc/internal/accounts"
	"github.com/ucc-video/ucc/internal/errs"
	"github.com/ucc-video/ucc/internal/videos"
)

// Video lists: recent, trending (cached for Config.TrendingTTL), the
// subscriptions feed and liked videos, paged by keyset or offset.

// trendingCache keeps computed trending pages for Config.TrendingTTL.
type trendingCache struct {
	mu      sync.Mutex // held while a page is computed, so a burst computes it once
	entries map[trendingKey]trendingEntry
}

type trendingKey struct {
	since         time.Time
	offset, limit int
}

type trendingEntry struct {
	at     time.Time
	videos []videos.Video
}

// maxTrendingEntries bounds the cache; it is emptied when full.
const maxTrendingEntries = 256

// finishList sets the thumbnail URLs and the displayed view counts of list videos.
func (s *Service) finishList(ctx context.Context, vs []videos.Video) error {
	for i := range vs {
		u, err := s.videos.Media().URL(ctx, vs[i].ThumbnailKey)
		if err != nil {
			return err
		}
		vs[i].ThumbnailURL = u
		if vs[i].Renditions == nil {
			vs[i].Renditions = []videos.Rendition{}
		}
	}
	s.videos.ShowViews(ctx, vs)
	return nil
}

// keysetPage finishes a keyset list fetched with limit+1 rows.
func (s *Service) keysetPage(ctx context.Context, vs []videos.Video, limit int, at func(i int) time.Time) (VideoPage, error) {
	p := VideoPage{Videos: vs}
	if len(vs) > limit {
		p.Videos = vs[:limit]
		last := limit - 1
		p.Next = Cursor{AfterAt: at(last), AfterID: vs[last].ID}.String()
	}
	if p.Videos == nil {
		p.Videos = []videos.Video{}
	}
	return p, s.finishList(ctx, p.Videos)
}

// offsetPage finishes a ranked list fetched with limit+1 rows.
func (s *Service) offsetPage(ctx context.Context, vs []videos.Video, offset, limit int) (VideoPage, error) {
	p := VideoPage{Videos: vs}
	if len(vs) > limit {
		p.Videos = vs[:limit]
		p.Next = Cursor{Offset: offset + limit}.String()
	}
	if p.Videos == nil {
		p.Videos = []videos.Video{}
	}
	return p, s.finishList(ctx, p.Videos)
}

func published(vs []videos.Video) func(int) time.Time {
	return func(i int) time.Time {
		if vs[i].PublishedAt != nil {
			return *vs[i].PublishedAt
		}
		return vs[i].CreatedAt
	}
}

// Recent lists public videos, newest first.
func (s *Service) Recent(ctx context.Context, cur Cursor, limit int) (VideoPage, error) {
	limit = ClampLimit(limit)
	vs, err := s.store.RecentVideos(ctx, cur, limit+1)
	if err != nil {
		return VideoPage{}, err
	}
	return s.keysetPage(ctx, vs, limit, published(vs))
}

// Trending lists public videos by counted views in the last TrendingDays
// days (UTC days, today included); ties go to the newer video.
func (s *Service) Trending(ctx context.Context, cur Cursor, limit int) (VideoPage, error) {
	limit = ClampLimit(limit)
	today := s.now().UTC().Truncate(24 * time.Hour)
	since := today.AddDate(0, 0, -(TrendingDays - 1))
	vs, err := s.trendingVideos(ctx, since, cur.Offset, limit+1)
	if err != nil {
		return VideoPage{}, err
	}
	return s.offsetPage(ctx, vs, cur.Offset, limit)
}

// trendingVideos is store.TrendingVideos through the cache. It returns a
// copy the caller may change (URLs are filled in per request).
func (s *Service) trendingVideos(ctx context.Context, since time.Time, offset, limit int) ([]videos.Video, error) {
	if s.cfg.TrendingTTL <= 0 {
		return s.store.TrendingVideos(ctx, since, offset, limit)
	}
	c := &s.trending
	c.mu.Lock()
	defer c.mu.Unlock()
	key := trendingKey{since, offset, limit}
	e, ok := c.entries[key]
	if !ok || s.now().Sub(e.at) >= s.cfg.TrendingTTL {
		vs, err := s.store.TrendingVideos(ctx, since, offset, limit)
		if err != nil {
			return nil, err
		}
		if c.entries == nil || len(c.entries) >= maxTrendingEntries {
			c.entries = make(map[trendingKey]trendingEntry)
		}
		e = trendingEntry{at: s.now(), videos: vs}
		c.entries[key] = e
	}
	out := make([]videos.Video, len(e.videos))
	for i, v := range e.videos {
		v.Renditions = append([]videos.Rendition(nil), v.Renditions...)
		out[i] = v
	}
	return out, nil
}

// Evict drops every cached trending page that lists the video, so a video
// made private or deleted leaves trending at once (videos.Service.OnHidden).
func (s *Service) Evict(videoID int64) {
	c := &s.trending
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, e := range c.entries {
		for _, v := range e.videos {
			if v.ID == videoID {
				delete(c.entries, k)
				break
			}
		}
	}
}

// List lists public videos by sort (recent or trending).
func (s *Service) List(ctx context.Context, sort Sort, cur Cursor, limit int) (VideoPage, error) {
	switch sort {
	case "", SortRecent:
		return s.Recent(ctx, cur, limit)
	case SortTrending:
		return s.Trending(ctx, cur, limit)
	}
	return VideoPage{}, errs.InvalidVariant("invalid_sort", "videos", `sort must be "recent" or "trending"`)
}

// Feed lists new public videos from the channels u subscribes to.
func (s *Service) Feed(ctx context.Context, u *accounts.User, cur Cursor, limit int) (VideoPage, error) {
	if u == nil {
		return VideoPage{}, errs.NewVariant(errs.ErrUnauthorized, "unauthorized", "feed", "sign in to see your subscriptions")
	}
	limit = ClampLimit(limit)
	vs, err := s.store.FeedVideos(ctx, u.ID, cur, limit+1)
	if err != nil {
		return VideoPage{}, err
	}
	return s.keysetPage(ctx, vs, limit, published(vs))
}

// Liked lists the public videos u liked, most recently liked first.
func (s *Service) Liked(ctx context.Context, u *accounts.User, cur Cursor, limit int) (VideoPage, error) {
	if u == nil {
		return VideoPage{}, errs.NewVariant(errs.ErrUnauthorized, "unauthorized", "liked", "sign in to see the videos you liked")
	}
	limit = ClampLimit(limit)
	vs, at, err := s.store.LikedVideos(ctx, u.ID, cur, limit+1)
	if err != nil {
		return VideoPage{}, err
	}
	return s.keysetPage(ctx, vs, limit, func(i int) time.Time { return at[i] })
}
