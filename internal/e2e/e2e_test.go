// Package e2e drives the real site in Debian's Chromium: it builds the ucc
// binary, serves it on a fresh database, Redis prefix and MinIO bucket, and
// runs the node:test specs in specs/ (playwright-core, no downloaded browser)
// against it. Screenshots of every step land in test-output/e2e/ at the
// repository root.
//
// Run it with the other tests (`make test`), or alone:
//
//	go run ./cmd/testenv -- go test -count=1 -v ./internal/e2e/
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ucc-video/ucc/internal/testenv"
	"github.com/ucc-video/ucc/storage/postgres/pgtest"
)

// chromiumPath is Debian's Chromium; the specs never use a downloaded browser.
const chromiumPath = "/usr/bin/chromium"

// playwrightVersion must match package.json (checked by TestPackagePinned).
const playwrightVersion = "1.65.1"

// site is a running `ucc serve` for the journey.
type site struct {
	root     string // repository root
	bin      string // the ucc binary
	baseURL  string
	env      []string // environment of ucc (serve and the users command)
	logPath  string
	outDir   string // test-output/e2e
	finEmail string
	finPass  string
	clip     string // generated mp4
	dbURL    string
}

// TestBrowserJourney is the whole journey: sign-up and log-in, the creator's
// upload, the viewer's watch, comments and likes, the finance run. The
// page-weight check runs against the same server.
//
// The specs run in two rounds. A month's revenue can only be calculated
// once the month is over, so after the first round (the journey, whose view
// lands in today's daily bucket) the harness lets a month pass by moving the
// daily view buckets one month back, and the second round (*.later.test.mjs:
// finance) runs the period of the month that now holds the view.
func TestBrowserJourney(t *testing.T) {
	node, npm := requireBrowserTools(t)
	ffmpeg, _ := testenv.FFmpeg(t)
	s := startSite(t, ffmpeg)

	installDeps(t, npm)
	all, err := filepath.Glob(filepath.Join(s.root, "internal", "e2e", "specs", "*.test.mjs"))
	if err != nil || len(all) == 0 {
		t.Fatalf("no specs in internal/e2e/specs (%v)", err)
	}
	sort.Strings(all)
	var now, later []string
	for _, f := range all {
		if strings.HasSuffix(f, ".later.test.mjs") {
			later = append(later, f)
		} else {
			now = append(now, f)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	start := time.Now()
	s.runSpecs(t, ctx, node, "node.log", now)
	period := s.monthPasses(t, ctx)
	s.runSpecs(t, ctx, node, "node-later.log", later, "PERIOD="+period)
	t.Logf("browser specs passed in %s; screenshots in %s", time.Since(start).Round(time.Second), s.outDir)

	// The page weight of the pages the journey made: the watch page of its
	// video (with a comment thread), and the home page listing it.
	var journey struct {
		WatchPath string `json:"watchPath"`
	}
	b, err := os.ReadFile(filepath.Join(s.outDir, "journey.json"))
	if err == nil {
		err = json.Unmarshal(b, &journey)
	}
	if err != nil || journey.WatchPath == "" {
		t.Fatalf("the journey left no watch page to weigh (journey.json: %v)", err)
	}
	t.Run("page weight", func(t *testing.T) {
		checkPageWeight(t, s, journey.WatchPath)
		checkPageWeight(t, s, "/")
	})
}

// runSpecs runs node's test runner on specs, one file at a time, against
// the site; it fails t when a spec fails.
func (s *site) runSpecs(t *testing.T, ctx context.Context, node, logName string, specs []string, env ...string) {
	t.Helper()
	if len(specs) == 0 {
		return
	}
	args := append([]string{"--test", "--test-concurrency=1", "--test-reporter=spec"}, specs...)
	cmd := exec.CommandContext(ctx, node, args...)
	cmd.Dir = filepath.Join(s.root, "internal", "e2e")
	cmd.Env = append(os.Environ(),
		"BASE_URL="+s.baseURL,
		"CHROMIUM="+chromiumPath,
		"SCREENSHOT_DIR="+s.outDir,
		"CLIP_PATH="+s.clip,
		"FINANCE_EMAIL="+s.finEmail,
		"FINANCE_PASSWORD="+s.finPass,
		"PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1",
		"PLAYWRIGHT_BROWSERS_PATH=0",
	)
	cmd.Env = append(cmd.Env, env...)
	cmd.WaitDelay = 10 * time.Second
	start := time.Now()
	if err := runStreaming(cmd, "node", filepath.Join(s.outDir, logName)); err != nil {
		t.Fatalf("node --test %s failed after %s: %v\nserver log: %s (last lines below)\n%s",
			strings.Join(relNames(specs), " "), time.Since(start).Round(time.Second), err, s.logPath, tail(s.logPath, 40))
	}
}

func relNames(paths []string) []string {
	out := make([]string, len(paths))
	for i, p := range paths {
		out[i] = filepath.Base(p)
	}
	return out
}

// monthPasses moves every daily view bucket one month back, as if a month
// had gone by, and returns the month (YYYY-MM) that now holds the journey's
// views. The lifetime totals on the videos do not change.
func (s *site) monthPasses(t *testing.T, ctx context.Context) string {
	t.Helper()
	conn, err := pgx.Connect(ctx, s.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var months []string
	rows, err := conn.Query(ctx, `UPDATE video_views_daily SET day = (day - interval '1 month')::date
		RETURNING to_char(day, 'YYYY-MM')`)
	if err == nil {
		months, err = pgx.CollectRows(rows, pgx.RowTo[string])
	}
	if err != nil {
		t.Fatalf("move the daily view buckets a month back: %v", err)
	}
	if len(months) == 0 {
		t.Fatal("the journey left no daily view bucket: was the view counted and flushed?")
	}
	sort.Strings(months)
	return months[len(months)-1]
}

// requireBrowserTools returns node and npm, or skips (fails under CI=true)
// when they or Chromium are missing. cmd/testenv installs them.
func requireBrowserTools(t *testing.T) (node, npm string) {
	t.Helper()
	if fi, err := os.Stat(chromiumPath); err != nil || fi.Mode()&0o111 == 0 {
		testenv.Missing(t, "Chromium not found at %s (apt-get install -y chromium; `make test` does it)", chromiumPath)
	}
	var err error
	if node, err = exec.LookPath("node"); err != nil {
		testenv.Missing(t, "node is not on PATH (apt-get install -y nodejs npm)")
	}
	if npm, err = exec.LookPath("npm"); err != nil {
		testenv.Missing(t, "npm is not on PATH (apt-get install -y npm)")
	}
	out, err := exec.Command(node, "-p", "process.versions.node.split('.')[0]").Output()
	if err != nil {
		t.Fatalf("node -p: %v", err)
	}
	var major int
	fmt.Sscan(strings.TrimSpace(string(out)), &major)
	if major < 20 {
		testenv.Missing(t, "node %s is too old for the specs (need 20 or later)", strings.TrimSpace(string(out)))
	}
	return node, npm
}

// repoRoot is the directory of go.mod.
func repoRoot(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if gomod := strings.TrimSpace(string(out)); err == nil && gomod != "" && gomod != os.DevNull {
		return filepath.Dir(gomod)
	}
	abs, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(abs, "go.mod")); err != nil {
		t.Fatalf("cannot find the repository root: %v", err)
	}
	return abs
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// startSite builds ucc, prepares its services and test data, starts `ucc
// serve` and waits until /readyz answers 200. Everything stops when t ends.
func startSite(t *testing.T, ffmpeg string) *site {
	t.Helper()
	s3 := testenv.S3Server(t)
	redisURL := testenv.RedisURL(t)
	dbURL := pgtest.URL(t)

	s := &site{root: repoRoot(t), dbURL: dbURL, finEmail: "finance-" + randomHex(3) + "@example.com", finPass: "finance-" + randomHex(8)}
	s.outDir = filepath.Join(s.root, "test-output", "e2e")
	if err := os.RemoveAll(s.outDir); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(s.outDir, 0o755); err != nil {
		t.Fatal(err)
	}
	s.logPath = filepath.Join(s.outDir, "ucc.log")
	tmp := t.TempDir()

	s.bin = filepath.Join(tmp, "ucc")
	build := exec.Command("go", "build", "-o", s.bin, "./cmd/ucc")
	build.Dir = s.root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/ucc: %v\n%s", err, out)
	}

	// A small clip for the upload: 6 s of test pattern and a tone.
	s.clip = filepath.Join(tmp, "journey-clip.mp4")
	gen := exec.Command(ffmpeg, "-hide_banner", "-loglevel", "error", "-y",
		"-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25:duration=6",
		"-f", "lavfi", "-i", "sine=frequency=440:duration=6",
		"-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
		"-c:a", "aac", "-b:a", "64k", "-shortest", "-movflags", "+faststart", s.clip)
	if out, err := gen.CombinedOutput(); err != nil {
		t.Fatalf("generate the clip with ffmpeg: %v\n%s", err, out)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	s.baseURL = "http://" + addr

	s.env = append(withoutUCCEnv(os.Environ()),
		"UCC_HTTP_ADDR="+addr,
		"UCC_BASE_URL="+s.baseURL,
		"UCC_DATABASE_URL="+dbURL,
		"UCC_DATABASE_MAX_CONNS=10",
		"UCC_REDIS_URL="+redisURL,
		"UCC_REDIS_PREFIX=e2e"+randomHex(6),
		"UCC_STORAGE=s3",
		"UCC_S3_ENDPOINT="+s3.Endpoint,
		"UCC_S3_ACCESS_KEY="+s3.AccessKey,
		"UCC_S3_SECRET_KEY="+s3.SecretKey,
		"UCC_S3_REGION="+s3.Region,
		"UCC_S3_BUCKET=e2e-"+randomHex(6),
		"UCC_SECRET_KEY="+randomHex(32),
		"UCC_VIEW_MIN_WATCH=3s",
		"UCC_VIEW_FLUSH_INTERVAL=500ms",
		"UCC_LOG_FORMAT=text",
		"UCC_LOG_LEVEL=debug",
		"UCC_SHUTDOWN_TIMEOUT=5s",
	)

	// The finance account comes from the operator command, as in production.
	users := exec.Command(s.bin, "users", "create", "--email", s.finEmail, "--role", "finance",
		"--display-name", "Fiona Finance", "--password-stdin")
	users.Env = s.env
	users.Stdin = strings.NewReader(s.finPass + "\n")
	if out, err := users.CombinedOutput(); err != nil {
		t.Fatalf("ucc users create: %v\n%s", err, out)
	}

	logFile, err := os.Create(s.logPath)
	if err != nil {
		t.Fatal(err)
	}
	serve := exec.Command(s.bin, "serve")
	serve.Env = s.env
	serve.Stdout, serve.Stderr = logFile, logFile
	serve.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- serve.Wait(); logFile.Close() }()
	t.Cleanup(func() {
		_ = syscall.Kill(-serve.Process.Pid, syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-serve.Process.Pid, syscall.SIGKILL)
			<-done
		}
	})

	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := client.Get(s.baseURL + "/readyz")
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
			err = fmt.Errorf("HTTP %d %s", resp.StatusCode, bytes.TrimSpace(body))
		}
		select {
		case werr := <-done:
			t.Fatalf("ucc serve exited before it was ready (%v); log:\n%s", werr, tail(s.logPath, 40))
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("ucc serve not ready after 60 s (%v); log:\n%s", err, tail(s.logPath, 40))
		}
	}
	t.Logf("ucc serve at %s (log %s)", s.baseURL, s.logPath)
	return s
}

// withoutUCCEnv drops the caller's UCC_* settings so that only the test's
// configuration reaches ucc.
func withoutUCCEnv(env []string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, "UCC_") {
			out = append(out, kv)
		}
	}
	return out
}

// installDeps runs `npm ci` when node_modules is missing or stale. The
// browser is Debian's: PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD stops any download.
func installDeps(t *testing.T, npm string) {
	t.Helper()
	dir := filepath.Join(repoRoot(t), "internal", "e2e")
	pkg := filepath.Join(dir, "node_modules", "playwright-core", "package.json")
	if b, err := os.ReadFile(pkg); err == nil && bytes.Contains(b, []byte(`"version": "`+playwrightVersion+`"`)) {
		return
	}
	cmd := exec.Command(npm, "ci", "--no-audit", "--no-fund")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm ci in %s: %v\n%s", dir, err, out)
	}
}

// runStreaming runs cmd, copying its output line by line to stdout as it
// comes (prefixed) and to logPath.
func runStreaming(cmd *exec.Cmd, prefix, logPath string) error {
	logFile, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer logFile.Close()
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			fmt.Fprintf(os.Stdout, "%s| %s\n", prefix, sc.Text())
			fmt.Fprintln(logFile, sc.Text())
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	err = cmd.Run()
	pw.Close()
	<-done
	return err
}

// tail returns the last n lines of a file.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(" + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
