package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ucc-video/ucc/internal/testenv"
	"github.com/ucc-video/ucc/storage/postgres/pgtest"
)

// safeBuffer is a bytes.Buffer safe for the server goroutine and the test.
type safeBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *safeBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *safeBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestServeOnS3 starts `ucc serve` against the real PostgreSQL, Redis and
// MinIO, checks /readyz names all three, signs up and gets a token through
// the API, then shuts down gracefully.
func TestServeOnS3(t *testing.T) {
	t.Parallel()
	s3 := testenv.S3Server(t)
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	addr, maddr := freeAddr(t), freeAddr(t)
	cfg, err := configOf(map[string]string{
		"UCC_SECRET_KEY": "serve-test-" + hex.EncodeToString(b) + "-0123456789abcdef0123", "UCC_METRICS_ADDR": maddr,
		"UCC_DATABASE_URL": pgtest.URL(t), "UCC_REDIS_URL": testenv.RedisURL(t), "UCC_HTTP_ADDR": addr, "UCC_STORAGE": "s3",
		"UCC_S3_ENDPOINT": s3.Endpoint, "UCC_S3_ACCESS_KEY": s3.AccessKey, "UCC_S3_SECRET_KEY": s3.SecretKey,
		"UCC_S3_REGION": s3.Region, "UCC_S3_BUCKET": "ucc-serve-" + hex.EncodeToString(b),
		"UCC_REDIS_PREFIX": "ucctest" + hex.EncodeToString(b), "UCC_LOG_FORMAT": "text", "UCC_SHUTDOWN_TIMEOUT": "5s",
	})()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var logs safeBuffer
	done := make(chan error, 1)
	go func() { done <- serve(ctx, cfg, "all", &logs) }()

	base := "http://" + addr
	var ready map[string]any
	deadline := time.Now().Add(30 * time.Second)
	for {
		res, err := http.Get(base + "/readyz")
		if err == nil {
			_ = json.NewDecoder(res.Body).Decode(&ready)
			res.Body.Close()
			if res.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("not ready: %v %v\nlogs:\n%s", err, ready, logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	checks := ready["checks"].(map[string]any)
	for _, name := range []string{"postgres", "redis", "storage"} {
		if checks[name] != "ok" {
			t.Fatalf("readyz %s = %v", name, checks[name])
		}
	}
	post := func(path, body string) *http.Response {
		res, err := http.Post(base+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	if res := post("/api/v1/auth/signup", `{"email":"s@example.com","password":"password123"}`); res.StatusCode != 201 {
		t.Fatalf("signup: %d", res.StatusCode)
	}
	res := post("/api/v1/auth/tokens", `{"email":"s@example.com","password":"password123"}`)
	var tok struct{ Token string }
	_ = json.NewDecoder(res.Body).Decode(&tok)
	if res.StatusCode != 201 || !strings.HasPrefix(tok.Token, "ucc_") {
		t.Fatalf("token: %d %q", res.StatusCode, tok.Token)
	}
	// Metrics: on their own listener, not on the public one (no token set).
	if res, err := http.Get("http://" + maddr + "/metrics"); err != nil || res.StatusCode != 200 {
		t.Fatalf("metrics listener: %v %v", err, res)
	} else {
		res.Body.Close()
	}
	if res, err := http.Get(base + "/metrics"); err != nil || res.StatusCode != 404 {
		t.Fatalf("public /metrics without UCC_METRICS_TOKEN: %v %v, want 404", err, res)
	} else {
		res.Body.Close()
	}
	for _, page := range []string{"/", "/login", "/signup", "/static/css/app.css"} {
		res, err := http.Get(base + page)
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("GET %s: %v %v", page, err, res)
		}
		res.Body.Close()
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve: %v\n%s", err, logs.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not shut down")
	}
	if !strings.Contains(logs.String(), "stopped") {
		t.Fatalf("no clean stop in logs:\n%s", logs.String())
	}
}

// TestServeRefusesWithoutItsOwnSecret: without UCC_SECRET_KEY, ucc serve
// stops with one line saying what to set, unless UCC_DEV is on; the key
// compose.yaml once carried as its default is refused even then.
func TestServeRefusesWithoutItsOwnSecret(t *testing.T) {
	t.Parallel()
	code, _, errOut := ucc(t, map[string]string{}, "", "serve")
	if code != 2 || !strings.Contains(errOut, "UCC_SECRET_KEY is not set") || !strings.Contains(errOut, "UCC_DEV=1") ||
		strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
		t.Fatalf("serve without a key: %d %q", code, errOut)
	}
	for _, dev := range []string{"false", "true"} {
		code, _, errOut = ucc(t, map[string]string{"UCC_SECRET_KEY": "dev-only-secret-change-me-0123456789abcdef", "UCC_DEV": dev}, "", "serve")
		if code != 2 || !strings.Contains(errOut, "example key") {
			t.Fatalf("serve with the example key (UCC_DEV=%s): %d %q", dev, code, errOut)
		}
	}
	cfg, err := configOf(map[string]string{"UCC_DEV": "1"})()
	if err != nil || cfg.CheckServeSecret() != nil || !cfg.SecretGenerated {
		t.Fatalf("UCC_DEV=1 without a key: %v, %v", err, cfg.CheckServeSecret())
	}
}
