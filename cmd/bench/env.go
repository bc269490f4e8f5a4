package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	goredis "github.com/redis/go-redis/v9"

	"github.com/ucc-video/ucc/internal/testenv"
	"github.com/ucc-video/ucc/storage/postgres"
)

// services are the addresses of the shared services, from the UCC_TEST_*
// variables `go run ./cmd/testenv` exports (or this machine's defaults).
type services struct {
	AdminDBURL string // a role allowed to CREATE DATABASE
	RedisURL   string
	S3         testenv.S3 // Endpoint is empty when no MinIO runs
}

func servicesFromEnv() services {
	return services{AdminDBURL: testenv.PostgresAdminURL(), RedisURL: testenv.RedisTestURL(), S3: testenv.S3FromEnv()}
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
	name := "ucc_bench_" + testenv.RandomHex(4)
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
