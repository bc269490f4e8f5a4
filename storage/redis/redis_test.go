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
