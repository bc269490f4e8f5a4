// Package redis is UCC's Redis adapter (go-redis v9): connection, key
// naming, and the rate limiter. Every key is "<prefix>:{<tag>}:<rest>" so the
// keys a script touches together share a hash slot on Redis Cluster.
package redis

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/ucc-video/ucc/internal/accounts"
)

// Open connects to url and checks that Redis answers.
func Open(ctx context.Context, url string) (*goredis.Client, error) {
	opt, err := goredis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("redis: parse URL: %w", err)
	}
	opt.DialTimeout = 2 * time.Second
	opt.ReadTimeout = 2 * time.Second
	opt.WriteTimeout = 2 * time.Second
	c := goredis.NewClient(opt)
	if err := c.Ping(ctx).Err(); err != nil {
		c.Close()
		return nil, fmt.Errorf("redis: cannot reach %s: %w", opt.Addr, err)
	}
	return c, nil
}

// Keys builds namespaced, hash-tagged keys.
type Keys struct{ Prefix string }

// Key returns "<prefix>:{tag}:part1:part2...".
func (k Keys) Key(tag string, parts ...string) string {
	var b strings.Builder
	b.WriteString(k.Prefix)
	b.WriteString(":{")
	b.WriteString(tag)
	b.WriteString("}")
	for _, p := range parts {
		b.WriteByte(':')
		b.WriteString(p)
	}
	return b.String()
}

// Limiter is a fixed-window counter: accounts.Limiter on Redis.
type Limiter struct {
	rdb  goredis.UniversalClient
	keys Keys
	name string
}

// NewLimiter returns a limiter whose keys live under "<prefix>:{rl:name:...}".
func NewLimiter(rdb goredis.UniversalClient, prefix, name string) *Limiter {
	return &Limiter{rdb: rdb, keys: Keys{Prefix: prefix}, name: name}
}

var _ accounts.Limiter = (*Limiter)(nil)

func (l *Limiter) key(k string) string { return l.keys.Key("rl:" + l.name + ":" + k) }

// Count returns the events counted for key in its open window.
func (l *Limiter) Count(ctx context.Context, key string) (int64, error) {
	n, err := l.rdb.Get(ctx, l.key(key)).Int64()
	if err == goredis.Nil {
		return 0, nil
	}
	return n, err
}

var hitScript = goredis.NewScript(`
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n`)

// Hit counts one event, opening a window of length window on the first.
func (l *Limiter) Hit(ctx context.Context, key string, window time.Duration) (int64, error) {
	return hitScript.Run(ctx, l.rdb, []string{l.key(key)}, window.Milliseconds()).Int64()
}

// Reset forgets key.
func (l *Limiter) Reset(ctx context.Context, key string) error {
	return l.rdb.Del(ctx, l.key(key)).Err()
}

// SlogLogger takes go-redis's own log lines (one unstructured line per
// failed dial while Redis is down) into the structured log at debug level;
// the requests that fail are logged by UCC already. Install it with
// goredis.SetLogger.
type SlogLogger struct{ Log *slog.Logger }

// Printf logs one go-redis message.
func (l SlogLogger) Printf(ctx context.Context, format string, v ...any) {
	l.Log.DebugContext(ctx, strings.TrimSpace(fmt.Sprintf(format, v...)), "component", "go-redis")
}
