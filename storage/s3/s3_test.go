package s3

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/ucc-video/ucc/internal/objects"
	"github.com/ucc-video/ucc/internal/testenv"
	"github.com/ucc-video/ucc/storage/objectstest"
)

// newStore returns a store on a fresh random bucket that is emptied and
// removed when the test ends.
func newStore(t *testing.T) *Store {
	t.Helper()
	srv := testenv.S3Server(t)
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	bucket := "ucc-test-" + hex.EncodeToString(b[:])
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := New(ctx, Config{
		Endpoint:  srv.Endpoint,
		Region:    srv.Region,
		Bucket:    bucket,
		AccessKey: srv.AccessKey,
		SecretKey: srv.SecretKey,
		PathStyle: true,
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { removeBucket(t, s) })
	return s
}

// removeBucket deletes every object in the store's bucket, then the bucket.
func removeBucket(t *testing.T, s *Store) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := s.Core().Client
	for oi := range c.ListObjects(ctx, s.Bucket(), minio.ListObjectsOptions{Recursive: true}) {
		if oi.Err != nil {
			t.Errorf("cleanup: listing %s: %v", s.Bucket(), oi.Err)
			continue
		}
		if err := c.RemoveObject(ctx, s.Bucket(), oi.Key, minio.RemoveObjectOptions{}); err != nil {
			t.Errorf("cleanup: removing %s/%s: %v", s.Bucket(), oi.Key, err)
		}
	}
	// ForceDelete also drops incomplete multipart uploads (a MinIO extension).
	if err := c.RemoveBucketWithOptions(ctx, s.Bucket(), minio.RemoveBucketOptions{ForceDelete: true}); err != nil {
		t.Errorf("cleanup: removing bucket %s: %v", s.Bucket(), err)
	}
}

func TestContract(t *testing.T) {
	objectstest.Run(t, func(t *testing.T) objects.Store { return newStore(t) })
}

func TestNewExistingBucket(t *testing.T) {
	s := newStore(t)
	srv := testenv.S3Server(t)
	again, err := New(context.Background(), Config{
		Endpoint: srv.Endpoint, Region: srv.Region, Bucket: s.Bucket(),
		AccessKey: srv.AccessKey, SecretKey: srv.SecretKey, PathStyle: true,
	})
	if err != nil {
		t.Fatalf("New on an existing bucket: %v", err)
	}
	if err := again.Ping(context.Background()); err != nil {
		t.Errorf("Ping: %v", err)
	}
}

func TestNewBadCredentials(t *testing.T) {
	srv := testenv.S3Server(t)
	_, err := New(context.Background(), Config{
		Endpoint: srv.Endpoint, Region: srv.Region, Bucket: "ucc-test-badcreds",
		AccessKey: "nobody", SecretKey: "wrong-secret", PathStyle: true,
	})
	if err == nil {
		t.Fatal("New with bad credentials succeeded")
	}
}

func TestPingMissingBucket(t *testing.T) {
	s := newStore(t)
	missing := *s
	missing.bucket = s.bucket + "-missing"
	if err := missing.Ping(context.Background()); err == nil {
		t.Error("Ping succeeded for a missing bucket")
	}
}

func TestPartSize(t *testing.T) {
	for _, size := range []int64{-1, 0, 1, PartSize, 160 << 30, 200 << 30, 5 << 40} {
		ps := partSize(size)
		if ps < PartSize || ps%(1<<20) != 0 {
			t.Errorf("partSize(%d) = %d, want a whole number of MiB >= %d", size, ps, PartSize)
		}
		if size > 0 && (size+int64(ps)-1)/int64(ps) > maxParts {
			t.Errorf("partSize(%d) = %d needs more than %d parts", size, ps, maxParts)
		}
	}
}

func TestTotalSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"bytes 0-9/100", 100, true},
		{"bytes 90-99/100", 100, true},
		{"bytes 0-0/1", 1, true},
		{"bytes */100", 100, true},
		{"bytes 0-9/*", 0, false},
		{"", 0, false},
		{"0-9/100", 0, false},
	}
	for _, tt := range tests {
		got, ok := totalSize(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("totalSize(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestExactReader(t *testing.T) {
	tests := []struct {
		body string
		size int64
		ok   bool
	}{
		{"hello", 5, true},
		{"hello", 4, false},
		{"hello", 6, false},
		{"", 0, true},
	}
	for _, tt := range tests {
		e := &exactReader{r: strings.NewReader(tt.body), left: tt.size}
		got, err := io.ReadAll(e)
		if tt.ok && (err != nil || string(got) != tt.body) {
			t.Errorf("exactReader(%q, %d) = %q, %v; want the body", tt.body, tt.size, got, err)
		}
		if !tt.ok && e.mismatch() == nil {
			t.Errorf("exactReader(%q, %d) = %v, want a size mismatch", tt.body, tt.size, err)
		}
	}
}

// TestAbortIncomplete: the incomplete multipart uploads under a prefix that
// are older than the cut-off are aborted; newer ones and other prefixes stay.
func TestAbortIncomplete(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	for _, key := range []string{"videos/aaaaaaaaaaa/original", "videos/bbbbbbbbbbb/original", "originals/keep"} {
		if _, err := s.Core().NewMultipartUpload(ctx, s.Bucket(), key, minio.PutObjectOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	open := func(prefix string) int {
		t.Helper()
		keys, err := s.Multipart().OpenUploads(ctx, prefix)
		if err != nil {
			t.Fatal(err)
		}
		return len(keys)
	}
	if n, err := s.AbortIncomplete(ctx, "videos/", time.Now().Add(-time.Hour)); err != nil || n != 0 {
		t.Fatalf("AbortIncomplete of uploads older than an hour = %d, %v; want 0", n, err)
	}
	if n, err := s.AbortIncomplete(ctx, "videos/", time.Now().Add(time.Minute)); err != nil || n != 2 {
		t.Fatalf("AbortIncomplete = %d, %v; want 2", n, err)
	}
	if got := open(""); got != 1 {
		t.Fatalf("%d incomplete uploads left, want only originals/keep", got)
	}
	if n, err := s.AbortIncomplete(ctx, "videos/", time.Now().Add(time.Minute)); err != nil || n != 0 {
		t.Fatalf("second AbortIncomplete = %d, %v; want 0", n, err)
	}
}
