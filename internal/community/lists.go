package community

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/ucc-video/ucc/internal/accounts"
	"github.com/ucc-video/ucc/internal/errs"
	"github.com/ucc-video/ucc/internal/videos"
)

// Video lists: recent, trending (cached for Config.TrendingTTL), the
// subscriptions feed and liked videos, paged by keyset or offset.

// The trending cache. Ranking sums a week of daily buckets, far too much
// work for every home page view, so the ranking's head (the first
// trendingHead rows) is computed once per TrendingTTL and every page inside
// it, whatever its offset and size, is cut from that one entry. There is
// one entry per window start (a new one each UTC day; trendingKeys are
// kept), so no cursor or limit a client sends can add keys. Pages past the
// head go to the database, at most Config.HeavyQueries at a time.
//
// A hit takes no lock: the entries are an immutable map behind an atomic
// pointer, replaced as a whole by the rare writer. A miss is loaded once
// however many requests want it (single-flight per key), and a load of one
// key never holds up requests for another. An expired entry is still
// served (up to trendingStale TTLs) while one refresh runs behind it, so
// only a cold cache makes a request wait for the ranking.
type trendingCache struct {
	entries atomic.Pointer[map[time.Time]*trendingEntry]
	mu      sync.Mutex   // serialises writers of entries; never held during a load
	gen     atomic.Int64 // counts evictions: a load that saw one stores nothing
	loads   singleflight.Group
}

type trendingEntry struct {
	at     time.Time
	videos []videos.Video // the ranking's first rows, at most trendingHead
}

const (
	// trendingHead is how many ranked rows an entry holds: four full pages
	// and the row that tells whether a next page exists.
	trendingHead = 4*MaxLimit + 1
	// trendingKeys is how many window starts are kept (today's and
	// yesterday's, around midnight).
	trendingKeys = 2
)

// trendingStale is how many TTLs an expired entry may still be served
// while its refresh runs (or keeps failing).
const trendingStale = 10

// get returns the entry for since when it is younger than ttl (fresh), or
// younger than trendingStale TTLs (stale: serve it and refresh), or nil.
func (c *trendingCache) get(since, now time.Time, ttl time.Duration) (e *trendingEntry, fresh bool) {
	if m := c.entries.Load(); m != nil {
		if e := (*m)[since]; e != nil && now.Sub(e.at) < trendingStale*ttl {
			return e, now.Sub(e.at) < ttl
		}
	}
	return nil, false
}

// putUnless stores e for since, keeping the trendingKeys newest window
// starts, unless a video was evicted since generation gen (e may list it).
func (c *trendingCache) putUnless(since time.Time, e *trendingEntry, gen int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen.Load() != gen {
		return
	}
	next := map[time.Time]*trendingEntry{since: e}
	if old := c.entries.Load(); old != nil {
		keys := make([]time.Time, 0, len(*old))
		for k := range *old {
			if !k.Equal(since) {
				keys = append(keys, k)
			}
		}
		slices.SortFunc(keys, func(a, b time.Time) int { return b.Compare(a) })
		for _, k := range keys {
			if len(next) >= trendingKeys {
				break
			}
			next[k] = (*old)[k]
		}
	}
	c.entries.Store(&next)
}

// Len is the number of window starts cached.
func (c *trendingCache) Len() int {
	if m := c.entries.Load(); m != nil {
		return len(*m)
	}
	return 0
}

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
	if offset+limit > trendingHead {
		// Past the head: straight to the database, a few at a time.
		release, err := s.heavySlot(ctx)
		if err != nil {
			return nil, err
		}
		defer release()
		return s.store.TrendingVideos(ctx, since, offset, limit)
	}
	e, fresh := s.trending.get(since, s.now(), s.cfg.TrendingTTL)
	switch {
	case e == nil:
		var err error
		if e, err = s.loadTrending(ctx, since); err != nil {
			return nil, err
		}
	case !fresh:
		// Serve the expired ranking at once and refresh it behind: a
		// recomputation under load must not hold up the home page.
		s.trending.loads.DoChan(trendingKey(since), func() (any, error) { return s.fillTrending(ctx, since) })
	}
	var vs []videos.Video
	if offset < len(e.videos) {
		vs = e.videos[offset:min(len(e.videos), offset+limit)]
	}
	out := make([]videos.Video, len(vs))
	for i, v := range vs {
		v.Renditions = append([]videos.Rendition(nil), v.Renditions...)
		out[i] = v
	}
	return out, nil
}

// loadTrending computes the head of the ranking from since, once for all
// the requests that want it at the same time. The load runs to its end
// even when the request that started it goes away (the others still wait
// for it; the store's statement timeout bounds it); each waiter stops
// waiting when its own request ends.
func (s *Service) loadTrending(ctx context.Context, since time.Time) (*trendingEntry, error) {
	ch := s.trending.loads.DoChan(trendingKey(since), func() (any, error) { return s.fillTrending(ctx, since) })
	select {
	case r := <-ch:
		if r.Err != nil {
			return nil, r.Err
		}
		return r.Val.(*trendingEntry), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// trendingLoadTimeout bounds one load of the trending head, waiting for a
// connection included. The load serves every home page until the next one,
// so it is not held to the statement timeout of one reader's query.
const trendingLoadTimeout = time.Minute

type sharedLoadKey struct{}

// SharedLoad marks ctx as a cache fill that serves many requests, not one
// reader's query: a store bounds it by ctx's deadline instead of the
// statement timeout it gives user-driven reads (a trending head slower than
// that would otherwise never be cached, and every home page would fail).
func SharedLoad(ctx context.Context) context.Context {
	return context.WithValue(ctx, sharedLoadKey{}, true)
}

// IsSharedLoad reports whether ctx was marked by SharedLoad.
func IsSharedLoad(ctx context.Context) bool {
	v, _ := ctx.Value(sharedLoadKey{}).(bool)
	return v
}

// trendingKey is the single-flight key of a window start.
func trendingKey(since time.Time) string { return since.Format(time.RFC3339) }

// fillTrending computes and stores the head of the ranking from since,
// unless a fresh entry arrived meanwhile.
func (s *Service) fillTrending(ctx context.Context, since time.Time) (*trendingEntry, error) {
	if e, fresh := s.trending.get(since, s.now(), s.cfg.TrendingTTL); fresh {
		return e, nil // loaded while this request was on its way
	}
	gen := s.trending.gen.Load()
	// Not cancelled with the request that started it (others wait for
	// it), but bounded: the statement timeout stops the query, this stops
	// a wait for a free connection.
	lctx, cancel := context.WithTimeout(SharedLoad(context.WithoutCancel(ctx)), trendingLoadTimeout)
	defer cancel()
	vs, err := s.store.TrendingVideos(lctx, since, 0, trendingHead)
	if err != nil {
		return nil, err
	}
	e := &trendingEntry{at: s.now(), videos: vs}
	s.trending.putUnless(since, e, gen)
	return e, nil
}

// heavySlot takes one of the Config.HeavyQueries slots for a query that
// cannot be cached (a search, a deep trending page), waiting up to
// Config.HeavyWait for one to free. release gives it back.
func (s *Service) heavySlot(ctx context.Context) (release func(), err error) {
	if s.heavy == nil {
		return func() {}, nil
	}
	select {
	case s.heavy <- struct{}{}:
		return func() { <-s.heavy }, nil
	default:
	}
	wait := time.NewTimer(max(s.cfg.HeavyWait, time.Millisecond))
	defer wait.Stop()
	select {
	case s.heavy <- struct{}{}:
		return func() { <-s.heavy }, nil
	case <-wait.C:
		return nil, fmt.Errorf("%w: %d heavy queries already running", ErrQueryTimeout, cap(s.heavy))
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// TrendingKeys is how many window starts the trending cache holds (for
// tests and metrics).
func (s *Service) TrendingKeys() int { return s.trending.Len() }

// Evict drops every cached trending entry that lists the video, so a video
// made private or deleted leaves trending at once (videos.Service.OnHidden);
// a load already running when it was hidden is not stored.
func (s *Service) Evict(videoID int64) {
	c := &s.trending
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen.Add(1)
	old := c.entries.Load()
	if old == nil {
		return
	}
	next := make(map[time.Time]*trendingEntry, len(*old))
	for k, e := range *old {
		if !slices.ContainsFunc(e.videos, func(v videos.Video) bool { return v.ID == videoID }) {
			next[k] = e
		}
	}
	c.entries.Store(&next)
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
