package redis_test

import (
	"context"
	"testing"
	"time"

	uccredis "github.com/ucc-video/ucc/storage/redis"
	"github.com/ucc-video/ucc/storage/redis/redistest"
)

func TestKeysCarryHashTags(t *testing.T) {
	got := uccredis.Keys{Prefix: "ucc"}.Key("v:42", "pending")
	if got != "ucc:{v:42}:pending" {
		t.Fatalf("Key = %q", got)
	}
}

func TestLimiter(t *testing.T) {
	ctx := context.Background()
	c, prefix := redistest.Client(t)
	l := uccredis.NewLimiter(c, prefix, "login")
	for i := 1; i <= 3; i++ {
		n, err := l.Hit(ctx, "ip:1.2.3.4", time.Minute)
		if err != nil || n != int64(i) {
			t.Fatalf("hit %d = %d, %v", i, n, err)
		}
	}
	if n, _ := l.Count(ctx, "ip:1.2.3.4"); n != 3 {
		t.Fatalf("count = %d, want 3", n)
	}
	if ttl := c.PTTL(ctx, prefix+":{rl:login:ip:1.2.3.4}").Val(); ttl <= 0 || ttl > time.Minute {
		t.Fatalf("window ttl = %v", ttl)
	}
	if err := l.Reset(ctx, "ip:1.2.3.4"); err != nil {
		t.Fatal(err)
	}
	if n, _ := l.Count(ctx, "ip:1.2.3.4"); n != 0 {
		t.Fatalf("count after reset = %d", n)
	}
}

// TestRequestLimiterSlides: the limit slides (a fixed window lets twice the
// limit through around a minute's edge), a refused request is not counted,
// and a client that waits as long as Retry-After says gets in, at the
// limit's rate and no faster.
func TestRequestLimiterSlides(t *testing.T) {
	ctx := context.Background()
	c, prefix := redistest.Client(t)
	now := time.Date(2025, 3, 20, 15, 0, 45, 0, time.UTC)
	l := uccredis.NewRequestLimiter(c, prefix, "search", func() time.Time { return now })
	allow := func() (bool, time.Duration) {
		t.Helper()
		ok, wait, err := l.Allow(ctx, "203.0.113.7", 10, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		return ok, wait
	}
	for i := 0; i < 10; i++ {
		if ok, _ := allow(); !ok {
			t.Fatalf("request %d refused under the limit", i+1)
		}
	}
	ok, wait := allow()
	if ok || wait <= 0 || wait > time.Minute {
		t.Fatalf("11th request: ok %v, wait %v", ok, wait)
	}
	// Across the minute's edge a fixed window would admit ten more.
	now = now.Add(20 * time.Second)
	if ok, _ := allow(); ok {
		t.Fatal("admitted 20 s after ten requests, across a minute's edge")
	}
	// A client that always waits as told, for ten minutes.
	start, admitted, waits := now, 0, 0
	for now.Sub(start) < 10*time.Minute {
		ok, w := allow()
		if ok {
			admitted++
			continue
		}
		waits++
		now = now.Add(w)
		if ok, _ := allow(); !ok {
			t.Fatalf("refused right after waiting the %v it was told (at %s)", w, now.Format(time.TimeOnly))
		} else {
			admitted++
		}
	}
	if admitted < 90 || admitted > 110 || waits == 0 {
		t.Fatalf("%d admitted over ten minutes at 10 a minute (%d waits)", admitted, waits)
	}
}
