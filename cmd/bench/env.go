package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	goredis "github.com/redis/go-redis/v9"

	"github.com/ucc-video/ucc/storage/postgres"
)

// services are the addresses of the shared services, from the UCC_TEST_*
// variables `go run ./cmd/testenv` exports (or this machine's defaults).
type services struct {
	AdminDBURL string // a role allowed to CREATE DATABASE
	RedisURL   string
	S3         s3Conf // Endpoint is empty when no MinIO runs
}

type s3Conf struct {
	Endpoint, AccessKey, SecretKey, Region string
}

func servicesFromEnv() services {
	return services{
		AdminDBURL: getenv("UCC_TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"),
		RedisURL:   getenv("UCC_TEST_REDIS_URL", "redis://127.0.0.1:6379/0"),
		S3: s3Conf{
			Endpoint:  os.Getenv("UCC_TEST_S3_ENDPOINT"),
			AccessKey: getenv("UCC_TEST_S3_ACCESS_KEY", "minioadmin"),
			SecretKey: getenv("UCC_TEST_S3_SECRET_KEY", "minioadmin"),
			Region:    getenv("UCC_TEST_S3_REGION", "us-east-1"),
		},
	}
}

func getenv(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// moduleRoot walks up from the working directory to the directory holding
// go.mod.
func moduleRoot() (string, error) {
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

// buildUCC builds the release binary the way `make build` does.
func buildUCC(ctx context.Context, root, out string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags", "-X main.version=bench", "-o", out, "./cmd/ucc")
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build ./cmd/ucc: %v\n%s", err, stderr.String())
	}
	return nil
}

// benchDB is the fresh database of one bench run.
type benchDB struct {
	AdminURL string
	URL      string
	Name     string
	Pool     *pgxpool.Pool
}

// createDB creates ucc_bench_<rand>, migrates it and opens a pool on it.
func createDB(ctx context.Context, adminURL string, log *slog.Logger) (*benchDB, error) {
	name := "ucc_bench_" + randHex(4)
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return nil, fmt.Errorf("PostgreSQL (%s): %w", redactURL(adminURL), err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return nil, fmt.Errorf("create database %s: %w", name, err)
	}
	u, err := url.Parse(adminURL)
	if err != nil {
		return nil, err
	}
	u.Path = "/" + name
	db := &benchDB{AdminURL: adminURL, URL: u.String(), Name: name}
	cfg, err := pgxpool.ParseConfig(db.URL)
	if err != nil {
		db.drop(context.Background())
		return nil, err
	}
	cfg.MaxConns = 8
	if db.Pool, err = pgxpool.NewWithConfig(ctx, cfg); err != nil {
		db.drop(context.Background())
		return nil, err
	}
	if err := postgres.Migrate(ctx, db.Pool, log); err != nil {
		db.drop(context.Background())
		return nil, fmt.Errorf("migrate %s: %w", name, err)
	}
	return db, nil
}

// drop closes the pool and drops the database, ending any session left on it.
func (db *benchDB) drop(ctx context.Context) error {
	if db.Pool != nil {
		db.Pool.Close()
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, db.AdminURL)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{db.Name}.Sanitize()+" WITH (FORCE)")
	return err
}

func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

// deleteRedisPrefix removes every key under prefix (SCAN + UNLINK).
func deleteRedisPrefix(ctx context.Context, rdb *goredis.Client, prefix string) error {
	var cursor uint64
	for {
		keys, next, err := rdb.Scan(ctx, cursor, prefix+":*", 1000).Result()
		if err != nil {
			return err
		}
		if len(keys) > 0 {
			if err := rdb.Unlink(ctx, keys...).Err(); err != nil {
				return err
			}
		}
		if next == 0 {
			return nil
		}
		cursor = next
	}
}

// freeAddr returns an unused loopback host:port.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// process is a child process the bench started (ucc serve, the baseline
// server).
type process struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
	mu   sync.Mutex
	log  *bytes.Buffer // the last lines of stderr+stdout, for error messages
}

func startProcess(name string, argv []string, env []string) (*process, error) {
	p := &process{name: name, done: make(chan struct{}), log: &bytes.Buffer{}}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = env
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p.cmd = cmd
	logDone := make(chan struct{})
	go func() {
		// Keep the last 64 KiB of output.
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			p.mu.Lock()
			if p.log.Len() > 64<<10 {
				rest := p.log.Bytes()[p.log.Len()-32<<10:]
				p.log = bytes.NewBuffer(append([]byte(nil), rest...))
			}
			p.log.Write(sc.Bytes())
			p.log.WriteByte('\n')
			p.mu.Unlock()
		}
		_, _ = io.Copy(io.Discard, pr)
		close(logDone)
	}()
	go func() {
		_ = cmd.Wait()
		pw.Close()
		<-logDone
		close(p.done)
	}()
	return p, nil
}

// Pid is the child's process id.
func (p *process) Pid() int { return p.cmd.Process.Pid }

// exited reports whether the child has ended.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// output returns the child's recent output.
func (p *process) output() string {
	p.mu.Lock()
	s := strings.TrimSpace(p.log.String())
	p.mu.Unlock()
	if len(s) > 4000 {
		s = "..." + s[len(s)-4000:]
	}
	return s
}

// stop sends SIGTERM to the child's process group and waits; SIGKILL after
// 15 s.
func (p *process) stop() {
	if p == nil || p.cmd == nil || p.exited() {
		return
	}
	pid := p.cmd.Process.Pid
	_ = syscall.Kill(-pid, syscall.SIGTERM)
	select {
	case <-p.done:
		return
	case <-time.After(15 * time.Second):
	}
	_ = syscall.Kill(-pid, syscall.SIGKILL)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
	}
}

// waitHTTP polls url until it answers 200, the child exits or the timeout
// passes.
func waitHTTP(ctx context.Context, p *process, url string, timeout time.Duration) error {
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(timeout)
	last := "no answer"
	for {
		resp, err := client.Get(url)
		if err == nil {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = fmt.Sprintf("HTTP %d %s", resp.StatusCode, strings.TrimSpace(string(body)))
		} else {
			last = err.Error()
		}
		if p.exited() {
			return fmt.Errorf("%s exited before it answered at %s (%s); its output:\n%s", p.name, url, p.cmd.ProcessState, p.output())
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not answer at %s within %s (%s); its output:\n%s", p.name, url, timeout, last, p.output())
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// procStatusKB reads a "Name:   123 kB" field of /proc/<pid>/status.
func procStatusKB(pid int, field string) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			f := strings.Fields(rest)
			if len(f) == 0 {
				break
			}
			return strconv.ParseInt(f[0], 10, 64)
		}
	}
	return 0, fmt.Errorf("/proc/%d/status has no %s", pid, field)
}

// resetPeakRSS resets VmHWM of pid to its current RSS (Linux ≥ 4.0:
// "echo 5 > /proc/pid/clear_refs"), so that the next reading is the peak of
// what follows only.
func resetPeakRSS(pid int) error {
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0)
}

// machine describes where the bench ran.
type machine struct {
	Cores    int
	MemoryMB int64
	CPU      string
	Kernel   string
	Go       string
	Postgres string
	Redis    string
	MinIO    string
}

func describeMachine(ctx context.Context, pool *pgxpool.Pool, rdb *goredis.Client) machine {
	m := machine{Cores: runtime.NumCPU(), Go: runtime.Version()}
	if kb, err := procMeminfoKB("MemTotal"); err == nil {
		m.MemoryMB = kb / 1024
	}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if rest, ok := strings.CutPrefix(line, "model name"); ok {
				m.CPU = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(rest), ":"))
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = "Linux " + strings.TrimSpace(string(b))
	}
	if out, err := exec.CommandContext(ctx, "go", "version").Output(); err == nil {
		// The toolchain that built ucc (may differ from the bench's own runtime).
		m.Go = strings.TrimPrefix(strings.TrimSpace(string(out)), "go version ")
	}
	_ = pool.QueryRow(ctx, "SELECT version()").Scan(&m.Postgres)
	if info, err := rdb.Info(ctx, "server").Result(); err == nil {
		for _, line := range strings.Split(info, "\n") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(line), "redis_version:"); ok {
				m.Redis = v
			}
		}
	}
	return m
}

func procMeminfoKB(field string) (int64, error) {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				return strconv.ParseInt(f[0], 10, 64)
			}
		}
	}
	return 0, fmt.Errorf("/proc/meminfo has no %s", field)
}
