package redis

import (
	"context"
	"math"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// RequestLimiter admits requests per key (a client network) within a
// sliding window, approximated with two counters per key: the current fixed
// window's count plus the previous window's, weighted by how much of it
// still lies inside the sliding window (the previous window's requests are
// taken as spread evenly). Unlike a fixed window it does not let twice the
// limit through around a window's edge, and it costs two small keys per
// client whatever the limit. Refused requests are not counted, so a client
// that waits as long as it is told gets in.
type RequestLimiter struct {
	rdb  goredis.UniversalClient
	keys Keys
	name string
	now  func() time.Time
}

// NewRequestLimiter returns a limiter whose keys live under
// "<prefix>:{rq:name:key}:<window number>". now is the clock (time.Now
// when nil).
func NewRequestLimiter(rdb goredis.UniversalClient, prefix, name string, now func() time.Time) *RequestLimiter {
	if now == nil {
		now = time.Now
	}
	return &RequestLimiter{rdb: rdb, keys: Keys{Prefix: prefix}, name: name, now: now}
}

// KEYS: the current and the previous window's counters (one hash slot).
// ARGV: limit, window (ms), elapsed part of the current window (ms).
// Returns {admitted (0/1), current count, previous count}.
var admitScript = goredis.NewScript(`
local limit, window, elapsed = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
local prev = tonumber(redis.call('GET', KEYS[2]) or '0')
if prev * (window - elapsed) / window + cur + 1 > limit then
  return {0, cur, prev}
end
cur = redis.call('INCR', KEYS[1])
if cur == 1 then redis.call('PEXPIRE', KEYS[1], 2 * window) end
return {1, cur, prev}`)

// Allow counts one request for key when fewer than limit lie within the
// sliding window ending now; otherwise it says how long until one more
// would be admitted.
func (l *RequestLimiter) Allow(ctx context.Context, key string, limit int, window time.Duration) (bool, time.Duration, error) {
	w := window.Milliseconds()
	now := l.now().UnixMilli()
	n, elapsed := now/w, now%w
	tag := "rq:" + l.name + ":" + key
	res, err := admitScript.Run(ctx, l.rdb, []string{l.keys.Key(tag, strconv.FormatInt(n, 10)),
		l.keys.Key(tag, strconv.FormatInt(n-1, 10))}, limit, w, elapsed).Int64Slice()
	if err != nil {
		return false, 0, err
	}
	if res[0] == 1 {
		return true, 0, nil
	}
	return false, retryAfter(float64(limit), float64(w), float64(elapsed), float64(res[1]), float64(res[2])), nil
}

// retryAfter is how long until a request fits under limit, with cur
// requests counted in the current window (elapsed ms into it) and prev in
// the previous one (all in ms).
func retryAfter(limit, w, elapsed, cur, prev float64) time.Duration {
	var ms float64
	if cur+1 <= limit && prev > 0 {
		// The previous window's weight falls until prev*(w-elapsed-t)/w
		// leaves room for one more.
		ms = (w - elapsed) - w*(limit-1-cur)/prev
	} else {
		// Not before the next window: there the current count is the
		// previous one, fading from its full weight.
		ms = (w - elapsed) + w*(1-(limit-1)/cur)
	}
	return time.Duration(math.Ceil(max(ms, 1))) * time.Millisecond
}
