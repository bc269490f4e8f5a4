// Package s3 is the S3-compatible object store driver (MinIO, AWS S3, ...),
// built on minio-go v7.
package s3

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/ucc-video/ucc/internal/objects"
)

// PartSize is the multipart part size used for uploads; an upload of unknown
// size buffers one part in memory, and can grow to 10,000 parts (160 GiB).
const PartSize = 16 << 20

// MaxRetries is how many times in all an S3 request is tried when it
// fails (minio-go's backoff of 200 ms doubling to 1 s between tries): at
// most about 1.4 s of waiting.
const MaxRetries = 4

// maxParts is the S3 limit on parts in one multipart upload.
const maxParts = 10000

// Config says how to reach the S3 endpoint and which bucket to use.
type Config struct {
	Endpoint  string // host[:port], no scheme
	Region    string // e.g. "us-east-1"; may be empty for MinIO
	Bucket    string
	AccessKey string
	SecretKey string
	UseSSL    bool // https instead of http
	PathStyle bool // path-style bucket addressing (MinIO), not virtual-hosted
}

// Store keeps objects in one S3 bucket.
type Store struct {
	core   *minio.Core
	client *minio.Client // core.Client: the high-level API
	bucket string
	region string
}

var _ objects.Store = (*Store)(nil)

// New connects to the endpoint and creates the bucket if it does not exist.
func New(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.Endpoint == "" {
		return nil, errors.New("s3 store: endpoint is required")
	}
	if cfg.Bucket == "" {
		return nil, errors.New("s3 store: bucket is required")
	}
	opts := &minio.Options{
		Creds:  credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure: cfg.UseSSL,
		Region: cfg.Region,
		// minio-go retries a failed request 10 times (~10 s of backoff), so
		// a request that needs storage while it is down would hang that
		// long, twice with the clean-up; a few retries ride out a blip.
		MaxRetries: MaxRetries,
	}
	if cfg.PathStyle {
		opts.BucketLookup = minio.BucketLookupPath
	}
	core, err := minio.NewCore(cfg.Endpoint, opts)
	if err != nil {
		return nil, fmt.Errorf("s3 store: %w", err)
	}
	s := &Store{core: core, client: core.Client, bucket: cfg.Bucket, region: cfg.Region}
	if err := s.ensureBucket(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// ensureBucket creates the bucket unless it exists, tolerating a concurrent creator.
func (s *Store) ensureBucket(ctx context.Context) error {
	ok, err := s.client.BucketExists(ctx, s.bucket)
	if err != nil {
		return fmt.Errorf("s3 store: checking bucket %q: %w", s.bucket, err)
	}
	if ok {
		return nil
	}
	err = s.client.MakeBucket(ctx, s.bucket, minio.MakeBucketOptions{Region: s.region})
	if err == nil {
		return nil
	}
	switch minio.ToErrorResponse(err).Code {
	case minio.BucketAlreadyOwnedByYou:
		return nil
	case minio.BucketAlreadyExists:
		// Either another process just made it for us, or someone else owns it.
		if ok, _ := s.client.BucketExists(ctx, s.bucket); ok {
			return nil
		}
	}
	return fmt.Errorf("s3 store: creating bucket %q: %w", s.bucket, err)
}

// Core returns the low-level S3 client, for multipart uploads driven by UCC.
func (s *Store) Core() *minio.Core { return s.core }

// Bucket returns the name of the bucket the store uses.
func (s *Store) Bucket() string { return s.bucket }

// Put streams r into key. A known size must match the stream exactly; an
// unknown size (-1) is uploaded in PartSize parts.
func (s *Store) Put(ctx context.Context, key string, r io.Reader, size int64, opts objects.PutOptions) (objects.Info, error) {
	if err := objects.ValidateKey(key); err != nil {
		return objects.Info{}, err
	}
	popts := minio.PutObjectOptions{ContentType: opts.ContentType, PartSize: partSize(size)}
	var exact *exactReader
	if size >= 0 {
		exact = &exactReader{r: r, left: size}
		if size == 0 {
			// minio-go may never read an empty body; check it here.
			if err := exact.probeEOF(); err != io.EOF {
				return objects.Info{}, fmt.Errorf("s3 store: put %q: %w", key, err)
			}
		}
		r = exact
	}
	up, err := s.client.PutObject(ctx, s.bucket, key, r, size, popts)
	if exact != nil {
		if merr := exact.mismatch(); merr != nil {
			// minio-go may wrap or replace our error; report the real cause.
			return objects.Info{}, fmt.Errorf("s3 store: put %q: %w", key, merr)
		}
	}
	if err != nil {
		return objects.Info{}, fmt.Errorf("s3 store: put %q: %w", key, err)
	}
	if size >= 0 && up.Size != size {
		return objects.Info{}, fmt.Errorf("s3 store: put %q: stored %d bytes: %w", key, up.Size, objects.ErrSizeMismatch)
	}
	ct := opts.ContentType
	if ct == "" {
		ct = objects.DefaultContentType
	}
	mod := up.LastModified
	if mod.IsZero() {
		mod = time.Now().UTC()
	}
	return objects.Info{Key: key, Size: up.Size, ContentType: ct, ETag: up.ETag, ModTime: mod}, nil
}

// partSize picks the multipart part size: PartSize, or larger when a known
// size would otherwise need more than maxParts parts.
func partSize(size int64) uint64 {
	ps := int64(PartSize)
	if size > ps*maxParts {
		const mib = 1 << 20
		ps = (size/maxParts + mib) / mib * mib
	}
	return uint64(ps)
}

// Get opens key at offset; length < 0 reads to the end. It makes one request
// and takes the object's total size from the Content-Range header.
func (s *Store) Get(ctx context.Context, key string, offset, length int64) (io.ReadCloser, objects.Info, error) {
	if err := objects.ValidateKey(key); err != nil {
		return nil, objects.Info{}, err
	}
	if offset < 0 {
		return nil, objects.Info{}, fmt.Errorf("s3 store: get %q at %d: %w", key, offset, objects.ErrInvalidRange)
	}
	if length == 0 {
		return s.emptyAt(ctx, key, offset)
	}
	var gopts minio.GetObjectOptions
	ranged := offset > 0 || length > 0
	if ranged {
		end := int64(0) // "bytes=offset-"
		if length > 0 {
			end = offset + length - 1
		}
		if err := gopts.SetRange(offset, end); err != nil {
			return nil, objects.Info{}, fmt.Errorf("s3 store: get %q: %w", key, err)
		}
	}
	body, oi, h, err := s.core.GetObject(ctx, s.bucket, key, gopts)
	if err != nil {
		if minio.ToErrorResponse(err).Code == minio.InvalidRange {
			// Past the end, or an empty object: S3 cannot say which.
			return s.emptyAt(ctx, key, offset)
		}
		return nil, objects.Info{}, mapErr("get", key, err)
	}
	info := toInfo(key, oi)
	if ranged {
		total, ok := totalSize(h.Get("Content-Range"))
		if !ok {
			body.Close()
			return nil, objects.Info{}, fmt.Errorf("s3 store: get %q: bad Content-Range %q", key, h.Get("Content-Range"))
		}
		info.Size = total
	}
	return body, info, nil
}

// emptyAt returns an empty body when offset is at most the object's size and
// objects.ErrInvalidRange when it is past the end.
func (s *Store) emptyAt(ctx context.Context, key string, offset int64) (io.ReadCloser, objects.Info, error) {
	info, err := s.Stat(ctx, key)
	if err != nil {
		return nil, objects.Info{}, err
	}
	if offset > info.Size {
		return nil, objects.Info{}, fmt.Errorf("s3 store: get %q at %d of %d bytes: %w", key, offset, info.Size, objects.ErrInvalidRange)
	}
	return io.NopCloser(strings.NewReader("")), info, nil
}

// totalSize parses the complete length out of "bytes first-last/total".
func totalSize(contentRange string) (int64, bool) {
	i := strings.LastIndexByte(contentRange, '/')
	if i < 0 || !strings.HasPrefix(contentRange, "bytes ") {
		return 0, false
	}
	n, err := strconv.ParseInt(contentRange[i+1:], 10, 64)
	return n, err == nil && n >= 0
}

// Stat describes key without reading it.
func (s *Store) Stat(ctx context.Context, key string) (objects.Info, error) {
	if err := objects.ValidateKey(key); err != nil {
		return objects.Info{}, err
	}
	oi, err := s.client.StatObject(ctx, s.bucket, key, minio.StatObjectOptions{})
	if err != nil {
		return objects.Info{}, mapErr("stat", key, err)
	}
	return toInfo(key, oi), nil
}

// Delete removes key; a missing key is not an error.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := objects.ValidateKey(key); err != nil {
		return err
	}
	err := s.client.RemoveObject(ctx, s.bucket, key, minio.RemoveObjectOptions{})
	if err != nil && !isNotFound(err) {
		return fmt.Errorf("s3 store: delete %q: %w", key, err)
	}
	return nil
}

// List returns every object whose key starts with prefix, in key order.
// Info.ContentType is left empty (S3 listings do not carry it); use Stat.
func (s *Store) List(ctx context.Context, prefix string) ([]objects.Info, error) {
	if err := objects.ValidatePrefix(prefix); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var out []objects.Info
	var firstErr error
	// Drain the channel even after an error so minio-go's goroutine exits.
	for oi := range s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if firstErr != nil {
			continue
		}
		if oi.Err != nil {
			firstErr = oi.Err
			cancel()
			continue
		}
		out = append(out, objects.Info{Key: oi.Key, Size: oi.Size, ETag: oi.ETag, ModTime: oi.LastModified})
	}
	if firstErr != nil {
		return nil, fmt.Errorf("s3 store: list %q: %w", prefix, firstErr)
	}
	slices.SortFunc(out, func(a, b objects.Info) int { return strings.Compare(a.Key, b.Key) })
	return out, nil
}

// PresignGet returns a URL that allows a GET (with Range) of key until expiry.
func (s *Store) PresignGet(ctx context.Context, key string, expiry time.Duration) (string, error) {
	if err := objects.ValidateKey(key); err != nil {
		return "", err
	}
	u, err := s.client.PresignedGetObject(ctx, s.bucket, key, expiry, nil)
	if err != nil {
		return "", fmt.Errorf("s3 store: presign %q: %w", key, err)
	}
	return u.String(), nil
}

// Ping checks that the endpoint answers and the bucket exists.
func (s *Store) Ping(ctx context.Context) error {
	ok, err := s.client.BucketExists(ctx, s.bucket)
	if err != nil {
		return fmt.Errorf("s3 store: ping: %w", err)
	}
	if !ok {
		return fmt.Errorf("s3 store: ping: bucket %q does not exist", s.bucket)
	}
	return nil
}

// toInfo converts minio-go's ObjectInfo.
func toInfo(key string, oi minio.ObjectInfo) objects.Info {
	ct := oi.ContentType
	if ct == "" {
		ct = objects.DefaultContentType
	}
	return objects.Info{Key: key, Size: oi.Size, ContentType: ct, ETag: oi.ETag, ModTime: oi.LastModified}
}

// isNotFound reports whether err is S3's answer for a missing key.
func isNotFound(err error) bool {
	resp := minio.ToErrorResponse(err)
	switch resp.Code {
	case minio.NoSuchKey, "NotFound":
		return true
	}
	return resp.StatusCode == http.StatusNotFound && resp.Code != minio.NoSuchBucket
}

// mapErr wraps err, turning a missing key into objects.ErrNotFound.
func mapErr(op, key string, err error) error {
	if isNotFound(err) {
		return fmt.Errorf("s3 store: %s %q: %w", op, key, objects.ErrNotFound)
	}
	return fmt.Errorf("s3 store: %s %q: %w", op, key, err)
}

// exactReader fails a stream that is shorter or longer than the declared size,
// so a wrong Content-Length never stores a truncated or cut-off object.
// The HTTP transport may read the body on its own goroutine, so the
// mismatch is guarded for the caller that checks it afterwards.
type exactReader struct {
	r    io.Reader
	left int64

	mu  sync.Mutex
	err error // the mismatch, once seen
}

// mismatch returns the size mismatch seen so far, if any.
func (e *exactReader) mismatch() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.err
}

// fail records a size mismatch and returns it.
func (e *exactReader) fail(format string, args ...any) error {
	err := fmt.Errorf("%w: "+format, append([]any{objects.ErrSizeMismatch}, args...)...)
	e.mu.Lock()
	e.err = err
	e.mu.Unlock()
	return err
}

// Read passes bytes through, checking the total against the declared size.
func (e *exactReader) Read(p []byte) (int, error) {
	if err := e.mismatch(); err != nil {
		return 0, err
	}
	if e.left == 0 {
		return 0, e.probeEOF()
	}
	if int64(len(p)) > e.left {
		p = p[:e.left]
	}
	n, err := e.r.Read(p)
	e.left -= int64(n)
	switch {
	case err == io.EOF && e.left > 0:
		return 0, e.fail("stream ended %d bytes early", e.left)
	case err != nil && err != io.EOF:
		return n, err
	case e.left == 0:
		// Check for extra bytes now, before the uploader commits the last part.
		if err := e.probeEOF(); err != io.EOF {
			return 0, err
		}
		return n, io.EOF
	}
	return n, nil
}

// probeEOF reads one more byte: io.EOF means the stream had exactly the declared size.
func (e *exactReader) probeEOF() error {
	var b [1]byte
	for {
		n, err := e.r.Read(b[:])
		if n > 0 {
			return e.fail("stream is longer than declared")
		}
		if err == io.EOF {
			return io.EOF
		}
		if err != nil {
			return err
		}
	}
}
