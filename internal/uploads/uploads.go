// Package uploads is UCC's resumable upload service: the tus 1.0 protocol
// logic (creation, offsets, termination, expiration) on top of object-storage
// multipart uploads.
//
// Bytes never pass through memory whole or through local disk (for the s3
// driver): a PATCH body is cut into parts of a fixed size that are streamed
// straight to storage; a leftover below the part size is kept as a temporary
// "tail" object in storage and prepended to the next PATCH's bytes. The
// session's offset is advanced only after a part or tail is durably stored,
// in the same statement that records it and with a compare-and-set on the old
// offset, so a dropped connection resumes from the last stored byte and two
// concurrent PATCHes cannot both append.
package uploads

import (
	"context"
	"io"
	"time"

	"github.com/ucc-video/ucc/internal/videos"
)

// Protocol constants.
const (
	// TusVersion is the tus protocol version UCC speaks.
	TusVersion = "1.0.0"
	// TusExtensions are the tus extensions UCC supports.
	TusExtensions = "creation,termination,expiration"
	// DefaultPartSize is the size of every multipart part but the last one.
	DefaultPartSize = 8 << 20
	// MinPartSize is S3's minimum size of a part that is not the last one.
	MinPartSize = 5 << 20
	// MaxParts is S3's limit on parts in one multipart upload.
	MaxParts = 10000
	// plannedParts is how many parts a session's part size is chosen for,
	// leaving part numbers to spare for attempts lost to dropped connections.
	plannedParts = 9000
	// DefaultTTL is how long a session may take before it is aborted.
	DefaultTTL = 24 * time.Hour
	// finishLease is how long one request may hold the right to finish a session.
	finishLease = 10 * time.Minute
	// maxMetadataLen bounds the Upload-Metadata header.
	maxMetadataLen = 16 << 10
)

// Part is one stored part of a multipart upload.
type Part struct {
	Number int    `json:"n"`
	Size   int64  `json:"size"`
	ETag   string `json:"etag"`
}

// Session is one resumable upload in progress.
type Session struct {
	ID          string
	CreatorID   int64
	Length      int64 // Upload-Length: the whole file
	Offset      int64 // bytes durably stored: sum of Parts sizes + TailSize
	PartSize    int64
	Metadata    map[string]string // title, description, visibility, filename
	ObjectKey   string            // where the finished file goes; random
	MultipartID string            // the storage's multipart upload id
	Parts       []Part
	TailKey     string // temporary object holding the bytes after the last part ("" when none)
	TailSize    int64
	CreatedAt   time.Time
	ExpiresAt   time.Time
}

// Advance is what a successful write records about a session.
type Advance struct {
	Part      *Part // the part stored, nil when only the tail changed
	NewOffset int64
	TailKey   string
	TailSize  int64
}

// Store keeps sessions (PostgreSQL).
type Store interface {
	// Create inserts s unless the creator's stored videos plus open sessions
	// plus s.Length exceed quota (0 means unlimited). ok is false, and nothing
	// is inserted, when over quota; used is what the creator already holds.
	//
	// When maxOpen > 0 and the creator already has that many unexpired
	// sessions open, nothing is inserted and err is ErrTooManySessions.
	Create(ctx context.Context, s Session, quota int64, maxOpen int) (used int64, ok bool, err error)
	// Get returns a session or errs.ErrNotFound.
	Get(ctx context.Context, id string) (Session, error)
	// NextPartNumber reserves the next multipart part number of a session.
	NextPartNumber(ctx context.Context, id string) (int, error)
	// Advance records a stored part and/or tail and moves the offset from
	// oldOffset to a.NewOffset in one statement; errs.ErrConflict when the
	// offset is no longer oldOffset (or the session is gone).
	Advance(ctx context.Context, id string, oldOffset int64, a Advance) error
	// ClaimFinish takes the right to finish a session until until, unless
	// another request holds it at now.
	ClaimFinish(ctx context.Context, id string, now, until time.Time) (bool, error)
	// ReleaseFinish gives the right to finish back after a failed attempt.
	ReleaseFinish(ctx context.Context, id string) error
	// Delete removes a session; a missing one is not an error.
	Delete(ctx context.Context, id string) error
	// Expired returns up to limit sessions whose expiry is before now and
	// that nobody is finishing.
	Expired(ctx context.Context, now time.Time, limit int) ([]Session, error)
}

// Parts is the storage side of a multipart upload (S3 or local files).
type Parts interface {
	// Begin starts a multipart upload that will become key.
	Begin(ctx context.Context, key string) (multipartID string, err error)
	// PutPart stores part number of exactly size bytes read from r.
	PutPart(ctx context.Context, key, multipartID string, number int, r io.Reader, size int64) (etag string, err error)
	// Complete assembles parts, in order, into the object key.
	Complete(ctx context.Context, key, multipartID string, parts []Part) error
	// Abort drops the upload and every part stored for it; an unknown upload is not an error.
	Abort(ctx context.Context, key, multipartID string) error
}

// Finisher is where uploads go: videos.Service, which decides who may
// upload and turns a completed file into a video. The hand-off is
// videos.FinishedUpload (uploads imports videos, never the reverse).
type Finisher interface {
	// PreflightUpload refuses an upload at creation, before any byte is
	// sent, when the creator may not upload (no channel, quota used up).
	PreflightUpload(ctx context.Context, creatorID int64) error
	// CreateFromUpload turns a completed upload into a video. An *errs.Error
	// that is not errs.ErrUnavailable means the file is rejected (not a
	// video, ...): the upload and its object are then removed. Any other
	// error is treated as transient and the client may retry.
	CreateFromUpload(ctx context.Context, in videos.FinishedUpload) (videos.Video, error)
}
