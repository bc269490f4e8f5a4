// Package objects defines the object-storage contract UCC keeps video bytes in.
//
// Object storage holds bytes only; PostgreSQL knows what they mean. Keys are
// chosen by UCC (random, never a client's file name) and use "/" as a
// separator, e.g. "videos/7f3a.../original".
package objects

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/ucc-video/ucc/internal/errs"
)

// The sentinels below wrap the errs kinds, so an error from a driver is
// both errors.Is(err, objects.ErrNotFound) and errors.Is(err, errs.ErrNotFound)
// and needs no translation on its way to the web layer. They are plain
// errors, not *errs.Error: their text is for logs, not for a person.

// ErrNotFound is returned when a key does not exist.
var ErrNotFound = fmt.Errorf("objects: %w", errs.ErrNotFound)

// ErrInvalidKey is returned for a key that is empty, absolute, or tries to
// leave the store ("..", backslashes, NUL bytes).
var ErrInvalidKey = fmt.Errorf("objects: invalid key: %w", errs.ErrInvalid)

// ErrInvalidRange is returned when a requested byte range starts past the end of the object.
var ErrInvalidRange = fmt.Errorf("objects: invalid range: %w", errs.ErrInvalid)

// Info describes a stored object.
type Info struct {
	Key         string
	Size        int64
	ContentType string
	ETag        string
	ModTime     time.Time
}

// PutOptions carries optional metadata for Put.
type PutOptions struct {
	// ContentType is stored with the object and returned by Stat and Get.
	ContentType string
}

// Store is the small interface every storage driver implements.
type Store interface {
	// Put streams r into key. size is the exact length, or -1 when unknown;
	// the body is never buffered whole in memory.
	Put(ctx context.Context, key string, r io.Reader, size int64, opts PutOptions) (Info, error)
	// Get opens key for reading from offset; length < 0 reads to the end.
	// The returned Info describes the whole object.
	Get(ctx context.Context, key string, offset, length int64) (io.ReadCloser, Info, error)
	// Stat describes key without reading it.
	Stat(ctx context.Context, key string) (Info, error)
	// Delete removes key; deleting a missing key is not an error.
	Delete(ctx context.Context, key string) error
	// List returns every object whose key starts with prefix, in key order.
	List(ctx context.Context, prefix string) ([]Info, error)
	// PresignGet returns a URL that lets anyone holding it GET key (with Range
	// support) until expiry. Drivers without native presigning (fs) return
	// ErrNotSupported and callers serve the bytes through UCC instead.
	PresignGet(ctx context.Context, key string, expiry time.Duration) (string, error)
	// Ping checks that the store answers (used by /readyz).
	Ping(ctx context.Context) error
}

// ErrNotSupported is returned by optional operations a driver cannot do
// (PresignGet on fs); callers fall back to another way.
var ErrNotSupported = fmt.Errorf("objects: not supported by this driver: %w", errs.ErrUnsupported)

// IncompleteAborter is implemented by drivers on which an interrupted Put
// (a crashed process) can leave an incomplete upload behind that List does
// not show but that still holds bytes: S3 multipart uploads. The fs driver
// has none (its partial files are removed when it opens).
type IncompleteAborter interface {
	// AbortIncomplete aborts the incomplete uploads of keys under prefix
	// started before before, and returns how many it aborted.
	AbortIncomplete(ctx context.Context, prefix string, before time.Time) (int, error)
}
