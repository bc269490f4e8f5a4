package main

import (
	"bytes"
	"context"
	"encoding/json"
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
	ucc    *process
	uccURL string
	base   *process
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
		if b.ucc.exited() {
			return nil, fmt.Errorf("ucc serve exited during row %s (%s); its output:\n%s", def.key, b.ucc.cmd.ProcessState, b.ucc.output())
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
	if b.root, err = moduleRoot(); err != nil {
		return err
	}
	if b.tmp, err = os.MkdirTemp("", "ucc-bench-"); err != nil {
		return err
	}
	b.uccBin = filepath.Join(b.tmp, "ucc")
	b.logf("building ucc (go build -trimpath ./cmd/ucc)")
	if err := buildUCC(ctx, b.root, b.uccBin); err != nil {
		return err
	}

	if b.rdb, err = openRedis(ctx, b.svc.RedisURL); err != nil {
		return err
	}
	b.prefix = "uccbench" + randHex(4)

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
	return b.smokeTest(ctx)
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

// uccEnv is the environment of ucc serve: the caller's, minus any UCC_*
// variable, plus the bench's settings.
func (b *bench) uccEnv(addr string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "UCC_") || strings.HasPrefix(kv, "UCC_TEST_") {
			env = append(env, kv)
		}
	}
	b.secret = "bench-" + randHex(24)
	env = append(env,
		"UCC_HTTP_ADDR="+addr,
		"UCC_BASE_URL=http://"+addr,
		"UCC_DATABASE_URL="+b.db.URL,
		"UCC_MIGRATE_ON_START=false",
		"UCC_REDIS_URL="+b.svc.RedisURL,
		"UCC_REDIS_PREFIX="+b.prefix,
		"UCC_SECRET_KEY="+b.secret,
		"UCC_LOG_LEVEL=error",
		// Every request comes from 127.0.0.1: per-IP limits would measure
		// the limiter's refusals, not the path.
		"UCC_VIEW_IP_HOURLY_CAP=0",
		// Simulated viewers of the mixed load wait the minimum watch time
		// between play and report: one second instead of 30 keeps them busy.
		"UCC_VIEW_MIN_WATCH=1s",
		"UCC_LOGIN_RATE_LIMIT=1000000",
	)
	if b.svc.S3.Endpoint != "" {
		b.bucket = "ucc-bench-" + randHex(4)
		env = append(env,
			"UCC_STORAGE=s3",
			"UCC_S3_ENDPOINT="+b.svc.S3.Endpoint,
			"UCC_S3_BUCKET="+b.bucket,
			"UCC_S3_ACCESS_KEY="+b.svc.S3.AccessKey,
			"UCC_S3_SECRET_KEY="+b.svc.S3.SecretKey,
			"UCC_S3_REGION="+b.svc.S3.Region,
		)
	} else {
		env = append(env, "UCC_STORAGE=fs", "UCC_STORAGE_DIR="+filepath.Join(b.tmp, "objects"))
	}
	return env
}

func (b *bench) startUCC(ctx context.Context) error {
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	b.ucc, err = startProcess("ucc serve", []string{b.uccBin, "serve", "--role", "web"}, b.uccEnv(addr))
	if err != nil {
		return err
	}
	b.uccURL = "http://" + addr
	if err := waitHTTP(ctx, b.ucc, b.uccURL+"/readyz", 60*time.Second); err != nil {
		return err
	}
	b.logf("ucc serve (pid %d) answers at %s", b.ucc.Pid(), b.uccURL)
	return nil
}

func (b *bench) startBaseline(ctx context.Context) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	env := append(os.Environ(), baselineEnv+"="+addr)
	if b.base, err = startProcess("baseline server", []string{exe, "-test.run=^$"}, env); err != nil {
		return err
	}
	b.baseURL = "http://" + addr
	return waitHTTP(ctx, b.base, b.baseURL+"/healthz", 30*time.Second)
}

// smokeTest signs up, gets a token and reads /api/v1/me, to check that the
// client and server talk before anything is measured.
func (b *bench) smokeTest(ctx context.Context) error {
	c := newClient(2)
	email := "smoke-" + randHex(4) + "@bench.example"
	pass := "correct horse battery staple " + randHex(4)
	body, _ := json.Marshal(map[string]string{"email": email, "password": pass, "display_name": "Smoke Test"})
	if _, err := b.call(ctx, c, http.MethodPost, "/api/v1/auth/signup", body, "", http.StatusCreated); err != nil {
		return fmt.Errorf("smoke test: %w", err)
	}
	resp, err := b.call(ctx, c, http.MethodPost, "/api/v1/auth/tokens", body, "", http.StatusCreated)
	if err != nil {
		return fmt.Errorf("smoke test: %w", err)
	}
	var tok struct {
		Token string `json:"token"`
	}
	if err := json.Unmarshal(resp, &tok); err != nil || tok.Token == "" {
		return fmt.Errorf("smoke test: no token in %s", resp)
	}
	if _, err := b.call(ctx, c, http.MethodGet, "/api/v1/me", nil, tok.Token, http.StatusOK); err != nil {
		return fmt.Errorf("smoke test: %w", err)
	}
	// A seeded token works too.
	if _, err := b.call(ctx, c, http.MethodGet, "/api/v1/me", nil, b.cat.ViewerTokens[0], http.StatusOK); err != nil {
		return fmt.Errorf("smoke test with a seeded token: %w", err)
	}
	return nil
}

// call sends one request to ucc and returns the body, or an error naming
// the status when it is not want.
func (b *bench) call(ctx context.Context, c *http.Client, method, path string, body []byte, token string, want int) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, b.uccURL+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != want {
		return out, fmt.Errorf("%s %s: HTTP %d, want %d: %s", method, path, resp.StatusCode, want, strings.TrimSpace(string(truncate(out, 300))))
	}
	return out, nil
}

func truncate(b []byte, n int) []byte {
	if len(b) > n {
		return append(b[:n:n], "..."...)
	}
	return b
}

// cleanup stops the processes and removes the database, the Redis keys,
// the bucket and the temporary directory.
func (b *bench) cleanup() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	b.ucc.stop()
	b.base.stop()
	if b.bucket != "" {
		if err := removeBucket(ctx, b.svc.S3, b.bucket); err != nil {
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
