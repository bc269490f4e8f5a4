// Package community is the viewer side of UCC: video lists (recent,
// trending, channel, subscriptions feed, liked), full-text search, comments
// with one level of replies, likes/dislikes and channel subscriptions.
package community

import (
	"context"
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"github.com/ucc-video/ucc/internal/errs"
	"github.com/ucc-video/ucc/internal/videos"
)

// Limits and defaults.
const (
	// MaxCommentRunes is the longest comment accepted.
	MaxCommentRunes = 10000
	// MaxQueryRunes is the longest search query used; longer input is cut.
	MaxQueryRunes = 200
	// DefaultLimit is the page size when none is asked for.
	DefaultLimit = 24
	// MaxLimit is the largest page size accepted.
	MaxLimit = 50
	// RepliesPreview is how many replies come with each top-level comment.
	RepliesPreview = 3
	// TrendingDays is the window trending counts views over (today included).
	TrendingDays = 7
)

// Cursor is an opaque position in a list. Lists ordered by time use a
// keyset (After* fields); ranked lists (trending, search, top comments,
// most viewed) use an offset. Clients pass next_cursor back unchanged.
type Cursor struct {
	Offset  int       // ranked lists
	AfterAt time.Time // keyset lists: the last item's time ...
	AfterID int64     // ... and id
}

// IsZero reports whether c is the start of a list.
func (c Cursor) IsZero() bool { return c.Offset == 0 && c.AfterID == 0 && c.AfterAt.IsZero() }

// String encodes c; the zero cursor encodes as "".
func (c Cursor) String() string {
	if c.IsZero() {
		return ""
	}
	var raw string
	if c.AfterID != 0 || !c.AfterAt.IsZero() {
		raw = "k:" + strconv.FormatInt(c.AfterAt.UnixMicro(), 10) + ":" + strconv.FormatInt(c.AfterID, 10)
	} else {
		raw = "o:" + strconv.Itoa(c.Offset)
	}
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

// Keyset cursor times must lie in years 1 to 9999: every stored time does,
// and a time outside what PostgreSQL can store would not make a sane page.
var (
	minCursorMicros = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC).UnixMicro()
	maxCursorMicros = time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC).UnixMicro()
)

// ParseCursor decodes a cursor from String; "" is the start.
func ParseCursor(s string) (Cursor, error) {
	bad := errs.Invalid("invalid_cursor", "the cursor is not valid; start again without it")
	if s == "" {
		return Cursor{}, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) > 64 {
		return Cursor{}, bad
	}
	parts := strings.Split(string(b), ":")
	switch {
	case len(parts) == 2 && parts[0] == "o":
		n, err := strconv.Atoi(parts[1])
		if err != nil || n < 0 || n > 10000 {
			return Cursor{}, bad
		}
		return Cursor{Offset: n}, nil
	case len(parts) == 3 && parts[0] == "k":
		us, err1 := strconv.ParseInt(parts[1], 10, 64)
		id, err2 := strconv.ParseInt(parts[2], 10, 64)
		if err1 != nil || err2 != nil || id < 0 || us < minCursorMicros || us > maxCursorMicros {
			return Cursor{}, bad
		}
		return Cursor{AfterAt: time.UnixMicro(us).UTC(), AfterID: id}, nil
	}
	return Cursor{}, bad
}

// ClampLimit returns n bounded to 1..MaxLimit, DefaultLimit for n <= 0.
func ClampLimit(n int) int {
	switch {
	case n <= 0:
		return DefaultLimit
	case n > MaxLimit:
		return MaxLimit
	}
	return n
}

// VideoPage is one page of a video list.
type VideoPage struct {
	Videos []videos.Video `json:"videos"`
	Next   string         `json:"next_cursor"` // "" on the last page
}

// Sort orders a list.
type Sort string

// Sorts: video lists use Recent, Trending, Newest, Popular; comments use Newest and Top.
const (
	SortRecent   Sort = "recent"
	SortTrending Sort = "trending"
	SortNewest   Sort = "newest"
	SortPopular  Sort = "popular"
	SortTop      Sort = "top"
)

// ChannelInfo is a channel with its public counts and, for a signed-in
// viewer, whether they subscribe.
type ChannelInfo struct {
	videos.Channel
	SubscriberCount int64 `json:"subscriber_count"`
	VideoCount      int64 `json:"video_count"`
	Subscribed      bool  `json:"subscribed"`
}

// Author is who wrote a comment.
type Author struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// Comment is a comment or reply. A deleted top-level comment that still has
// replies has Deleted set and an empty Body.
type Comment struct {
	ID         int64      `json:"id"`
	VideoID    int64      `json:"-"`
	VideoPubID string     `json:"video_id"`
	ParentID   *int64     `json:"parent_id"`
	Author     Author     `json:"author"`
	Body       string     `json:"body"`
	ReplyCount int64      `json:"reply_count"`
	CreatedAt  time.Time  `json:"created_at"`
	EditedAt   *time.Time `json:"edited_at"`
	Deleted    bool       `json:"deleted"`
	// Replies holds the first RepliesPreview replies of a top-level comment in a list.
	Replies []Comment `json:"replies,omitempty"`
	// CreatorID is the owner of the video (for moderation checks).
	CreatorID int64 `json:"-"`
}

// CommentPage is one page of comments.
type CommentPage struct {
	Comments []Comment `json:"comments"`
	Next     string    `json:"next_cursor"`
	Sort     Sort      `json:"sort"`
	Total    int64     `json:"total"`
}

// Reaction is a viewer's like or dislike of a video.
type Reaction int

// Reactions as stored.
const (
	ReactionNone    Reaction = 0
	ReactionLike    Reaction = 1
	ReactionDislike Reaction = -1
)

// ParseReaction reads "like", "dislike" or "none".
func ParseReaction(s string) (Reaction, error) {
	switch strings.TrimSpace(s) {
	case "like":
		return ReactionLike, nil
	case "dislike":
		return ReactionDislike, nil
	case "none":
		return ReactionNone, nil
	}
	return 0, errs.Invalid("invalid_reaction", `value must be "like", "dislike" or "none"`)
}

// String is the API name of r.
func (r Reaction) String() string {
	switch r {
	case ReactionLike:
		return "like"
	case ReactionDislike:
		return "dislike"
	}
	return "none"
}

// ReactionState is a video's counts after a reaction, and the viewer's own.
type ReactionState struct {
	Value    string `json:"value"`
	Likes    int64  `json:"likes"`
	Dislikes int64  `json:"dislikes"`
}

// SubscriptionState is a channel's count after (un)subscribing.
type SubscriptionState struct {
	ChannelID       int64 `json:"channel_id"`
	Subscribed      bool  `json:"subscribed"`
	SubscriberCount int64 `json:"subscriber_count"`
}

// Store is what the service needs from PostgreSQL.
type Store interface {
	// RecentVideos lists public ready videos, newest published first (keyset).
	RecentVideos(ctx context.Context, after Cursor, limit int) ([]videos.Video, error)
	// TrendingVideos lists public ready videos by counted views on days >= since.
	TrendingVideos(ctx context.Context, since time.Time, offset, limit int) ([]videos.Video, error)
	// SearchVideos ranks public ready videos matching q (title, description, channel).
	SearchVideos(ctx context.Context, q string, offset, limit int) ([]videos.Video, error)
	// ChannelVideos lists a channel's public ready videos, newest (keyset) or most viewed (offset).
	ChannelVideos(ctx context.Context, channelID int64, sort Sort, after Cursor, limit int) ([]videos.Video, error)
	// FeedVideos lists public ready videos of channels userID subscribes to, newest first.
	FeedVideos(ctx context.Context, userID int64, after Cursor, limit int) ([]videos.Video, error)
	// LikedVideos lists public ready videos userID liked, most recently liked first;
	// the keyset is the time of the like (returned in likedAt).
	LikedVideos(ctx context.Context, userID int64, after Cursor, limit int) (vs []videos.Video, likedAt []time.Time, err error)

	// ChannelByHandle returns a channel with its counts.
	ChannelByHandle(ctx context.Context, handle string) (ChannelInfo, error)
	// ChannelByID returns a channel with its counts.
	ChannelByID(ctx context.Context, id int64) (ChannelInfo, error)
	// Subscribe adds (on) or removes the subscription, keeping the count; idempotent.
	Subscribe(ctx context.Context, userID, channelID int64, on bool) (SubscriptionState, error)
	// Subscribed reports whether userID subscribes to channelID.
	Subscribed(ctx context.Context, userID, channelID int64) (bool, error)

	// React sets userID's reaction to videoID and returns the new counts.
	React(ctx context.Context, userID, videoID int64, r Reaction) (ReactionState, error)
	// ReactionOf returns userID's reaction to videoID.
	ReactionOf(ctx context.Context, userID, videoID int64) (Reaction, error)

	// Comments lists top-level comments of videoID with their first replies.
	Comments(ctx context.Context, videoID int64, sort Sort, after Cursor, limit, replies int) ([]Comment, error)
	// Replies lists replies to parentID, oldest first, after the keyset id.
	Replies(ctx context.Context, parentID int64, afterID int64, limit int) ([]Comment, error)
	// Comment returns one comment (deleted placeholders included) with its video's creator.
	Comment(ctx context.Context, id int64) (Comment, error)
	// AddComment inserts a comment, bumping counts; ErrForbidden when comments
	// are off, ErrNotFound when the parent is gone. parentID is resolved to
	// its top-level comment.
	AddComment(ctx context.Context, videoID, userID int64, parentID *int64, body string, at time.Time) (Comment, error)
	// EditComment replaces a live comment's body and marks it edited.
	EditComment(ctx context.Context, id int64, body string, at time.Time) (Comment, error)
	// DeleteComment deletes a comment, keeping a placeholder for a top-level
	// comment with replies, and keeps the counts right.
	DeleteComment(ctx context.Context, id int64, at time.Time) error
	// SetCommentsEnabled turns comments on or off for a video.
	SetCommentsEnabled(ctx context.Context, videoID int64, on bool) error
}

// Refusals and failures of the lists and search.
var (
	// ErrOnlyExclusions refuses a search made only of exclusions (-word):
	// it would match nearly every video and rank the whole table.
	ErrOnlyExclusions = errs.Invalid("query_only_exclusions",
		"a search needs at least one word to look for; words with a minus sign (-word) only leave results out")
	// ErrQueryTimeout is a list query the database stopped at its
	// statement timeout (the store's; storage/postgres.Community.WithQueryTimeout).
	ErrQueryTimeout = errs.NewVariant(errs.ErrUnavailable, "query_timeout", "list",
		"this list took too long to load; try again in a moment")
	// errSearchTimeout is ErrQueryTimeout of a search.
	errSearchTimeout = errs.NewVariant(errs.ErrUnavailable, "query_timeout", "search",
		"the search took too long; try fewer words or a more specific phrase")
)

// Limiter counts events in a fixed window (storage/redis.Limiter).
type Limiter interface {
	// Hit adds one event to key, starting a window of length window if none is open.
	Hit(ctx context.Context, key string, window time.Duration) (int64, error)
}

// Config tunes the service.
type Config struct {
	CommentLimit  int64         // comments a user may post per CommentWindow
	CommentWindow time.Duration // rate-limit window
	// TrendingTTL is how long a computed trending page is reused: ranking
	// sums a week of daily buckets, far too much work for every home page
	// view. 0 computes it every time.
	TrendingTTL time.Duration
	// HeavyQueries bounds how many searches and trending pages past the
	// cached ones run at once (0: no bound), so that slow ones cannot take
	// every connection of the pool; a request that finds them all busy
	// waits up to HeavyWait, then gets ErrQueryTimeout.
	HeavyQueries int
	HeavyWait    time.Duration
}

// DefaultConfig is 10 comments per minute per user.
func DefaultConfig() Config {
	return Config{CommentLimit: 10, CommentWindow: time.Minute, TrendingTTL: time.Minute, HeavyQueries: 4, HeavyWait: 2 * time.Second}
}

// Service is the community domain service.
type Service struct {
	store    Store
	videos   *videos.Service
	limiter  Limiter
	cfg      Config
	now      func() time.Time
	trending trendingCache
	heavy    chan struct{} // HeavyQueries slots; nil for no bound
}

// NewService returns a Service. now is injected so tests need no sleeps.
func NewService(store Store, vids *videos.Service, limiter Limiter, cfg Config, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	if cfg.CommentLimit <= 0 {
		cfg = DefaultConfig()
	}
	s := &Service{store: store, videos: vids, limiter: limiter, cfg: cfg, now: now}
	if cfg.HeavyQueries > 0 {
		s.heavy = make(chan struct{}, cfg.HeavyQueries)
	}
	return s
}
