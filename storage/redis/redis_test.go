package redis_test

import (
	"context"
	"sync"
	"sync/atomic"
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

// TestLimiterReserveIsAtomic: 50 parallel reservations against a limit of
// 10 let exactly 10 through; refusals say how long the window has left;
// Release gives one back and never goes below zero.
func TestLimiterReserveIsAtomic(t *testing.T) {
	ctx := context.Background()
	c, prefix := redistest.Client(t)
	l := uccredis.NewLimiter(c, prefix, "login")
	var ok atomic.Int64
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, retry, err := l.Reserve(ctx, "k", 10, time.Minute)
			if err != nil {
				t.Error(err)
			}
			if got {
				ok.Add(1)
			} else if retry <= 0 || retry > time.Minute {
				t.Errorf("refused with retry %v", retry)
			}
		}()
	}
	wg.Wait()
	if ok.Load() != 10 {
		t.Fatalf("%d of 50 reservations passed a limit of 10", ok.Load())
	}
	if err := l.Release(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := l.Reserve(ctx, "k", 10, time.Minute); !got {
		t.Fatal("a released reservation is not free again")
	}
	for i := 0; i < 15; i++ {
		_ = l.Release(ctx, "k")
	}
	if n, _ := l.Count(ctx, "k"); n != 0 {
		t.Fatalf("count after over-release = %d", n)
	}
	_ = l.Release(ctx, "never")
	if c.Exists(ctx, prefix+":{rl:login:never}").Val() != 0 {
		t.Fatal("Release created a key")
	}
}

// TestLimiterBackoff: free attempts pass; past them, one attempt takes the
// slot and the next is refused for the doubling delay.
func TestLimiterBackoff(t *testing.T) {
	ctx := context.Background()
	c, prefix := redistest.Client(t)
	l := uccredis.NewLimiter(c, prefix, "login")
	try := func() (bool, time.Duration) {
		ok, retry, err := l.Backoff(ctx, "acct:a", 3, time.Minute, 10*time.Second, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		return ok, retry
	}
	for i := 0; i < 3; i++ {
		if ok, _ := try(); !ok {
			t.Fatalf("free attempt %d refused", i)
		}
	}
	if ok, _ := try(); !ok {
		t.Fatal("the first attempt past the free ones finds the slot taken")
	}
	ok, retry := try()
	if ok || retry <= 0 || retry > 10*time.Second {
		t.Fatalf("second attempt past the free ones: ok %v, retry %v; want refused for up to 10 s", ok, retry)
	}
	// The slot gone, the next delay is doubled: 20 s.
	c.Del(ctx, prefix+":{rl:login:acct:a}:slot")
	if ok, _ := try(); !ok {
		t.Fatal("free slot refused")
	}
	if _, retry := try(); retry <= 10*time.Second || retry > 20*time.Second {
		t.Fatalf("second delay %v, want 20 s", retry)
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
