package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/ucc-video/ucc/internal/testenv"
)

// bench is the state of one run: the services, the processes it started
// and the seeded data.
type bench struct {
	opts   options
	out    io.Writer // progress lines
	svc    services
	root   string
	tmp    string
	db     *benchDB
	rdb    *goredis.Client
	prefix string // Redis key prefix of this run
	bucket string // S3 bucket of this run ("" with the fs driver)
	secret string // UCC_SECRET_KEY given to ucc serve
	uccBin string
	ucc    *testenv.Server
	uccURL string
	base   *testenv.Process
	// baseURL is the bare gin server's root URL.
	baseURL string
	cat     catalogue
}

// report is everything BENCHMARKS.md shows.
type report struct {
	Machine  machine
	Date     time.Time
	Sizes    sizes
	Conns    int
	Storage  string
	Rows     []row
	Elapsed  time.Duration
	Command  string
	Warnings []string
	LoadAvg  [2]string // /proc/loadavg at the start and the end
}

func (b *bench) logf(format string, args ...any) {
	fmt.Fprintf(b.out, "bench: "+format+"\n", args...)
}

// run sets everything up, measures the selected rows, cleans up, prints
// the table on stdout and writes BENCHMARKS.md. A row that cannot run says
// why in its place; run returns an error only when setting up fails or a
// row failed unexpectedly (after still printing the table).
func run(ctx context.Context, opts options, stdout, stderr io.Writer) (*report, error) {
	started := time.Now()
	b := &bench{opts: opts, out: stderr, svc: servicesFromEnv()}
	rep := &report{Date: started.UTC(), Sizes: opts.Size, Conns: opts.Conns, Command: commandLine()}
	rep.LoadAvg[0] = loadAvg()
	defer b.cleanup()
	if err := b.setup(ctx); err != nil {
		return nil, err
	}
	rep.Machine = describeMachine(ctx, b.db.Pool, b.rdb)
	rep.Storage = "fs"
	if b.bucket != "" {
		rep.Storage = "s3 (MinIO at " + b.svc.S3.Endpoint + ")"
	}

	var failed []string
	for _, def := range rowDefs {
		if !opts.Rows[def.key] {
			continue
		}
		b.logf("row %s: %s", def.key, def.path(b))
		t0 := time.Now()
		r, err := def.measure(b, ctx)
		r.Key = def.key
		if r.Path == "" {
			r.Path = def.path(b)
		}
		if r.Baseline == "" {
			r.Baseline = def.baseline
		}
		switch {
		case err == nil:
		case errors.Is(err, errNotAvailable):
			r.NA = err.Error()
			r.Figures = nil
		default:
			r.NA = "failed: " + err.Error()
			r.Figures = nil
			failed = append(failed, def.key)
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		b.logf("row %s done in %s", def.key, time.Since(t0).Round(100*time.Millisecond))
		rep.Rows = append(rep.Rows, r)
		if !b.ucc.Running() {
			return nil, fmt.Errorf("ucc serve exited during row %s (%v); its output:\n%s", def.key, b.ucc.Process().ExitErr(), b.ucc.Log().Tail(60))
		}
	}
	rep.Elapsed = time.Since(started)
	rep.LoadAvg[1] = loadAvg()
	table := renderTable(rep)
	fmt.Fprint(stdout, table)
	if opts.Out != "-" {
		path := opts.Out
		if path == "" {
			path = filepath.Join(b.root, "BENCHMARKS.md")
		}
		if err := os.WriteFile(path, []byte(renderMarkdown(rep)), 0o644); err != nil {
			return rep, fmt.Errorf("write %s: %w", path, err)
		}
		b.logf("wrote %s", path)
	}
	if len(failed) > 0 {
		return rep, fmt.Errorf("rows failed: %s", strings.Join(failed, ", "))
	}
	return rep, nil
}

// loadAvg is the 1, 5 and 15 minute load averages.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

func commandLine() string {
	args := append([]string{"go run ./cmd/bench"}, os.Args[1:]...)
	if strings.HasSuffix(os.Args[0], ".test") {
		return "(go test)"
	}
	return strings.Join(args, " ")
}

// setup builds ucc, creates the database, seeds it and starts ucc serve and
// the baseline server.
func (b *bench) setup(ctx context.Context) error {
	var err error
	if b.root, err = testenv.ModuleRoot(); err != nil {
		return err
	}
	if b.tmp, err = os.MkdirTemp("", "ucc-bench-"); err != nil {
		return err
	}
	// Built as `make build` does, once per cmd/testenv run (shared with the
	// tests that run ucc), else in this run's directory.
	buildDir := os.Getenv(testenv.SharedDirEnv)
	if buildDir == "" {
		buildDir = b.tmp
	}
	b.logf("building ucc (go build -trimpath ./cmd/ucc) in %s", buildDir)
	if b.uccBin, err = testenv.BuildUCCOnce(ctx, buildDir); err != nil {
		return err
	}

	if b.rdb, err = openRedis(ctx, b.svc.RedisURL); err != nil {
		return err
	}
	b.prefix = "uccbench" + testenv.RandomHex(4)

	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	if b.opts.Verbose {
		quiet = slog.New(slog.NewTextHandler(b.out, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	if b.db, err = createDB(ctx, b.svc.AdminDBURL, quiet); err != nil {
		return err
	}
	b.logf("database %s created and migrated; Redis prefix %s", b.db.Name, b.prefix)

	t0 := time.Now()
	sz := b.opts.Size
	if b.cat, err = seedCatalogue(ctx, b.db.Pool, sz); err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	if err := seedComments(ctx, b.db.Pool, b.cat, sz.Comments); err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	if _, err := b.db.Pool.Exec(ctx, "VACUUM ANALYZE comments"); err != nil {
		return err
	}
	b.logf("seeded %d creators, %d videos, %d viewers, %d comments in %s", sz.Creators, sz.Videos, sz.Viewers, sz.Comments, time.Since(t0).Round(100*time.Millisecond))

	if err := b.startUCC(ctx); err != nil {
		return err
	}
	if err := b.startBaseline(ctx); err != nil {
		return err
	}
	return b.smokeTest()
}

func openRedis(ctx context.Context, url string) (*goredis.Client, error) {
	opt, err := goredis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("Redis URL: %w", err)
	}
	opt.PoolSize = 16
	rdb := goredis.NewClient(opt)
	if err := rdb.Ping(ctx).Err(); err != nil {
		rdb.Close()
		return nil, fmt.Errorf("Redis at %s: %w", opt.Addr, err)
	}
	return rdb, nil
}

// uccEnv is the configuration of ucc serve.
func (b *bench) uccEnv() map[string]string {
	b.secret = "bench-" + testenv.RandomHex(24)
	env := map[string]string{
		"UCC_DATABASE_URL":     b.db.URL,
		"UCC_MIGRATE_ON_START": "false",
		"UCC_REDIS_URL":        b.svc.RedisURL,
		"UCC_REDIS_PREFIX":     b.prefix,
		"UCC_SECRET_KEY":       b.secret,
		"UCC_LOG_LEVEL":        "error",
		// Every request comes from 127.0.0.1: per-IP limits would measure
		// the limiter's refusals, not the path.
		"UCC_VIEW_IP_HOURLY_CAP":          "0",
		"UCC_VIEW_NET_VIDEO_HOURLY_CAP":   "0",
		"UCC_VIEW_NET_CREATOR_HOURLY_CAP": "0",
		"UCC_VIEW_ANON_MINT_HOURLY_CAP":   "0",
		"UCC_VIEW_CREATOR_NETWORK_TTL":    "0s",
		"UCC_SEARCH_RATE_LIMIT":           "0",
		"UCC_LIST_RATE_LIMIT":             "0",
		// Simulated viewers of the mixed load wait the minimum watch time
		// between play and report: one second instead of 30 keeps them busy.
		"UCC_VIEW_MIN_WATCH":   "1s",
		"UCC_LOGIN_RATE_LIMIT": "1000000",
		"UCC_STORAGE":          "fs",
		"UCC_STORAGE_DIR":      filepath.Join(b.tmp, "objects"),
	}
	if b.svc.S3.Endpoint != "" {
		b.bucket = "ucc-bench-" + testenv.RandomHex(4)
		delete(env, "UCC_STORAGE_DIR")
		for k, v := range b.svc.S3.ServeEnv(b.bucket) {
			env[k] = v
		}
	}
	return env
}

func (b *bench) startUCC(ctx context.Context) error {
	var err error
	b.ucc, err = testenv.NewServer(testenv.ServeConfig{Bin: b.uccBin, Role: "web", Env: b.uccEnv(), StopTimeout: 15 * time.Second})
	if err != nil {
		return err
	}
	b.uccURL = b.ucc.Base
	if err := b.ucc.Start(ctx); err != nil {
		return err
	}
	b.logf("ucc serve (pid %d) answers at %s", b.ucc.Process().Pid(), b.uccURL)
	return nil
}

func (b *bench) startBaseline(ctx context.Context) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	addr, err := testenv.FreeAddr()
	if err != nil {
		return err
	}
	env := append(os.Environ(), baselineEnv+"="+addr)
	if b.base, err = testenv.StartProcess(testenv.ProcessConfig{Name: "baseline server", Args: []string{exe, "-test.run=^$"}, Env: env}); err != nil {
		return err
	}
	b.baseURL = "http://" + addr
	return testenv.WaitHTTP(ctx, b.base, b.baseURL+"/healthz", 30*time.Second)
}

// smokeTest signs up, gets a token and reads /api/v1/me, to check that the
// client and server talk before anything is measured.
func (b *bench) smokeTest() error {
	c := testenv.NewClient(b.uccURL)
	email := "smoke-" + testenv.RandomHex(4) + "@bench.example"
	pass := "correct horse battery staple " + testenv.RandomHex(4)
	if err := c.SignUp(email, pass, "Smoke Test"); err != nil {
		return fmt.Errorf("smoke test: %w", err)
	}
	if err := c.LogIn(email, pass); err != nil {
		return fmt.Errorf("smoke test: %w", err)
	}
	if _, err := c.Expect(http.StatusOK, http.MethodGet, "/api/v1/me", nil); err != nil {
		return fmt.Errorf("smoke test: %w", err)
	}
	// A seeded token works too.
	c.Token = b.cat.ViewerTokens[0]
	if _, err := c.Expect(http.StatusOK, http.MethodGet, "/api/v1/me", nil); err != nil {
		return fmt.Errorf("smoke test with a seeded token: %w", err)
	}
	return nil
}

// cleanup stops the processes and removes the database, the Redis keys,
// the bucket and the temporary directory.
func (b *bench) cleanup() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if b.ucc != nil {
		if b.ucc.Running() {
			if err := b.ucc.Stop(); err != nil {
				b.logf("%v", err)
			}
		}
		b.ucc.Close()
	}
	if b.base != nil && !b.base.Exited() {
		_ = b.base.Stop(15 * time.Second)
	}
	if b.bucket != "" {
		if err := b.svc.S3.RemoveBucket(ctx, b.bucket); err != nil {
			b.logf("remove bucket %s: %v", b.bucket, err)
		}
	}
	if b.db != nil && b.opts.Keep {
		b.db.Pool.Close()
		b.logf("kept database %s (drop it with: psql -c 'DROP DATABASE %s')", b.db.Name, b.db.Name)
	} else if b.db != nil {
		if err := b.db.drop(ctx); err != nil {
			b.logf("drop database %s: %v", b.db.Name, err)
		}
	}
	if b.rdb != nil {
		if err := deleteRedisPrefix(ctx, b.rdb, b.prefix); err != nil {
			b.logf("delete Redis keys %s:*: %v", b.prefix, err)
		}
		b.rdb.Close()
	}
	if b.tmp != "" {
		_ = os.RemoveAll(b.tmp)
	}
}
