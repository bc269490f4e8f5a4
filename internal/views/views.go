// Package views counts real watches: signed play tokens, viewer identity,
// exclusion rules, one atomic counting call per report (Counter, on Redis)
// and a flusher that moves pending counts into PostgreSQL (Store) exactly
// once, even across crashes.
package views

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/ucc-video/ucc/internal/errs"
	"github.com/ucc-video/ucc/internal/videos"
)

// Reason says why a report did not count.
type Reason string

// Reasons a report is not counted.
const (
	ReasonNone         Reason = ""
	ReasonDuplicate    Reason = "duplicate"
	ReasonTooEarly     Reason = "too_early"
	ReasonInvalidToken Reason = "invalid_token"
	ReasonExcluded     Reason = "excluded"
	ReasonRateLimited  Reason = "rate_limited"
)

// Reasons lists every rejection reason (for metrics).
func Reasons() []Reason {
	return []Reason{ReasonDuplicate, ReasonTooEarly, ReasonInvalidToken, ReasonExcluded, ReasonRateLimited}
}

// Video is what counting needs to know about a video.
type Video struct {
	ID              int64
	CreatorID       int64
	Visibility      videos.Visibility
	Status          videos.Status
	DurationSeconds float64
}

// Countable reports whether views of v may count at all.
func (v Video) Countable() bool {
	return v.Status == videos.StatusReady && v.Visibility != videos.Private
}

// viewable reports whether viewer may watch v (the rule of videos.CanView).
func (v Video) viewable(viewer Viewer) bool {
	return (viewer.UserID != 0 && (viewer.UserID == v.CreatorID || viewer.Admin)) || v.Countable()
}

// VideoLookup finds a video by its public id (errs.ErrNotFound when absent).
type VideoLookup interface {
	CountableVideo(ctx context.Context, publicID string) (Video, error)
}

// Outcome is what the Counter did with a hit.
type Outcome int

// Outcomes of Counter.Count.
const (
	OutcomeCounted     Outcome = iota // counted: dedup key set, pending counters incremented
	OutcomeDuplicate                  // the viewer's view of this video already counted in the window
	OutcomeRateLimited                // the IP is over its hourly cap; nothing was written
	OutcomeReplayed                   // this very token already counted; nothing was written
)

// Hit is one view to count.
type Hit struct {
	VideoID int64
	Viewer  string // Viewer.Identity()
	IP      string // "" skips the IP cap
	TokenID []byte // the token's MAC: a replay of the same token is recognised
	Now     time.Time
	Window  time.Duration // dedup window
	IPCap   int           // counted views per IP per hour; 0 = no cap
}

// Delta is a number of views to add to a video's lifetime total.
type Delta struct {
	VideoID int64
	Views   int64
}

// DayDelta is a number of views to add to a video's bucket for one UTC day.
type DayDelta struct {
	VideoID int64
	Day     time.Time // midnight UTC
	Views   int64
}

// Batch is the content of one swapped-aside pending set.
type Batch struct {
	Totals []Delta
	Daily  []DayDelta
}

// Views returns the number of views in the batch.
func (b Batch) Views() int64 {
	var n int64
	for _, d := range b.Totals {
		n += d.Views
	}
	return n
}

// Pending is what Counter.Pending found.
type Pending struct {
	Main    map[int64]int64            // the pending set, per video
	Swapped map[string]map[int64]int64 // sets swapped aside, by flush id, per video
}

// Counter is the fast, atomic side of counting (Redis).
type Counter interface {
	// Count deduplicates and counts one hit in one atomic step. A replay of
	// a token that already counted answers OutcomeCounted again without
	// counting twice (OutcomeReplayed), so a client that lost the answer
	// may retry.
	Count(ctx context.Context, h Hit) (Outcome, error)
	// Pending returns, per video, views counted and not yet flushed: in the
	// pending set and in each set swapped aside and not yet dropped.
	Pending(ctx context.Context, videoIDs []int64) (Pending, error)
	// Swap moves the pending set aside under flushID, atomically; false
	// when nothing is pending.
	Swap(ctx context.Context, flushID string) (bool, error)
	// Swapped lists the flush ids of sets swapped aside and not yet dropped.
	Swapped(ctx context.Context) ([]string, error)
	// Batch reads the set swapped aside under flushID.
	Batch(ctx context.Context, flushID string) (Batch, error)
	// Drop deletes the set swapped aside under flushID.
	Drop(ctx context.Context, flushID string) error
	// OldestPending returns when the oldest view not yet in PostgreSQL was
	// counted; ok is false when nothing is pending.
	OldestPending(ctx context.Context) (t time.Time, ok bool, err error)
}

// Store is the durable side (PostgreSQL).
type Store interface {
	// Apply adds a batch to the lifetime totals and daily buckets and
	// records flushID, in one transaction. It returns false, changing
	// nothing, when flushID was already recorded.
	Apply(ctx context.Context, flushID string, b Batch) (applied bool, err error)
	// Totals returns the lifetime views stored for each existing video, in
	// one snapshot. Within that snapshot it calls between and reports which
	// of the flush ids between returns are recorded, i.e. already included
	// in the totals.
	Totals(ctx context.Context, videoIDs []int64, between func() []string) (totals map[int64]int64, recorded map[string]bool, err error)
	// TryLockFlush takes the cluster-wide flusher lock if it is free.
	TryLockFlush(ctx context.Context) (unlock func(), ok bool, err error)
}

// Config holds the counting rules.
type Config struct {
	Secret      []byte        // signs play tokens and viewer ids
	MinWatch    time.Duration // UCC_VIEW_MIN_WATCH
	DedupWindow time.Duration // UCC_VIEW_DEDUP_WINDOW
	IPHourlyCap int           // UCC_VIEW_IP_HOURLY_CAP (0 = off)
}

// ErrCounterDown is returned when reports cannot be counted because Redis is
// not answering.
var ErrCounterDown = errs.New(errs.ErrUnavailable, "views_unavailable",
	"view counting is temporarily unavailable; the view was not counted, try again in a moment")

// Service answers play and report requests and displayed counts.
type Service struct {
	cfg     Config
	signer  *Signer
	videos  VideoLookup
	counter Counter
	store   Store
	metrics *Metrics
	now     func() time.Time
	cache   videoCache
}

// videoCacheTTL is how long a looked-up video is reused for play and
// report requests: a change of visibility or status applies within it.
const videoCacheTTL = 2 * time.Second

// videoCacheMax bounds the cache; it is emptied when full.
const videoCacheMax = 50_000

// videoCache keeps recent video lookups so a burst of reports on a popular
// video costs no PostgreSQL round trip each.
type videoCache struct {
	mu sync.RWMutex
	m  map[string]cachedVideo
}

type cachedVideo struct {
	v       Video
	expires time.Time
}

func (c *videoCache) get(id string, now time.Time) (Video, bool) {
	c.mu.RLock()
	e, ok := c.m[id]
	c.mu.RUnlock()
	if !ok || now.After(e.expires) {
		return Video{}, false
	}
	return e.v, true
}

func (c *videoCache) put(id string, v Video, now time.Time) {
	c.mu.Lock()
	if c.m == nil || len(c.m) >= videoCacheMax {
		c.m = make(map[string]cachedVideo)
	}
	c.m[id] = cachedVideo{v: v, expires: now.Add(videoCacheTTL)}
	c.mu.Unlock()
}

// Evict drops a video from the lookup cache, so a video made private or
// deleted stops taking plays and reports at once (videos.Service.OnHidden).
func (s *Service) Evict(publicID string) {
	s.cache.mu.Lock()
	delete(s.cache.m, publicID)
	s.cache.mu.Unlock()
}

// NewService returns a Service; metrics may be nil, now nil means time.Now.
func NewService(cfg Config, lookup VideoLookup, counter Counter, store Store, m *Metrics, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	if m == nil {
		m = NewMetrics(nil)
	}
	return &Service{cfg: cfg, signer: NewSigner(cfg.Secret), videos: lookup, counter: counter, store: store, metrics: m, now: now}
}

// Signer returns the signer of play tokens and viewer ids.
func (s *Service) Signer() *Signer { return s.signer }

// MinWatchFloor is the least watch time a view needs when half a short
// video's duration is less (a video shorter than the floor needs its whole
// duration): a clip of a few seconds needs more than a glance.
const MinWatchFloor = 5 * time.Second

// MinWatch is the watch time before a view of v counts: UCC_VIEW_MIN_WATCH,
// or half the duration of a shorter video, but at least MinWatchFloor (or
// the whole video when shorter). The duration is the encoded rendition's
// (videos.Service.Process), never the uploaded file's header.
func (s *Service) MinWatch(v Video) time.Duration {
	d := time.Duration(v.DurationSeconds * float64(time.Second))
	if v.DurationSeconds <= 0 || d/2 >= s.cfg.MinWatch {
		return s.cfg.MinWatch
	}
	return max(d/2, min(MinWatchFloor, d, s.cfg.MinWatch))
}

// MaxTokenAge is how long a play token for v stays valid: its duration plus
// an hour for pauses and buffering, and at least two hours.
func (s *Service) MaxTokenAge(v Video) time.Duration {
	d := time.Duration(v.DurationSeconds*float64(time.Second)) + time.Hour
	if d < 2*time.Hour {
		d = 2 * time.Hour
	}
	return d
}

func (s *Service) video(ctx context.Context, publicID string, viewer Viewer) (Video, error) {
	if !videos.ValidPublicID(publicID) {
		return Video{}, videos.ErrNotFound
	}
	v, ok := s.cache.get(publicID, s.now())
	var err error
	if !ok {
		if v, err = s.videos.CountableVideo(ctx, publicID); err == nil {
			s.cache.put(publicID, v, s.now())
		}
	}
	if errors.Is(err, errs.ErrNotFound) || err == nil && !v.viewable(viewer) {
		return Video{}, videos.ErrNotFound
	}
	return v, err
}

// Grant is the answer to a play request.
type Grant struct {
	PlayToken       string `json:"play_token"`
	MinWatchSeconds int64  `json:"min_watch_seconds"`
}

// Play issues a play token for the video to viewer. The viewer must have an
// identity (a user, or an anonymous id the web layer minted).
func (s *Service) Play(ctx context.Context, publicID string, viewer Viewer) (Grant, error) {
	v, err := s.video(ctx, publicID, viewer)
	if err != nil {
		return Grant{}, err
	}
	id := viewer.Identity()
	if id == "" {
		return Grant{}, errs.Invalid("no_viewer", "a viewer id is required (the ucc_vid cookie or the X-UCC-Viewer header)")
	}
	mw := s.MinWatch(v)
	secs := int64((mw + time.Second - 1) / time.Second) // round up: never report early
	return Grant{PlayToken: s.signer.Issue(v.ID, id, s.now()), MinWatchSeconds: secs}, nil
}

// Result is the answer to a view report.
type Result struct {
	Counted bool   `json:"counted"`
	Reason  Reason `json:"reason,omitempty"`
}

// Report counts a view of the video by viewer holding token, or says why
// not. Errors: not found (unknown video), ErrCounterDown (Redis down).
func (s *Service) Report(ctx context.Context, publicID string, viewer Viewer, token string) (Result, error) {
	v, err := s.video(ctx, publicID, viewer)
	if err != nil {
		return Result{}, err
	}
	now := s.now()
	if IsBot(viewer.UserAgent) {
		return s.reject(ReasonExcluded), nil
	}
	id := viewer.Identity()
	mac, err := s.signer.Verify(token, v.ID, id, now, s.MinWatch(v), s.MaxTokenAge(v))
	switch {
	case errors.Is(err, errTokenTooYoung):
		return s.reject(ReasonTooEarly), nil
	case err != nil || id == "":
		return s.reject(ReasonInvalidToken), nil
	}
	if (viewer.UserID != 0 && viewer.UserID == v.CreatorID) || !v.Countable() {
		return s.reject(ReasonExcluded), nil
	}
	out, err := s.counter.Count(ctx, Hit{VideoID: v.ID, Viewer: id, IP: viewer.IP, TokenID: mac, Now: now,
		Window: s.cfg.DedupWindow, IPCap: s.cfg.IPHourlyCap})
	if err != nil {
		s.metrics.redisErrors.Inc()
		return Result{}, fmt.Errorf("%w: %w", ErrCounterDown, err)
	}
	switch out {
	case OutcomeDuplicate:
		return s.reject(ReasonDuplicate), nil
	case OutcomeRateLimited:
		return s.reject(ReasonRateLimited), nil
	case OutcomeReplayed:
		return Result{Counted: true}, nil // the answer a lost first reply would have given
	}
	s.metrics.counted.Inc()
	return Result{Counted: true}, nil
}

func (s *Service) reject(r Reason) Result {
	s.metrics.rejected.WithLabelValues(string(r)).Inc()
	return Result{Reason: r}
}

// Displayed returns the count to show for each video: the PostgreSQL total
// plus what is pending in Redis. When Redis is down it falls back to the
// PostgreSQL total alone.
//
// Redis is read inside the PostgreSQL snapshot, and a swapped set counts
// only if its flush id is not recorded in that snapshot, so a set that a
// crashed flusher applied but did not drop is not shown twice. A flush that
// both commits and drops its set between the snapshot and the Redis read
// (a window of milliseconds) hides its views from that one answer.
func (s *Service) Displayed(ctx context.Context, videoIDs []int64) (map[int64]int64, error) {
	var pending Pending
	var perr error
	totals, recorded, err := s.store.Totals(ctx, videoIDs, func() []string {
		pending, perr = s.counter.Pending(ctx, videoIDs)
		if perr != nil {
			return nil
		}
		ids := make([]string, 0, len(pending.Swapped))
		for id := range pending.Swapped {
			ids = append(ids, id)
		}
		return ids
	})
	if err != nil {
		return nil, err
	}
	if perr != nil {
		s.metrics.redisErrors.Inc()
		return totals, nil
	}
	add := func(m map[int64]int64) {
		for id, n := range m {
			if _, ok := totals[id]; ok {
				totals[id] += n
			}
		}
	}
	add(pending.Main)
	for fid, m := range pending.Swapped {
		if !recorded[fid] {
			add(m)
		}
	}
	return totals, nil
}

// DisplayedByPublicID returns the displayed count of one video viewer may see.
func (s *Service) DisplayedByPublicID(ctx context.Context, publicID string, viewer Viewer) (int64, error) {
	v, err := s.video(ctx, publicID, viewer)
	if err != nil {
		return 0, err
	}
	m, err := s.Displayed(ctx, []int64{v.ID})
	if err != nil {
		return 0, err
	}
	return m[v.ID], nil
}
