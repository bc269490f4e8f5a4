package fs

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ucc-video/ucc/internal/objects"
	"github.com/ucc-video/ucc/storage/objectstest"
)

func newStore(t *testing.T) *Store {
	t.Helper()
	s, err := New(t.TempDir())
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

func TestContract(t *testing.T) {
	objectstest.Run(t, func(t *testing.T) objects.Store { return newStore(t) })
}

func TestPath(t *testing.T) {
	s := newStore(t)
	body := "hello"
	if _, err := s.Put(context.Background(), "videos/v1/original", strings.NewReader(body), int64(len(body)), objects.PutOptions{}); err != nil {
		t.Fatalf("Put: %v", err)
	}
	p, err := s.Path("videos/v1/original")
	if err != nil {
		t.Fatalf("Path: %v", err)
	}
	if !strings.HasPrefix(p, s.data+string(filepath.Separator)) {
		t.Errorf("Path = %q, want it under %q", p, s.data)
	}
	b, err := os.ReadFile(p)
	if err != nil || string(b) != body {
		t.Errorf("ReadFile(Path) = %q, %v; want %q", b, err, body)
	}
	for _, key := range []string{"../x", "/etc/passwd", "a/../../b", `..\x`, ""} {
		if _, err := s.Path(key); !errors.Is(err, objects.ErrInvalidKey) {
			t.Errorf("Path(%q) = %v, want ErrInvalidKey", key, err)
		}
	}
}

func TestNoLeftovers(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	if _, err := s.Put(ctx, "a/b/c", strings.NewReader("x"), 1, objects.PutOptions{ContentType: "text/plain"}); err != nil {
		t.Fatalf("Put: %v", err)
	}
	if _, err := s.Put(ctx, "a/b/d", strings.NewReader("short"), 99, objects.PutOptions{}); err == nil {
		t.Fatal("Put with a short stream succeeded")
	}
	if tmps, _ := os.ReadDir(s.tmp); len(tmps) != 0 {
		t.Errorf("tmp/ holds %d files after Put, want 0", len(tmps))
	}
	if err := s.Delete(ctx, "a/b/c"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	for _, d := range []string{s.data, s.meta} {
		if entries, _ := os.ReadDir(d); len(entries) != 0 {
			t.Errorf("%s holds %d entries after deleting the only object, want 0", d, len(entries))
		}
	}
}

func TestRemovesStaleTemps(t *testing.T) {
	dir := t.TempDir()
	s, err := New(dir)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	stale := filepath.Join(s.tmp, "put-stale")
	fresh := filepath.Join(s.tmp, "put-fresh")
	for _, p := range []string{stale, fresh} {
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-2 * staleTempAge)
	if err := os.Chtimes(stale, old, old); err != nil {
		t.Fatal(err)
	}
	if _, err := New(dir); err != nil {
		t.Fatalf("New: %v", err)
	}
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stale temp file survived New: %v", err)
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Errorf("fresh temp file removed by New: %v", err)
	}
}

func TestPingMissingDir(t *testing.T) {
	s := newStore(t)
	if err := os.RemoveAll(s.root); err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(context.Background()); err == nil {
		t.Error("Ping succeeded after the store directory was removed")
	}
}
