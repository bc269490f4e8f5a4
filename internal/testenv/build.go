package testenv

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
)

// ModuleRoot walks up from the working directory to the directory that
// holds go.mod.
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found above the working directory; run from the repository")
		}
		dir = parent
	}
}

// buildUCC builds ./cmd/ucc of the module at root into out the way
// `make build` does, stamped with version.
func buildUCC(ctx context.Context, root, out, version string) error {
	goBin, err := exec.LookPath("go")
	if err != nil {
		return fmt.Errorf("the go command is not on PATH: %w", err)
	}
	cmd := exec.CommandContext(ctx, goBin, "build", "-trimpath", "-ldflags", "-X main.version="+version, "-o", out, "./cmd/ucc")
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build ./cmd/ucc: %v\n%s", err, b)
	}
	return nil
}

// artifacts is what a test binary builds once and shares between its tests:
// the ucc binary and the test clips, in one temporary directory that Main
// removes. It is the package's only state, and each entry is written once.
var artifacts struct {
	mu      sync.Mutex // guards managed and dir
	managed bool       // Main runs the tests
	dir     string

	uccMu  sync.Mutex // held while ucc builds
	ucc    string
	uccErr error

	clipMu sync.Mutex // held while a clip is made
	clips  map[Clip]string
}

// Main runs the tests of a package that uses UCCBinary or ClipFile, then
// removes what they built. Call it from TestMain:
//
//	func TestMain(m *testing.M) { testenv.Main(m) }
func Main(m *testing.M) {
	artifacts.mu.Lock()
	artifacts.managed = true
	artifacts.mu.Unlock()
	code := m.Run()
	artifacts.mu.Lock()
	if artifacts.dir != "" {
		os.RemoveAll(artifacts.dir)
	}
	artifacts.mu.Unlock()
	os.Exit(code)
}

// artifactDir is the temporary directory of this test binary's artifacts.
func artifactDir() (string, error) {
	artifacts.mu.Lock()
	defer artifacts.mu.Unlock()
	if !artifacts.managed {
		return "", errors.New("testenv: call testenv.Main(m) from TestMain, so that what the tests build is removed")
	}
	if artifacts.dir == "" {
		dir, err := os.MkdirTemp("", "ucc-testenv-")
		if err != nil {
			return "", err
		}
		artifacts.dir = dir
	}
	return artifacts.dir, nil
}

// SharedDirEnv names the variable with which cmd/testenv gives the test
// binaries of one run a directory to share: the ucc binary is built there
// once for all of them.
const SharedDirEnv = "UCC_TEST_SHARED_DIR"

// BuildUCCOnce returns dir/ucc, building it first (stamped version
// "testenv") unless another process of the same run already has: builders
// take turns on a lock file, so the binary is built once per directory.
func BuildUCCOnce(ctx context.Context, dir string) (string, error) {
	lock, err := os.OpenFile(filepath.Join(dir, "ucc.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return "", err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", fmt.Errorf("lock %s: %w", lock.Name(), err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN) //nolint:errcheck
	bin := filepath.Join(dir, "ucc")
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	root, err := ModuleRoot()
	if err != nil {
		return "", err
	}
	// Built under another name and renamed, so that no one ever sees half a binary.
	if err := buildUCC(ctx, root, bin+".tmp", "testenv"); err != nil {
		return "", err
	}
	return bin, os.Rename(bin+".tmp", bin)
}

// UCCBinary builds ./cmd/ucc once per run (once per test binary outside
// cmd/testenv) and returns its path.
func UCCBinary(t testing.TB) string {
	t.Helper()
	artifacts.uccMu.Lock()
	defer artifacts.uccMu.Unlock()
	if artifacts.ucc == "" && artifacts.uccErr == nil {
		artifacts.uccErr = func() (err error) {
			dir := os.Getenv(SharedDirEnv)
			if dir == "" {
				if dir, err = artifactDir(); err != nil {
					return err
				}
			}
			artifacts.ucc, err = BuildUCCOnce(context.Background(), dir)
			return err
		}()
	}
	if artifacts.uccErr != nil {
		t.Fatal(artifacts.uccErr)
	}
	return artifacts.ucc
}

// Clip describes a test video that ffmpeg generates from its test pattern
// (and a sine tone).
type Clip struct {
	Name    string // file name, unique per test binary; its extension picks the container
	Size    string // WIDTHxHEIGHT
	Rate    int    // frames per second
	Seconds int    // length; or
	Frames  int    // a number of frames (no sound)
	Tone    int    // sine frequency in Hz; 0: no sound
	// AudioKbps is the AAC bit rate (0: ffmpeg's default).
	AudioKbps int
	Raw       bool // uncompressed yuv420p video instead of H.264
	FastStart bool // MP4 index at the front, as for progressive playback
}

// args are ffmpeg's arguments that write c to path.
func (c Clip) args(path string) []string {
	args := []string{"-hide_banner", "-nostdin", "-y", "-v", "error",
		"-f", "lavfi", "-i", fmt.Sprintf("testsrc2=size=%s:rate=%d", c.Size, c.Rate)}
	if c.Tone > 0 {
		args = append(args, "-f", "lavfi", "-i", fmt.Sprintf("sine=frequency=%d", c.Tone))
	}
	if c.Frames > 0 {
		args = append(args, "-frames:v", fmt.Sprint(c.Frames))
	} else {
		args = append(args, "-t", fmt.Sprint(c.Seconds))
	}
	if c.Raw {
		args = append(args, "-c:v", "rawvideo", "-pix_fmt", "yuv420p")
	} else {
		args = append(args, "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p")
	}
	if c.Tone > 0 {
		args = append(args, "-c:a", "aac")
		if c.AudioKbps > 0 {
			args = append(args, "-b:a", fmt.Sprintf("%dk", c.AudioKbps))
		}
		args = append(args, "-shortest")
	}
	if c.FastStart {
		args = append(args, "-movflags", "+faststart")
	}
	return append(args, path)
}

// MakeClip writes c to path with ffmpeg.
func MakeClip(ctx context.Context, ffmpeg, path string, c Clip) error {
	if out, err := exec.CommandContext(ctx, ffmpeg, c.args(path)...).CombinedOutput(); err != nil {
		return fmt.Errorf("ffmpeg %v: %w\n%s", c.args(path), err, out)
	}
	return nil
}

// ClipFile makes c once per test binary and returns its path; it needs
// ffmpeg (see FFmpeg).
func ClipFile(t testing.TB, c Clip) string {
	t.Helper()
	ffmpeg, _ := FFmpeg(t)
	artifacts.clipMu.Lock()
	defer artifacts.clipMu.Unlock()
	if p, ok := artifacts.clips[c]; ok {
		return p
	}
	dir, err := artifactDir()
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, c.Name)
	if err := MakeClip(context.Background(), ffmpeg, p, c); err != nil {
		t.Fatal(err)
	}
	if artifacts.clips == nil {
		artifacts.clips = map[Clip]string{}
	}
	artifacts.clips[c] = p
	return p
}
