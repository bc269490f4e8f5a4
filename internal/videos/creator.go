package videos

import (
	"context"
	"log/slog"
	"time"

	"github.com/ucc-video/ucc/internal/errs"
	"github.com/ucc-video/ucc/internal/objects"
)

// CreatorStore is what uploads, processing and creator management need
// from the database. storage/postgres.Videos implements it.
type CreatorStore interface {
	// CreateChannel inserts ownerID's channel and, in the same transaction,
	// makes a viewer a creator. A taken handle or a second channel is ErrConflict.
	CreateChannel(ctx context.Context, ownerID int64, in NewChannel) (Channel, error)
	// ChannelByOwner returns the channel of a user.
	ChannelByOwner(ctx context.Context, ownerID int64) (Channel, error)
	// StorageUsed sums original_size over the creator's videos.
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

// CreatorConfig configures uploads and processing.
type CreatorConfig struct {
	Store   CreatorStore
	Objects objects.Store
	// MaxUploadBytes caps one upload (UCC_UPLOAD_MAX_BYTES).
	MaxUploadBytes int64
	// QuotaBytes caps the sum of a creator's originals; 0 is unlimited (UCC_UPLOAD_QUOTA_BYTES).
	QuotaBytes int64
	// TranscodeTimeout stops a runaway job (UCC_TRANSCODE_TIMEOUT).
	TranscodeTimeout time.Duration
	// FFmpeg and FFprobe are the binaries (default "ffmpeg", "ffprobe" on PATH).
	FFmpeg, FFprobe string
	// TempDir holds originals and outputs while a job runs ("" = os.TempDir()).
	TempDir string
	// Preset is the x264 preset (default "veryfast").
	Preset string
	Log    *slog.Logger
}

type creator struct {
	CreatorConfig
	store CreatorStore
	objs  objects.Store
}

// EnableCreator turns on channels, uploads, processing and management.
func (s *Service) EnableCreator(cfg CreatorConfig) *Service {
	if cfg.FFmpeg == "" {
		cfg.FFmpeg = "ffmpeg"
	}
	if cfg.FFprobe == "" {
		cfg.FFprobe = "ffprobe"
	}
	if cfg.Preset == "" {
		cfg.Preset = "veryfast"
	}
	if cfg.TranscodeTimeout <= 0 {
		cfg.TranscodeTimeout = 2 * time.Hour
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	s.creator = &creator{CreatorConfig: cfg, store: cfg.Store, objs: cfg.Objects}
	return s
}

func (s *Service) creatorDeps() (*creator, error) {
	if s.creator == nil {
		return nil, errs.New(errs.ErrUnavailable, "uploads_disabled", "uploads are not enabled on this server")
	}
	return s.creator, nil
}

// ErrQuota is returned when an upload would exceed the creator's storage quota.
var ErrQuota = errs.New(errs.ErrTooLarge, "quota_exceeded", "storage quota exceeded: delete some of your videos to upload more")
