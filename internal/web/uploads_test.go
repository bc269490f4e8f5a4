package web

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ucc-video/ucc/internal/accounts"
	"github.com/ucc-video/ucc/internal/errs"
	"github.com/ucc-video/ucc/internal/objects"
	"github.com/ucc-video/ucc/internal/uploads"
	"github.com/ucc-video/ucc/internal/videos"
)

const mib = 1 << 20

// videoMagic marks the test "videos" the recording finisher accepts.
var videoMagic = []byte("FAKEVIDEO")

// recordingFinisher is the test's Finisher: it checks that the object is
// there with the announced size, refuses files without videoMagic (as the
// real one refuses non-videos) and records every accepted upload.
type recordingFinisher struct {
	objs   objects.Store
	videos *videos.Service // the real preflight: a channel and quota left
	mu     sync.Mutex
	got    []videos.FinishedUpload
}

// PreflightUpload applies the real rule (videos.Service.PreflightUpload).
func (f *recordingFinisher) PreflightUpload(ctx context.Context, creatorID int64) error {
	return f.videos.PreflightUpload(ctx, creatorID)
}

// CreateFromUpload accepts a file that starts with videoMagic.
func (f *recordingFinisher) CreateFromUpload(ctx context.Context, in videos.FinishedUpload) (videos.Video, error) {
	info, err := f.objs.Stat(ctx, in.ObjectKey)
	if err != nil {
		return videos.Video{}, err
	}
	if info.Size != in.Size {
		return videos.Video{}, fmt.Errorf("object has %d bytes, finisher told %d", info.Size, in.Size)
	}
	rc, _, err := f.objs.Get(ctx, in.ObjectKey, 0, int64(len(videoMagic)))
	if err != nil {
		return videos.Video{}, err
	}
	head, _ := io.ReadAll(rc)
	rc.Close()
	if !bytes.Equal(head, videoMagic) {
		return videos.Video{}, errs.New(errs.ErrUnsupported, "not_a_video", "this file is not a video we can read")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.got = append(f.got, in)
	return videos.Video{PublicID: fmt.Sprintf("vid%08d", len(f.got))}, nil
}

func (f *recordingFinisher) calls() []videos.FinishedUpload {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]videos.FinishedUpload(nil), f.got...)
}

// uploadOpts are the limits of an upload test.
type uploadOpts struct {
	max, quota int64
}

// uploadRig is the rig for tus tests: a recording finisher, the PATCH
// signal, and the limits of o (max defaults to 1 GiB).
func uploadRig(o uploadOpts) []rigOption {
	if o.max == 0 {
		o.max = 1 << 30
	}
	return []rigOption{withRecordingFinisher(), withPatchSignal(),
		withVideos(func(c *videos.Config) { c.MaxUploadBytes = o.max }),
		withUploads(func(c *uploads.Config) { c.MaxBytes, c.QuotaBytes = o.max, o.quota })}
}

// uploader signs up a user; creators and admins also get a channel, which
// uploading needs.
func (env *testServer) uploader(email string, role accounts.Role) (string, int64) {
	env.t.Helper()
	tok, id := env.user(email, role)
	if role == accounts.RoleCreator || role == accounts.RoleAdmin {
		handle := strings.NewReplacer("@", "-", ".", "-").Replace(email)
		if len(handle) > 30 {
			handle = handle[:30]
		}
		if _, err := env.db.Pool.Exec(context.Background(), `INSERT INTO channels (owner_id, handle, name) VALUES ($1, $2, 'C')`, id, handle); err != nil {
			env.t.Fatal(err)
		}
	}
	return tok, id
}

// forDrivers runs fn against the fs and the s3 driver.
func forDrivers(t *testing.T, o uploadOpts, fn func(t *testing.T, env *testServer)) {
	t.Run("fs", func(t *testing.T) { fn(t, newTestServer(t, uploadRig(o)...)) })
	t.Run("s3", func(t *testing.T) { fn(t, newTestServer(t, append(uploadRig(o), withS3())...)) })
}

// tus returns tus request headers for tok plus extra pairs.
func tus(tok string, extra ...string) []string {
	return append(append(bearer(tok), "Tus-Resumable", uploads.TusVersion), extra...)
}

func meta(pairs ...string) string {
	var out []string
	for i := 0; i+1 < len(pairs); i += 2 {
		out = append(out, pairs[i]+" "+base64.StdEncoding.EncodeToString([]byte(pairs[i+1])))
	}
	return strings.Join(out, ",")
}

// sample returns n bytes starting with videoMagic, the rest random.
func sample(t *testing.T, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	copy(b, videoMagic)
	return b
}

// create starts an upload of length bytes and returns its path.
func (env *testServer) create(tok string, length int, md string) string {
	env.t.Helper()
	r := env.do("POST", "/api/v1/uploads", nil, tus(tok, "Upload-Length", strconv.Itoa(length), "Upload-Metadata", md)...)
	wantStatus(env.t, r, http.StatusCreated)
	loc := r.Header.Get("Location")
	if !strings.HasPrefix(loc, "/api/v1/uploads/") || r.Header.Get("Tus-Resumable") != "1.0.0" || r.Header.Get("Upload-Expires") == "" {
		env.t.Fatalf("create headers: %v", r.Header)
	}
	return loc
}

// patch sends chunk at offset.
func (env *testServer) patch(tok, loc string, offset int, chunk []byte) response {
	env.t.Helper()
	r := env.do("PATCH", loc, chunk, tus(tok, "Content-Type", "application/offset+octet-stream", "Upload-Offset", strconv.Itoa(offset))...)
	<-env.patchEnd
	return r
}

// rawPatch is patch for concurrent use: it returns the status, or -1 when
// the connection failed (it never stops the test from its goroutine).
func (env *testServer) rawPatch(tok, loc string, offset int, chunk []byte) int {
	req, err := http.NewRequest("PATCH", env.http.URL+loc, bytes.NewReader(chunk))
	if err != nil {
		return -2
	}
	h := tus(tok, "Content-Type", "application/offset+octet-stream", "Upload-Offset", strconv.Itoa(offset))
	for i := 0; i+1 < len(h); i += 2 {
		req.Header.Set(h[i], h[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	<-env.patchEnd
	if err != nil {
		return -1
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, res.Body)
	return res.StatusCode
}

// head returns the server's offset for loc.
func (env *testServer) head(tok, loc string) int {
	env.t.Helper()
	r := env.do("HEAD", loc, nil, tus(tok)...)
	wantStatus(env.t, r, http.StatusOK)
	if r.Header.Get("Cache-Control") != "no-store" || r.Header.Get("Tus-Resumable") != "1.0.0" {
		env.t.Fatalf("HEAD headers: %v", r.Header)
	}
	n, err := strconv.Atoi(r.Header.Get("Upload-Offset"))
	if err != nil {
		env.t.Fatalf("HEAD Upload-Offset %q", r.Header.Get("Upload-Offset"))
	}
	return n
}

// wantObject checks that key holds exactly want.
func (env *testServer) wantObject(key string, want []byte) {
	env.t.Helper()
	rc, info, err := env.objs.Get(context.Background(), key, 0, -1)
	if err != nil {
		env.t.Fatalf("get %s: %v", key, err)
	}
	defer rc.Close()
	h := sha256.New()
	n, err := io.Copy(h, rc)
	if err != nil {
		env.t.Fatal(err)
	}
	if n != int64(len(want)) || info.Size != int64(len(want)) {
		env.t.Fatalf("object %s has %d bytes, want %d", key, n, len(want))
	}
	if got, exp := h.Sum(nil), sha256.Sum256(want); !bytes.Equal(got, exp[:]) {
		env.t.Fatalf("object %s: sha256 differs from the source", key)
	}
}

// wantNoLeftovers checks that no tail object, open multipart upload or
// session row is left.
func (env *testServer) wantNoLeftovers() {
	env.t.Helper()
	if tails, err := env.objs.List(context.Background(), "uploads/"); err != nil || len(tails) != 0 {
		env.t.Fatalf("tail objects left: %v %v", tails, err)
	}
	if open := env.openUploads(); len(open) != 0 {
		env.t.Fatalf("multipart uploads left: %v", open)
	}
	var n int
	if err := env.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM upload_sessions`).Scan(&n); err != nil || n != 0 {
		env.t.Fatalf("upload_sessions rows left: %d %v", n, err)
	}
}

func TestTusOptionsAndAccess(t *testing.T) {
	env := newTestServer(t, uploadRig(uploadOpts{max: 64 * mib})...)
	r := env.do("OPTIONS", "/api/v1/uploads", nil)
	wantStatus(t, r, http.StatusNoContent)
	if r.Header.Get("Tus-Version") != "1.0.0" || r.Header.Get("Tus-Max-Size") != strconv.Itoa(64*mib) ||
		!strings.Contains(r.Header.Get("Tus-Extension"), "creation") || !strings.Contains(r.Header.Get("Tus-Extension"), "termination") ||
		r.Header.Get("Tus-Resumable") != "1.0.0" {
		t.Fatalf("OPTIONS headers: %v", r.Header)
	}
	viewer, _ := env.uploader("viewer@example.com", accounts.RoleViewer)
	creator, _ := env.uploader("creator@example.com", accounts.RoleCreator)
	other, _ := env.uploader("other@example.com", accounts.RoleCreator)

	wantStatus(t, env.do("POST", "/api/v1/uploads", nil, "Tus-Resumable", "1.0.0", "Upload-Length", "10"), http.StatusUnauthorized)
	r = env.do("POST", "/api/v1/uploads", nil, tus(viewer, "Upload-Length", "10")...)
	wantStatus(t, r, http.StatusForbidden)
	if r.Header.Get("Tus-Resumable") != "1.0.0" {
		t.Fatalf("error answers must carry Tus-Resumable: %v", r.Header)
	}
	r = env.do("POST", "/api/v1/uploads", nil, append(bearer(creator), "Upload-Length", "10")...)
	wantStatus(t, r, http.StatusPreconditionFailed)
	if r.Header.Get("Tus-Version") != "1.0.0" {
		t.Fatalf("412 without Tus-Version: %v", r.Header)
	}
	wantStatus(t, env.do("POST", "/api/v1/uploads", nil, tus(creator)...), http.StatusBadRequest)
	r = env.do("POST", "/api/v1/uploads", nil, tus(creator, "Upload-Length", "0")...)
	wantStatus(t, r, http.StatusBadRequest)
	if !strings.Contains(string(r.Body), "empty") {
		t.Fatalf("empty file message: %s", r.Body)
	}
	r = env.do("POST", "/api/v1/uploads", nil, tus(creator, "Upload-Length", strconv.Itoa(64*mib+1))...)
	wantStatus(t, r, http.StatusRequestEntityTooLarge)
	if !strings.Contains(string(r.Body), "too large") {
		t.Fatalf("too large message: %s", r.Body)
	}
	r = env.do("POST", "/api/v1/uploads", nil, tus(creator, "Upload-Length", "10", "Upload-Metadata", meta("visibility", "secret"))...)
	wantStatus(t, r, http.StatusBadRequest)
	if !strings.Contains(string(r.Body), "invalid_visibility") {
		t.Fatalf("visibility message: %s", r.Body)
	}

	loc := env.create(creator, 100, meta("filename", "../../etc/My Clip.mp4"))
	// Someone else's upload does not exist for them.
	wantStatus(t, env.do("HEAD", loc, nil, tus(other)...), http.StatusNotFound)
	r = env.patch(other, loc, 0, sample(t, 10))
	wantStatus(t, r, http.StatusNotFound)
	wantStatus(t, env.do("DELETE", loc, nil, tus(other)...), http.StatusNotFound)
	wantStatus(t, env.do("HEAD", "/api/v1/uploads/not-a-real-upload-id-xx", nil, tus(creator)...), http.StatusNotFound)
	// The metadata is kept, the title comes from the file name, the key does not.
	r = env.do("HEAD", loc, nil, tus(creator)...)
	wantStatus(t, r, http.StatusOK)
	md, err := uploads.ParseMetadata(r.Header.Get("Upload-Metadata"))
	if err != nil || md["title"] != "My Clip" || md["visibility"] != "public" {
		t.Fatalf("metadata %v %v", md, err)
	}
	// Wrong content type.
	r = env.do("PATCH", loc, sample(t, 10), tus(creator, "Content-Type", "application/octet-stream", "Upload-Offset", "0")...)
	<-env.patchEnd
	wantStatus(t, r, http.StatusUnsupportedMediaType)
	if env.head(creator, loc) != 0 {
		t.Fatal("a refused PATCH moved the offset")
	}
}

func TestTusUploadInChunks(t *testing.T) {
	forDrivers(t, uploadOpts{}, func(t *testing.T, env *testServer) {
		tok, uid := env.uploader("creator@example.com", accounts.RoleCreator)
		src := sample(t, 20*mib+123)
		loc := env.create(tok, len(src), meta("title", "My trip", "description", "Day one", "visibility", "unlisted", "filename", "trip.mov"))
		// Chunks: below S3's 5 MiB minimum (kept as a tail), a chunk that
		// completes a part and leaves a tail, a single byte, a chunk that
		// crosses a part boundary unaligned, then the rest.
		chunks := []int{3 * mib, 6 * mib, 1, 9*mib + 17}
		off := 0
		for i, n := range chunks {
			r := env.patch(tok, loc, off, src[off:off+n])
			wantStatus(t, r, http.StatusNoContent)
			off += n
			if got := r.Header.Get("Upload-Offset"); got != strconv.Itoa(off) {
				t.Fatalf("chunk %d: Upload-Offset %s, want %d", i, got, off)
			}
			if r.Header.Get("Upload-Video-Id") != "" {
				t.Fatalf("chunk %d: finished early", i)
			}
			if h := env.head(tok, loc); h != off {
				t.Fatalf("chunk %d: HEAD offset %d, want %d", i, h, off)
			}
		}
		// A stale offset is a conflict and changes nothing.
		r := env.patch(tok, loc, off-1, src[off-1:off+10])
		wantStatus(t, r, http.StatusConflict)
		if !strings.Contains(string(r.Body), "offset_mismatch") {
			t.Fatalf("409 body: %s", r.Body)
		}
		// A chunk past the declared length is refused whole, from its
		// Content-Length, before its body is read: a client still sending
		// may see the connection reset (-1) rather than the 413.
		if st := env.rawPatch(tok, loc, off, append(append([]byte{}, src[off:]...), 'x')); st != http.StatusRequestEntityTooLarge && st != -1 {
			t.Fatalf("a PATCH past the declared length answered %d, want 413", st)
		}
		if env.head(tok, loc) != off {
			t.Fatal("an oversized PATCH moved the offset")
		}
		r = env.patch(tok, loc, off, src[off:])
		wantStatus(t, r, http.StatusNoContent)
		if r.Header.Get("Upload-Offset") != strconv.Itoa(len(src)) || r.Header.Get("Upload-Video-Id") != "vid00000001" {
			t.Fatalf("final PATCH headers: %v", r.Header)
		}
		calls := env.fin.calls()
		if len(calls) != 1 {
			t.Fatalf("finisher calls: %v", calls)
		}
		f := calls[0]
		if f.CreatorID != uid || f.Size != int64(len(src)) || f.Title != "My trip" || f.Description != "Day one" ||
			f.Visibility != "unlisted" || !strings.HasPrefix(f.ObjectKey, "originals/") || strings.Contains(f.ObjectKey, "trip") {
			t.Fatalf("finished = %+v", f)
		}
		env.wantObject(f.ObjectKey, src)
		env.wantNoLeftovers()
		wantStatus(t, env.do("HEAD", loc, nil, tus(tok)...), http.StatusNotFound)
	})
}

// dropPatch sends a PATCH declaring the whole of chunk but only sends the
// first sent bytes, then closes the connection, and waits for the server's
// handler to give up.
func (env *testServer) dropPatch(tok, loc string, offset int, chunk []byte, sent int) {
	env.t.Helper()
	conn, err := net.Dial("tcp", env.http.Listener.Addr().String())
	if err != nil {
		env.t.Fatal(err)
	}
	w := bufio.NewWriter(conn)
	fmt.Fprintf(w, "PATCH %s HTTP/1.1\r\nHost: ucc.test\r\nAuthorization: Bearer %s\r\nTus-Resumable: 1.0.0\r\n"+
		"Content-Type: application/offset+octet-stream\r\nUpload-Offset: %d\r\nContent-Length: %d\r\n\r\n", loc, tok, offset, len(chunk))
	if _, err := w.Write(chunk[:sent]); err != nil {
		env.t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		env.t.Fatal(err)
	}
	conn.Close()
	select {
	case <-env.patchEnd:
	case <-time.After(30 * time.Second):
		env.t.Fatal("the server did not notice the dropped connection")
	}
}

func TestTusResumeAfterDroppedConnection(t *testing.T) {
	forDrivers(t, uploadOpts{}, func(t *testing.T, env *testServer) {
		tok, _ := env.uploader("creator@example.com", accounts.RoleCreator)
		src := sample(t, 18*mib+5)
		loc := env.create(tok, len(src), meta("title", "Resumed"))
		// 12 MiB declared, 10 MiB sent: the first 8 MiB part is stored, the
		// 2 MiB of the unfinished rest are not, and the offset says so.
		env.dropPatch(tok, loc, 0, src[:12*mib], 10*mib)
		if got := env.head(tok, loc); got != 8*mib {
			t.Fatalf("offset after drop: %d, want %d", got, 8*mib)
		}
		// A small chunk becomes a stored tail.
		wantStatus(t, env.patch(tok, loc, 8*mib, src[8*mib:9*mib]), http.StatusNoContent)
		// Dropped while completing the next part: the tail and offset stay.
		env.dropPatch(tok, loc, 9*mib, src[9*mib:], 4*mib)
		if got := env.head(tok, loc); got != 9*mib {
			t.Fatalf("offset after second drop: %d, want %d", got, 9*mib)
		}
		tails, err := env.objs.List(context.Background(), "uploads/")
		if err != nil || len(tails) != 1 || tails[0].Size != mib {
			t.Fatalf("tails after second drop: %v %v", tails, err)
		}
		off := env.head(tok, loc)
		r := env.patch(tok, loc, off, src[off:])
		wantStatus(t, r, http.StatusNoContent)
		if r.Header.Get("Upload-Video-Id") == "" {
			t.Fatalf("final headers: %v", r.Header)
		}
		calls := env.fin.calls()
		if len(calls) != 1 {
			t.Fatalf("finisher calls: %d", len(calls))
		}
		env.wantObject(calls[0].ObjectKey, src)
		env.wantNoLeftovers()
	})
}

func TestTusTerminate(t *testing.T) {
	forDrivers(t, uploadOpts{}, func(t *testing.T, env *testServer) {
		tok, _ := env.uploader("creator@example.com", accounts.RoleCreator)
		src := sample(t, 12*mib)
		loc := env.create(tok, len(src), "")
		wantStatus(t, env.patch(tok, loc, 0, src[:10*mib]), http.StatusNoContent) // a part and a tail
		if len(env.openUploads()) != 1 {
			t.Fatalf("open uploads before DELETE: %v", env.openUploads())
		}
		wantStatus(t, env.do("DELETE", loc, nil, tus(tok)...), http.StatusNoContent)
		env.wantNoLeftovers()
		if all, _ := env.objs.List(context.Background(), ""); len(all) != 0 {
			t.Fatalf("objects left: %v", all)
		}
		wantStatus(t, env.do("HEAD", loc, nil, tus(tok)...), http.StatusNotFound)
		wantStatus(t, env.patch(tok, loc, 10*mib, src[10*mib:]), http.StatusNotFound)
		if len(env.fin.calls()) != 0 {
			t.Fatal("a cancelled upload reached the finisher")
		}
	})
}

func TestTusRejectedFile(t *testing.T) {
	forDrivers(t, uploadOpts{}, func(t *testing.T, env *testServer) {
		tok, _ := env.uploader("creator@example.com", accounts.RoleCreator)
		src := sample(t, 9*mib)
		copy(src, "NOTAVIDEO")
		loc := env.create(tok, len(src), meta("filename", "notes.mp4"))
		r := env.patch(tok, loc, 0, src)
		wantStatus(t, r, http.StatusUnsupportedMediaType)
		if !strings.Contains(string(r.Body), "not a video") {
			t.Fatalf("rejection body: %s", r.Body)
		}
		env.wantNoLeftovers()
		if all, _ := env.objs.List(context.Background(), ""); len(all) != 0 {
			t.Fatalf("a rejected upload left objects: %v", all)
		}
	})
}

func TestTusQuota(t *testing.T) {
	env := newTestServer(t, uploadRig(uploadOpts{quota: 30 * mib})...)
	tok, uid := env.uploader("creator@example.com", accounts.RoleCreator)
	ctx := context.Background()
	// 8 MiB already stored in one of the creator's videos.
	var ch int64
	if err := env.db.Pool.QueryRow(ctx, `SELECT id FROM channels WHERE owner_id = $1`, uid).Scan(&ch); err != nil {
		t.Fatal(err)
	}
	if _, err := env.db.Pool.Exec(ctx, `INSERT INTO videos (public_id, channel_id, creator_id, title, original_size) VALUES ('abcdefghijk', $1, $2, 'Old', $3)`, ch, uid, 8*mib); err != nil {
		t.Fatal(err)
	}
	first := env.create(tok, 20*mib, "")
	r := env.do("POST", "/api/v1/uploads", nil, tus(tok, "Upload-Length", strconv.Itoa(3*mib))...)
	wantStatus(t, r, http.StatusRequestEntityTooLarge)
	if !strings.Contains(string(r.Body), "quota exceeded") {
		t.Fatalf("quota body: %s", r.Body)
	}
	// Another creator has their own quota.
	other, _ := env.uploader("other@example.com", accounts.RoleCreator)
	env.create(other, 20*mib, "")
	// Cancelling the open upload frees its share.
	wantStatus(t, env.do("DELETE", first, nil, tus(tok)...), http.StatusNoContent)
	env.create(tok, 3*mib, "")
}

func TestTusExpiry(t *testing.T) {
	forDrivers(t, uploadOpts{}, func(t *testing.T, env *testServer) {
		tok, _ := env.uploader("creator@example.com", accounts.RoleCreator)
		src := sample(t, 16*mib)
		old := env.create(tok, len(src), "")
		wantStatus(t, env.patch(tok, old, 0, src[:10*mib]), http.StatusNoContent)
		env.clock.add(23 * time.Hour)
		fresh := env.create(tok, len(src), "")
		wantStatus(t, env.patch(tok, fresh, 0, src[:2*mib]), http.StatusNoContent)

		w := &uploads.ExpireWorker{Service: env.deps.Uploads}
		if err := w.Work(context.Background(), nil); err != nil {
			t.Fatal(err)
		}
		if env.head(tok, old) != 10*mib || len(env.openUploads()) != 2 {
			t.Fatal("the expiry job removed a session before its time")
		}
		env.clock.add(90 * time.Minute) // old is now 24.5 h old, fresh 1.5 h
		r := env.patch(tok, old, 10*mib, src[10*mib:])
		wantStatus(t, r, http.StatusNotFound)
		if !strings.Contains(string(r.Body), "expired") {
			t.Fatalf("expired body: %s", r.Body)
		}
		if err := w.Work(context.Background(), nil); err != nil {
			t.Fatal(err)
		}
		wantStatus(t, env.do("HEAD", old, nil, tus(tok)...), http.StatusNotFound)
		if env.head(tok, fresh) != 2*mib || len(env.openUploads()) != 1 {
			t.Fatalf("fresh session touched; open = %v", env.openUploads())
		}
		env.clock.add(24 * time.Hour)
		if err := w.Work(context.Background(), nil); err != nil {
			t.Fatal(err)
		}
		env.wantNoLeftovers()
	})
}

func TestTusConcurrentPatches(t *testing.T) {
	forDrivers(t, uploadOpts{}, func(t *testing.T, env *testServer) {
		tok, _ := env.uploader("creator@example.com", accounts.RoleCreator)
		src := sample(t, 16*mib)
		loc := env.create(tok, len(src), "")
		var wg sync.WaitGroup
		statuses := make([]int, 2)
		for i := range statuses {
			wg.Go(func() { statuses[i] = env.rawPatch(tok, loc, 0, src[:10*mib]) })
		}
		wg.Wait()
		// The loser is refused with 409 as soon as its request arrives and the
		// connection is closed; when its client is still sending the body, it
		// may see the reset (-1) instead of the 409. Either way nothing of it
		// may be stored, which the offset and the final bytes check below.
		if !(statuses[0] == 204 && (statuses[1] == 409 || statuses[1] == -1) || statuses[1] == 204 && (statuses[0] == 409 || statuses[0] == -1)) {
			t.Fatalf("two PATCHes at offset 0 answered %v; want one 204 and one refused", statuses)
		}
		if got := env.head(tok, loc); got != 10*mib {
			t.Fatalf("offset %d, want %d", got, 10*mib)
		}
		if tails, _ := env.objs.List(context.Background(), "uploads/"); len(tails) != 1 {
			t.Fatalf("tails: %v", tails)
		}
		wantStatus(t, env.patch(tok, loc, 10*mib, src[10*mib:]), http.StatusNoContent)
		env.wantObject(env.fin.calls()[0].ObjectKey, src)
		env.wantNoLeftovers()
	})
}

func TestUploadPage(t *testing.T) {
	env := newTestServer(t, uploadRig(uploadOpts{max: 2 << 30})...)
	creator, _ := env.uploader("creator@example.com", accounts.RoleCreator)
	viewer, _ := env.uploader("viewer@example.com", accounts.RoleViewer)
	r := env.do("GET", "/upload", nil, bearer(creator)...)
	wantStatus(t, r, http.StatusOK)
	for _, want := range []string{`src="/static/js/upload.js"`, `data-endpoint="/api/v1/uploads"`, `data-max-bytes="2147483648"`,
		`<progress id="progress"`, `id="cancel"`, `href="/studio"`, "2 GiB"} {
		if !strings.Contains(string(r.Body), want) {
			t.Errorf("upload page lacks %s", want)
		}
	}
	if strings.Contains(string(r.Body), "style=") || strings.Contains(string(r.Body), "<script>") {
		t.Error("the upload page has inline styles or scripts, which the CSP forbids")
	}
	r = env.do("GET", "/upload", nil, bearer(viewer)...)
	wantStatus(t, r, http.StatusSeeOther)
	if loc := r.Header.Get("Location"); !strings.HasPrefix(loc, "/channels/new") {
		t.Fatalf("viewer redirected to %q", loc)
	}
	r = env.do("GET", "/upload", nil)
	wantStatus(t, r, http.StatusSeeOther)
	if loc := r.Header.Get("Location"); !strings.HasPrefix(loc, "/login") {
		t.Fatalf("anonymous redirected to %q", loc)
	}
	wantStatus(t, env.do("GET", "/static/js/upload.js", nil), http.StatusOK)
	wantStatus(t, env.do("GET", "/static/css/upload.css", nil), http.StatusOK)
}

// storageGoneAfterPut is object storage that goes away once an upload is
// stored: from the first presigned read on, ffprobe gets a URL nobody
// answers and reads fail as they do against a stopped server.
type storageGoneAfterPut struct {
	objects.Store
	dead string // a closed loopback port
	gone atomic.Bool
}

func (s *storageGoneAfterPut) PresignGet(ctx context.Context, key string, expiry time.Duration) (string, error) {
	s.gone.Store(true)
	return "http://" + s.dead + "/bucket/" + key, nil
}

func (s *storageGoneAfterPut) Get(ctx context.Context, key string, off, n int64) (io.ReadCloser, objects.Info, error) {
	if !s.gone.Load() {
		return s.Store.Get(ctx, key, off, n)
	}
	resp, err := http.Get("http://" + s.dead + "/bucket/" + key) // the error a stopped server gives
	if err == nil {
		resp.Body.Close()
		err = fmt.Errorf("%s answered %s", s.dead, resp.Status)
	}
	return nil, objects.Info{}, fmt.Errorf("s3 store: get %q: %w", key, err)
}

// TestUploadStorageGoneWhileProbing: storage going away after a simple
// upload is stored, while ffprobe reads it back, is an outage the creator
// retries (503), never a verdict on the file (it answered 415 not_a_video,
// found by TestDependencyFaults).
func TestUploadStorageGoneWhileProbing(t *testing.T) {
	clip := gen(t, t.TempDir(), "clip.mp4", cat(lavfiVideo("320x240", 1), []string{"-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"})...)
	data, err := os.ReadFile(clip)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close()
	var gone *storageGoneAfterPut
	env := newTestServer(t, withS3(), withVideos(func(c *videos.Config) {
		gone = &storageGoneAfterPut{Store: c.Objects, dead: dead}
		c.Objects = gone
	}))
	tok, _ := env.creator("blink")
	r := env.upload(tok, map[string]string{"title": "Storage blinked"}, data, "clip.mp4")
	if !gone.gone.Load() {
		t.Fatal("the upload never read the stored file back through storage; the test does not test anything")
	}
	wantError(t, r, http.StatusServiceUnavailable, "unavailable")
	var n int
	if err := env.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM videos`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("videos after a refused upload: %d (%v), want none", n, err)
	}
}
