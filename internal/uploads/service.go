package uploads

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/ucc-video/ucc/internal/bytesize"
	"github.com/ucc-video/ucc/internal/errs"
	"github.com/ucc-video/ucc/internal/objects"
	"github.com/ucc-video/ucc/internal/videos"
)

// Config holds the limits of the upload service.
type Config struct {
	MaxBytes   int64         // largest accepted upload (UCC_UPLOAD_MAX_BYTES)
	QuotaBytes int64         // per-creator storage quota, 0 = unlimited (UCC_UPLOAD_QUOTA_BYTES)
	PartSize   int64         // multipart part size; default DefaultPartSize, at least MinPartSize
	TTL        time.Duration // how long a session lives; default DefaultTTL
	// MaxOpen caps the unexpired sessions one creator has open
	// (UCC_UPLOAD_MAX_OPEN_SESSIONS); default DefaultMaxOpen.
	MaxOpen int
	Log     *slog.Logger
}

// DefaultMaxOpen is how many resumable uploads a creator may have open at once.
const DefaultMaxOpen = 5

// ErrTooManySessions is what Store.Create returns for a creator at the
// open-session cap.
var ErrTooManySessions = errors.New("uploads: too many open sessions")

func (s *Service) maxOpen() int {
	if s.cfg.MaxOpen > 0 {
		return s.cfg.MaxOpen
	}
	return DefaultMaxOpen
}

// Service runs resumable uploads.
type Service struct {
	store Store
	parts Parts
	objs  objects.Store // tails, and the finished object
	fin   Finisher
	cfg   Config
	log   *slog.Logger
	now   func() time.Time
}

// NewService returns a Service. objs holds the temporary tails and is where
// parts end up; fin receives every completed upload.
func NewService(store Store, parts Parts, objs objects.Store, fin Finisher, cfg Config, now func() time.Time) *Service {
	if cfg.PartSize == 0 {
		cfg.PartSize = DefaultPartSize
	}
	cfg.PartSize = max(cfg.PartSize, MinPartSize)
	if cfg.TTL <= 0 {
		cfg.TTL = DefaultTTL
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if now == nil {
		now = time.Now
	}
	return &Service{store: store, parts: parts, objs: objs, fin: fin, cfg: cfg, log: cfg.Log, now: now}
}

// MaxBytes is the largest upload accepted (Tus-Max-Size).
func (s *Service) MaxBytes() int64 { return s.cfg.MaxBytes }

var errNoUpload = errs.New(errs.ErrNotFound, "upload_not_found", "no such upload; it may have finished, been cancelled or expired — start the upload again")

// randomID returns n random bytes as unpadded base64url.
func randomID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// validID reports whether id looks like a session id.
func validID(id string) bool {
	if len(id) < 16 || len(id) > 64 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// partSizeFor picks the part size for a file of length bytes: the configured
// size, or larger so the file fits in plannedParts parts.
func (s *Service) partSizeFor(length int64) int64 {
	ps := s.cfg.PartSize
	if length > ps*plannedParts {
		const mib = 1 << 20
		ps = (length/plannedParts + mib) / mib * mib
	}
	return ps
}

// Create starts an upload of length bytes for creatorID with the tus
// metadata (title, description, visibility; filename only for the title).
func (s *Service) Create(ctx context.Context, creatorID int64, length int64, meta map[string]string) (Session, error) {
	switch {
	case length < 0:
		return Session{}, errs.InvalidVariant("invalid_length", "number", "Upload-Length must be a whole number of bytes")
	case length == 0:
		return Session{}, errs.InvalidVariant("empty_file", "upload", "the file is empty (0 bytes); pick a video file")
	case s.cfg.MaxBytes > 0 && length > s.cfg.MaxBytes:
		return Session{}, errs.NewVariant(errs.ErrTooLarge, "too_large", "upload", "the file is too large: %s, and the largest upload allowed is %s",
			errs.P("Size", bytesize.Format(length)), errs.P("Limit", bytesize.Format(s.cfg.MaxBytes)))
	}
	clean, err := cleanMetadata(meta)
	if err != nil {
		return Session{}, err
	}
	if err := s.fin.PreflightUpload(ctx, creatorID); err != nil {
		return Session{}, err
	}
	id := randomID(18)
	key := "originals/" + randomID(16)
	mpID, err := s.parts.Begin(ctx, key)
	if err != nil {
		return Session{}, fmt.Errorf("uploads: begin: %w", err)
	}
	now := s.now().UTC()
	sess := Session{
		ID: id, CreatorID: creatorID, Length: length, PartSize: s.partSizeFor(length), Metadata: clean,
		ObjectKey: key, MultipartID: mpID, Parts: []Part{}, CreatedAt: now, ExpiresAt: now.Add(s.cfg.TTL),
	}
	used, ok, err := s.store.Create(ctx, sess, s.cfg.QuotaBytes, s.maxOpen())
	if errors.Is(err, ErrTooManySessions) {
		err = errs.New(errs.ErrRateLimited, "too_many_uploads", "you already have %d uploads in progress; finish or cancel one before starting another",
			errs.P("Count", s.maxOpen()))
	}
	if err == nil && !ok {
		left := max(s.cfg.QuotaBytes-used, 0)
		err = errs.NewVariant(errs.ErrTooLarge, "quota_exceeded", "needs", "quota exceeded: this file needs %s but only %s of your %s storage quota is left",
			errs.P("Size", bytesize.Format(length)), errs.P("Left", bytesize.Format(left)), errs.P("Quota", bytesize.Format(s.cfg.QuotaBytes)))
	}
	if err != nil {
		if aerr := s.parts.Abort(context.WithoutCancel(ctx), key, mpID); aerr != nil {
			s.log.WarnContext(ctx, "upload: abort after failed create", "key", key, "err", aerr)
		}
		return Session{}, err
	}
	return sess, nil
}

// cleanMetadata validates the title, description and visibility, deriving
// the title from the file name when it is missing.
func cleanMetadata(meta map[string]string) (map[string]string, error) {
	filename := meta["filename"]
	if filename == "" {
		filename = meta["name"] // Uppy's key
	}
	title := meta["title"]
	if strings.TrimSpace(title) == "" {
		title = titleFromFilename(filename)
	}
	if strings.TrimSpace(title) == "" {
		title = "Untitled video"
	}
	title, err := videos.ValidateTitle(title)
	if err != nil {
		return nil, err
	}
	desc, err := videos.ValidateDescription(meta["description"])
	if err != nil {
		return nil, err
	}
	vis, err := videos.ParseVisibility(meta["visibility"])
	if err != nil {
		return nil, err
	}
	out := map[string]string{"title": title, "description": desc, "visibility": string(vis)}
	if name := titleFromFilename(filename); name != "" {
		out["filename"] = name // for display only; never a storage key
	}
	return out, nil
}

// Get returns creatorID's session id; another creator's session is not found.
func (s *Service) Get(ctx context.Context, creatorID int64, id string) (Session, error) {
	if !validID(id) {
		return Session{}, errNoUpload
	}
	sess, err := s.store.Get(ctx, id)
	if errors.Is(err, errs.ErrNotFound) || err == nil && sess.CreatorID != creatorID {
		return Session{}, errNoUpload
	}
	if err != nil {
		return Session{}, err
	}
	if !s.now().Before(sess.ExpiresAt) {
		return Session{}, errs.New(errs.ErrNotFound, "upload_expired", "this upload expired (uploads must finish within %s of starting); start it again", errs.P("TTL", s.cfg.TTL))
	}
	return sess, nil
}

// Result is the outcome of a Write.
type Result struct {
	Session Session // the session as stored after the write
	Done    bool    // the upload is complete and became a video
	VideoID string  // the video's public id when Done
}

// Write appends n bytes read from body at offset (a tus PATCH). Every full
// part is stored and recorded as soon as it is read; when the body breaks
// off, what was recorded stays and the returned session says where to
// resume. The write that completes the file hands it to the Finisher.
func (s *Service) Write(ctx context.Context, creatorID int64, id string, offset int64, body io.Reader, n int64) (Result, error) {
	sess, err := s.Get(ctx, creatorID, id)
	if err != nil {
		return Result{}, err
	}
	res := Result{Session: sess}
	if err := checkWrite(sess, offset, n); err != nil {
		return res, err
	}
	if n > 0 {
		sess, err = s.append(ctx, sess, &bodyReader{r: body}, n)
		res.Session = sess
		if err != nil {
			return res, err
		}
	}
	if sess.Offset < sess.Length {
		return res, nil
	}
	// Finishing must not stop half-way because the client went away.
	vid, err := s.finish(context.WithoutCancel(ctx), sess)
	if err != nil {
		return res, err
	}
	res.Done, res.VideoID = true, vid
	return res, nil
}

// checkWrite refuses a PATCH of n bytes at offset that does not continue
// sess exactly or would go past its declared length. The comparison is
// written so that no offset or length, however large, can overflow.
func checkWrite(sess Session, offset, n int64) error {
	if offset != sess.Offset {
		return errs.New(errs.ErrConflict, "offset_mismatch", "Upload-Offset is %d but the server has %d bytes of this upload; resume from %d", errs.P("Offset", offset), errs.P("Stored", sess.Offset), errs.P("Resume", sess.Offset))
	}
	if n < 0 {
		return errs.Invalid("length_required", "a PATCH needs a Content-Length header")
	}
	if n > sess.Length-sess.Offset {
		return errs.New(errs.ErrTooLarge, "past_length", "this chunk of %d bytes at offset %d goes past the declared file size of %d bytes", errs.P("Size", n), errs.P("Offset", offset), errs.P("Length", sess.Length))
	}
	return nil
}

// bodyReader remembers the request body's read error, so a broken
// connection is told apart from a storage failure.
type bodyReader struct {
	r   io.Reader
	err error
}

// Read reads from the body, recording a failure.
func (b *bodyReader) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err != nil && err != io.EOF {
		b.err = err
	}
	return n, err
}

// countReader counts the bytes read through it.
type countReader struct {
	r io.Reader
	n int64
}

// Read reads and counts.
func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// append streams n body bytes into parts and a tail, recording each as it is stored.
func (s *Service) append(ctx context.Context, sess Session, body *bodyReader, n int64) (Session, error) {
	final := sess.Offset+n == sess.Length
	left := n // body bytes not consumed yet
	for {
		avail := sess.TailSize + left
		var size int64
		switch {
		case avail >= sess.PartSize:
			size = sess.PartSize
		case final && avail > 0:
			size = avail // the last part may be small
		}
		if size == 0 {
			break
		}
		fromBody := size - sess.TailSize
		next, err := s.putPart(ctx, sess, body, fromBody, size)
		if err != nil {
			return sess, err
		}
		sess, left = next, left-fromBody
	}
	if left > 0 {
		return s.putTail(ctx, sess, body, left)
	}
	return sess, nil
}

// withTail returns a reader of the session's tail followed by fromBody body bytes.
func (s *Service) withTail(ctx context.Context, sess Session, body io.Reader, fromBody int64) (io.Reader, func(), error) {
	src := io.LimitReader(body, fromBody)
	if sess.TailSize == 0 {
		return src, func() {}, nil
	}
	tail, _, err := s.objs.Get(ctx, sess.TailKey, 0, sess.TailSize)
	if err != nil {
		return nil, nil, fmt.Errorf("uploads: reading the stored tail of %s: %w", sess.ID, err)
	}
	return io.MultiReader(io.LimitReader(tail, sess.TailSize), src), func() { tail.Close() }, nil
}

// streamErr explains a failed store of streamed bytes: the client's body
// broke off, or storage failed.
func streamErr(sess Session, body *bodyReader, err error) error {
	if body.err != nil {
		return errs.NewVariant(errs.ErrInvalid, "upload_interrupted", "stored", "the upload was interrupted after %d bytes were safely stored; resume from there", errs.P("Stored", sess.Offset))
	}
	if errors.Is(err, objects.ErrSizeMismatch) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errs.New(errs.ErrInvalid, "short_body", "the request body is shorter than its Content-Length; %d bytes are safely stored, resume from there", errs.P("Stored", sess.Offset))
	}
	return fmt.Errorf("uploads: storing bytes of %s: %w", sess.ID, err)
}

// putPart stores one part made of the tail and fromBody body bytes, then records it.
func (s *Service) putPart(ctx context.Context, sess Session, body *bodyReader, fromBody, size int64) (Session, error) {
	bg := context.WithoutCancel(ctx)
	num, err := s.store.NextPartNumber(bg, sess.ID)
	if err != nil {
		return sess, err
	}
	if num > MaxParts {
		return sess, errs.New(errs.ErrConflict, "too_many_attempts", "this upload was interrupted too many times; cancel it and start again")
	}
	src, closeTail, err := s.withTail(ctx, sess, body, fromBody)
	if err != nil {
		return sess, err
	}
	cr := &countReader{r: src}
	etag, err := s.parts.PutPart(ctx, sess.ObjectKey, sess.MultipartID, num, cr, size)
	closeTail()
	if err == nil && cr.n != size {
		err = fmt.Errorf("%w: part %d read %d of %d bytes", objects.ErrSizeMismatch, num, cr.n, size)
	}
	if err != nil {
		return sess, streamErr(sess, body, err)
	}
	part := Part{Number: num, Size: size, ETag: etag}
	next := sess
	next.Offset += fromBody
	next.Parts = append(slices.Clone(sess.Parts), part)
	next.TailKey, next.TailSize = "", 0
	if err := s.store.Advance(bg, sess.ID, sess.Offset, Advance{Part: &part, NewOffset: next.Offset}); err != nil {
		return sess, s.advanceErr(err)
	}
	s.dropTail(bg, sess.TailKey)
	return next, nil
}

// putTail stores the tail plus the last left body bytes as a new tail object, then records it.
func (s *Service) putTail(ctx context.Context, sess Session, body *bodyReader, left int64) (Session, error) {
	bg := context.WithoutCancel(ctx)
	size := sess.TailSize + left
	key := "uploads/" + sess.ID + "/tail-" + randomID(9)
	src, closeTail, err := s.withTail(ctx, sess, body, left)
	if err != nil {
		return sess, err
	}
	_, err = s.objs.Put(ctx, key, src, size, objects.PutOptions{})
	closeTail()
	if err != nil {
		s.dropTail(bg, key)
		return sess, streamErr(sess, body, err)
	}
	next := sess
	next.Offset += left
	next.TailKey, next.TailSize = key, size
	if err := s.store.Advance(bg, sess.ID, sess.Offset, Advance{NewOffset: next.Offset, TailKey: key, TailSize: size}); err != nil {
		s.dropTail(bg, key)
		return sess, s.advanceErr(err)
	}
	s.dropTail(bg, sess.TailKey)
	return next, nil
}

// advanceErr explains a lost compare-and-set.
func (s *Service) advanceErr(err error) error {
	if errors.Is(err, errs.ErrConflict) || errors.Is(err, errs.ErrNotFound) {
		return errs.New(errs.ErrConflict, "concurrent_write", "another request wrote to this upload at the same time; ask for the current offset (HEAD) and resume")
	}
	return err
}

// dropTail deletes a tail object that is no longer referenced.
func (s *Service) dropTail(ctx context.Context, key string) {
	if key == "" {
		return
	}
	if err := s.objs.Delete(ctx, key); err != nil {
		s.log.WarnContext(ctx, "upload: deleting a stale tail", "key", key, "err", err)
	}
}

// rejected reports whether the Finisher refused the file for good.
func rejected(err error) bool {
	var e *errs.Error
	return errors.As(err, &e) && !errors.Is(err, errs.ErrUnavailable)
}

// finish assembles the parts into the object and hands it to the Finisher.
// It may be retried (a PATCH of 0 bytes at the full offset) after a
// transient failure.
func (s *Service) finish(ctx context.Context, sess Session) (string, error) {
	now := s.now()
	ok, err := s.store.ClaimFinish(ctx, sess.ID, now, now.Add(finishLease))
	if err != nil {
		return "", err
	}
	if !ok {
		return "", errs.New(errs.ErrConflict, "finishing", "this upload is complete and is being turned into a video; check your videos in a moment")
	}
	release := func() {
		if err := s.store.ReleaseFinish(ctx, sess.ID); err != nil {
			s.log.WarnContext(ctx, "upload: releasing finish claim", "id", sess.ID, "err", err)
		}
	}
	cerr := s.parts.Complete(ctx, sess.ObjectKey, sess.MultipartID, sess.Parts)
	info, serr := s.objs.Stat(ctx, sess.ObjectKey)
	switch {
	case cerr != nil && (serr != nil || info.Size != sess.Length):
		// Not a retry of a completed upload: a real failure.
		release()
		return "", fmt.Errorf("uploads: completing %s: %w", sess.ID, cerr)
	case serr != nil:
		release()
		return "", fmt.Errorf("uploads: checking %s: %w", sess.ObjectKey, serr)
	case info.Size != sess.Length:
		s.discard(ctx, sess)
		return "", fmt.Errorf("uploads: %s assembled to %d bytes, want %d", sess.ObjectKey, info.Size, sess.Length)
	}
	v, err := s.fin.CreateFromUpload(ctx, videos.FinishedUpload{
		CreatorID: sess.CreatorID, ObjectKey: sess.ObjectKey, Size: sess.Length,
		Title: sess.Metadata["title"], Description: sess.Metadata["description"],
		Visibility: videos.Visibility(sess.Metadata["visibility"]),
	})
	if err != nil {
		if rejected(err) {
			s.discard(ctx, sess)
		} else {
			release()
		}
		return "", err
	}
	if err := s.store.Delete(ctx, sess.ID); err != nil {
		s.log.ErrorContext(ctx, "upload: deleting a finished session", "id", sess.ID, "err", err)
	}
	return v.PublicID, nil
}

// discard removes a rejected upload: its object, parts, tail and row.
func (s *Service) discard(ctx context.Context, sess Session) {
	if err := s.objs.Delete(ctx, sess.ObjectKey); err != nil {
		s.log.ErrorContext(ctx, "upload: deleting a rejected object", "key", sess.ObjectKey, "err", err)
		return // keep the row so the expiry job tries again
	}
	if err := s.cleanup(ctx, sess); err != nil {
		s.log.ErrorContext(ctx, "upload: cleaning up a rejected upload", "id", sess.ID, "err", err)
	}
}

// cleanup aborts the multipart upload, deletes the tail, then the row; each
// step may be repeated, so a failed cleanup is retried by the expiry job.
func (s *Service) cleanup(ctx context.Context, sess Session) error {
	if err := s.parts.Abort(ctx, sess.ObjectKey, sess.MultipartID); err != nil {
		return fmt.Errorf("uploads: abort %s: %w", sess.ID, err)
	}
	if sess.TailKey != "" {
		if err := s.objs.Delete(ctx, sess.TailKey); err != nil {
			return fmt.Errorf("uploads: delete tail of %s: %w", sess.ID, err)
		}
	}
	return s.store.Delete(ctx, sess.ID)
}

// Terminate cancels creatorID's upload id and removes everything stored for it.
func (s *Service) Terminate(ctx context.Context, creatorID int64, id string) error {
	sess, err := s.Get(ctx, creatorID, id)
	if err != nil {
		return err
	}
	if sess.Offset == sess.Length {
		return errs.New(errs.ErrConflict, "upload_complete", "this upload is complete and is being turned into a video; delete the video instead")
	}
	return s.cleanup(context.WithoutCancel(ctx), sess)
}

// ExpireOld aborts every session older than its expiry and removes its parts,
// tail and row. It returns how many sessions it removed.
func (s *Service) ExpireOld(ctx context.Context) (int, error) {
	const batch = 100
	done := 0
	var errList []error
	for {
		list, err := s.store.Expired(ctx, s.now(), batch)
		if err != nil {
			return done, err
		}
		progress := 0
		for _, sess := range list {
			if sess.Offset == sess.Length {
				// Its object may already belong to a video whose session row
				// outlived it; never delete it blindly.
				s.log.WarnContext(ctx, "upload: expiring a complete but unfinished upload; its object is kept", "id", sess.ID, "key", sess.ObjectKey)
			}
			if err := s.cleanup(ctx, sess); err != nil {
				errList = append(errList, err)
				continue
			}
			done++
			progress++
		}
		if len(list) < batch || progress == 0 {
			return done, errors.Join(errList...)
		}
	}
}
