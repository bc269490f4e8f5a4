package systemtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ucc-video/ucc/internal/testenv"
)

// streamedRequest starts method path with a body the test writes into
// through the returned pipe; the answer (or the error of a killed server)
// arrives on the channel.
func streamedRequest(c *testenv.Client, method, path string, size int64, hdr ...string) (*io.PipeWriter, <-chan error) {
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	req, _ := c.Request(method, path, io.Reader(pr), hdr...)
	req.ContentLength = size
	go func() {
		res, err := c.HTTP.Do(req)
		if err == nil {
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			err = &answeredError{status: res.StatusCode, body: string(b)}
		}
		pr.CloseWithError(err)
		done <- err
	}()
	return pw, done
}

var errKilled = errors.New("the server was killed")

// answeredError is a streamed request that got an answer although the test
// meant to kill the server before it could.
type answeredError struct {
	status int
	body   string
}

func (e *answeredError) Error() string { return "answered " + strconv.Itoa(e.status) + ": " + e.body }

// TestUploadsSurviveSIGKILL kills `ucc serve` (SIGKILL) in the middle of
// uploads, against real PostgreSQL, Redis and MinIO:
//
//   - a simple upload mid-file (its multipart upload to MinIO is open);
//   - a simple upload whose file is fully stored but whose form is not
//     finished (the object exists, the video row does not yet);
//   - a resumable (tus) upload mid-PATCH, after its first 8 MiB part was
//     recorded.
//
// After the restart the tus upload resumes from HEAD's offset and completes
// with identical bytes and becomes a ready video; the simple uploads left no
// video row, and after the orphan sweep the bucket holds nothing that no row
// references (no object, no incomplete multipart upload).
func TestUploadsSurviveSIGKILL(t *testing.T) {
	systemTest(t)
	big := testenv.ClipFile(t, bigClip)
	e := newSysEnv(t)
	ctx := context.Background()
	p := newUCC(t, e.serveEnv(t, e.Bucket.S3.Endpoint, nil))
	p.Start()
	creator := testenv.SignUp(t, p.Base, "up@example.com", "uploader")
	kills := 0
	// killAndRestart kills the server while what's request is under way,
	// checks that the request was cut off and starts the server again.
	killAndRestart := func(what string, pw *io.PipeWriter, done <-chan error) {
		t.Helper()
		p.Kill()
		kills++
		pw.CloseWithError(errKilled)
		if err := <-done; err == nil || strings.HasPrefix(err.Error(), "answered") {
			t.Fatalf("%s was not cut off by the kill: %v", what, err)
		}
		p.Start()
	}

	// 1. Simple upload, killed mid-file: 6 of its 20 MiB were taken in.
	junk := make([]byte, 20<<20)
	_, _ = rand.Read(junk)
	body, ctype := testenv.UploadForm("Killed mid-file", junk)
	pw, done := streamedRequest(creator, "POST", "/api/v1/videos", int64(len(body)), "Content-Type", ctype)
	if _, err := pw.Write(body[:6<<20]); err != nil {
		t.Fatalf("upload 1 failed before the kill: %v", err)
	}
	// Kill once storage holds the upload's multipart upload, not after a
	// fixed pause: on a loaded machine the server may not have begun it yet.
	testenv.WaitFor(t, 30*time.Second, "the simple upload's multipart upload in storage", func() bool {
		open, err := e.Bucket.Store.Multipart().OpenUploads(ctx, "")
		return err == nil && len(open) > 0
	})
	killAndRestart("upload 1", pw, done)

	// 2. Simple upload, killed after the file is stored but before the form ends.
	small := testenv.ClipFile(t, smallClip)
	clip, err := os.ReadFile(small)
	if err != nil {
		t.Fatal(err)
	}
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	_ = mw.WriteField("title", "Killed before the row")
	fw, _ := mw.CreateFormFile("file", "clip.mp4")
	_, _ = fw.Write(clip)
	_ = mw.WriteField("visibility", "public") // the part header ends the file part
	held := form.Len()
	_ = mw.Close()
	pw, done = streamedRequest(creator, "POST", "/api/v1/videos", int64(form.Len()), "Content-Type", mw.FormDataContentType())
	go func() { _, _ = pw.Write(form.Bytes()[:held]) }()
	testenv.WaitFor(t, 30*time.Second, "the stored original of the simple upload", func() bool {
		list, err := e.Bucket.Store.List(ctx, "videos/")
		return err == nil && len(list) > 0
	})
	killAndRestart("upload 2", pw, done)

	// 3. Resumable upload, killed mid-PATCH after its first part is recorded.
	want, err := os.ReadFile(big)
	if err != nil {
		t.Fatal(err)
	}
	r := creator.Must(t, http.StatusCreated, "POST", "/api/v1/uploads", nil, "Tus-Resumable", "1.0.0",
		"Upload-Length", strconv.Itoa(len(want)), "Upload-Metadata", "title S2lsbGVkIG1pZC1QQVRDSA==")
	loc := r.Header.Get("Location")
	id := loc[strings.LastIndex(loc, "/")+1:]
	pw, done = streamedRequest(creator, "PATCH", loc, int64(len(want)), "Tus-Resumable", "1.0.0",
		"Content-Type", "application/offset+octet-stream", "Upload-Offset", "0")
	go func() { _, _ = pw.Write(want[:9<<20]) }()
	testenv.WaitFor(t, 30*time.Second, "the first tus part to be recorded", func() bool {
		return e.count(t, `SELECT upload_offset FROM upload_sessions WHERE id = $1`, id) >= 8<<20
	})
	killAndRestart("tus PATCH", pw, done)

	r = creator.Must(t, http.StatusOK, "HEAD", loc, nil, "Tus-Resumable", "1.0.0")
	off, err := strconv.Atoi(r.Header.Get("Upload-Offset"))
	if err != nil || off <= 0 || off >= len(want) {
		t.Fatalf("HEAD after the restart: Upload-Offset %q, want part of the %d bytes", r.Header.Get("Upload-Offset"), len(want))
	}
	r = creator.Must(t, http.StatusNoContent, "PATCH", loc, want[off:], "Tus-Resumable", "1.0.0",
		"Content-Type", "application/offset+octet-stream", "Upload-Offset", strconv.Itoa(off))
	vid := r.Header.Get("Upload-Video-Id")
	if vid == "" {
		t.Fatalf("the completing PATCH named no video: %v", r.Header)
	}
	var key string
	if err := e.DB.QueryRow(ctx, `SELECT original_key FROM videos WHERE public_id = $1`, vid).Scan(&key); err != nil {
		t.Fatal(err)
	}
	rc, _, err := e.Bucket.Store.Get(ctx, key, 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		t.Fatal(err)
	}
	if sha256.Sum256(got) != sha256.Sum256(want) {
		t.Fatalf("the resumed upload stored %d bytes that differ from the %d sent", len(got), len(want))
	}
	took := waitStatus(t, ctx, e.DB, vid, "ready", 2*time.Minute)

	// The simple uploads left no row; the sweep removes what they stored.
	if n := e.count(t, `SELECT count(*) FROM videos`); n != 1 {
		t.Fatalf("%d video rows, want only the resumed upload's", n)
	}
	if n := e.count(t, `SELECT count(*) FROM upload_sessions`); n != 0 {
		t.Fatalf("%d upload sessions left after the upload finished", n)
	}
	left, err := e.Bucket.Store.Multipart().OpenUploads(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	swept := e.sweep(t)
	rep := checkNoOrphans(t, ctx, e.Bucket, e.DB)
	t.Logf("faults injected: %d SIGKILLs; tus resumed at byte %d of %d, identical bytes, ready %v after completion; sweep removed %d orphans (%d incomplete multipart uploads); bucket: %d objects, %d incomplete multipart uploads, all referenced",
		kills, off, len(want), took.Round(time.Millisecond), swept, len(left), rep.Objects, rep.Multiparts)
	// Upload 1 left an incomplete multipart upload, upload 2 an object.
	if len(left) != 1 || swept != 2 {
		t.Fatalf("%d incomplete uploads before the sweep, %d removed; want upload 1's incomplete upload and upload 2's original", len(left), swept)
	}
	p.Stop()
}
