// Package fs is the local-directory object store: the embedded default for
// `make run` and single-machine installs.
//
// Layout under the root directory:
//
//	data/<key>   object bytes (served by the web layer through Path)
//	meta/<key>   JSON sidecar with the content type
//	tmp/         in-flight uploads, renamed into data/ when complete
//
// Keeping the three trees apart means no key can collide with a sidecar or
// a temporary file, and List only ever walks data/.
package fs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ucc-video/ucc/internal/objects"
)

// staleTempAge is how old a leftover temporary file must be before New removes it.
const staleTempAge = 24 * time.Hour

// Store keeps objects as files under a root directory.
type Store struct {
	root string // absolute, cleaned
	data string
	meta string
	tmp  string
}

var _ objects.Store = (*Store)(nil)

// meta is the JSON sidecar stored next to (not among) the object bytes.
type meta struct {
	ContentType string `json:"content_type"`
}

// New opens (creating if needed) a store rooted at dir.
func New(dir string) (*Store, error) {
	if dir == "" {
		return nil, errors.New("fs store: empty directory")
	}
	root, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("fs store: %w", err)
	}
	s := &Store{
		root: root,
		data: filepath.Join(root, "data"),
		meta: filepath.Join(root, "meta"),
		tmp:  filepath.Join(root, "tmp"),
	}
	for _, d := range []string{s.data, s.meta, s.tmp} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("fs store: %w", err)
		}
	}
	s.removeStaleTemps(time.Now())
	return s, nil
}

// removeStaleTemps deletes temporary files left behind by a crash.
func (s *Store) removeStaleTemps(now time.Time) {
	entries, err := os.ReadDir(s.tmp)
	if err != nil {
		return
	}
	for _, e := range entries {
		info, err := e.Info()
		if err == nil && info.Mode().IsRegular() && now.Sub(info.ModTime()) > staleTempAge {
			_ = os.Remove(filepath.Join(s.tmp, e.Name()))
		}
	}
}

// under joins key onto base and checks that the result stays inside base.
func under(base, key string) (string, error) {
	if err := objects.ValidateKey(key); err != nil {
		return "", err
	}
	p := filepath.Join(base, filepath.FromSlash(key))
	if !strings.HasPrefix(p, base+string(filepath.Separator)) {
		return "", fmt.Errorf("%w: %q leaves the store", objects.ErrInvalidKey, key)
	}
	return p, nil
}

// Path returns the file that holds key's bytes, for serving with http.ServeContent.
// It does not check that the file exists.
func (s *Store) Path(key string) (string, error) {
	return under(s.data, key)
}

// paths returns the data and sidecar paths of key.
func (s *Store) paths(key string) (data, side string, err error) {
	if data, err = under(s.data, key); err != nil {
		return "", "", err
	}
	if side, err = under(s.meta, key); err != nil {
		return "", "", err
	}
	return data, side, nil
}

// Put streams r into a temporary file and renames it into place, so a reader
// never sees a partial object.
func (s *Store) Put(ctx context.Context, key string, r io.Reader, size int64, opts objects.PutOptions) (objects.Info, error) {
	dataPath, sidePath, err := s.paths(key)
	if err != nil {
		return objects.Info{}, err
	}
	if err := ctx.Err(); err != nil {
		return objects.Info{}, err
	}

	dataTmp, err := s.writeTemp(ctx, r, size)
	if err != nil {
		return objects.Info{}, fmt.Errorf("fs store: put %q: %w", key, err)
	}
	defer os.Remove(dataTmp) // no-op once renamed

	side, err := json.Marshal(meta{ContentType: opts.ContentType})
	if err != nil {
		return objects.Info{}, fmt.Errorf("fs store: put %q: %w", key, err)
	}
	sideTmp, err := s.writeTemp(ctx, strings.NewReader(string(side)), int64(len(side)))
	if err != nil {
		return objects.Info{}, fmt.Errorf("fs store: put %q: %w", key, err)
	}
	defer os.Remove(sideTmp)

	// The sidecar goes first: a reader that sees the new bytes also sees
	// their content type.
	if err := renameInto(sideTmp, sidePath); err != nil {
		return objects.Info{}, fmt.Errorf("fs store: put %q: %w", key, err)
	}
	if err := renameInto(dataTmp, dataPath); err != nil {
		return objects.Info{}, fmt.Errorf("fs store: put %q: %w", key, err)
	}
	syncDir(filepath.Dir(dataPath))

	fi, err := os.Stat(dataPath)
	if err != nil {
		return objects.Info{}, fmt.Errorf("fs store: put %q: %w", key, err)
	}
	ct := opts.ContentType
	if ct == "" {
		ct = objects.DefaultContentType
	}
	return info(key, fi, ct), nil
}

// writeTemp copies r into a new synced file in tmp/ and returns its path. When
// size >= 0 the stream must be exactly size bytes long.
func (s *Store) writeTemp(ctx context.Context, r io.Reader, size int64) (path string, err error) {
	f, err := os.CreateTemp(s.tmp, "put-*")
	if err != nil {
		return "", err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()

	src := io.Reader(ctxReader{ctx: ctx, r: r})
	if size >= 0 {
		// One extra byte tells a too-long stream from an exact one.
		src = io.LimitReader(src, size+1)
	}
	n, err := io.Copy(f, src)
	if err != nil {
		return "", err
	}
	if size >= 0 && n != size {
		if n > size {
			return "", fmt.Errorf("%w: more than %d bytes", objects.ErrSizeMismatch, size)
		}
		return "", fmt.Errorf("%w: got %d bytes, want %d", objects.ErrSizeMismatch, n, size)
	}
	if err := f.Sync(); err != nil {
		return "", err
	}
	if err := f.Close(); err != nil {
		return "", err
	}
	return f.Name(), nil
}

// renameInto moves tmp to dst, creating dst's parent directories. It retries
// when a concurrent Delete removes an emptied parent between the two steps.
func renameInto(tmp, dst string) error {
	var err error
	for range 5 {
		if err = os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		if err = os.Rename(tmp, dst); err == nil || !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return err
}

// syncDir flushes a directory entry to disk, best effort.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
}

// Get opens key at offset; length < 0 reads to the end.
func (s *Store) Get(ctx context.Context, key string, offset, length int64) (io.ReadCloser, objects.Info, error) {
	dataPath, err := s.Path(key)
	if err != nil {
		return nil, objects.Info{}, err
	}
	if err := ctx.Err(); err != nil {
		return nil, objects.Info{}, err
	}
	f, err := os.Open(dataPath)
	if err != nil {
		return nil, objects.Info{}, s.mapErr(key, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, objects.Info{}, fmt.Errorf("fs store: get %q: %w", key, err)
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, objects.Info{}, fmt.Errorf("fs store: get %q: %w", key, objects.ErrNotFound)
	}
	if offset < 0 || offset > fi.Size() {
		f.Close()
		return nil, objects.Info{}, fmt.Errorf("fs store: get %q at %d of %d bytes: %w", key, offset, fi.Size(), objects.ErrInvalidRange)
	}
	n := fi.Size() - offset
	if length >= 0 && length < n {
		n = length
	}
	body := readCloser{Reader: io.NewSectionReader(f, offset, n), Closer: f}
	return body, info(key, fi, s.contentType(key)), nil
}

// Stat describes key without reading it.
func (s *Store) Stat(ctx context.Context, key string) (objects.Info, error) {
	dataPath, err := s.Path(key)
	if err != nil {
		return objects.Info{}, err
	}
	if err := ctx.Err(); err != nil {
		return objects.Info{}, err
	}
	fi, err := os.Stat(dataPath)
	if err != nil {
		return objects.Info{}, s.mapErr(key, err)
	}
	if !fi.Mode().IsRegular() {
		return objects.Info{}, fmt.Errorf("fs store: stat %q: %w", key, objects.ErrNotFound)
	}
	return info(key, fi, s.contentType(key)), nil
}

// Delete removes key and its sidecar, then any parent directories it emptied.
func (s *Store) Delete(ctx context.Context, key string) error {
	dataPath, sidePath, err := s.paths(key)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	fi, err := os.Lstat(dataPath)
	switch {
	case errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR):
		// Missing: still clear a stray sidecar below.
	case err != nil:
		return fmt.Errorf("fs store: delete %q: %w", key, err)
	case fi.IsDir():
		return nil // a "directory" is not an object
	default:
		if err := os.Remove(dataPath); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("fs store: delete %q: %w", key, err)
		}
	}
	if err := os.Remove(sidePath); err != nil && !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) {
		return fmt.Errorf("fs store: delete %q sidecar: %w", key, err)
	}
	removeEmptyParents(s.data, dataPath)
	removeEmptyParents(s.meta, sidePath)
	return nil
}

// removeEmptyParents removes the now-empty directories between p and base.
func removeEmptyParents(base, p string) {
	for dir := filepath.Dir(p); dir != base && strings.HasPrefix(dir, base+string(filepath.Separator)); dir = filepath.Dir(dir) {
		if os.Remove(dir) != nil {
			return // not empty (or already gone): stop
		}
	}
}

// List returns every object whose key starts with prefix, in key order.
// Info.ContentType is left empty, as with the s3 driver; use Stat for it.
func (s *Store) List(ctx context.Context, prefix string) ([]objects.Info, error) {
	if err := objects.ValidatePrefix(prefix); err != nil {
		return nil, err
	}
	// Walk only the deepest directory the prefix names in full.
	start := s.data
	if i := strings.LastIndexByte(prefix, '/'); i >= 0 {
		start = filepath.Join(s.data, filepath.FromSlash(prefix[:i]))
	}
	var out []objects.Info
	err := filepath.WalkDir(start, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == start && (errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)) {
				return fs.SkipAll
			}
			if errors.Is(err, fs.ErrNotExist) {
				return nil // removed while walking
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(s.data, p)
		if err != nil {
			return err
		}
		key := filepath.ToSlash(rel)
		if !strings.HasPrefix(key, prefix) {
			return nil
		}
		fi, err := d.Info()
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		out = append(out, info(key, fi, ""))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("fs store: list %q: %w", prefix, err)
	}
	slices.SortFunc(out, func(a, b objects.Info) int { return strings.Compare(a.Key, b.Key) })
	return out, nil
}

// PresignGet is not supported by the fs driver; the web layer serves Path instead.
func (s *Store) PresignGet(ctx context.Context, key string, expiry time.Duration) (string, error) {
	if err := objects.ValidateKey(key); err != nil {
		return "", err
	}
	return "", objects.ErrNotSupported
}

// Ping checks that the store's directories are still there.
func (s *Store) Ping(ctx context.Context) error {
	for _, d := range []string{s.data, s.meta, s.tmp} {
		fi, err := os.Stat(d)
		if err != nil {
			return fmt.Errorf("fs store: %w", err)
		}
		if !fi.IsDir() {
			return fmt.Errorf("fs store: %s is not a directory", d)
		}
	}
	return nil
}

// contentType reads key's sidecar, defaulting to objects.DefaultContentType.
func (s *Store) contentType(key string) string {
	sidePath, err := under(s.meta, key)
	if err != nil {
		return objects.DefaultContentType
	}
	b, err := os.ReadFile(sidePath)
	if err != nil {
		return objects.DefaultContentType
	}
	var m meta
	if json.Unmarshal(b, &m) != nil || m.ContentType == "" {
		return objects.DefaultContentType
	}
	return m.ContentType
}

// mapErr turns a missing file (or a file where a directory was expected) into objects.ErrNotFound.
func (s *Store) mapErr(key string, err error) error {
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return fmt.Errorf("fs store: %q: %w", key, objects.ErrNotFound)
	}
	return fmt.Errorf("fs store: %q: %w", key, err)
}

// info builds an objects.Info from a data file's FileInfo. The ETag is derived
// from size and modification time, which change with every Put.
func info(key string, fi fs.FileInfo, contentType string) objects.Info {
	return objects.Info{
		Key:         key,
		Size:        fi.Size(),
		ContentType: contentType,
		ETag:        strconv.FormatInt(fi.ModTime().UnixNano(), 16) + "-" + strconv.FormatInt(fi.Size(), 16),
		ModTime:     fi.ModTime(),
	}
}

// readCloser pairs a section of a file with the file's Close.
type readCloser struct {
	io.Reader
	io.Closer
}

// ctxReader stops a copy when its context is cancelled.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

// Read reads from the underlying reader unless the context is done.
func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
