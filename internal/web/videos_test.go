package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"log/slog"
	"math"
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"

	"github.com/ucc-video/ucc/internal/accounts"
	"github.com/ucc-video/ucc/internal/objects"
	"github.com/ucc-video/ucc/internal/testenv"
	"github.com/ucc-video/ucc/internal/videos"
)

// creator signs up a user and opens their channel; returns the token.
func (ts *testServer) creator(handle string) (string, int64) {
	ts.t.Helper()
	tok, id := ts.user(handle+"@example.com", accounts.RoleViewer)
	r := ts.do("POST", "/api/v1/channels", map[string]string{"name": "Channel " + handle, "handle": handle}, bearer(tok)...)
	wantStatus(ts.t, r, http.StatusCreated)
	return tok, id
}

// gen makes a media file with ffmpeg in dir.
func gen(t *testing.T, dir, name string, args ...string) string {
	t.Helper()
	ff, _ := testenv.FFmpeg(t)
	out := filepath.Join(dir, name)
	cmd := exec.Command(ff, append(append([]string{"-hide_banner", "-v", "error", "-y"}, args...), out)...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("generate %s: %v\n%s", name, err, b)
	}
	return out
}

func lavfiVideo(size string, secs int) []string {
	return []string{"-f", "lavfi", "-i", fmt.Sprintf("testsrc2=s=%s:r=25:d=%d", size, secs)}
}

func lavfiAudio(secs int) []string {
	return []string{"-f", "lavfi", "-i", fmt.Sprintf("sine=f=440:d=%d", secs)}
}

func cat(parts ...[]string) []string {
	var out []string
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// multipartBody builds an upload form; fields first, then the file.
func multipartBody(t testing.TB, fields map[string]string, file []byte, fileName string) ([]byte, string) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for _, k := range []string{"title", "description", "visibility"} {
		if v, ok := fields[k]; ok {
			_ = w.WriteField(k, v)
		}
	}
	if file != nil {
		fw, err := w.CreateFormFile("file", fileName)
		if err != nil {
			t.Fatal(err)
		}
		fw.Write(file)
	}
	w.Close()
	return buf.Bytes(), w.FormDataContentType()
}

func (e *testServer) upload(tok string, fields map[string]string, file []byte, name string) response {
	e.t.Helper()
	body, ct := multipartBody(e.t, fields, file, name)
	return e.do("POST", "/api/v1/videos", body, append(bearer(tok), "Content-Type", ct)...)
}

// work runs the transcoding job of the video directly, as River would.
func (e *testServer) work(publicID string, attempt int) error {
	e.t.Helper()
	var id int64
	if err := e.db.Pool.QueryRow(context.Background(), `SELECT id FROM videos WHERE public_id = $1`, publicID).Scan(&id); err != nil {
		e.t.Fatal(err)
	}
	w := videos.NewTranscodeWorker(e.deps.Videos)
	job := &river.Job[videos.TranscodeArgs]{JobRow: &rivertype.JobRow{Attempt: attempt, MaxAttempts: 5}, Args: videos.TranscodeArgs{VideoID: id}}
	ctx, cancel := context.WithTimeout(context.Background(), w.Timeout(job))
	defer cancel()
	return w.Work(ctx, job)
}

func (e *testServer) getVideo(tok, id string) videos.Video {
	e.t.Helper()
	var h []string
	if tok != "" {
		h = bearer(tok)
	}
	r := e.do("GET", "/api/v1/videos/"+id, nil, h...)
	wantStatus(e.t, r, http.StatusOK)
	return videoOf(e.t, r)
}

type probed struct {
	Streams []struct {
		CodecType string `json:"codec_type"`
		CodecName string `json:"codec_name"`
		Width     int    `json:"width"`
		Height    int    `json:"height"`
	} `json:"streams"`
	Format struct {
		Duration string `json:"duration"`
	} `json:"format"`
}

// ffprobeURL probes a stream URL over HTTP, as a player would fetch it.
func ffprobeURL(t *testing.T, u string) probed {
	t.Helper()
	_, fp := testenv.FFmpeg(t)
	out, err := exec.Command(fp, "-v", "error", "-show_streams", "-show_format", "-of", "json", u).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", u, err)
	}
	var p probed
	if err := json.Unmarshal(out, &p); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestUploadProcessAndPlayS3(t *testing.T) {
	env := newTestServer(t, withS3())
	tok, uid := env.creator("maker")
	dir := t.TempDir()
	x264 := []string{"-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"}
	cases := []struct {
		name       string
		file       string
		duration   float64
		renditions [][2]int // width, height
		audio      bool
	}{
		{"landscape mp4 with audio", gen(t, dir, "land.mp4", cat(lavfiVideo("640x360", 2), lavfiAudio(2), x264, []string{"-c:a", "aac", "-shortest"})...),
			2, [][2]int{{640, 360}}, true},
		{"720p mov with audio", gen(t, dir, "hd.mov", cat(lavfiVideo("1280x720", 2), lavfiAudio(2), x264, []string{"-c:a", "aac", "-shortest"})...),
			2, [][2]int{{640, 360}, {1280, 720}}, true},
		{"small webm vp8/opus", gen(t, dir, "small.webm", cat(lavfiVideo("320x240", 2), lavfiAudio(2),
			[]string{"-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "300k", "-c:a", "libopus", "-shortest"})...),
			2, [][2]int{{320, 240}}, true},
		{"portrait mkv without audio", gen(t, dir, "portrait.mkv", cat(lavfiVideo("360x640", 2), x264)...),
			2, [][2]int{{360, 640}}, false},
		{"audio only m4a", gen(t, dir, "audio.m4a", cat(lavfiAudio(3), []string{"-c:a", "aac"})...),
			3, [][2]int{{640, 360}}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env.t = t
			data, err := os.ReadFile(tc.file)
			if err != nil {
				t.Fatal(err)
			}
			r := env.upload(tok, map[string]string{"title": tc.name, "description": "d", "visibility": "unlisted"}, data, filepath.Base(tc.file))
			wantStatus(t, r, http.StatusCreated)
			v := videoOf(t, r)
			if v.Status != videos.StatusProcessing || v.Title != tc.name || v.Visibility != videos.Unlisted || v.CreatorID != uid || v.Channel.Handle != "maker" {
				t.Fatalf("created video = %+v", v)
			}
			if math.Abs(v.DurationSeconds-tc.duration) > 0.3 {
				t.Errorf("duration_seconds = %v, want ~%v", v.DurationSeconds, tc.duration)
			}
			// The original is under a random key, not the client's file name.
			if keys := env.keys("videos/" + v.PublicID + "/"); len(keys) != 1 || keys[0] != "videos/"+v.PublicID+"/original" {
				t.Fatalf("stored keys = %v", keys)
			}
			// The job was committed with the row.
			if n := env.count(`SELECT count(*) FROM river_job WHERE kind = 'videos.transcode' AND queue = 'transcode'
				AND (args->>'video_id')::bigint = (SELECT id FROM videos WHERE public_id = $1)`, v.PublicID); n != 1 {
				t.Fatalf("transcode jobs = %d, want 1", n)
			}
			if err := env.work(v.PublicID, 1); err != nil {
				t.Fatalf("work: %v", err)
			}
			got := env.getVideo("", v.PublicID) // unlisted: anyone with the link
			if got.Status != videos.StatusReady || got.Progress != 100 || got.PublishedAt == nil || got.ThumbnailURL == "" {
				t.Fatalf("after processing: %+v", got)
			}
			if len(got.Renditions) != len(tc.renditions) {
				t.Fatalf("renditions = %+v, want %v", got.Renditions, tc.renditions)
			}
			for i, want := range tc.renditions {
				rd := got.Renditions[i]
				if rd.Width != want[0] || rd.Height != want[1] || !strings.HasPrefix(rd.URL, "http") {
					t.Errorf("rendition %d = %+v, want %dx%d", i, rd, want[0], want[1])
				}
				p := ffprobeURL(t, rd.URL)
				var hasH264, hasAAC bool
				for _, s := range p.Streams {
					hasH264 = hasH264 || (s.CodecType == "video" && s.CodecName == "h264" && s.Width == want[0] && s.Height == want[1])
					hasAAC = hasAAC || (s.CodecType == "audio" && s.CodecName == "aac")
				}
				d, _ := strconv.ParseFloat(p.Format.Duration, 64)
				if !hasH264 || hasAAC != tc.audio || math.Abs(d-tc.duration) > 0.3 {
					t.Errorf("rendition %d over HTTP: h264=%v aac=%v duration=%v; want h264, aac=%v, ~%vs", i, hasH264, hasAAC, d, tc.audio, tc.duration)
				}
			}
			res, err := http.Get(got.ThumbnailURL)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != 200 || len(b) < 100 || !bytes.HasPrefix(b, []byte("\xff\xd8")) {
				t.Errorf("thumbnail: status %d, %d bytes", res.StatusCode, len(b))
			}
		})
	}
	env.t = t
	// Processing again (a retried job) is a no-op once ready.
	var list struct{ Videos []videos.Video }
	r := env.do("GET", "/api/v1/me/videos", nil, bearer(tok)...)
	wantStatus(t, r, http.StatusOK)
	r.JSON(t, &list)
	if len(list.Videos) != len(cases) {
		t.Fatalf("me/videos has %d videos, want %d", len(list.Videos), len(cases))
	}
}

// videoOf is the video in r's body: {"video": {...}}.
func videoOf(t testing.TB, r response) videos.Video {
	t.Helper()
	var body struct{ Video *videos.Video }
	r.JSON(t, &body)
	if body.Video == nil {
		t.Fatalf("%s %s: no \"video\" in %s", r.Request.Method, r.Request.URL.Path, r.Body)
	}
	return *body.Video
}

// errBody fails unless r has status and error code.
func wantError(t *testing.T, r response, status int, code string) {
	t.Helper()
	wantStatus(t, r, status)
	var e apiError
	r.JSON(t, &e)
	if e.Error.Code != code || e.Error.Message == "" {
		t.Fatalf("error = %+v, want code %s", e.Error, code)
	}
}

func TestUploadRejectsBadInputS3(t *testing.T) {
	dir := t.TempDir()
	clip := gen(t, dir, "clip.mp4", cat(lavfiVideo("320x240", 2), lavfiAudio(2), []string{"-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-shortest"})...)
	good, _ := os.ReadFile(clip)
	env := newTestServer(t, withS3(), withVideos(func(c *videos.Config) {
		c.MaxUploadBytes = int64(len(good)) + 1000
		c.QuotaBytes = int64(len(good)) + 500
	}))
	tok, _ := env.creator("rejects")
	meta := map[string]string{"title": "t"}
	// Corrupt: a real MP4 cut short (its index, at the end, is gone).
	wantError(t, env.upload(tok, meta, good[:len(good)/2], "cut.mp4"), http.StatusBadRequest, "corrupt_file")
	wantError(t, env.upload(tok, meta, []byte("just some text, honestly\n"), "video.mp4"), http.StatusUnsupportedMediaType, "not_a_video")
	wantError(t, env.upload(tok, meta, []byte{}, "empty.mp4"), http.StatusBadRequest, "empty_file")
	wantError(t, env.upload(tok, map[string]string{"title": ""}, good, "clip.mp4"), http.StatusBadRequest, "invalid_title")
	wantError(t, env.upload(tok, map[string]string{"title": "x", "visibility": "secret"}, good, "clip.mp4"), http.StatusBadRequest, "invalid_visibility")
	wantError(t, env.upload(tok, meta, nil, ""), http.StatusBadRequest, "missing_file")
	wantError(t, env.do("POST", "/api/v1/videos", "title=x", bearer(tok)...), http.StatusUnsupportedMediaType, "multipart_required")
	// Oversize with a Content-Length: refused before reading.
	big := append(append([]byte{}, good...), make([]byte, 2000)...)
	wantError(t, env.upload(tok, meta, big, "big.mp4"), http.StatusRequestEntityTooLarge, "file_too_large")
	// Oversize streamed (no Content-Length): refused once the cap is passed.
	body, ct := multipartBody(t, meta, big, "big.mp4")
	req, _ := http.NewRequest("POST", env.http.URL+"/api/v1/videos", io.MultiReader(bytes.NewReader(body)))
	req.ContentLength = -1
	req.Header.Set("Content-Type", ct)
	req.Header.Set("Authorization", "Bearer "+tok)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	rb, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(rb), "file_too_large") {
		t.Fatalf("streamed oversize: %d %s", res.StatusCode, rb)
	}
	// No channel: refused.
	vtok, _ := env.user("nochannel@example.com", accounts.RoleViewer)
	wantError(t, env.upload(vtok, meta, good, "clip.mp4"), http.StatusForbidden, "no_channel")

	if keys := env.keys(""); len(keys) != 0 {
		t.Fatalf("objects left behind: %v", keys)
	}
	if n := env.count(`SELECT count(*) FROM videos`); n != 0 {
		t.Fatalf("%d video rows left behind", n)
	}
	if n := env.count(`SELECT count(*) FROM river_job`); n != 0 {
		t.Fatalf("%d jobs left behind", n)
	}

	// Quota: the first upload fits, the second would pass it.
	r := env.upload(tok, meta, good, "clip.mp4")
	wantStatus(t, r, http.StatusCreated)
	v := videoOf(t, r)
	wantError(t, env.upload(tok, meta, good, "clip.mp4"), http.StatusRequestEntityTooLarge, "quota_exceeded")
	if keys := env.keys(""); len(keys) != 1 || keys[0] != "videos/"+v.PublicID+"/original" {
		t.Fatalf("objects after quota refusal: %v", keys)
	}
	if n := env.count(`SELECT count(*) FROM videos`); n != 1 {
		t.Fatalf("%d video rows, want 1", n)
	}
}

func pngBytes(t *testing.T, w, h int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for x := 0; x < w; x++ {
		img.Set(x, x%h, color.RGBA{255, 0, 0, 255})
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestManageAndServeMediaFS(t *testing.T) {
	env := newTestServer(t)
	tok, _ := env.creator("owner")
	otherTok, _ := env.creator("other")
	clip := gen(t, t.TempDir(), "clip.mkv", cat(lavfiVideo("320x240", 2), lavfiAudio(2), []string{"-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-shortest"})...)
	data, _ := os.ReadFile(clip)
	r := env.upload(tok, map[string]string{"title": "Mine", "visibility": "public"}, data, "clip.mkv")
	wantStatus(t, r, http.StatusCreated)
	v := videoOf(t, r)
	id := v.PublicID
	// Not ready yet: only the owner sees it.
	wantStatus(t, env.do("GET", "/api/v1/videos/"+id, nil), http.StatusNotFound)
	if err := env.work(id, 1); err != nil {
		t.Fatal(err)
	}
	v = env.getVideo("", id)
	if len(v.Renditions) != 1 || !strings.HasPrefix(v.Renditions[0].URL, "/media/videos/"+id+"/") {
		t.Fatalf("renditions = %+v", v.Renditions)
	}
	rendition := v.Renditions[0].URL

	// Range requests are answered with 206.
	r = env.do("GET", rendition, nil, "Range", "bytes=0-99")
	wantStatus(t, r, http.StatusPartialContent)
	if len(r.Body) != 100 || r.Header.Get("Content-Type") != "video/mp4" {
		t.Fatalf("range: %d bytes, %s", len(r.Body), r.Header.Get("Content-Type"))
	}
	wantStatus(t, env.do("GET", v.ThumbnailURL, nil), http.StatusOK)
	// The original is the owner's only.
	wantStatus(t, env.do("GET", "/media/videos/"+id+"/original", nil, bearer(otherTok)...), http.StatusNotFound)
	wantStatus(t, env.do("GET", "/media/videos/"+id+"/original", nil, bearer(tok)...), http.StatusOK)
	wantStatus(t, env.do("GET", "/media/videos/"+id+"/nothing.mp4", nil), http.StatusNotFound)
	wantStatus(t, env.do("GET", "/media/videos/../../etc/passwd", nil), http.StatusNotFound)

	// Someone else may see but not change it.
	wantError(t, env.do("PATCH", "/api/v1/videos/"+id, map[string]any{"title": "pwned"}, bearer(otherTok)...), http.StatusForbidden, "not_owner")
	r = env.do("PATCH", "/api/v1/videos/"+id, map[string]any{"title": "Renamed", "visibility": "private", "comments_enabled": false}, bearer(tok)...)
	wantStatus(t, r, http.StatusOK)
	v = videoOf(t, r)
	if v.Title != "Renamed" || v.Visibility != videos.Private || v.CommentsEnabled {
		t.Fatalf("patched = %+v", v)
	}
	wantError(t, env.do("PATCH", "/api/v1/videos/"+id, map[string]any{"title": "x"}, bearer(otherTok)...), http.StatusNotFound, "video_not_found")
	wantStatus(t, env.do("GET", "/api/v1/videos/"+id, nil, bearer(otherTok)...), http.StatusNotFound)
	wantStatus(t, env.do("GET", rendition, nil), http.StatusNotFound)
	wantStatus(t, env.do("GET", rendition, nil, bearer(tok)...), http.StatusOK)
	wantError(t, env.do("PATCH", "/api/v1/videos/"+id, map[string]any{"visibility": "everyone"}, bearer(tok)...), http.StatusBadRequest, "invalid_visibility")

	// Thumbnail: an image replaces it; anything else is refused.
	r = env.do("PUT", "/api/v1/videos/"+id+"/thumbnail", pngBytes(t, 64, 36), append(bearer(tok), "Content-Type", "image/png")...)
	wantStatus(t, r, http.StatusOK)
	withThumb := videoOf(t, r)
	if withThumb.ThumbnailURL == v.ThumbnailURL || !strings.HasSuffix(withThumb.ThumbnailURL, ".jpg") /* re-encoded */ {
		t.Fatalf("thumbnail url %q (was %q)", withThumb.ThumbnailURL, v.ThumbnailURL)
	}
	wantStatus(t, env.do("GET", withThumb.ThumbnailURL, nil, bearer(tok)...), http.StatusOK)
	wantError(t, env.do("PUT", "/api/v1/videos/"+id+"/thumbnail", []byte("not an image at all"), bearer(tok)...), http.StatusUnsupportedMediaType, "not_an_image")
	wantError(t, env.do("PUT", "/api/v1/videos/"+id+"/thumbnail", make([]byte, videos.MaxThumbnailBytes+1), bearer(tok)...), http.StatusRequestEntityTooLarge, "thumbnail_too_large")

	// Pages.
	r = env.do("GET", "/studio", nil, bearer(tok)...)
	wantStatus(t, r, http.StatusOK)
	if !strings.Contains(string(r.Body), "Renamed") || !strings.Contains(string(r.Body), "/studio/videos/"+id+"/edit") {
		t.Fatalf("studio page lacks the video: %s", r.Body)
	}
	r = env.do("GET", "/studio/videos/"+id+"/edit", nil, bearer(tok)...)
	wantStatus(t, r, http.StatusOK)
	wantStatus(t, env.do("GET", "/studio/videos/"+id+"/edit", nil, bearer(otherTok)...), http.StatusNotFound)
	r = env.do("POST", "/studio/videos/"+id+"/edit", "title=From+the+form&description=&visibility=unlisted", bearer(tok)...)
	wantStatus(t, r, http.StatusSeeOther)
	if v = env.getVideo(tok, id); v.Title != "From the form" || v.Visibility != videos.Unlisted || v.CommentsEnabled {
		t.Fatalf("after form edit: %+v", v)
	}
	r = env.do("POST", "/studio/videos/"+id+"/edit", "title=&visibility=public", bearer(tok)...)
	wantStatus(t, r, http.StatusBadRequest)
	if !strings.Contains(string(r.Body), "title must be") {
		t.Fatalf("form error not shown: %s", r.Body)
	}

	// Delete: every object and the row go; daily view buckets stay.
	var internalID int64
	_ = env.db.Pool.QueryRow(context.Background(), `SELECT id FROM videos WHERE public_id = $1`, id).Scan(&internalID)
	if _, err := env.db.Pool.Exec(context.Background(), `INSERT INTO video_views_daily (video_id, creator_id, day, views) SELECT id, creator_id, current_date, 7 FROM videos WHERE id = $1`, internalID); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, env.do("DELETE", "/api/v1/videos/"+id, nil, bearer(otherTok)...), http.StatusForbidden)
	wantStatus(t, env.do("DELETE", "/api/v1/videos/"+id, nil, bearer(tok)...), http.StatusNoContent)
	if keys := env.keys("videos/"); len(keys) != 0 {
		t.Fatalf("objects left after delete: %v", keys)
	}
	if n := env.count(`SELECT count(*) FROM videos`); n != 0 {
		t.Fatal("video row left after delete")
	}
	if n := env.count(`SELECT count(*) FROM renditions`); n != 0 {
		t.Fatal("renditions left after delete")
	}
	if n := env.count(`SELECT count(*) FROM video_views_daily WHERE video_id = $1`, internalID); n != 1 {
		t.Fatal("daily view bucket was deleted")
	}
	wantStatus(t, env.do("DELETE", "/api/v1/videos/"+id, nil, bearer(tok)...), http.StatusNotFound)
}

func TestProcessingFailureAndRerun(t *testing.T) {
	env := newTestServer(t)
	st := env.fsStore
	tok, _ := env.creator("failing")
	clip := gen(t, t.TempDir(), "clip.mp4", cat(lavfiVideo("320x240", 2), []string{"-c:v", "libx264", "-preset", "ultrafast", "-movflags", "+faststart"})...)
	data, _ := os.ReadFile(clip)

	// A re-run after a crash overwrites the previous outputs.
	r := env.upload(tok, map[string]string{"title": "again"}, data, "clip.mp4")
	wantStatus(t, r, http.StatusCreated)
	v := videoOf(t, r)
	if err := env.work(v.PublicID, 1); err != nil {
		t.Fatal(err)
	}
	before := env.keys("videos/" + v.PublicID + "/")
	if _, err := env.db.Pool.Exec(context.Background(), `UPDATE videos SET status = 'processing' WHERE public_id = $1`, v.PublicID); err != nil {
		t.Fatal(err)
	}
	if err := env.work(v.PublicID, 2); err != nil {
		t.Fatal(err)
	}
	after := env.keys("videos/" + v.PublicID + "/")
	if fmt.Sprint(before) != fmt.Sprint(after) || env.count(`SELECT count(*) FROM renditions`) != 1 {
		t.Fatalf("re-run changed outputs: %v → %v", before, after)
	}

	// A file that probes but cannot be decoded fails permanently, with a reason and no outputs.
	r = env.upload(tok, map[string]string{"title": "broken"}, data, "clip.mp4")
	wantStatus(t, r, http.StatusCreated)
	v = videoOf(t, r)
	path, _ := st.Path("videos/" + v.PublicID + "/original")
	broken := append([]byte{}, data...)
	for i := len(broken) / 3; i < len(broken); i++ { // keep the faststart index, wreck the frames
		broken[i] = 0
	}
	if err := os.WriteFile(path, broken, 0o644); err != nil {
		t.Fatal(err)
	}
	err := env.work(v.PublicID, 1)
	var cancel *river.JobCancelError
	if !errors.As(err, &cancel) {
		t.Fatalf("work on a broken file: %v, want a cancelled job", err)
	}
	v = env.getVideo(tok, v.PublicID)
	if v.Status != videos.StatusFailed || v.FailureReason == "" {
		t.Fatalf("after failure: status %s reason %q", v.Status, v.FailureReason)
	}
	for _, k := range env.keys("videos/" + v.PublicID + "/") {
		if !strings.HasSuffix(k, "/original") {
			t.Errorf("partial output left: %s", k)
		}
	}
	r = env.do("GET", "/studio", nil, bearer(tok)...)
	if !strings.Contains(string(r.Body), v.FailureReason) {
		t.Errorf("studio does not show the failure reason %q", v.FailureReason)
	}
}

func TestChannels(t *testing.T) {
	env := newTestServer(t)
	tok, id := env.user("ann@example.com", accounts.RoleViewer)
	wantError(t, env.do("GET", "/api/v1/me/channel", nil, bearer(tok)...), http.StatusNotFound, "no_channel")
	wantError(t, env.do("POST", "/api/v1/channels", map[string]string{"name": "Ann", "handle": "a b"}, bearer(tok)...), http.StatusBadRequest, "invalid_handle")
	wantError(t, env.do("POST", "/api/v1/channels", map[string]string{"name": "", "handle": "ann"}, bearer(tok)...), http.StatusBadRequest, "invalid_name")
	r := env.do("POST", "/api/v1/channels", map[string]string{"name": "Ann's films", "handle": "@Ann", "description": "short films"}, bearer(tok)...)
	wantStatus(t, r, http.StatusCreated)
	var created struct{ Channel videos.Channel }
	r.JSON(t, &created)
	ch := created.Channel
	if ch.Handle != "ann" || ch.Name != "Ann's films" || ch.OwnerID != id {
		t.Fatalf("channel = %+v", ch)
	}
	u, _ := env.deps.Accounts.User(context.Background(), id)
	if u.Role != accounts.RoleCreator {
		t.Fatalf("role after opening a channel = %s", u.Role)
	}
	wantError(t, env.do("POST", "/api/v1/channels", map[string]string{"name": "Again", "handle": "ann2"}, bearer(tok)...), http.StatusConflict, "channel_exists")
	r = env.do("GET", "/api/v1/me/channel", nil, bearer(tok)...)
	wantStatus(t, r, http.StatusOK)

	ftok, fid := env.user("fin@example.com", accounts.RoleFinance)
	wantError(t, env.do("POST", "/api/v1/channels", map[string]string{"name": "Fin", "handle": "ANN"}, bearer(ftok)...), http.StatusConflict, "handle_taken")
	// Nothing half-written: no channel for the refused user.
	if n := env.count(`SELECT count(*) FROM channels WHERE owner_id = $1`, fid); n != 0 {
		t.Fatal("refused channel was written")
	}
	wantStatus(t, env.do("POST", "/api/v1/channels", map[string]string{"name": "Fin", "handle": "fin"}, bearer(ftok)...), http.StatusCreated)
	if u, _ := env.deps.Accounts.User(context.Background(), fid); u.Role != accounts.RoleFinance {
		t.Fatalf("finance role became %s", u.Role)
	}

	// The page form.
	ptok, _ := env.user("page@example.com", accounts.RoleViewer)
	wantStatus(t, env.do("GET", "/channels/new", nil, bearer(ptok)...), http.StatusOK)
	r = env.do("POST", "/channels/new", "name=Page&handle=ann", bearer(ptok)...)
	wantStatus(t, r, http.StatusConflict)
	if !strings.Contains(string(r.Body), "already taken") {
		t.Fatalf("form error not shown: %s", r.Body)
	}
	r = env.do("POST", "/channels/new", "name=Page&handle=page-one", bearer(ptok)...)
	wantStatus(t, r, http.StatusSeeOther)
	opened := flashCookieOf(t, r)
	wantStatus(t, env.do("GET", "/channels/new", nil, bearer(ptok)...), http.StatusSeeOther)
	r = env.do("GET", r.Header.Get("Location"), nil, append(bearer(ptok), "Cookie", flashCookie+"="+opened)...)
	wantStatus(t, r, http.StatusOK)
	if !strings.Contains(string(r.Body), "@page-one") || !strings.Contains(string(r.Body), "Your channel is open") {
		t.Fatalf("studio: %s", r.Body)
	}
}

func TestRiverClientRunsTranscode(t *testing.T) {
	clip := gen(t, t.TempDir(), "clip.mp4", cat(lavfiVideo("320x240", 2), lavfiAudio(2), []string{"-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-shortest"})...)
	data, _ := os.ReadFile(clip)
	env := newTestServer(t, withVideos(func(c *videos.Config) { c.QuotaBytes = int64(len(data)) }))
	workers := river.NewWorkers()
	river.AddWorker(workers, videos.NewTranscodeWorker(env.deps.Videos))
	client, err := river.NewClient(riverpgxv5.New(env.db.Pool), &river.Config{
		Workers: workers, Queues: map[string]river.QueueConfig{videos.TranscodeQueue: {MaxWorkers: 1}},
		FetchPollInterval: 200 * time.Millisecond, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	events, cancel := client.Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed, river.EventKindJobCancelled)
	defer cancel()
	ctx := context.Background()
	if err := client.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Stop(ctx) })

	tok, _ := env.creator("river")
	r := env.upload(tok, map[string]string{"title": "via river"}, data, "clip.mp4")
	wantStatus(t, r, http.StatusCreated)
	v := videoOf(t, r)
	select {
	case ev := <-events:
		if ev.Kind != river.EventKindJobCompleted {
			t.Fatalf("job ended with %s: %v", ev.Kind, ev.Job.Errors)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("transcode job did not finish within 60s")
	}
	if v = env.getVideo("", v.PublicID); v.Status != videos.StatusReady || len(v.Renditions) != 1 {
		t.Fatalf("after River ran the job: %+v", v)
	}
	// The quota is now used up: refused before any byte is stored.
	wantError(t, env.upload(tok, map[string]string{"title": "more"}, data, "clip.mp4"), http.StatusForbidden, "quota_exceeded")
}

func TestSweepOrphans(t *testing.T) {
	env := newTestServer(t)
	st := env.fsStore
	tok, _ := env.creator("sweeper")
	clip := gen(t, t.TempDir(), "clip.mp4", cat(lavfiVideo("320x240", 1), []string{"-c:v", "libx264", "-preset", "ultrafast"})...)
	data, _ := os.ReadFile(clip)
	r := env.upload(tok, map[string]string{"title": "kept"}, data, "clip.mp4")
	wantStatus(t, r, http.StatusCreated)
	v := videoOf(t, r)
	ctx := context.Background()
	orphan := "videos/AAAAAAAAAAA/original" // stored, then the process died before the row was committed
	if _, err := st.Put(ctx, orphan, strings.NewReader("bytes"), 5, objects.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	// Within the grace period nothing is touched (it may be an upload in flight).
	if n, err := env.deps.Videos.SweepOrphans(ctx); err != nil || n != 0 {
		t.Fatalf("early sweep deleted %d (%v)", n, err)
	}
	laterCfg := env.videoCfg
	laterCfg.Now = func() time.Time { return time.Now().Add(videos.SweepGrace + time.Hour) }
	later, err := videos.NewService(laterCfg)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := later.SweepOrphans(ctx); err != nil || n != 1 {
		t.Fatalf("sweep deleted %d (%v), want 1", n, err)
	}
	if keys := env.keys("videos/"); len(keys) != 1 || keys[0] != "videos/"+v.PublicID+"/original" {
		t.Fatalf("after sweep: %v", keys)
	}
}
