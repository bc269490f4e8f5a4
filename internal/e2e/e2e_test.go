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
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ucc-video/ucc/internal/testenv"
	"github.com/ucc-video/ucc/storage/postgres/pgtest"
	"github.com/ucc-video/ucc/storage/redis/redistest"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// chromiumPath is Debian's Chromium; the specs never use a downloaded browser.
const chromiumPath = "/usr/bin/chromium"

// playwrightVersion must match package.json (checked by TestPackagePinned).
const playwrightVersion = "1.65.1"

// site is a running `ucc serve` for the journey.
type site struct {
	root     string // repository root
	ucc      *testenv.UCC
	baseURL  string
	logPath  string
	outDir   string // test-output/e2e
	finEmail string
	finPass  string
	clip     string // generated mp4
	dbURL    string
	lang     string // the journey's language: en, or ko (the people's browsers ask for Korean)
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
//
// The journey runs twice, in English and in Korean (the people's browsers
// ask for ko-KR, the site's default is Korean, the people write Korean),
// each on a site of its own; the Korean screenshots go to test-output/e2e/ko/.
func TestBrowserJourney(t *testing.T) {
	node, npm := requireBrowserTools(t)
	root, err := testenv.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(root, "test-output", "e2e")); err != nil {
		t.Fatal(err)
	}
	installDeps(t, npm)
	for _, lang := range []string{"en", "ko"} {
		t.Run(lang, func(t *testing.T) { journey(t, node, lang) })
	}
}

// journey runs the specs against a site of its own, in the language lang.
func journey(t *testing.T, node, lang string) {
	s := startSite(t, lang)

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
	// Each language's run gets its own bound: alone it takes about three
	// minutes, beside the rest of `make test` on two busy cores up to twice that.
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
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
	s.ucc.Stop()
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
		"UCC_LANG="+s.lang,
		"PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1",
		"PLAYWRIGHT_BROWSERS_PATH=0",
	)
	cmd.Env = append(cmd.Env, env...)
	cmd.WaitDelay = 10 * time.Second
	start := time.Now()
	if err := runStreaming(cmd, "node", filepath.Join(s.outDir, logName)); err != nil {
		t.Fatalf("node --test %s failed after %s: %v\nserver log: %s (last lines below)\n%s",
			strings.Join(relNames(specs), " "), time.Since(start).Round(time.Second), err, s.logPath, s.ucc.Log().Tail(40))
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

// journeyClip is the clip the creator uploads: 6 s of test pattern and a
// tone, with its index at the front.
var journeyClip = testenv.Clip{Name: "journey-clip.mp4", Size: "640x360", Rate: 25, Seconds: 6, Tone: 440, AudioKbps: 64, FastStart: true}

// startSite prepares a fresh database, Redis prefix and MinIO bucket and the
// test clip, makes the finance account, starts `ucc serve` (its default
// language lang) and waits until /readyz answers 200. Everything stops when
// t ends.
func startSite(t *testing.T, lang string) *site {
	t.Helper()
	s3, bucket := testenv.Bucket(t, "e2e-")
	_, prefix := redistest.Client(t)
	root, err := testenv.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	s := &site{root: root, dbURL: pgtest.URL(t), lang: lang,
		finEmail: "finance-" + testenv.RandomHex(3) + "@example.com", finPass: "finance-" + testenv.RandomHex(8)}
	s.outDir = filepath.Join(s.root, "test-output", "e2e")
	if lang != "en" {
		s.outDir = filepath.Join(s.outDir, lang)
	}
	if err := os.MkdirAll(s.outDir, 0o755); err != nil {
		t.Fatal(err)
	}
	s.logPath = filepath.Join(s.outDir, "ucc.log")
	s.clip = testenv.ClipFile(t, journeyClip)

	env := s3.ServeEnv(bucket)
	for k, v := range map[string]string{
		"UCC_DATABASE_URL": s.dbURL, "UCC_DATABASE_MAX_CONNS": "10",
		"UCC_REDIS_URL": testenv.RedisURL(t), "UCC_REDIS_PREFIX": prefix,
		"UCC_VIEW_MIN_WATCH": "3s", "UCC_VIEW_FLUSH_INTERVAL": "500ms",
		// The creator and the viewer browse from the same 127.0.0.1: without
		// this the viewer's play is the creator's own (self_view).
		"UCC_VIEW_CREATOR_NETWORK_TTL": "0s",
		"UCC_LOG_FORMAT":               "text", "UCC_LOG_LEVEL": "debug", "UCC_SHUTDOWN_TIMEOUT": "5s",
		"UCC_DEFAULT_LANGUAGE": lang,
	} {
		env[k] = v
	}
	s.ucc = testenv.NewUCC(t, testenv.ServeConfig{Env: env, LogPath: s.logPath})
	s.baseURL = s.ucc.Base

	// The finance account comes from the operator command, as in production.
	res := s.ucc.Command(nil, strings.NewReader(s.finPass+"\n"), "users", "create", "--email", s.finEmail, "--role", "finance",
		"--display-name", map[string]string{"en": "Fiona Finance", "ko": "정산팀 정아"}[lang], "--password-stdin")
	if res.Code != 0 {
		t.Fatalf("ucc users create: exit %d\n%s%s", res.Code, res.Stdout, res.Stderr)
	}
	s.ucc.Start()
	t.Logf("ucc serve at %s (log %s)", s.baseURL, s.logPath)
	return s
}

// installDeps runs `npm ci` when node_modules is missing or stale. The
// browser is Debian's: PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD stops any download.
func installDeps(t *testing.T, npm string) {
	t.Helper()
	root, err := testenv.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "internal", "e2e")
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
