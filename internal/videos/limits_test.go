package videos

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ucc-video/ucc/internal/errs"
)

func TestLimitsRefuseBeforeWork(t *testing.T) {
	l := Limits{}.withDefaults()
	ok := Probe{VideoCodec: "h264", Width: 1920, Height: 1080, Duration: 60, Streams: 2, BitDepth: 8, Frames: 1500}
	if err := l.check(ok, 10<<20); err != nil {
		t.Fatalf("an ordinary 1080p minute: %v", err)
	}
	for _, c := range []struct {
		name    string
		p       func(*Probe)
		size    int64
		variant string
	}{
		{"16000² MJPEG", func(p *Probe) { p.Width, p.Height = 16000, 16000 }, 4 << 20, "pixels"},
		{"two frames ten hours apart in 7 KB", func(p *Probe) { p.Duration = 36000 }, 7 << 10, "sparse"},
		{"two days", func(p *Probe) { p.Duration = 48 * 3600 }, 100 << 30, "duration"},
		{"40 streams", func(p *Probe) { p.Streams = 40 }, 10 << 20, "streams"},
		{"16-bit video", func(p *Probe) { p.BitDepth = 16 }, 10 << 20, "bit_depth"},
		{"a million frames a minute", func(p *Probe) { p.Frames = 3_000_000 }, 10 << 20, "frames"},
	} {
		p := ok
		c.p(&p)
		err := l.check(p, c.size)
		var e *errs.Error
		if !errors.As(err, &e) || e.Key() != "media_limit."+c.variant || !errors.Is(err, errs.ErrTooLarge) {
			t.Errorf("%s: %v, want media_limit.%s", c.name, err, c.variant)
			continue
		}
		// The stored reason reads back into the same error, for the
		// studio in the creator's language.
		back := Failure(err.Error())
		var be *errs.Error
		if !errors.As(back, &be) || be.Key() != e.Key() || be.Error() != e.Error() {
			t.Errorf("%s: Failure(%q) = %v", c.name, err.Error(), back)
		}
	}
	if Failure(errTookTooLong(2*time.Hour).Error()).Error() != errTookTooLong(2*time.Hour).Error() {
		t.Error("the timeout reason does not read back")
	}
}

func TestBitDepth(t *testing.T) {
	for _, c := range []struct {
		pix, raw string
		want     int
	}{{"yuv420p", "", 8}, {"yuv420p10le", "", 10}, {"rgb48be", "", 16}, {"rgba64le", "", 16}, {"gray16be", "", 16}, {"yuvj420p", "8", 8}, {"", "", 0}, {"yuv444p12le", "12", 12}} {
		if got := bitDepth(c.pix, c.raw); got != c.want {
			t.Errorf("bitDepth(%q, %q) = %d, want %d", c.pix, c.raw, got, c.want)
		}
	}
}

// ffmpeg and ffprobe run with an empty environment: a decoder exploit
// finds no database URL, S3 key or UCC_SECRET_KEY to read.
func TestChildrenGetAnEmptyEnvironment(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "env")
	fake := filepath.Join(dir, "fake-ffmpeg")
	// The fake binary writes its environment where the test can read it.
	script := "#!/bin/sh\n/usr/bin/env > " + out + "\n"
	if err := os.WriteFile(fake, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("UCC_SECRET_KEY", "secret-that-must-not-leak-0123456789")
	t.Setenv("UCC_DATABASE_URL", "postgres://user:pw@db/ucc")
	t.Setenv("UCC_S3_SECRET_KEY", "s3-secret")
	pl := newPipeline(fake, fake, "", dir, nil)
	for _, run := range []func() error{
		func() error { return pl.runFFmpeg(context.Background(), []string{"-version"}, nil) },
		func() error { _, err := pl.ffprobe(context.Background(), "x", "file"); return err },
	} {
		_ = os.Remove(out)
		_ = run() // the fake prints no probe; only its environment matters
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatalf("the fake binary did not run: %v", err)
		}
		for _, secret := range []string{"UCC_", "secret-that-must-not-leak", "s3-secret", "postgres://"} {
			if strings.Contains(string(b), secret) {
				t.Errorf("the child's environment holds %q:\n%s", secret, b)
			}
		}
	}
}
