package web

import (
	"bytes"
	"encoding/binary"
	"math"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/ucc-video/ucc/internal/views"
)

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
	env := newTestServer(t, withViewRules(func(c *views.Config) { c.MinWatch = 30 * time.Second }))
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
