// Package videos holds channels, videos and their renditions: validation,
// visibility rules, playback URLs, uploads, processing (the ffmpeg
// pipeline) and a creator's management of their videos.
package videos

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ucc-video/ucc/internal/accounts"
	"github.com/ucc-video/ucc/internal/errs"
	"github.com/ucc-video/ucc/internal/objects"
)

// Visibility says who may see a video.
type Visibility string

// Visibilities: public videos are listed; unlisted play for anyone with the
// link and are never listed; private play only for their owner.
const (
	Public   Visibility = "public"
	Unlisted Visibility = "unlisted"
	Private  Visibility = "private"
)

// ParseVisibility validates a visibility; "" means public.
func ParseVisibility(s string) (Visibility, error) {
	switch v := Visibility(strings.TrimSpace(s)); v {
	case "":
		return Public, nil
	case Public, Unlisted, Private:
		return v, nil
	}
	return "", errs.Invalid("invalid_visibility", "visibility must be public, unlisted or private")
}

// Status is where a video is in its life.
type Status string

// Statuses, in order: uploading → processing → ready, or failed.
const (
	StatusUploading  Status = "uploading"
	StatusProcessing Status = "processing"
	StatusReady      Status = "ready"
	StatusFailed     Status = "failed"
)

// ChannelRef is the short form of a channel embedded in a video.
type ChannelRef struct {
	ID     int64  `json:"id"`
	Handle string `json:"handle"`
	Name   string `json:"name"`
}

// Channel is a creator's public home.
type Channel struct {
	ID          int64     `json:"id"`
	OwnerID     int64     `json:"owner_id"`
	Handle      string    `json:"handle"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	AvatarKey   string    `json:"-"`
	BannerKey   string    `json:"-"`
	AvatarURL   string    `json:"avatar_url,omitempty"`
	BannerURL   string    `json:"banner_url,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
}

// Rendition is one playable encoding of a video.
type Rendition struct {
	Height int    `json:"height"`
	Width  int    `json:"width"`
	URL    string `json:"url"`
	Key    string `json:"-"`
	Size   int64  `json:"size_bytes"`
	// Bitrate is the average total bitrate in bits per second.
	Bitrate int `json:"bitrate"`
}

// Video is a video as the API and pages show it.
type Video struct {
	ID              int64       `json:"-"` // internal; PublicID is the id in URLs
	PublicID        string      `json:"id"`
	Title           string      `json:"title"`
	Description     string      `json:"description"`
	Visibility      Visibility  `json:"visibility"`
	Status          Status      `json:"status"`
	FailureReason   string      `json:"failure_reason"`
	Progress        int         `json:"progress"`
	DurationSeconds float64     `json:"duration_seconds"`
	Width           int         `json:"width"`
	Height          int         `json:"height"`
	Views           int64       `json:"views"`
	Likes           int64       `json:"likes"`
	Dislikes        int64       `json:"dislikes"`
	CommentCount    int64       `json:"comment_count"`
	CommentsEnabled bool        `json:"comments_enabled"`
	CreatorID       int64       `json:"creator_id"`
	Channel         ChannelRef  `json:"channel"`
	ThumbnailKey    string      `json:"-"`
	ThumbnailURL    string      `json:"thumbnail_url"`
	OriginalKey     string      `json:"-"`
	OriginalSize    int64       `json:"-"`
	Renditions      []Rendition `json:"renditions"`
	CreatedAt       time.Time   `json:"created_at"`
	PublishedAt     *time.Time  `json:"published_at"`
}

// CanView reports whether viewer (nil for anonymous) may watch v. Private
// videos, and videos that are not ready, are for their owner (and admins).
func (v *Video) CanView(viewer *accounts.User) bool {
	if viewer != nil && (viewer.ID == v.CreatorID || viewer.IsAdmin()) {
		return true
	}
	return v.Visibility != Private && v.Status == StatusReady
}

// IsOwner reports whether u owns v.
func (v *Video) IsOwner(u *accounts.User) bool { return u != nil && u.ID == v.CreatorID }

// Store is what the videos service needs from the database.
// storage/postgres.Videos implements it.
type Store interface {
	// VideoByPublicID returns a video with its channel and renditions (keys, no URLs).
	VideoByPublicID(ctx context.Context, publicID string) (Video, error)
	// CreateChannel inserts ownerID's channel and, in the same transaction,
	// makes a viewer a creator. A taken handle or a second channel is ErrConflict.
	CreateChannel(ctx context.Context, ownerID int64, in NewChannel) (Channel, error)
	// ChannelByOwner returns the channel of a user.
	ChannelByOwner(ctx context.Context, ownerID int64) (Channel, error)
	// StorageUsed sums the originals and renditions of the creator's videos.
	StorageUsed(ctx context.Context, creatorID int64) (int64, error)
	// CreateVideo inserts a video in status processing and enqueues its
	// TranscodeArgs job in the same transaction. When quota > 0 it locks the
	// creator and refuses (ErrQuota) if the creator's stored originals plus
	// this one would exceed quota.
	CreateVideo(ctx context.Context, v NewVideo, quota int64) (Video, error)
	// VideoByID returns a video by internal id with its renditions.
	VideoByID(ctx context.Context, id int64) (Video, error)
	// VideosByCreator lists a creator's videos, newest first, with renditions.
	VideosByCreator(ctx context.Context, creatorID int64) ([]Video, error)
	// UpdateVideo writes the editable fields of v (title, description,
	// visibility, comments_enabled).
	UpdateVideo(ctx context.Context, v Video) error
	// SetThumbnail sets the thumbnail key.
	SetThumbnail(ctx context.Context, id int64, key string) error
	// SetProgress records transcoding progress (0-100) of a processing video.
	SetProgress(ctx context.Context, id int64, pct int) error
	// SetProbed records duration and display dimensions found by ffprobe.
	SetProbed(ctx context.Context, id int64, duration float64, width, height int) error
	// FinishProcessing, in one transaction, replaces the renditions, sets the
	// automatic thumbnail unless a custom one is set, and marks the video
	// ready (published_at set once). A video no longer processing is ErrNotFound.
	FinishProcessing(ctx context.Context, id int64, rs []Rendition, thumbKey string, now time.Time) error
	// MarkFailed sets status failed with reason, if the video is processing.
	MarkFailed(ctx context.Context, id int64, reason string) error
	// MarkDeleting hides a video before its objects are removed (private,
	// failed, reason "deleted"), so a retried delete is safe.
	MarkDeleting(ctx context.Context, id int64) error
	// DeleteVideo removes the video row (renditions cascade); daily view
	// buckets stay for revenue history.
	DeleteVideo(ctx context.Context, id int64) error
	// KnownPublicIDs returns which of ids exist as videos.
	KnownPublicIDs(ctx context.Context, ids []string) (map[string]bool, error)
	// TranscodesAhead counts the running transcoding jobs of the creator
	// of video videoID that were enqueued before job jobID.
	TranscodesAhead(ctx context.Context, videoID, jobID int64) (int, error)
}

// NewVideo is a video row about to be created from a stored original.
type NewVideo struct {
	PublicID     string
	CreatorID    int64
	ChannelID    int64
	Title        string
	Description  string
	Visibility   Visibility
	OriginalKey  string
	OriginalSize int64
	Duration     float64
	Width        int
	Height       int
}

// LocalPather is implemented by drivers whose objects are local files
// (storage/fs.Store): ffprobe reads them and /media serves them directly.
type LocalPather interface {
	Path(key string) (string, error)
}

// ViewCounts gives the view counts to show: the PostgreSQL totals plus the
// views counted in Redis and not yet flushed (views.Service implements it).
type ViewCounts interface {
	// Displayed returns the displayed count of each video id.
	Displayed(ctx context.Context, ids []int64) (map[int64]int64, error)
}

// Media turns object keys into URLs a browser can fetch: presigned S3 GETs,
// or UCC's own /media/ route for the fs driver.
type Media struct {
	store objects.Store
	ttl   time.Duration
}

// DefaultMediaURLTTL is how long presigned media URLs live by default.
const DefaultMediaURLTTL = 10 * time.Minute

// MediaPrefix is the route that serves objects when the driver cannot presign.
const MediaPrefix = "/media/"

// URL returns a URL for key ("" for an empty key).
func (m *Media) URL(ctx context.Context, key string) (string, error) {
	if key == "" {
		return "", nil
	}
	u, err := m.store.PresignGet(ctx, key, m.ttl)
	if errors.Is(err, objects.ErrNotSupported) {
		return MediaPrefix + key, nil
	}
	return u, err
}

// Fill sets the thumbnail and rendition URLs of v.
func (m *Media) Fill(ctx context.Context, v *Video) error {
	var err error
	if v.ThumbnailURL, err = m.URL(ctx, v.ThumbnailKey); err != nil {
		return fmt.Errorf("thumbnail url: %w", err)
	}
	for i := range v.Renditions {
		if v.Renditions[i].URL, err = m.URL(ctx, v.Renditions[i].Key); err != nil {
			return fmt.Errorf("rendition url: %w", err)
		}
	}
	return nil
}

// Config is what the videos service is built from: its dependencies (Store,
// Objects and Views are required) and the upload and processing limits.
type Config struct {
	Store   Store
	Objects objects.Store
	// Views gives the displayed view counts of the videos the service returns.
	Views ViewCounts
	// Log is where processing failures are logged (default slog.Default()).
	Log *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
	// MediaURLTTL is how long a presigned media URL lives (UCC_MEDIA_URL_TTL;
	// default DefaultMediaURLTTL): minutes, so a link to a video turned
	// private stops working soon.
	MediaURLTTL time.Duration
	// MaxUploadBytes caps one upload (UCC_UPLOAD_MAX_BYTES); required.
	MaxUploadBytes int64
	// QuotaBytes caps the sum of a creator's originals; 0 is unlimited (UCC_UPLOAD_QUOTA_BYTES).
	QuotaBytes int64
	// TranscodeTimeout stops a runaway job (UCC_TRANSCODE_TIMEOUT; default 2h).
	TranscodeTimeout time.Duration
	// FFmpeg and FFprobe are the binaries (default "ffmpeg", "ffprobe" on PATH).
	FFmpeg, FFprobe string
	// TempDir holds originals and outputs while a job runs ("" = os.TempDir()).
	TempDir string
	// Preset is the x264 preset (default "veryfast").
	Preset string
	// Limits bound what one file may cost (zero fields: DefaultLimits).
	Limits Limits
	// Announcer, when set, tells other processes to evict hidden videos.
	Announcer Announcer
}

// Service is the videos domain service: channels, uploads, processing,
// management and playback URLs.
type Service struct {
	cfg      Config
	store    Store
	objs     objects.Store
	views    ViewCounts
	media    *Media
	pipeline *pipeline
	log      *slog.Logger
	now      func() time.Time
	limits   Limits
	// decoders bounds the images decoded at once (Limits.ImageDecoders).
	decoders chan struct{}
	// evictors drop a video from this process's caches (OnHidden).
	evictors []func(videoID int64, publicID string)
}

// Announcer tells every UCC process that a video was hidden (made
// unlisted or private, or deleted), so each evicts it from its caches
// (storage/redis.Announcer, over pub/sub).
type Announcer interface {
	Announce(ctx context.Context, videoID int64, publicID string) error
}

// OnHidden registers f to drop a video from a cache when it is hidden,
// here or (through Evict) in another process. Register before serving.
func (s *Service) OnHidden(f func(videoID int64, publicID string)) {
	s.evictors = append(s.evictors, f)
}

// Evict drops a video from every cache of this process (the caches
// registered with OnHidden).
func (s *Service) Evict(videoID int64, publicID string) {
	for _, f := range s.evictors {
		f(videoID, publicID)
	}
}

// hidden evicts a video whose visibility narrowed, or that is being
// deleted, from the caches of this process at once and announces it to
// the others; a failed announcement is logged (their caches expire on
// their own within their TTLs).
func (s *Service) hidden(ctx context.Context, v Video) {
	s.Evict(v.ID, v.PublicID)
	if s.cfg.Announcer == nil {
		return
	}
	if err := s.cfg.Announcer.Announce(context.WithoutCancel(ctx), v.ID, v.PublicID); err != nil {
		s.log.WarnContext(ctx, "could not announce a hidden video to other processes", "video_id", v.ID, "err", err)
	}
}

// NewService returns the service, or an error naming a missing dependency.
func NewService(cfg Config) (*Service, error) {
	switch {
	case cfg.Store == nil:
		return nil, errors.New("videos: Config.Store is required")
	case cfg.Objects == nil:
		return nil, errors.New("videos: Config.Objects is required")
	case cfg.Views == nil:
		return nil, errors.New("videos: Config.Views is required")
	case cfg.MaxUploadBytes <= 0:
		return nil, errors.New("videos: Config.MaxUploadBytes must be positive")
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MediaURLTTL <= 0 {
		cfg.MediaURLTTL = DefaultMediaURLTTL
	}
	if cfg.TranscodeTimeout <= 0 {
		cfg.TranscodeTimeout = 2 * time.Hour
	}
	limits := cfg.Limits.withDefaults()
	return &Service{
		cfg: cfg, store: cfg.Store, objs: cfg.Objects, views: cfg.Views, log: cfg.Log, now: cfg.Now,
		limits: limits, decoders: make(chan struct{}, limits.ImageDecoders),
		media:    &Media{store: cfg.Objects, ttl: cfg.MediaURLTTL},
		pipeline: newPipeline(cfg.FFmpeg, cfg.FFprobe, cfg.Preset, cfg.TempDir, cfg.Log),
	}, nil
}

// Media returns the URL maker.
func (s *Service) Media() *Media { return s.media }

// Get returns a video viewer may see, with URLs and the displayed view
// count. A video the viewer may not see is ErrNotFound, so private ids are
// not confirmed.
func (s *Service) Get(ctx context.Context, publicID string, viewer *accounts.User) (Video, error) {
	v, err := s.Visible(ctx, publicID, viewer)
	if err != nil {
		return Video{}, err
	}
	one := []Video{v}
	s.ShowViews(ctx, one)
	return one[0], nil
}

// Visible is Get without the displayed view count (Views holds the
// PostgreSQL total): for actions that need the video, not its figures.
func (s *Service) Visible(ctx context.Context, publicID string, viewer *accounts.User) (Video, error) {
	if !ValidPublicID(publicID) {
		return Video{}, ErrNotFound
	}
	v, err := s.store.VideoByPublicID(ctx, publicID)
	if err != nil {
		if errors.Is(err, errs.ErrNotFound) {
			return Video{}, ErrNotFound
		}
		return Video{}, err
	}
	if !v.CanView(viewer) {
		return Video{}, ErrNotFound
	}
	if err := s.media.Fill(ctx, &v); err != nil {
		return Video{}, err
	}
	return v, nil
}

// ShowViews replaces the PostgreSQL view totals of vs with the displayed
// counts (including views pending in Redis), in one call for the lot. A
// failure keeps the PostgreSQL totals and is logged: a count a few seconds
// old beats no page.
func (s *Service) ShowViews(ctx context.Context, vs []Video) {
	if len(vs) == 0 {
		return
	}
	ids := make([]int64, len(vs))
	for i, v := range vs {
		ids[i] = v.ID
	}
	m, err := s.views.Displayed(ctx, ids)
	if err != nil {
		s.log.WarnContext(ctx, "displayed view counts unavailable", "err", err)
		return
	}
	for i := range vs {
		if n, ok := m[vs[i].ID]; ok {
			vs[i].Views = n
		}
	}
}

// deleteQuietly removes key, logging (not returning) a failure; it runs even
// when ctx was cancelled (a dropped client must not leave objects behind).
func (s *Service) deleteQuietly(ctx context.Context, key string) {
	if err := s.objs.Delete(context.WithoutCancel(ctx), key); err != nil {
		s.log.WarnContext(ctx, "could not delete object; the orphan sweep will retry", "key", key, "err", err)
	}
}

// ErrNotFound is a video that does not exist or that the requester may not
// see: the two are told apart by no one, so private ids are not confirmed.
var ErrNotFound = errs.New(errs.ErrNotFound, "video_not_found", "no such video")

// ValidPublicID reports whether id has the form of a public video id.
func ValidPublicID(id string) bool {
	if len(id) != 11 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// ValidateTitle trims and checks a title.
func ValidateTitle(t string) (string, error) {
	t = strings.TrimSpace(t)
	if n := utf8.RuneCountInString(t); !utf8.ValidString(t) || n < 1 || n > 200 {
		return "", errs.Invalid("invalid_title", "title must be 1 to 200 characters")
	}
	if strings.ContainsRune(t, 0) {
		return "", errs.InvalidVariant("invalid_title", "nul", "the title contains a NUL character")
	}
	return t, nil
}

// ValidateDescription checks a description.
func ValidateDescription(d string) (string, error) {
	d = strings.TrimSpace(d)
	if !utf8.ValidString(d) || utf8.RuneCountInString(d) > 10000 {
		return "", errs.Invalid("invalid_description", "description must be at most 10,000 characters")
	}
	if strings.ContainsRune(d, 0) {
		return "", errs.InvalidVariant("invalid_description", "nul", "the description contains a NUL character")
	}
	return d, nil
}

// ErrQuota is returned when an upload would exceed the creator's storage quota.
var ErrQuota = errs.New(errs.ErrTooLarge, "quota_exceeded", "storage quota exceeded: delete some of your videos to upload more")

// ErrNotOwner is returned when someone other than the creator tries to change a video.
var ErrNotOwner = errs.New(errs.ErrForbidden, "not_owner", "only the creator of this video may change it")
