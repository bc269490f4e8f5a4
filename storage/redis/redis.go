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

// reserveScript: KEYS[1] the counter; ARGV limit, window (ms). Counts one
// attempt unless limit are counted; answers {1, 0} or {0, ms left}.
var reserveScript = goredis.NewScript(`
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
if n >= tonumber(ARGV[1]) then
  local ttl = redis.call('PTTL', KEYS[1])
  if ttl < 0 then
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
    ttl = tonumber(ARGV[2])
  end
  return {0, ttl}
end
n = redis.call('INCR', KEYS[1])
if n == 1 or redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return {1, 0}`)

// Reserve counts one attempt on key unless limit are counted in its open
// window: check and count are one script, so parallel callers cannot all
// pass a limit none of them has counted against yet.
func (l *Limiter) Reserve(ctx context.Context, key string, limit int64, window time.Duration) (bool, time.Duration, error) {
	return runGate(ctx, reserveScript, l.rdb, []string{l.key(key)}, limit, window.Milliseconds())
}

// backoffScript: KEYS[1] the counter, KEYS[2] its slot (same hash tag);
// ARGV free, window, base, most (ms). Past free attempts, an attempt needs
// the free slot and takes it for base * 2^(count - free), at most most.
var backoffScript = goredis.NewScript(`
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
local free = tonumber(ARGV[1])
if n >= free then
  local ttl = redis.call('PTTL', KEYS[2])
  if ttl > 0 then return {0, ttl} end
  local e = n - free
  if e > 30 then e = 30 end
  local d = tonumber(ARGV[3]) * (2 ^ e)
  if d > tonumber(ARGV[4]) then d = tonumber(ARGV[4]) end
  redis.call('SET', KEYS[2], '1', 'PX', math.floor(d))
end
n = redis.call('INCR', KEYS[1])
if n == 1 or redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return {1, 0}`)

// Backoff counts one attempt on key; past free attempts in the window each
// further one must find the key's slot free and holds it for a doubling
// delay (base, 2×base, ... at most most).
func (l *Limiter) Backoff(ctx context.Context, key string, free int64, window, base, most time.Duration) (bool, time.Duration, error) {
	return runGate(ctx, backoffScript, l.rdb, []string{l.key(key), l.keys.Key("rl:"+l.name+":"+key, "slot")},
		free, window.Milliseconds(), base.Milliseconds(), most.Milliseconds())
}

func runGate(ctx context.Context, s *goredis.Script, rdb goredis.UniversalClient, keys []string, args ...any) (bool, time.Duration, error) {
	v, err := s.Run(ctx, rdb, keys, args...).Int64Slice()
	if err != nil {
		return false, 0, err
	}
	if len(v) != 2 {
		return false, 0, fmt.Errorf("redis: limiter script answered %v", v)
	}
	return v[0] == 1, time.Duration(v[1]) * time.Millisecond, nil
}

// releaseScript takes one count back, never below zero and never on a
// window that has already closed.
var releaseScript = goredis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then
  if redis.call('DECR', KEYS[1]) <= 0 then redis.call('DEL', KEYS[1]) end
end
return 0`)

// Release takes back one attempt Reserve or Backoff counted on key.
func (l *Limiter) Release(ctx context.Context, key string) error {
	return releaseScript.Run(ctx, l.rdb, []string{l.key(key)}).Err()
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
