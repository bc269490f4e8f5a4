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
	ReasonRateLimited  Reason = "rate_limited" // the viewer's network is over its hourly cap
	// ReasonVideoRateLimited: the viewer's network is over its hourly cap for this video.
	ReasonVideoRateLimited Reason = "video_rate_limited"
	// ReasonCreatorRateLimited: the viewer's network is over its hourly cap for this creator's videos.
	ReasonCreatorRateLimited Reason = "creator_rate_limited"
	// ReasonSelfView: the play comes from a network the video's creator was
	// recently signed in from (signed out, or another account).
	ReasonSelfView Reason = "self_view"
)

// Reasons lists every rejection reason (for metrics).
func Reasons() []Reason {
	return []Reason{ReasonDuplicate, ReasonTooEarly, ReasonInvalidToken, ReasonExcluded, ReasonRateLimited,
		ReasonVideoRateLimited, ReasonCreatorRateLimited, ReasonSelfView}
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
	OutcomeCounted        Outcome = iota // counted: dedup key set, pending counters incremented
	OutcomeDuplicate                     // the viewer's view of this video already counted in the window
	OutcomeRateLimited                   // the network is over its hourly cap; nothing was written
	OutcomeReplayed                      // this very token already counted; nothing was written
	OutcomeVideoLimited                  // the network is over its hourly cap for the video; nothing was written
	OutcomeCreatorLimited                // the network is over its hourly cap for the creator; nothing was written
	OutcomeSelfView                      // the creator was signed in from the network recently; nothing was written
)

// Hit is one view to count. The caps count views in the sliding hour
// before Now (LimitSpan); 0 turns one off. Without a Network no cap and no
// self-view check applies.
type Hit struct {
	VideoID    int64
	CreatorID  int64
	Viewer     string // Viewer.Identity()
	Network    string // Network(viewer's IP)
	TokenID    []byte // the token's MAC: a replay of the same token is recognised
	Now        time.Time
	Window     time.Duration // dedup window
	BatchID    string        // id of the pending set if this view starts one (NewBatchID)
	NetCap     int           // counted views per network
	VideoCap   int           // counted views of this video per network
	CreatorCap int           // counted views of this creator's videos per network
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
	MainID  string                     // the pending set's batch id ("" for none)
	Swapped map[string]map[int64]int64 // sets swapped aside, by flush id, per video
}

// UnflushedSet is one pending or swapped set as Counter.Unflushed reads it.
type UnflushedSet struct {
	Batch Batch
	Since time.Time // when its oldest view was counted (zero if unknown)
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
	// Swap moves the pending set aside, atomically, under the batch id the
	// set got when its first view was counted (Hit.BatchID), or under
	// fallbackID when it has none (a set from before batch ids); it returns
	// the id used, or false when nothing is pending. Because the id is
	// fixed inside the set, a copy of the set brought back by a Redis
	// failover or snapshot restore is swapped under the id already
	// recorded in PostgreSQL and is never applied twice.
	Swap(ctx context.Context, fallbackID string) (id string, ok bool, err error)
	// Swapped lists the flush ids of sets swapped aside and not yet dropped.
	Swapped(ctx context.Context) ([]string, error)
	// Batch reads the set swapped aside under flushID.
	Batch(ctx context.Context, flushID string) (Batch, error)
	// Drop deletes the set swapped aside under flushID.
	Drop(ctx context.Context, flushID string) error
	// Mint records that network minted an anonymous id at now, unless it
	// already minted cap ids in the sliding hour before (then false).
	Mint(ctx context.Context, network, id string, now time.Time, cap int) (bool, error)
	// MarkNetwork records for ttl that user id was signed in from network;
	// Count answers OutcomeSelfView for that user's videos from there.
	MarkNetwork(ctx context.Context, userID int64, network string, ttl time.Duration) error
	// Unflushed returns, in one atomic read, the pending set (under flush
	// id "") and every set swapped aside, with the time the oldest view in
	// each was counted.
	Unflushed(ctx context.Context) (map[string]UnflushedSet, error)
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
	// Recorded reports which of the flush ids are recorded as applied.
	Recorded(ctx context.Context, flushIDs []string) (map[string]bool, error)
	// TryLockFlush takes the cluster-wide flusher lock if it is free.
	TryLockFlush(ctx context.Context) (unlock func(), ok bool, err error)
}

// Config holds the counting rules.
type Config struct {
	Secret      []byte        // signs play tokens and viewer ids
	MinWatch    time.Duration // UCC_VIEW_MIN_WATCH
	DedupWindow time.Duration // UCC_VIEW_DEDUP_WINDOW
	IPHourlyCap int           // UCC_VIEW_IP_HOURLY_CAP: counted views per network per sliding hour (0 = off)
	// VideoHourlyCap is UCC_VIEW_NET_VIDEO_HOURLY_CAP: counted views of one
	// video per network per sliding hour (0 = off).
	VideoHourlyCap int
	// CreatorHourlyCap is UCC_VIEW_NET_CREATOR_HOURLY_CAP: counted views of
	// one creator's videos per network per sliding hour (0 = off).
	CreatorHourlyCap int
	// MintHourlyCap is UCC_VIEW_ANON_MINT_HOURLY_CAP: fresh anonymous ids per
	// network per sliding hour; beyond it the network's shared id (0 = off).
	MintHourlyCap int
	// CreatorNetworkTTL is UCC_VIEW_CREATOR_NETWORK_TTL: how long a network
	// a user was signed in from makes plays of their videos self-views (0 = off).
	CreatorNetworkTTL time.Duration
	// FlushEvery is UCC_VIEW_FLUSH_INTERVAL, for messages that say how long to wait.
	FlushEvery time.Duration
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
	notes   networkNotes
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
	if viewer.UserID != 0 {
		s.SignedIn(ctx, viewer.UserID, viewer.IP)
	}
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
	out, err := s.counter.Count(ctx, Hit{VideoID: v.ID, CreatorID: v.CreatorID, Viewer: id, Network: Network(viewer.IP),
		TokenID: mac, Now: now, Window: s.cfg.DedupWindow, BatchID: NewBatchID(now),
		NetCap: s.cfg.IPHourlyCap, VideoCap: s.cfg.VideoHourlyCap, CreatorCap: s.cfg.CreatorHourlyCap})
	if err != nil {
		s.metrics.redisErrors.Inc()
		return Result{}, fmt.Errorf("%w: %w", ErrCounterDown, err)
	}
	switch out {
	case OutcomeDuplicate:
		return s.reject(ReasonDuplicate), nil
	case OutcomeRateLimited:
		return s.reject(ReasonRateLimited), nil
	case OutcomeVideoLimited:
		return s.reject(ReasonVideoRateLimited), nil
	case OutcomeCreatorLimited:
		return s.reject(ReasonCreatorRateLimited), nil
	case OutcomeSelfView:
		return s.reject(ReasonSelfView), nil
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
		ids := make([]string, 0, len(pending.Swapped)+1)
		for id := range pending.Swapped {
			ids = append(ids, id)
		}
		if pending.MainID != "" {
			ids = append(ids, pending.MainID)
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
	if !recorded[pending.MainID] { // a restored copy of an applied set is not shown twice
		add(pending.Main)
	}
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

// PendingBetween returns how many counted views dated in [from, before)
// (UTC days) are still in Redis and not yet in PostgreSQL, and when the
// oldest of those sets was counted: the pending set and every swapped set
// whose flush id is not recorded yet (a set a crashed flusher applied but
// did not drop is already in PostgreSQL). It implements
// revenue.PendingViews: a period may not close while this is not zero.
func (s *Service) PendingBetween(ctx context.Context, from, before time.Time) (int64, time.Time, error) {
	sets, err := s.counter.Unflushed(ctx)
	if err != nil {
		return 0, time.Time{}, err
	}
	ids := make([]string, 0, len(sets))
	for id := range sets {
		if id != "" {
			ids = append(ids, id)
		}
	}
	recorded := map[string]bool{}
	if len(ids) > 0 {
		if recorded, err = s.store.Recorded(ctx, ids); err != nil {
			return 0, time.Time{}, err
		}
	}
	var n int64
	var oldest time.Time
	for id, set := range sets {
		if id != "" && recorded[id] {
			continue
		}
		var in int64
		for _, d := range set.Batch.Daily {
			if !d.Day.Before(from) && d.Day.Before(before) {
				in += d.Views
			}
		}
		if in > 0 {
			n += in
			if !set.Since.IsZero() && (oldest.IsZero() || set.Since.Before(oldest)) {
				oldest = set.Since
			}
		}
	}
	if n > 0 && oldest.IsZero() {
		oldest = s.now()
	}
	return n, oldest, nil
}

// FlushEvery is how often the flusher runs (Config.FlushEvery, 5 s by default).
func (s *Service) FlushEvery() time.Duration {
	if s.cfg.FlushEvery <= 0 {
		return 5 * time.Second
	}
	return s.cfg.FlushEvery
}
