// Package testenv is the test rig of the system tests: it tells tests where
// the real services are (PostgreSQL, Redis, MinIO, ffmpeg) and decides what
// happens when one is missing (under CI=true the test fails; on a developer's
// machine it is skipped with a clear reason), and it holds the one process
// harness that builds `ucc`, starts `ucc serve` on a free port, waits for it,
// stops, kills and restarts it, plus what the tests that drive it share: an
// API client, random ids, free addresses, waiting, throw-away MinIO buckets
// and test clips made with ffmpeg.
//
// Each piece has a core that returns errors (used by cmd/bench and
// cmd/testenv, which are not tests) and, where tests need one, a thin
// wrapper taking a testing.TB that fails the test instead.
//
// `make test` (cmd/testenv) starts MinIO and exports the UCC_TEST_* variables
// read here.
package testenv

import (
	"net"
	"net/url"
	"os"
	"os/exec"
	"testing"
	"time"
)

// Missing fails the test under CI=true and skips it otherwise.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("required test service missing (CI=true makes this a failure): "+format, args...)
	}
	t.Skipf("skipping: "+format, args...)
}

func getenv(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func dial(hostport string) error {
	c, err := net.DialTimeout("tcp", hostport, 2*time.Second)
	if err != nil {
		return err
	}
	return c.Close()
}

// PostgresAdminURL is the admin connection URL of the test PostgreSQL (a
// role allowed to CREATE DATABASE), from UCC_TEST_DATABASE_URL or the local
// default. It does not check that the server answers.
func PostgresAdminURL() string {
	return getenv("UCC_TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable")
}

// RedisTestURL is the URL of the test Redis, from UCC_TEST_REDIS_URL or the
// local default. It does not check that the server answers.
func RedisTestURL() string {
	return getenv("UCC_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
}

// PostgresURL returns an admin connection URL (a role allowed to CREATE
// DATABASE), from UCC_TEST_DATABASE_URL or the local default.
func PostgresURL(t testing.TB) string {
	t.Helper()
	u := PostgresAdminURL()
	pu, err := url.Parse(u)
	if err != nil {
		t.Fatalf("UCC_TEST_DATABASE_URL: %v", err)
	}
	if err := dial(pu.Host); err != nil {
		Missing(t, "PostgreSQL at %s does not answer: %v", pu.Host, err)
	}
	return u
}

// RedisURL returns the Redis URL for tests, from UCC_TEST_REDIS_URL or the local default.
func RedisURL(t testing.TB) string {
	t.Helper()
	u := RedisTestURL()
	pu, err := url.Parse(u)
	if err != nil {
		t.Fatalf("UCC_TEST_REDIS_URL: %v", err)
	}
	if err := dial(pu.Host); err != nil {
		Missing(t, "Redis at %s does not answer: %v", pu.Host, err)
	}
	return u
}

// S3 describes the MinIO server started for the test run.
type S3 struct {
	Endpoint  string // host:port
	AccessKey string
	SecretKey string
	Region    string
}

// S3FromEnv describes the MinIO server started by `make test`
// (UCC_TEST_S3_*); Endpoint is empty when none runs. It does not check that
// the server answers.
func S3FromEnv() S3 {
	return S3{
		Endpoint:  os.Getenv("UCC_TEST_S3_ENDPOINT"),
		AccessKey: getenv("UCC_TEST_S3_ACCESS_KEY", "minioadmin"),
		SecretKey: getenv("UCC_TEST_S3_SECRET_KEY", "minioadmin"),
		Region:    getenv("UCC_TEST_S3_REGION", "us-east-1"),
	}
}

// ServeEnv is the `ucc serve` configuration that stores objects in bucket
// on this server.
func (s S3) ServeEnv(bucket string) map[string]string {
	return map[string]string{"UCC_STORAGE": "s3", "UCC_S3_ENDPOINT": s.Endpoint, "UCC_S3_BUCKET": bucket,
		"UCC_S3_ACCESS_KEY": s.AccessKey, "UCC_S3_SECRET_KEY": s.SecretKey, "UCC_S3_REGION": s.Region}
}

// S3Server returns the MinIO server started by `make test` (UCC_TEST_S3_*).
func S3Server(t testing.TB) S3 {
	t.Helper()
	s := S3FromEnv()
	if s.Endpoint == "" {
		Missing(t, "UCC_TEST_S3_ENDPOINT is not set (run the tests with `make test`, which starts MinIO)")
	}
	if err := dial(s.Endpoint); err != nil {
		Missing(t, "MinIO at %s does not answer: %v", s.Endpoint, err)
	}
	return s
}

// MinIOBinary returns the path of the MinIO server binary, for tests that
// start and stop their own server (fault tests).
func MinIOBinary(t testing.TB) string {
	t.Helper()
	p := os.Getenv("UCC_TEST_MINIO_BIN")
	if p == "" {
		if lp, err := exec.LookPath("minio"); err == nil {
			p = lp
		}
	}
	if p == "" {
		Missing(t, "MinIO server binary not found (UCC_TEST_MINIO_BIN unset, no minio on PATH)")
	}
	return p
}

// FFmpeg returns the paths of ffmpeg and ffprobe.
func FFmpeg(t testing.TB) (ffmpeg, ffprobe string) {
	t.Helper()
	f, err1 := exec.LookPath("ffmpeg")
	p, err2 := exec.LookPath("ffprobe")
	if err1 != nil || err2 != nil {
		Missing(t, "ffmpeg/ffprobe not on PATH")
	}
	return f, p
}
