package videos

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"

	"github.com/ucc-video/ucc/internal/accounts"
	"github.com/ucc-video/ucc/internal/bytesize"
	"github.com/ucc-video/ucc/internal/errs"
	"github.com/ucc-video/ucc/internal/objects"
)

// NewPublicID returns a random 11-character URL-safe video id (64 bits).
func NewPublicID() string {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// OriginalKey is where the simple upload stores a video's original file.
func OriginalKey(publicID string) string { return "videos/" + publicID + "/original" }

// ObjectPrefix is the prefix of every object of a video.
func ObjectPrefix(publicID string) string { return "videos/" + publicID + "/" }

// UploadMeta are the descriptive fields sent with an upload.
type UploadMeta struct {
	Title       string
	Description string
	Visibility  string
}

// validate trims and checks the fields.
func (m UploadMeta) validate() (title, desc string, vis Visibility, err error) {
	if title, err = ValidateTitle(m.Title); err != nil {
		return
	}
	if desc, err = ValidateDescription(m.Description); err != nil {
		return
	}
	vis, err = ParseVisibility(m.Visibility)
	return
}

// FinishedUpload is a completed resumable upload (internal/uploads hands it
// over through uploads.Finisher) whose bytes are already in object storage
// at ObjectKey.
type FinishedUpload struct {
	CreatorID   int64
	ObjectKey   string
	Size        int64
	Title       string
	Description string
	Visibility  Visibility
}

// ErrInterrupted is a simple upload whose request broke off, or whose
// multipart body is malformed, before the file was complete. The error that
// wraps it also wraps the stream's own failure (an *http.MaxBytesError past
// the body cap, a timeout).
var ErrInterrupted = errs.Invalid("upload_interrupted", "the upload was interrupted or the multipart body is malformed; nothing was saved")

// Upload is one simple (single-request) upload: BeginUpload, Store the
// file, Finish with the fields; Abort (deferred) removes the object of an
// upload that did not finish.
type Upload struct {
	s         *Service
	creatorID int64
	channel   Channel
	publicID  string
	key       string
	quotaLeft int64 // -1 unlimited
	size      int64
	stored    bool
	done      bool
}

// BeginUpload checks that u may upload (has a channel, has quota left).
func (s *Service) BeginUpload(ctx context.Context, u *accounts.User) (*Upload, error) {
	if u == nil {
		return nil, errs.New(errs.ErrUnauthorized, "unauthorized", "sign in first")
	}
	ch, err := s.store.ChannelByOwner(ctx, u.ID)
	if errors.Is(err, errs.ErrNotFound) {
		return nil, errNoChannel
	} else if err != nil {
		return nil, err
	}
	left, err := s.quotaLeft(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	id := NewPublicID()
	return &Upload{s: s, creatorID: u.ID, channel: ch, publicID: id, key: OriginalKey(id), quotaLeft: left}, nil
}

// errNoChannel refuses an upload by a user who has no channel yet.
var errNoChannel = errs.New(errs.ErrForbidden, "no_channel", "open a channel before uploading videos (/channels/new)")

// PreflightUpload refuses a resumable upload before any byte is sent when
// the creator has no channel or has used up their quota: the same checks
// BeginUpload makes for a simple upload (uploads.Finisher).
func (s *Service) PreflightUpload(ctx context.Context, creatorID int64) error {
	if _, err := s.store.ChannelByOwner(ctx, creatorID); errors.Is(err, errs.ErrNotFound) {
		return errNoChannel
	} else if err != nil {
		return err
	}
	_, err := s.quotaLeft(ctx, creatorID)
	return err
}

// quotaLeft returns the bytes the creator may still store (-1 unlimited);
// a full quota is refused with 403.
func (s *Service) quotaLeft(ctx context.Context, creatorID int64) (int64, error) {
	if s.cfg.QuotaBytes <= 0 {
		return -1, nil
	}
	used, err := s.store.StorageUsed(ctx, creatorID)
	if err != nil {
		return 0, err
	}
	if used >= s.cfg.QuotaBytes {
		return 0, errs.New(errs.ErrForbidden, "quota_exceeded", "storage quota exceeded: your videos use %s of your %s quota; delete some to upload more", bytesize.Format(used), bytesize.Format(s.cfg.QuotaBytes))
	}
	return s.cfg.QuotaBytes - used, nil
}

// MaxBytes is the largest file this upload accepts (the size cap, or the
// quota left when smaller).
func (up *Upload) MaxBytes() int64 {
	if up.quotaLeft >= 0 && up.quotaLeft < up.s.cfg.MaxUploadBytes {
		return up.quotaLeft
	}
	return up.s.cfg.MaxUploadBytes
}

// PublicID is the id the video will have.
func (up *Upload) PublicID() string { return up.publicID }

// Store streams the file into object storage under a random key. It fails
// as soon as the stream passes the size cap (413 file_too_large) or the
// quota left (413 quota_exceeded), leaving no object behind.
func (up *Upload) Store(ctx context.Context, r io.Reader) error {
	if up.stored {
		return errs.Invalid("duplicate_file", "send exactly one file")
	}
	up.stored = true // from here on Abort deletes the key
	cr := &capReader{r: r, max: up.s.cfg.MaxUploadBytes, quota: up.quotaLeft}
	info, err := up.s.objs.Put(ctx, up.key, cr, -1, objects.PutOptions{ContentType: "application/octet-stream"})
	if cr.err != nil {
		err = cr.err
	} else if cr.readErr != nil {
		err = fmt.Errorf("%w: %w", ErrInterrupted, cr.readErr)
	}
	if err != nil {
		up.Abort(ctx)
		return err
	}
	up.size = info.Size
	return nil
}

// Finish validates the fields, probes the stored file and creates the video
// with its processing job. On any error the object is deleted.
func (up *Upload) Finish(ctx context.Context, meta UploadMeta) (Video, error) {
	if !up.stored {
		return Video{}, errs.Invalid("missing_file", "the request has no file part named \"file\"")
	}
	v, err := up.s.createFromObject(ctx, up.creatorID, up.channel, up.publicID, up.key, up.size, meta, func(error) bool { return true })
	up.done = true // createFromObject removed the object on failure
	return v, err
}

// Abort deletes the stored object of an upload that did not finish.
func (up *Upload) Abort(ctx context.Context) {
	if up.stored && !up.done {
		up.done = true
		up.s.deleteQuietly(ctx, up.key)
	}
}

// CreateFromUpload turns a finished upload into a video: it probes the
// object at in.ObjectKey and either creates the video (status processing)
// with its transcoding job, or deletes the object and returns an error a
// creator understands. On success the object is kept where it is and
// becomes the video's original (videos.original_key); the video owns it
// from then on and deletes it with the video, so the caller must not.
func (s *Service) CreateFromUpload(ctx context.Context, in FinishedUpload) (Video, error) {
	// A resumable upload is worth keeping across a transient failure (the
	// database or storage blipped): the client retries the final PATCH. Only
	// a refusal of the file itself removes it.
	fail := func(err error) (Video, error) {
		if permanent(err) {
			s.deleteQuietly(ctx, in.ObjectKey)
		}
		return Video{}, err
	}
	if err := objects.ValidateKey(in.ObjectKey); err != nil {
		return Video{}, errs.Invalid("invalid_key", "invalid object key")
	}
	ch, err := s.store.ChannelByOwner(ctx, in.CreatorID)
	if errors.Is(err, errs.ErrNotFound) {
		return fail(errNoChannel)
	} else if err != nil {
		return fail(err)
	}
	if in.Size > s.cfg.MaxUploadBytes {
		return fail(errs.New(errs.ErrTooLarge, "file_too_large", "the file is larger than the %s limit", bytesize.Format(s.cfg.MaxUploadBytes)))
	}
	meta := UploadMeta{Title: in.Title, Description: in.Description, Visibility: string(in.Visibility)}
	return s.createFromObject(ctx, in.CreatorID, ch, NewPublicID(), in.ObjectKey, in.Size, meta, permanent)
}

// permanent reports whether err refuses the upload itself (a person-readable
// *errs.Error other than "unavailable"), as opposed to a transient failure.
func permanent(err error) bool {
	var e *errs.Error
	return errors.As(err, &e) && !errors.Is(err, errs.ErrUnavailable)
}

// createFromObject is the shared tail of both upload paths.
//
// discard decides whether a failure removes the uploaded object.
func (s *Service) createFromObject(ctx context.Context, creatorID int64, ch Channel, publicID, key string, size int64, meta UploadMeta, discard func(error) bool) (Video, error) {
	fail := func(err error) (Video, error) {
		if discard(err) {
			s.deleteQuietly(ctx, key)
		}
		return Video{}, err
	}
	title, desc, vis, err := meta.validate()
	if err != nil {
		return fail(err)
	}
	info, err := s.objs.Stat(ctx, key)
	if err != nil {
		return fail(fmt.Errorf("stat upload: %w", err))
	}
	if size != info.Size {
		size = info.Size // trust storage, not the caller
	}
	p, err := s.probeObject(ctx, key, size)
	if err != nil {
		return fail(err)
	}
	v, err := s.store.CreateVideo(ctx, NewVideo{
		PublicID: publicID, CreatorID: creatorID, ChannelID: ch.ID, Title: title, Description: desc,
		Visibility: vis, OriginalKey: key, OriginalSize: size, Duration: p.Duration, Width: p.Width, Height: p.Height,
	}, s.cfg.QuotaBytes)
	if err != nil {
		return fail(err)
	}
	if err := s.media.Fill(ctx, &v); err != nil {
		return Video{}, err
	}
	return v, nil
}

// capReader fails the stream once it passes max bytes or the quota left.
type capReader struct {
	r       io.Reader
	max     int64
	quota   int64 // -1 unlimited
	n       int64
	err     error // cap exceeded
	readErr error // the client's stream failed
}

func (cr *capReader) Read(p []byte) (int, error) {
	if cr.err != nil {
		return 0, cr.err
	}
	n, err := cr.r.Read(p)
	cr.n += int64(n)
	if err != nil && err != io.EOF {
		cr.readErr = err
	}
	switch {
	case cr.n > cr.max:
		cr.err = errs.New(errs.ErrTooLarge, "file_too_large", "the file is larger than the %s limit", bytesize.Format(cr.max))
	case cr.quota >= 0 && cr.n > cr.quota:
		cr.err = ErrQuota
	}
	if cr.err != nil {
		return 0, cr.err
	}
	return n, err
}

// TooLarge is the error for a body past MaxBytes: quota_exceeded when the
// quota left is the tighter limit, else file_too_large.
func (up *Upload) TooLarge() error {
	if up.quotaLeft >= 0 && up.quotaLeft < up.s.cfg.MaxUploadBytes {
		return ErrQuota
	}
	return errs.New(errs.ErrTooLarge, "file_too_large", "the file is larger than the %s limit", bytesize.Format(up.s.cfg.MaxUploadBytes))
}
