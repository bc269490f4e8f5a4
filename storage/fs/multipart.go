package fs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"

	"github.com/ucc-video/ucc/internal/objects"
	"github.com/ucc-video/ucc/internal/uploads"
)

// Multipart implements resumable-upload parts for the fs store: each part is
// a file under <root>/multipart/<upload id>/, written through tmp/ and
// renamed into place, and Complete concatenates them into the object.
type Multipart struct {
	s   *Store
	dir string
}

var _ uploads.Parts = (*Multipart)(nil)

// Multipart returns the store's multipart driver.
func (s *Store) Multipart() (*Multipart, error) {
	dir := filepath.Join(s.root, "multipart")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("fs store: %w", err)
	}
	return &Multipart{s: s, dir: dir}, nil
}

// uploadDir returns the directory of upload id, refusing ids that are not ours.
func (m *Multipart) uploadDir(id string) (string, error) {
	if len(id) != 32 {
		return "", fmt.Errorf("fs store: bad multipart upload id %q", id)
	}
	if _, err := hex.DecodeString(id); err != nil {
		return "", fmt.Errorf("fs store: bad multipart upload id %q", id)
	}
	return filepath.Join(m.dir, id), nil
}

func partName(n int) string { return fmt.Sprintf("%05d", n) }

// Begin starts an upload and returns its id.
func (m *Multipart) Begin(ctx context.Context, key string) (string, error) {
	if err := objects.ValidateKey(key); err != nil {
		return "", err
	}
	var b [16]byte
	_, _ = rand.Read(b[:])
	id := hex.EncodeToString(b[:])
	if err := os.Mkdir(filepath.Join(m.dir, id), 0o755); err != nil {
		return "", fmt.Errorf("fs store: begin multipart %q: %w", key, err)
	}
	return id, nil
}

// PutPart writes exactly size bytes of r as part number.
func (m *Multipart) PutPart(ctx context.Context, key, uploadID string, number int, r io.Reader, size int64) (string, error) {
	dir, err := m.uploadDir(uploadID)
	if err != nil {
		return "", err
	}
	if number < 1 || number > uploads.MaxParts {
		return "", fmt.Errorf("fs store: part number %d out of range", number)
	}
	if _, err := os.Stat(dir); err != nil {
		return "", fmt.Errorf("fs store: multipart upload %s: %w", uploadID, objects.ErrNotFound)
	}
	tmp, err := m.s.writeTemp(ctx, r, size)
	if err != nil {
		return "", fmt.Errorf("fs store: part %d of %q: %w", number, key, err)
	}
	defer os.Remove(tmp)
	// Rename, not renameInto: an aborted upload's directory must not come back.
	if err := os.Rename(tmp, filepath.Join(dir, partName(number))); err != nil {
		return "", fmt.Errorf("fs store: part %d of %q: %w", number, key, err)
	}
	syncDir(dir)
	var e [8]byte
	_, _ = rand.Read(e[:])
	return strconv.FormatInt(size, 16) + "-" + hex.EncodeToString(e[:]), nil
}

// Complete concatenates parts, in order, into the object key, then removes them.
func (m *Multipart) Complete(ctx context.Context, key, uploadID string, parts []uploads.Part) error {
	dir, err := m.uploadDir(uploadID)
	if err != nil {
		return err
	}
	files := make([]*os.File, 0, len(parts))
	defer func() {
		for _, f := range files {
			f.Close()
		}
	}()
	readers := make([]io.Reader, 0, len(parts))
	var total int64
	for _, p := range parts {
		f, err := os.Open(filepath.Join(dir, partName(p.Number)))
		if err != nil {
			return fmt.Errorf("fs store: complete %q: part %d: %w", key, p.Number, err)
		}
		files = append(files, f)
		fi, err := f.Stat()
		if err != nil {
			return err
		}
		if fi.Size() != p.Size {
			return fmt.Errorf("fs store: complete %q: part %d has %d bytes, want %d", key, p.Number, fi.Size(), p.Size)
		}
		readers = append(readers, f)
		total += p.Size
	}
	if _, err := m.s.Put(ctx, key, io.MultiReader(readers...), total, objects.PutOptions{}); err != nil {
		return err
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("fs store: complete %q: removing parts: %w", key, err)
	}
	return nil
}

// Abort removes the upload's parts; an unknown upload is not an error.
func (m *Multipart) Abort(ctx context.Context, key, uploadID string) error {
	dir, err := m.uploadDir(uploadID)
	if err != nil {
		return err
	}
	if err := os.RemoveAll(dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("fs store: abort %q: %w", key, err)
	}
	return nil
}

// OpenUploads returns the ids of uploads that still hold parts (for checks and tests).
func (m *Multipart) OpenUploads() ([]string, error) {
	entries, err := os.ReadDir(m.dir)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, e := range entries {
		ids = append(ids, e.Name())
	}
	return ids, nil
}
