// Package videos holds channels, videos and their renditions: validation,
// visibility rules and playback URLs. Uploading and processing build on it.
package videos

import (
	"context"
	"errors"
	"fmt"
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

// Store reads and writes videos and channels.
type Store interface {
	// VideoByPublicID returns a video with its channel and renditions (keys, no URLs).
	VideoByPublicID(ctx context.Context, publicID string) (Video, error)
}

// Media turns object keys into URLs a browser can fetch: presigned S3 GETs,
// or UCC's own /media/ route for the fs driver.
type Media struct {
	store objects.Store
	ttl   time.Duration
}

// NewMedia returns a Media whose presigned URLs live for ttl.
func NewMedia(store objects.Store, ttl time.Duration) *Media { return &Media{store: store, ttl: ttl} }

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

// Service is the videos domain service. The upload feature adds creation,
// processing and management to it.
type Service struct {
	store Store
	media *Media
	now   func() time.Time
	// creator is set by EnableCreator: uploads, processing and management.
	creator *creator
}

// NewService returns a Service.
func NewService(store Store, media *Media, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{store: store, media: media, now: now}
}

// Media returns the URL maker.
func (s *Service) Media() *Media { return s.media }

// Get returns a video viewer may see, with URLs filled in. A video the viewer
// may not see is reported as not found, so private ids are not confirmed.
func (s *Service) Get(ctx context.Context, publicID string, viewer *accounts.User) (Video, error) {
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
		return "", errs.Invalid("invalid_title", "the title contains a NUL character")
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
		return "", errs.Invalid("invalid_description", "the description contains a NUL character")
	}
	return d, nil
}
