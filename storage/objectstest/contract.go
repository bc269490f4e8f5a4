// Package objectstest is the contract every objects.Store driver must pass.
// A driver's own test calls Run with a constructor for a fresh, empty store.
package objectstest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ucc-video/ucc/internal/objects"
)

const mib = 1 << 20

// Run runs the contract subtests. newStore must return a fresh, empty store
// for each call and arrange its own cleanup with t.Cleanup.
func Run(t *testing.T, newStore func(t *testing.T) objects.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s objects.Store)
	}{
		{"PutGetKnownSize", testPutGetKnownSize},
		{"PutUnknownSize", testPutUnknownSize},
		{"PutEmpty", testPutEmpty},
		{"Overwrite", testOverwrite},
		{"SizeMismatch", testSizeMismatch},
		{"GetRange", testGetRange},
		{"Stat", testStat},
		{"ContentType", testContentType},
		{"Delete", testDelete},
		{"List", testList},
		{"NotFound", testNotFound},
		{"InvalidKeys", testInvalidKeys},
		{"PresignGet", testPresignGet},
		{"Ping", testPing},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.fn(t, newStore(t))
		})
	}
}

// ctx returns a context that ends with the test.
func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	t.Cleanup(cancel)
	return c
}

// stream returns n deterministic pseudo-random bytes as a plain io.Reader
// (no Seek, ReadAt or WriteTo), like a request body.
func stream(seed uint64, n int64) io.Reader {
	var key [32]byte
	key[0] = byte(seed)
	key[1] = byte(seed >> 8)
	return struct{ io.Reader }{io.LimitReader(rand.NewChaCha8(key), n)}
}

// sum returns the SHA-256 of r's remaining bytes and how many there were.
func sum(t *testing.T, r io.Reader) ([32]byte, int64) {
	t.Helper()
	h := sha256.New()
	n, err := io.Copy(h, r)
	if err != nil {
		t.Fatalf("reading: %v", err)
	}
	return [32]byte(h.Sum(nil)), n
}

// put stores body under key or fails the test.
func put(t *testing.T, s objects.Store, key string, body []byte, contentType string) objects.Info {
	t.Helper()
	info, err := s.Put(ctx(t), key, bytes.NewReader(body), int64(len(body)), objects.PutOptions{ContentType: contentType})
	if err != nil {
		t.Fatalf("Put(%q): %v", key, err)
	}
	return info
}

// get reads key[offset:offset+length] or fails the test.
func get(t *testing.T, s objects.Store, key string, offset, length int64) ([]byte, objects.Info) {
	t.Helper()
	rc, info, err := s.Get(ctx(t), key, offset, length)
	if err != nil {
		t.Fatalf("Get(%q, %d, %d): %v", key, offset, length, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("Get(%q, %d, %d): reading: %v", key, offset, length, err)
	}
	return b, info
}

// mustNotExist fails the test unless Stat and Get of key report objects.ErrNotFound.
func mustNotExist(t *testing.T, s objects.Store, key string) {
	t.Helper()
	if _, err := s.Stat(ctx(t), key); !errors.Is(err, objects.ErrNotFound) {
		t.Errorf("Stat(%q) = %v, want ErrNotFound", key, err)
	}
	rc, _, err := s.Get(ctx(t), key, 0, -1)
	if err == nil {
		rc.Close()
	}
	if !errors.Is(err, objects.ErrNotFound) {
		t.Errorf("Get(%q) = %v, want ErrNotFound", key, err)
	}
}

// payload returns n printable, position-dependent bytes.
func payload(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = "0123456789abcdefghijklmnopqrstuvwxyz"[i%36]
	}
	return b
}

func testPutGetKnownSize(t *testing.T, s objects.Store) {
	body := payload(1000)
	info := put(t, s, "videos/abc/original", body, "video/mp4")
	if info.Key != "videos/abc/original" || info.Size != 1000 {
		t.Errorf("Put info = %+v, want key videos/abc/original, size 1000", info)
	}
	got, ginfo := get(t, s, "videos/abc/original", 0, -1)
	if !bytes.Equal(got, body) {
		t.Errorf("Get returned %d bytes that differ from the %d put", len(got), len(body))
	}
	if ginfo.Key != "videos/abc/original" || ginfo.Size != 1000 {
		t.Errorf("Get info = %+v, want key videos/abc/original, size 1000", ginfo)
	}
}

func testPutUnknownSize(t *testing.T, s objects.Store) {
	const n = 20*mib + 12345 // more than one 16 MiB multipart part
	info, err := s.Put(ctx(t), "videos/big/original", stream(1, n), -1, objects.PutOptions{ContentType: "video/mp4"})
	if err != nil {
		t.Fatalf("Put(size -1): %v", err)
	}
	if info.Size != n {
		t.Errorf("Put info.Size = %d, want %d", info.Size, n)
	}
	st, err := s.Stat(ctx(t), "videos/big/original")
	if err != nil {
		t.Fatalf("Stat: %v", err)
	}
	if st.Size != n {
		t.Errorf("Stat size = %d, want %d", st.Size, n)
	}
	rc, _, err := s.Get(ctx(t), "videos/big/original", 0, -1)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	defer rc.Close()
	gotSum, gotN := sum(t, rc)
	wantSum, _ := sum(t, stream(1, n))
	if gotN != n || gotSum != wantSum {
		t.Errorf("Get returned %d bytes (sha256 match %v), want %d identical bytes", gotN, gotSum == wantSum, n)
	}
}

func testPutEmpty(t *testing.T, s objects.Store) {
	for _, size := range []int64{0, -1} {
		key := fmt.Sprintf("empty/%d", size+1)
		info, err := s.Put(ctx(t), key, strings.NewReader(""), size, objects.PutOptions{})
		if err != nil {
			t.Fatalf("Put(%q, size %d): %v", key, size, err)
		}
		if info.Size != 0 {
			t.Errorf("Put(%q) size = %d, want 0", key, info.Size)
		}
		for _, length := range []int64{-1, 0, 10} {
			got, ginfo := get(t, s, key, 0, length)
			if len(got) != 0 || ginfo.Size != 0 {
				t.Errorf("Get(%q, 0, %d) = %d bytes, info size %d; want empty", key, length, len(got), ginfo.Size)
			}
		}
		rc, _, err := s.Get(ctx(t), key, 1, -1)
		if err == nil {
			rc.Close()
		}
		if !errors.Is(err, objects.ErrInvalidRange) {
			t.Errorf("Get(%q, 1, -1) of an empty object = %v, want ErrInvalidRange", key, err)
		}
	}
}

func testOverwrite(t *testing.T, s objects.Store) {
	put(t, s, "k", []byte("first version"), "text/plain")
	put(t, s, "k", []byte("second"), "application/json")
	got, info := get(t, s, "k", 0, -1)
	if string(got) != "second" || info.Size != 6 || info.ContentType != "application/json" {
		t.Errorf("after overwrite Get = %q, %+v; want \"second\", size 6, application/json", got, info)
	}
}

func testSizeMismatch(t *testing.T, s objects.Store) {
	tests := []struct {
		name     string
		declared int64
		actual   int64
	}{
		{"short", 100, 50},
		{"long", 50, 100},
		{"empty declared", 0, 10},
		{"short multipart", 20 * mib, 18 * mib},
		{"long multipart", 17 * mib, 17*mib + 1},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := fmt.Sprintf("mismatch/%d", i)
			_, err := s.Put(ctx(t), key, stream(uint64(i), tt.actual), tt.declared, objects.PutOptions{})
			if !errors.Is(err, objects.ErrSizeMismatch) {
				t.Errorf("Put(declared %d, actual %d) = %v, want ErrSizeMismatch", tt.declared, tt.actual, err)
			}
			mustNotExist(t, s, key)
			list, err := s.List(ctx(t), "mismatch/")
			if err != nil {
				t.Fatalf("List: %v", err)
			}
			if len(list) != 0 {
				t.Errorf("List after failed Put = %+v, want empty", list)
			}
		})
	}
	t.Run("keeps previous version", func(t *testing.T) {
		put(t, s, "kept", []byte("old bytes"), "text/plain")
		if _, err := s.Put(ctx(t), "kept", strings.NewReader("new"), 10, objects.PutOptions{}); !errors.Is(err, objects.ErrSizeMismatch) {
			t.Errorf("Put(short) = %v, want ErrSizeMismatch", err)
		}
		got, info := get(t, s, "kept", 0, -1)
		if string(got) != "old bytes" || info.ContentType != "text/plain" {
			t.Errorf("after failed overwrite Get = %q, %q; want the old object", got, info.ContentType)
		}
	})
}

func testGetRange(t *testing.T, s objects.Store) {
	body := payload(100)
	put(t, s, "r/obj", body, "text/plain")
	tests := []struct {
		name           string
		offset, length int64
		want           []byte
	}{
		{"whole", 0, -1, body},
		{"middle", 10, 20, body[10:30]},
		{"to end", 90, -1, body[90:]},
		{"length past end", 90, 50, body[90:]},
		{"first byte", 0, 1, body[:1]},
		{"last byte", 99, 1, body[99:]},
		{"zero length", 5, 0, []byte{}},
		{"offset at end", 100, -1, []byte{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, info := get(t, s, "r/obj", tt.offset, tt.length)
			if !bytes.Equal(got, tt.want) {
				t.Errorf("Get(%d, %d) = %q, want %q", tt.offset, tt.length, got, tt.want)
			}
			if info.Size != 100 || info.ContentType != "text/plain" {
				t.Errorf("Get(%d, %d) info = %+v, want whole-object size 100, text/plain", tt.offset, tt.length, info)
			}
		})
	}
	for _, off := range []int64{101, 1000, -1} {
		rc, _, err := s.Get(ctx(t), "r/obj", off, -1)
		if err == nil {
			rc.Close()
		}
		if !errors.Is(err, objects.ErrInvalidRange) {
			t.Errorf("Get(offset %d of 100) = %v, want ErrInvalidRange", off, err)
		}
	}
}

func testStat(t *testing.T, s objects.Store) {
	before := time.Now().Add(-time.Minute)
	pinfo := put(t, s, "s/obj", payload(42), "image/jpeg")
	info, err := s.Stat(ctx(t), "s/obj")
	if err != nil {
		t.Fatalf("Stat: %v", err)
	}
	if info.Key != "s/obj" || info.Size != 42 || info.ContentType != "image/jpeg" || info.ETag == "" {
		t.Errorf("Stat = %+v, want key s/obj, size 42, image/jpeg, an ETag", info)
	}
	if info.ModTime.Before(before) || info.ModTime.After(time.Now().Add(time.Minute)) {
		t.Errorf("Stat ModTime = %v, want about now", info.ModTime)
	}
	if pinfo.ETag != "" && pinfo.ETag != info.ETag {
		t.Errorf("Put ETag %q != Stat ETag %q", pinfo.ETag, info.ETag)
	}
	put(t, s, "s/obj", payload(43), "image/jpeg")
	info2, err := s.Stat(ctx(t), "s/obj")
	if err != nil {
		t.Fatalf("Stat: %v", err)
	}
	if info2.ETag == info.ETag {
		t.Errorf("ETag %q did not change when the object changed", info.ETag)
	}
}

func testContentType(t *testing.T, s objects.Store) {
	for key, ct := range map[string]string{
		"ct/mp4":  "video/mp4",
		"ct/vtt":  "text/vtt; charset=utf-8",
		"ct/none": "",
	} {
		put(t, s, key, []byte("x"), ct)
		want := ct
		if want == "" {
			want = objects.DefaultContentType
		}
		info, err := s.Stat(ctx(t), key)
		if err != nil {
			t.Fatalf("Stat(%q): %v", key, err)
		}
		if info.ContentType != want {
			t.Errorf("Stat(%q).ContentType = %q, want %q", key, info.ContentType, want)
		}
		_, ginfo := get(t, s, key, 0, -1)
		if ginfo.ContentType != want {
			t.Errorf("Get(%q) ContentType = %q, want %q", key, ginfo.ContentType, want)
		}
	}
}

func testDelete(t *testing.T, s objects.Store) {
	put(t, s, "d/a/b", []byte("bye"), "")
	put(t, s, "d/a/c", []byte("stay"), "")
	if err := s.Delete(ctx(t), "d/a/b"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	mustNotExist(t, s, "d/a/b")
	if got, _ := get(t, s, "d/a/c", 0, -1); string(got) != "stay" {
		t.Errorf("sibling after Delete = %q, want \"stay\"", got)
	}
	if err := s.Delete(ctx(t), "d/a/b"); err != nil {
		t.Errorf("Delete(already deleted) = %v, want nil", err)
	}
	if err := s.Delete(ctx(t), "never/existed"); err != nil {
		t.Errorf("Delete(missing) = %v, want nil", err)
	}
	// The key can be reused after a delete.
	put(t, s, "d/a/b", []byte("again"), "")
	if got, _ := get(t, s, "d/a/b", 0, -1); string(got) != "again" {
		t.Errorf("Get after re-Put = %q, want \"again\"", got)
	}
}

func testList(t *testing.T, s objects.Store) {
	keys := []string{"p/b/d", "p/a", "p2/x", "q/y", "p.txt", "p/b/c", "p/b/c2"}
	for i, k := range keys {
		put(t, s, k, payload(i+1), "text/plain")
	}
	sizes := map[string]int64{}
	for i, k := range keys {
		sizes[k] = int64(i + 1)
	}
	tests := []struct {
		prefix string
		want   []string
	}{
		{"p/", []string{"p/a", "p/b/c", "p/b/c2", "p/b/d"}},
		{"p/b/c", []string{"p/b/c", "p/b/c2"}},
		{"p", []string{"p.txt", "p/a", "p/b/c", "p/b/c2", "p/b/d", "p2/x"}},
		{"", []string{"p.txt", "p/a", "p/b/c", "p/b/c2", "p/b/d", "p2/x", "q/y"}},
		{"q/y", []string{"q/y"}},
		{"nothing/", nil},
		{"p/b/x/", nil},
	}
	for _, tt := range tests {
		list, err := s.List(ctx(t), tt.prefix)
		if err != nil {
			t.Fatalf("List(%q): %v", tt.prefix, err)
		}
		var got []string
		for _, info := range list {
			got = append(got, info.Key)
			if info.Size != sizes[info.Key] {
				t.Errorf("List(%q): %s size %d, want %d", tt.prefix, info.Key, info.Size, sizes[info.Key])
			}
			if info.ModTime.IsZero() {
				t.Errorf("List(%q): %s has no ModTime", tt.prefix, info.Key)
			}
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("List(%q) = %q, want %q", tt.prefix, got, tt.want)
		}
	}
	if _, err := s.List(ctx(t), "../"); !errors.Is(err, objects.ErrInvalidKey) {
		t.Errorf("List(\"../\") = %v, want ErrInvalidKey", err)
	}
}

func testNotFound(t *testing.T, s objects.Store) {
	mustNotExist(t, s, "missing")
	mustNotExist(t, s, "missing/deeper/key")
	put(t, s, "dir/file", []byte("x"), "")
	mustNotExist(t, s, "dir")        // a "directory" is not an object
	mustNotExist(t, s, "dir/file/x") // nor is a path below an object
}

func testInvalidKeys(t *testing.T, s objects.Store) {
	for _, key := range []string{"../x", "/abs", "", `a\b`, "a/../../etc/passwd", "a\x00b", "a//b", "a/", "\xff"} {
		if _, err := s.Put(ctx(t), key, strings.NewReader("x"), 1, objects.PutOptions{}); !errors.Is(err, objects.ErrInvalidKey) {
			t.Errorf("Put(%q) = %v, want ErrInvalidKey", key, err)
		}
		rc, _, err := s.Get(ctx(t), key, 0, -1)
		if err == nil {
			rc.Close()
		}
		if !errors.Is(err, objects.ErrInvalidKey) {
			t.Errorf("Get(%q) = %v, want ErrInvalidKey", key, err)
		}
		if _, err := s.Stat(ctx(t), key); !errors.Is(err, objects.ErrInvalidKey) {
			t.Errorf("Stat(%q) = %v, want ErrInvalidKey", key, err)
		}
		if err := s.Delete(ctx(t), key); !errors.Is(err, objects.ErrInvalidKey) {
			t.Errorf("Delete(%q) = %v, want ErrInvalidKey", key, err)
		}
		if _, err := s.PresignGet(ctx(t), key, time.Minute); !errors.Is(err, objects.ErrInvalidKey) {
			t.Errorf("PresignGet(%q) = %v, want ErrInvalidKey", key, err)
		}
	}
	list, err := s.List(ctx(t), "")
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if len(list) != 0 {
		t.Errorf("List after rejected Puts = %+v, want empty", list)
	}
}

func testPresignGet(t *testing.T, s objects.Store) {
	body := payload(100)
	put(t, s, "pre/obj", body, "video/mp4")
	u, err := s.PresignGet(ctx(t), "pre/obj", 5*time.Minute)
	if errors.Is(err, objects.ErrNotSupported) {
		t.Skip("driver does not presign")
	}
	if err != nil {
		t.Fatalf("PresignGet: %v", err)
	}
	req, err := http.NewRequestWithContext(ctx(t), http.MethodGet, u, nil)
	if err != nil {
		t.Fatalf("bad presigned URL %q: %v", u, err)
	}
	req.Header.Set("Range", "bytes=10-19")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET presigned URL: %v", err)
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading presigned response: %v", err)
	}
	if resp.StatusCode != http.StatusPartialContent {
		t.Fatalf("GET presigned URL with Range: status %d, want 206; body %q", resp.StatusCode, got)
	}
	if !bytes.Equal(got, body[10:20]) {
		t.Errorf("presigned range = %q, want %q", got, body[10:20])
	}
	if ct := resp.Header.Get("Content-Type"); ct != "video/mp4" {
		t.Errorf("presigned Content-Type = %q, want video/mp4", ct)
	}
}

func testPing(t *testing.T, s objects.Store) {
	if err := s.Ping(ctx(t)); err != nil {
		t.Errorf("Ping: %v", err)
	}
}
