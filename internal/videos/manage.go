package videos

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	_ "image/gif" // decoders for thumbnails
	"image/jpeg"
	_ "image/png"
	"io"
	"path"
	"strings"

	"github.com/ucc-video/ucc/internal/accounts"
	"github.com/ucc-video/ucc/internal/bytesize"
	"github.com/ucc-video/ucc/internal/errs"
	"github.com/ucc-video/ucc/internal/objects"
)

// MyVideos lists u's videos (every status and visibility), newest first,
// with their displayed view counts.
func (s *Service) MyVideos(ctx context.Context, u *accounts.User) ([]Video, error) {
	if u == nil {
		return nil, errs.New(errs.ErrUnauthorized, "unauthorized", "sign in first")
	}
	vs, err := s.store.VideosByCreator(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	for i := range vs {
		if err := s.media.Fill(ctx, &vs[i]); err != nil {
			return nil, err
		}
	}
	s.ShowViews(ctx, vs)
	return vs, nil
}

// owned returns the video publicID if u may see it and owns it: 404 when u
// may not even see it, 403 when u sees it but does not own it.
func (s *Service) owned(ctx context.Context, publicID string, u *accounts.User) (Video, error) {
	if u == nil {
		return Video{}, errs.New(errs.ErrUnauthorized, "unauthorized", "sign in first")
	}
	if !ValidPublicID(publicID) {
		return Video{}, ErrNotFound
	}
	v, err := s.store.VideoByPublicID(ctx, publicID)
	if errors.Is(err, errs.ErrNotFound) {
		return Video{}, ErrNotFound
	} else if err != nil {
		return Video{}, err
	}
	if !v.CanView(u) {
		return Video{}, ErrNotFound
	}
	if !v.IsOwner(u) {
		return Video{}, ErrNotOwner
	}
	return v, nil
}

// VideoPatch holds the fields to change; nil fields stay as they are.
type VideoPatch struct {
	Title           *string `json:"title"`
	Description     *string `json:"description"`
	Visibility      *string `json:"visibility"`
	CommentsEnabled *bool   `json:"comments_enabled"`
}

// Update changes the editable fields of u's video.
func (s *Service) Update(ctx context.Context, publicID string, u *accounts.User, p VideoPatch) (Video, error) {
	v, err := s.owned(ctx, publicID, u)
	if err != nil {
		return Video{}, err
	}
	if p.Title != nil {
		if v.Title, err = ValidateTitle(*p.Title); err != nil {
			return Video{}, err
		}
	}
	if p.Description != nil {
		if v.Description, err = ValidateDescription(*p.Description); err != nil {
			return Video{}, err
		}
	}
	before := v.Visibility
	if p.Visibility != nil {
		if strings.TrimSpace(*p.Visibility) == "" {
			return Video{}, errs.Invalid("invalid_visibility", "visibility must be public, unlisted or private")
		}
		if v.Visibility, err = ParseVisibility(*p.Visibility); err != nil {
			return Video{}, err
		}
	}
	if p.CommentsEnabled != nil {
		v.CommentsEnabled = *p.CommentsEnabled
	}
	if err := s.store.UpdateVideo(ctx, v); err != nil {
		return Video{}, err
	}
	if before != v.Visibility {
		s.hidden(ctx, v) // cached copies may list it or allow playing it
	}
	return s.Get(ctx, publicID, u)
}

// MaxThumbnailBytes caps a custom thumbnail.
const MaxThumbnailBytes = 5 << 20

// ReplaceThumbnail stores a custom thumbnail (JPEG, PNG or GIF; at most
// MaxThumbnailBytes, and no more than Limits.ImageMaxDecodeBytes once
// decoded) re-encoded as a JPEG under a new random key, and removes the
// previous custom one. Decoding waits for one of Limits.ImageDecoders
// slots, so a burst of uploads cannot take more memory than they allow.
func (s *Service) ReplaceThumbnail(ctx context.Context, publicID string, u *accounts.User, r io.Reader) (Video, error) {
	v, err := s.owned(ctx, publicID, u)
	if err != nil {
		return Video{}, err
	}
	data, err := io.ReadAll(io.LimitReader(r, MaxThumbnailBytes+1))
	if err != nil {
		return Video{}, err
	}
	if len(data) > MaxThumbnailBytes {
		return Video{}, errs.New(errs.ErrTooLarge, "thumbnail_too_large", "the thumbnail must be at most %s", errs.P("Limit", bytesize.Format(MaxThumbnailBytes)))
	}
	if len(data) == 0 {
		return Video{}, errs.InvalidVariant("empty_file", "thumbnail", "the thumbnail file is empty")
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return Video{}, errs.New(errs.ErrUnsupported, "not_an_image", "the thumbnail must be a JPEG, PNG or GIF image")
	}
	if cfg.Width < 16 || cfg.Height < 16 || cfg.Width > 8192 || cfg.Height > 8192 {
		return Video{}, errs.Invalid("bad_thumbnail_size", "the thumbnail must be between 16x16 and 8192x8192 pixels")
	}
	if need := int64(cfg.Width) * int64(cfg.Height) * bytesPerPixel(cfg.ColorModel); need > s.limits.ImageMaxDecodeBytes {
		return Video{}, errs.NewVariant(errs.ErrTooLarge, "thumbnail_too_large", "decoded",
			"the thumbnail would take %s of memory to open, more than the %s limit; save it smaller or as an 8-bit JPEG or PNG",
			errs.P("Size", bytesize.Format(need)), errs.P("Limit", bytesize.Format(s.limits.ImageMaxDecodeBytes)))
	}
	jpg, err := s.reencode(ctx, data)
	if err != nil {
		return Video{}, err
	}
	key := ObjectPrefix(v.PublicID) + "thumb-" + NewPublicID() + ".jpg"
	if _, err := s.objs.Put(ctx, key, bytes.NewReader(jpg), int64(len(jpg)), objects.PutOptions{ContentType: "image/jpeg"}); err != nil {
		return Video{}, err
	}
	if err := s.store.SetThumbnail(ctx, v.ID, key); err != nil {
		s.deleteQuietly(ctx, key)
		return Video{}, err
	}
	if old := v.ThumbnailKey; old != "" && old != key && strings.HasPrefix(path.Base(old), "thumb-") {
		s.deleteQuietly(ctx, old)
	}
	return s.Get(ctx, publicID, u)
}

// Delete removes u's video (or any video, for an admin taking it down):
// first it is hidden (private, failed "deleted"), then every object under its
// prefix and its original are deleted, then the row. Each step can be
// repeated, so a failed delete is retried by calling Delete again. Daily view
// buckets stay (revenue history).
func (s *Service) Delete(ctx context.Context, publicID string, u *accounts.User) error {
	v, err := s.owned(ctx, publicID, u)
	if errors.Is(err, ErrNotOwner) && u.IsAdmin() {
		v, err = s.store.VideoByPublicID(ctx, publicID)
	}
	if err != nil {
		return err
	}
	return s.deleteVideo(ctx, v)
}

func (s *Service) deleteVideo(ctx context.Context, v Video) error {
	ctx = context.WithoutCancel(ctx) // finish even if the client goes away
	if err := s.store.MarkDeleting(ctx, v.ID); err != nil {
		return err
	}
	s.hidden(ctx, v)
	if v.OriginalKey != "" {
		if err := s.objs.Delete(ctx, v.OriginalKey); err != nil {
			return fmt.Errorf("delete original: %w", err)
		}
	}
	list, err := s.objs.List(ctx, ObjectPrefix(v.PublicID))
	if err != nil {
		return fmt.Errorf("list objects: %w", err)
	}
	for _, o := range list {
		if err := s.objs.Delete(ctx, o.Key); err != nil {
			return fmt.Errorf("delete %s: %w", o.Key, err)
		}
	}
	return s.store.DeleteVideo(ctx, v.ID)
}

// MediaObject is an object /media may serve to the requester.
type MediaObject struct {
	Path        string // local file (fs driver)
	ContentType string
	Public      bool // may be cached by shared caches
}

// MediaFile authorises a /media/ request for key on the fs driver: the
// thumbnail and renditions of a video the viewer may watch, the original
// only to its owner. Anything else is not found.
func (s *Service) MediaFile(ctx context.Context, key string, viewer *accounts.User) (MediaObject, error) {
	lp, ok := s.objs.(LocalPather)
	if !ok || objects.ValidateKey(key) != nil {
		return MediaObject{}, errNoMedia
	}
	parts := strings.Split(key, "/")
	if len(parts) != 3 || parts[0] != "videos" || !ValidPublicID(parts[1]) {
		return MediaObject{}, errNoMedia
	}
	v, err := s.store.VideoByPublicID(ctx, parts[1])
	if errors.Is(err, errs.ErrNotFound) {
		return MediaObject{}, errNoMedia
	} else if err != nil {
		return MediaObject{}, err
	}
	allowed := false
	switch {
	case key == v.OriginalKey:
		allowed = v.IsOwner(viewer)
	case key == v.ThumbnailKey:
		allowed = v.CanView(viewer)
	default:
		for _, r := range v.Renditions {
			if r.Key == key {
				allowed = v.CanView(viewer)
			}
		}
	}
	if !allowed {
		return MediaObject{}, errNoMedia
	}
	p, err := lp.Path(key)
	if err != nil {
		return MediaObject{}, errNoMedia
	}
	ct := "application/octet-stream"
	switch path.Ext(key) {
	case ".mp4":
		ct = "video/mp4"
	case ".jpg":
		ct = "image/jpeg"
	case ".png":
		ct = "image/png"
	case ".gif":
		ct = "image/gif"
	}
	return MediaObject{Path: p, ContentType: ct, Public: v.Visibility == Public && v.Status == StatusReady}, nil
}

var errNoMedia = errs.New(errs.ErrNotFound, "not_found", "there is nothing at this address")

// SweepOrphans deletes objects under videos/ older than SweepGrace whose
// video row does not exist, and aborts incomplete uploads under videos/
// older than that (drivers implementing objects.IncompleteAborter); it
// returns how many objects and uploads it removed.
func (s *Service) SweepOrphans(ctx context.Context) (int, error) {
	list, err := s.objs.List(ctx, "videos/")
	if err != nil {
		return 0, err
	}
	cutoff := s.now().Add(-SweepGrace)
	byID := map[string][]objects.Info{}
	var ids []string
	for _, o := range list {
		parts := strings.SplitN(o.Key, "/", 3)
		if len(parts) < 3 || !ValidPublicID(parts[1]) || o.ModTime.After(cutoff) {
			continue
		}
		if _, ok := byID[parts[1]]; !ok {
			ids = append(ids, parts[1])
		}
		byID[parts[1]] = append(byID[parts[1]], o)
	}
	n := 0
	for len(ids) > 0 {
		batch := ids[:min(len(ids), 1000)]
		ids = ids[len(batch):]
		known, err := s.store.KnownPublicIDs(ctx, batch)
		if err != nil {
			return n, err
		}
		for _, id := range batch {
			if known[id] {
				continue
			}
			for _, o := range byID[id] {
				if err := s.objs.Delete(ctx, o.Key); err != nil {
					return n, err
				}
				n++
			}
		}
	}
	// A simple upload whose process died mid-file leaves an incomplete
	// upload on S3 that List does not show; abort those too.
	if ia, ok := s.objs.(objects.IncompleteAborter); ok {
		m, err := ia.AbortIncomplete(ctx, "videos/", cutoff)
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// bytesPerPixel is what one pixel of an image in model takes once decoded
// by the standard library (16-bit PNGs take 8).
func bytesPerPixel(m color.Model) int64 {
	switch m {
	case color.GrayModel, color.AlphaModel:
		return 1
	case color.Gray16Model, color.Alpha16Model:
		return 2
	case color.RGBAModel, color.NRGBAModel, color.YCbCrModel, color.CMYKModel:
		return 4
	}
	if _, ok := m.(color.Palette); ok {
		return 1
	}
	return 8
}

// reencode decodes an image (holding a decoder slot) and writes it again
// as a JPEG: no metadata, no trailing bytes, nothing a browser could take
// for something other than a picture.
func (s *Service) reencode(ctx context.Context, data []byte) ([]byte, error) {
	select {
	case s.decoders <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-s.decoders }()
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, errs.Invalid("corrupt_image", "the thumbnail image is damaged")
	}
	var out bytes.Buffer
	if err := jpeg.Encode(&out, img, &jpeg.Options{Quality: 90}); err != nil {
		return nil, fmt.Errorf("re-encode thumbnail: %w", err)
	}
	return out.Bytes(), nil
}
