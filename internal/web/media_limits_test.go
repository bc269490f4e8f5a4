package web

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/ucc-video/ucc/internal/community"
	"github.com/ucc-video/ucc/internal/testenv"
	"github.com/ucc-video/ucc/internal/uploads"
	"github.com/ucc-video/ucc/internal/videos"
	"github.com/ucc-video/ucc/internal/views"
	"github.com/ucc-video/ucc/storage/postgres"
	uccredis "github.com/ucc-video/ucc/storage/redis"
)

// workJob runs the video's enqueued River job (its real row id), as a
// worker that fetched it would.
func (e *testServer) workJob(publicID string) error {
	e.t.Helper()
	var id, jobID int64
	if err := e.db.Pool.QueryRow(context.Background(), `SELECT v.id, j.id FROM videos v
		JOIN river_job j ON (j.args->>'video_id')::bigint = v.id WHERE v.public_id = $1`, publicID).Scan(&id, &jobID); err != nil {
		e.t.Fatal(err)
	}
	w := videos.NewTranscodeWorker(e.deps.Videos)
	job := &river.Job[videos.TranscodeArgs]{JobRow: &rivertype.JobRow{ID: jobID, Attempt: 1, MaxAttempts: 5}, Args: videos.TranscodeArgs{VideoID: id}}
	ctx, cancel := context.WithTimeout(context.Background(), w.Timeout(job))
	defer cancel()
	return w.Work(ctx, job)
}

// patchMatroskaDuration rewrites the Segment Duration element (ID 0x4489,
// an 8-byte float in TimecodeScale units, milliseconds as ffmpeg writes it)
// of a Matroska file to ms: the header then lies about the file's length.
func patchMatroskaDuration(t *testing.T, data []byte, ms float64) []byte {
	t.Helper()
	i := bytes.Index(data, []byte{0x44, 0x89, 0x88})
	if i < 0 {
		t.Fatal("no 8-byte Duration element in the Matroska file")
	}
	out := append([]byte(nil), data...)
	binary.BigEndian.PutUint64(out[i+3:], math.Float64bits(ms))
	return out
}

// A 60 s video whose Matroska header says 1 s: the duration, the minimum
// watch time and the play token's lifetime come from the encoded
// rendition, not from the header the uploader wrote.
func TestDurationComesFromTheRendition(t *testing.T) {
	env := newTestServer(t, withViews(func(c *views.Config) { c.MinWatch = 30 * time.Second }))
	tok, _ := env.creator("liar")
	clip := gen(t, t.TempDir(), "long.mkv", cat(lavfiVideo("160x120", 60), []string{"-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"})...)
	data, err := os.ReadFile(clip)
	if err != nil {
		t.Fatal(err)
	}
	lying := patchMatroskaDuration(t, data, 1000)
	if p := ffprobeFile(t, writeTemp(t, "lying.mkv", lying)); p.Format.Duration != "1.000000" {
		t.Fatalf("the patched header says %s s, want 1", p.Format.Duration)
	}

	r := env.upload(tok, map[string]string{"title": "sixty seconds"}, lying, "lying.mkv")
	wantStatus(t, r, http.StatusCreated)
	v := videoOf(t, r)
	if err := env.work(v.PublicID, 1); err != nil {
		t.Fatal(err)
	}
	v = env.getVideo("", v.PublicID)
	if v.DurationSeconds < 59 || v.DurationSeconds > 61 {
		t.Fatalf("duration_seconds = %v, want the rendition's 60", v.DurationSeconds)
	}
	r = env.do("GET", "/api/v1/videos/"+v.PublicID+"/play", nil, "User-Agent", firefoxUA)
	wantStatus(t, r, http.StatusOK)
	var g views.Grant
	r.JSON(t, &g)
	if g.MinWatchSeconds != 30 {
		t.Fatalf("min_watch_seconds = %d, want 30 (the header's 1 s gave 1)", g.MinWatchSeconds)
	}
}

func writeTemp(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := t.TempDir() + "/" + name
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// ffprobeFile probes a local file.
func ffprobeFile(t *testing.T, path string) probed { return ffprobeURL(t, path) }

// frames counts the video packets of a local file or URL.
func frames(t *testing.T, u string) int {
	t.Helper()
	_, fp := testenv.FFmpeg(t)
	out, err := exec.Command(fp, "-v", "error", "-count_packets", "-select_streams", "v:0",
		"-show_entries", "stream=nb_read_packets", "-of", "csv=p=0", u).Output()
	if err != nil {
		t.Fatalf("count frames of %s: %v", u, err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil {
		t.Fatalf("frames of %s: %q", u, out)
	}
	return n
}

// gapBomb is a Matroska of two 320x240 frames gap seconds apart, declared
// 60 fps: a constant-frame-rate encode fills the gap with gap×60 copies.
func gapBomb(t *testing.T, gap int) []byte {
	t.Helper()
	p := gen(t, t.TempDir(), "bomb.mkv", "-f", "lavfi", "-i", "testsrc2=s=320x240:r=60", "-frames:v", "2",
		"-vf", fmt.Sprintf("setpts=N*%d/TB", gap), "-c:v", "libx264", "-preset", "ultrafast", "-fps_mode", "passthrough")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Transcode bombs are refused before any work, or cost what their frames
// cost: no duplicated frames, no retries of a job past its time limit.
func TestTranscodeBombs(t *testing.T) {
	env := newTestServer(t)
	tok, _ := env.creator("bomber")

	t.Run("ten hours between two frames is refused at upload", func(t *testing.T) {
		bomb := gapBomb(t, 36000)
		r := env.upload(tok, map[string]string{"title": "bomb"}, bomb, "bomb.mkv")
		wantError(t, r, http.StatusRequestEntityTooLarge, "media_limit")
		if !strings.Contains(string(r.Body), "claims to last 10h0m0s") {
			t.Errorf("the reason does not say why: %s", r.Body)
		}
		if n := env.count(`SELECT count(*) FROM videos`); n != 0 {
			t.Fatalf("a refused bomb became a video (%d rows)", n)
		}
	})

	t.Run("a 5000x5000 MJPEG is refused at upload", func(t *testing.T) {
		big := gen(t, t.TempDir(), "big.mkv", "-f", "lavfi", "-i", "color=c=gray:s=5000x5000:r=1:d=1", "-c:v", "mjpeg", "-q:v", "31")
		data, _ := os.ReadFile(big)
		r := env.upload(tok, map[string]string{"title": "huge"}, data, "big.mkv")
		wantError(t, r, http.StatusRequestEntityTooLarge, "media_limit")
		body, ct := multipartBody(t, map[string]string{"title": "huge"}, data, "big.mkv")
		r = env.do("POST", "/api/v1/videos", body, append(bearer(tok), "Content-Type", ct, "Accept-Language", "ko")...)
		if !strings.Contains(string(r.Body), "5000×5000") || !strings.Contains(string(r.Body), "픽셀") {
			t.Errorf("the Korean reason: %s", r.Body)
		}
	})

	t.Run("a decoder outside the whitelist never runs", func(t *testing.T) {
		odd := gen(t, t.TempDir(), "odd.mkv", cat(lavfiVideo("160x120", 1), []string{"-c:v", "ffv1"})...)
		data, _ := os.ReadFile(odd)
		r := env.upload(tok, map[string]string{"title": "ffv1"}, data, "odd.mkv")
		if r.StatusCode == http.StatusCreated {
			v := videoOf(t, r)
			var cancel *river.JobCancelError
			if err := env.work(v.PublicID, 1); !errors.As(err, &cancel) {
				t.Fatalf("ffv1 was transcoded: %v", err)
			}
			if v = env.getVideo(tok, v.PublicID); v.Status != videos.StatusFailed {
				t.Fatalf("ffv1 video is %s", v.Status)
			}
		} else if r.StatusCode/100 != 4 {
			t.Fatalf("ffv1 upload: %d %s", r.StatusCode, r.Body)
		}
	})
}

// Variable frame rate: a file whose two frames are 600 s apart (small gap,
// so the size check lets it through) encodes to two frames, not 36,001.
func TestTranscodeKeepsVariableFrameRate(t *testing.T) {
	env := newTestServer(t, withVideos(func(c *videos.Config) { c.Limits.MinBytesPerSecond = 1 }))
	tok, _ := env.creator("sparse")
	r := env.upload(tok, map[string]string{"title": "sparse"}, gapBomb(t, 600), "sparse.mkv")
	wantStatus(t, r, http.StatusCreated)
	v := videoOf(t, r)
	if err := env.work(v.PublicID, 1); err != nil {
		t.Fatal(err)
	}
	v = env.getVideo("", v.PublicID)
	if v.Status != videos.StatusReady || len(v.Renditions) != 1 {
		t.Fatalf("after work: %+v", v)
	}
	path, _ := env.fsStore.Path(strings.TrimPrefix(v.Renditions[0].URL, videos.MediaPrefix))
	if n := frames(t, path); n > 4 {
		t.Fatalf("the rendition has %d frames: the gap was filled with copies", n)
	}
}

// A job past UCC_TRANSCODE_TIMEOUT fails for good, with the reason, and is
// cancelled rather than retried.
func TestTranscodeTimeoutIsPermanent(t *testing.T) {
	env := newTestServer(t, withVideos(func(c *videos.Config) { c.TranscodeTimeout = time.Millisecond }))
	tok, _ := env.creator("slow")
	clip := gen(t, t.TempDir(), "clip.mp4", cat(lavfiVideo("320x240", 2), []string{"-c:v", "libx264", "-preset", "ultrafast"})...)
	data, _ := os.ReadFile(clip)
	r := env.upload(tok, map[string]string{"title": "slow"}, data, "clip.mp4")
	wantStatus(t, r, http.StatusCreated)
	v := videoOf(t, r)
	err := env.work(v.PublicID, 1) // the first of five attempts
	var cancel *river.JobCancelError
	if !errors.As(err, &cancel) {
		t.Fatalf("a timed-out job: %v, want it cancelled (not retried)", err)
	}
	v = env.getVideo(tok, v.PublicID)
	if v.Status != videos.StatusFailed || !strings.Contains(v.FailureReason, "processing took longer than the 1ms limit") {
		t.Fatalf("after the timeout: %s %q", v.Status, v.FailureReason)
	}
}

// A creator's jobs beyond UCC_TRANSCODE_PER_CREATOR wait (snooze) while
// the older ones run; another creator's job is not held up.
func TestTranscodePerCreatorLimit(t *testing.T) {
	env := newTestServer(t, withVideos(func(c *videos.Config) { c.Limits.PerCreator = 1 }))
	tok, _ := env.creator("busy")
	other, _ := env.creator("other")
	clip := gen(t, t.TempDir(), "clip.mp4", cat(lavfiVideo("160x120", 1), []string{"-c:v", "libx264", "-preset", "ultrafast"})...)
	data, _ := os.ReadFile(clip)
	first := videoOf(t, env.upload(tok, map[string]string{"title": "one"}, data, "clip.mp4"))
	second := videoOf(t, env.upload(tok, map[string]string{"title": "two"}, data, "clip.mp4"))
	third := videoOf(t, env.upload(other, map[string]string{"title": "three"}, data, "clip.mp4"))
	// The first job is running (as a worker elsewhere would have it).
	if _, err := env.db.Pool.Exec(context.Background(), `UPDATE river_job SET state = 'running', attempt = 1, attempted_at = now()
		WHERE (args->>'video_id')::bigint = (SELECT id FROM videos WHERE public_id = $1)`, first.PublicID); err != nil {
		t.Fatal(err)
	}
	var snooze *river.JobSnoozeError
	if err := env.workJob(second.PublicID); !errors.As(err, &snooze) {
		t.Fatalf("the creator's second job: %v, want it to wait", err)
	}
	if err := env.workJob(third.PublicID); err != nil {
		t.Fatalf("another creator's job: %v", err)
	}
}

// The original's download waits when the disk cannot hold it.
func TestTranscodeWaitsForDisk(t *testing.T) {
	env := newTestServer(t, withS3(), withVideos(func(c *videos.Config) { c.Limits.MinFreeBytes = 1 << 60 }))
	tok, _ := env.creator("diskless")
	clip := gen(t, t.TempDir(), "clip.mp4", cat(lavfiVideo("160x120", 1), []string{"-c:v", "libx264", "-preset", "ultrafast"})...)
	data, _ := os.ReadFile(clip)
	v := videoOf(t, env.upload(tok, map[string]string{"title": "wait"}, data, "clip.mp4"))
	var snooze *river.JobSnoozeError
	if err := env.work(v.PublicID, 1); !errors.As(err, &snooze) {
		t.Fatalf("with no disk: %v, want the job to wait", err)
	}
	if v = env.getVideo(tok, v.PublicID); v.Status != videos.StatusProcessing {
		t.Fatalf("with no disk the video is %s", v.Status)
	}
}

// Renditions count in the storage quota, not only originals.
func TestQuotaCountsRenditions(t *testing.T) {
	env := newTestServer(t)
	tok, uid := env.creator("hoarder")
	clip := gen(t, t.TempDir(), "clip.mp4", cat(lavfiVideo("320x240", 2), []string{"-c:v", "libx264", "-preset", "ultrafast"})...)
	data, _ := os.ReadFile(clip)
	v := videoOf(t, env.upload(tok, map[string]string{"title": "q"}, data, "clip.mp4"))
	if err := env.work(v.PublicID, 1); err != nil {
		t.Fatal(err)
	}
	used, err := postgres.NewVideos(env.db).StorageUsed(context.Background(), uid)
	if err != nil {
		t.Fatal(err)
	}
	renditions := env.count(`SELECT coalesce(sum(size_bytes), 0) FROM renditions`)
	if renditions == 0 || used != int64(len(data))+int64(renditions) {
		t.Fatalf("storage used = %d, want original %d + renditions %d", used, len(data), renditions)
	}
}

// A 16-bit 4096² PNG (small on disk, 128 MiB decoded) is refused before it
// is decoded; an ordinary one is re-encoded as a JPEG.
func TestThumbnailDecodeLimit(t *testing.T) {
	env := newTestServer(t)
	tok, uid := env.creator("painter")
	id := env.readyVideo(uid, "public")
	bomb := gen(t, t.TempDir(), "deep.png", "-f", "lavfi", "-i", "color=c=black:s=4096x4096", "-frames:v", "1", "-pix_fmt", "rgba64be")
	data, _ := os.ReadFile(bomb)
	if len(data) > videos.MaxThumbnailBytes {
		t.Fatalf("the crafted PNG is %d bytes, over the upload cap: the test would not reach the decoder", len(data))
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	r := env.do("PUT", "/api/v1/videos/"+id+"/thumbnail", data, append(bearer(tok), "Content-Type", "image/png")...)
	runtime.ReadMemStats(&after)
	wantError(t, r, http.StatusRequestEntityTooLarge, "thumbnail_too_large")
	t.Logf("a %d-byte 16-bit PNG: %d MiB allocated while refusing it", len(data), (after.TotalAlloc-before.TotalAlloc)>>20)
}

// A video turned private leaves every cache at once: the trending page
// (cached for an hour here), the play and report lookups (cached 2 s), and
// /media's shared-cache permission (public, no-cache: revalidated).
func TestPrivateVideoLeavesCachesAtOnce(t *testing.T) {
	env := newTestServer(t, withCommunity(community.Config{CommentLimit: 1000, CommentWindow: time.Minute, TrendingTTL: time.Hour}))
	tok, uid := env.creator("hider")
	pub := env.readyVideo(uid, "public")
	for _, q := range []string{`UPDATE videos SET published_at = now() WHERE public_id = $1`,
		`INSERT INTO video_views_daily (video_id, creator_id, day, views) SELECT id, creator_id, (now() AT TIME ZONE 'UTC')::date, 5 FROM videos WHERE public_id = $1`} {
		if _, err := env.db.Pool.Exec(context.Background(), q, pub); err != nil {
			t.Fatal(err)
		}
	}
	trending := func() string {
		r := env.do("GET", "/api/v1/videos?sort=trending", nil)
		wantStatus(t, r, http.StatusOK)
		return string(r.Body)
	}
	if !strings.Contains(trending(), pub) {
		t.Fatalf("the video is not trending: %s", trending())
	}
	ua := []string{"User-Agent", firefoxUA}
	wantStatus(t, env.do("GET", "/api/v1/videos/"+pub+"/play", nil, ua...), http.StatusOK)

	r := env.do("PATCH", "/api/v1/videos/"+pub, map[string]any{"visibility": "private"}, bearer(tok)...)
	wantStatus(t, r, http.StatusOK)
	if body := trending(); strings.Contains(body, pub) {
		t.Fatalf("a private video is still trending from the cache: %s", body)
	}
	wantStatus(t, env.do("GET", "/api/v1/videos/"+pub+"/play", nil, ua...), http.StatusNotFound)
}

// The announcer carries a hidden video to the other processes' caches.
func TestHiddenVideoAnnouncedToOtherProcesses(t *testing.T) {
	env := newTestServer(t)
	a := uccredis.NewAnnouncer(env.rdb, env.prefix)
	got := make(chan string, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := make(chan struct{})
	go func() {
		close(ready)
		a.Listen(ctx, slog.New(slog.NewTextHandler(io.Discard, nil)), func(id int64, pub string) { got <- fmt.Sprint(id, " ", pub) })
	}()
	<-ready
	// Publish until the subscription is up (a message before it is lost,
	// which is why caches also keep their own short TTLs).
	for deadline := time.Now().Add(10 * time.Second); ; {
		if err := a.Announce(ctx, 42, "abcdefghijk"); err != nil {
			t.Fatal(err)
		}
		select {
		case m := <-got:
			if m != "42 abcdefghijk" {
				t.Fatalf("announcement = %q", m)
			}
			return
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("no announcement arrived")
		}
	}
}

// A creator's open tus sessions are capped; ending one frees its place.
func TestOpenUploadSessionsCapped(t *testing.T) {
	env := newTestServer(t, withUploads(func(c *uploads.Config) { c.MaxOpen = 2 }))
	tok, _ := env.creator("opener")
	other, _ := env.creator("another")
	first := env.create(tok, 100, "")
	env.create(tok, 100, "")
	r := env.do("POST", "/api/v1/uploads", nil, tus(tok, "Upload-Length", "100")...)
	wantError(t, r, http.StatusTooManyRequests, "too_many_uploads")
	if !strings.Contains(string(r.Body), "you already have 2 uploads in progress") {
		t.Errorf("the reason: %s", r.Body)
	}
	env.create(other, 100, "") // another creator is not held up
	wantStatus(t, env.do("DELETE", first, nil, tus(tok)...), http.StatusNoContent)
	env.create(tok, 100, "")
}

// Presigned media links live minutes by default, not hours.
func TestPresignedMediaLinksLiveMinutes(t *testing.T) {
	env := newTestServer(t, withS3(), withVideos(func(c *videos.Config) { c.MediaURLTTL = 0 }))
	_, uid := env.creator("linker")
	pub := env.readyVideo(uid, "public")
	if _, err := env.db.Pool.Exec(context.Background(), `UPDATE videos SET thumbnail_key = 'videos/' || public_id || '/thumb.jpg' WHERE public_id = $1`, pub); err != nil {
		t.Fatal(err)
	}
	v := env.getVideo("", pub)
	u, err := url.Parse(v.ThumbnailURL)
	if err != nil || u.Query().Get("X-Amz-Expires") == "" {
		t.Fatalf("thumbnail url %q is not presigned", v.ThumbnailURL)
	}
	if got := u.Query().Get("X-Amz-Expires"); got != "600" {
		t.Fatalf("presigned links live %s s, want 600 (10 minutes)", got)
	}
}
