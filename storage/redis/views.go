package redis

import (
	"context"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/ucc-video/ucc/internal/views"
)

// ViewCounter is views.Counter on Redis.
//
// Keys, all under the one hash tag {views} so every script's keys share a
// slot on Redis Cluster:
//
//	<prefix>:{views}:pending           HASH  "<videoID>" → n, "<videoID>:<yyyymmdd>" → n, "_since" → ms of the oldest view in it, "_id" → its batch id
//	<prefix>:{views}:flush:<flushID>   HASH  a pending hash swapped aside by the flusher (RENAME)
//	<prefix>:{views}:flushing          SET   flush ids of swapped hashes not yet dropped
//	<prefix>:{views}:seen:<video>:<viewer>  STRING dedup key (value: the token's MAC), expires after the window
//	<prefix>:{views}:net:<network>     ZSET  counted views from one network (IPv4 address, IPv6 /64) in the last hour: token id → ms
//	<prefix>:{views}:netv:<network>:<video>    ZSET  the same for one video
//	<prefix>:{views}:netc:<network>:<creator>  ZSET  the same for one creator's videos
//	<prefix>:{views}:mint:<network>    ZSET  anonymous ids minted for one network in the last hour: id → ms
//	<prefix>:{views}:self:<user>:<network>  STRING the user was signed in from the network (expires after UCC_VIEW_CREATOR_NETWORK_TTL)
//	<prefix>:{views}:uv:<video>        HLL   unique viewers (statistics only, never money)
//
// Tradeoff: one tag puts all view keys in one cluster slot, so one Redis
// node (and its replica) carries all counting. That keeps each report one
// atomic script and the flush one RENAME. A single node serves well over
// 100k such scripts per second, far above this platform's needs. Sharding
// plan when it is not enough: use N tags {views:0}..{views:N-1} chosen by
// video id; each shard has its own pending hash and flushing set and the
// flusher swaps and applies each shard under its own flush id (same
// exactly-once rule). The per-network caps then move to a separate
// pre-check on their own tag, trading the single round trip for a second one.
type ViewCounter struct {
	rdb     goredis.UniversalClient
	keys    Keys
	timeout time.Duration
}

// NewViewCounter returns the Redis view counter under prefix. Each call is
// bounded by timeout so a Redis outage answers fast.
func NewViewCounter(rdb goredis.UniversalClient, prefix string, timeout time.Duration) *ViewCounter {
	if timeout <= 0 {
		timeout = time.Second
	}
	return &ViewCounter{rdb: rdb, keys: Keys{Prefix: prefix}, timeout: timeout}
}

var _ views.Counter = (*ViewCounter)(nil)

const viewsTag = "views"

func (c *ViewCounter) key(parts ...string) string { return c.keys.Key(viewsTag, parts...) }

// sinceField is the pending hash field holding the time of its oldest view;
// idField holds its batch id, set with its first view.
const (
	sinceField = "_since"
	idField    = "_id"
)

// countScript counts one view in one atomic step.
//
//	KEYS: 1 dedup key, 2 pending hash, 3 unique-viewer HLL, 4 network window,
//	      5 network+video window, 6 network+creator window, 7 creator's self-view mark
//	ARGV: 1 dedup window ms, 2 network cap, 3 video cap, 4 creator cap (0 = off),
//	      5 video field, 6 video:day field, 7 viewer, 8 now ms, 9 token id,
//	      10 limit span ms, 11 batch id (kept if the pending set has one)
//
// Returns 0 counted, 1 duplicate, 2 network over its cap, 3 replay of the
// token that already counted, 4 self-view, 5 video cap, 6 creator cap.
// Every check runs before the first write, so a refused view leaves
// nothing behind (no dedup key, no window entry, no pending count): it is
// either counted whole or not at all. A window is a sorted set of the
// token ids counted in it scored by time; entries older than the span are
// trimmed first, so the cap holds in every sliding hour, not per clock hour.
var countScript = goredis.NewScript(`
local seen = redis.call('GET', KEYS[1])
if seen then
  if seen == ARGV[9] then return 3 end
  return 1
end
if redis.call('EXISTS', KEYS[7]) == 1 then return 4 end
local now = tonumber(ARGV[8])
local span = tonumber(ARGV[10])
local limits = {{KEYS[4], tonumber(ARGV[2]), 2}, {KEYS[5], tonumber(ARGV[3]), 5}, {KEYS[6], tonumber(ARGV[4]), 6}}
for _, l in ipairs(limits) do
  if l[2] > 0 then
    redis.call('ZREMRANGEBYSCORE', l[1], '-inf', now - span)
    if redis.call('ZCARD', l[1]) >= l[2] then return l[3] end
  end
end
redis.call('SET', KEYS[1], ARGV[9], 'PX', ARGV[1])
for _, l in ipairs(limits) do
  if l[2] > 0 then
    redis.call('ZADD', l[1], now, ARGV[9])
    redis.call('PEXPIRE', l[1], span)
  end
end
redis.call('HINCRBY', KEYS[2], ARGV[5], 1)
redis.call('HINCRBY', KEYS[2], ARGV[6], 1)
redis.call('HSETNX', KEYS[2], '_since', ARGV[8])
redis.call('HSETNX', KEYS[2], '_id', ARGV[11])
redis.call('PFADD', KEYS[3], ARGV[7])
return 0`)

// mintScript records one minted anonymous id in a network's sliding
// window unless the window is full. KEYS: 1 window; ARGV: 1 now ms, 2 span
// ms, 3 cap, 4 id. Returns 1 minted, 0 over the cap (nothing written).
var mintScript = goredis.NewScript(`
local now = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1`)

// Load loads the scripts into Redis so the first reports run EVALSHA
// directly (Script.Run falls back to EVAL on NOSCRIPT anyway).
func (c *ViewCounter) Load(ctx context.Context) error {
	for _, s := range []*goredis.Script{countScript, mintScript, unflushedScript, pendingScript, swapScript, dropScript, oldestScript} {
		if err := s.Load(ctx, c.rdb).Err(); err != nil {
			return err
		}
	}
	return nil
}

// Count implements views.Counter.
func (c *ViewCounter) Count(ctx context.Context, h views.Hit) (views.Outcome, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	vid := strconv.FormatInt(h.VideoID, 10)
	creator := strconv.FormatInt(h.CreatorID, 10)
	now := h.Now.UTC()
	netCap, videoCap, creatorCap := h.NetCap, h.VideoCap, h.CreatorCap
	if h.Network == "" {
		netCap, videoCap, creatorCap = 0, 0, 0
	}
	keys := []string{
		c.key("seen", vid, h.Viewer),
		c.key("pending"),
		c.key("uv", vid),
		c.key("net", h.Network),
		c.key("netv", h.Network, vid),
		c.key("netc", h.Network, creator),
		c.key("self", creator, h.Network), // never set for the empty network
	}
	n, err := countScript.Run(ctx, c.rdb, keys,
		h.Window.Milliseconds(), netCap, videoCap, creatorCap,
		vid, vid+":"+now.Format("20060102"), h.Viewer, now.UnixMilli(),
		base64.RawStdEncoding.EncodeToString(h.TokenID), views.LimitSpan.Milliseconds(), batchID(h)).Int64()
	if err != nil {
		return 0, fmt.Errorf("redis: count view: %w", err)
	}
	switch n {
	case 0:
		return views.OutcomeCounted, nil
	case 1:
		return views.OutcomeDuplicate, nil
	case 2:
		return views.OutcomeRateLimited, nil
	case 3:
		return views.OutcomeReplayed, nil
	case 4:
		return views.OutcomeSelfView, nil
	case 5:
		return views.OutcomeVideoLimited, nil
	case 6:
		return views.OutcomeCreatorLimited, nil
	}
	return 0, fmt.Errorf("redis: count view: unexpected answer %d", n)
}

func batchID(h views.Hit) string {
	if h.BatchID != "" {
		return h.BatchID
	}
	return views.NewBatchID(h.Now)
}

// Mint implements views.Counter.
func (c *ViewCounter) Mint(ctx context.Context, network, id string, now time.Time, limit int) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	n, err := mintScript.Run(ctx, c.rdb, []string{c.key("mint", network)},
		now.UnixMilli(), views.LimitSpan.Milliseconds(), limit, id).Int64()
	if err != nil {
		return false, fmt.Errorf("redis: mint viewer id: %w", err)
	}
	return n == 1, nil
}

// MarkNetwork implements views.Counter.
func (c *ViewCounter) MarkNetwork(ctx context.Context, userID int64, network string, ttl time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	if err := c.rdb.Set(ctx, c.key("self", strconv.FormatInt(userID, 10), network), 1, ttl).Err(); err != nil {
		return fmt.Errorf("redis: mark user network: %w", err)
	}
	return nil
}

// pendingScript reads the given videos' fields from the pending hash and
// from every swapped hash. KEYS: 1 pending, 2 flushing set; ARGV: 1 flush
// key prefix, 2.. fields. Returns {main batch id, main counts, id1,
// counts1, id2, ...}.
// The swapped keys are named from the set; they share the hash tag.
var pendingScript = goredis.NewScript(`
local fields = {}
for i = 2, #ARGV do fields[#fields + 1] = ARGV[i] end
local function nums(vals)
  for i = 1, #fields do vals[i] = tonumber(vals[i]) or 0 end
  return vals
end
local out = {redis.call('HGET', KEYS[1], '_id') or '', nums(redis.call('HMGET', KEYS[1], unpack(fields)))}
for _, id in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  out[#out + 1] = id
  out[#out + 1] = nums(redis.call('HMGET', ARGV[1] .. id, unpack(fields)))
end
return out`)

// Pending implements views.Counter.
func (c *ViewCounter) Pending(ctx context.Context, ids []int64) (views.Pending, error) {
	p := views.Pending{Main: make(map[int64]int64), Swapped: make(map[string]map[int64]int64)}
	if len(ids) == 0 {
		return p, nil
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	// Lua's unpack is limited to a few thousand values: ask in chunks.
	const chunk = 1000
	for len(ids) > 0 {
		part := ids[:min(chunk, len(ids))]
		ids = ids[len(part):]
		args := make([]any, 0, len(part)+1)
		args = append(args, c.key("flush")+":")
		for _, id := range part {
			args = append(args, strconv.FormatInt(id, 10))
		}
		res, err := pendingScript.Run(ctx, c.rdb, []string{c.key("pending"), c.key("flushing")}, args...).Slice()
		if err != nil {
			return p, fmt.Errorf("redis: pending views: %w", err)
		}
		if len(res) < 2 {
			return p, fmt.Errorf("redis: pending views: short answer")
		}
		p.MainID, _ = res[0].(string)
		addCounts(p.Main, part, res[1])
		for i := 2; i+1 < len(res); i += 2 {
			fid, _ := res[i].(string)
			m := p.Swapped[fid]
			if m == nil {
				m = make(map[int64]int64)
				p.Swapped[fid] = m
			}
			addCounts(m, part, res[i+1])
		}
	}
	return p, nil
}

func addCounts(m map[int64]int64, ids []int64, vals any) {
	vs, _ := vals.([]any)
	for i, id := range ids {
		if i < len(vs) {
			if n, ok := vs[i].(int64); ok && n != 0 {
				m[id] += n
			}
		}
	}
}

// UniqueViewers estimates the distinct viewers of a video ever counted
// (HyperLogLog: statistics only, about 0.8% error, never used for money).
func (c *ViewCounter) UniqueViewers(ctx context.Context, videoID int64) (int64, error) {
	return c.rdb.PFCount(ctx, c.key("uv", strconv.FormatInt(videoID, 10))).Result()
}

// swapScript renames the pending hash to the flush key of its batch id
// (the fallback id when it has none) and records the id; it returns the id,
// or "" when nothing is pending. KEYS: 1 pending, 2 flushing set; ARGV: 1
// fallback id, 2 flush key prefix. The flush key shares the hash tag.
var swapScript = goredis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return '' end
local id = redis.call('HGET', KEYS[1], '_id') or ARGV[1]
redis.call('RENAME', KEYS[1], ARGV[2] .. id)
redis.call('SADD', KEYS[2], id)
return id`)

// Swap implements views.Counter.
func (c *ViewCounter) Swap(ctx context.Context, fallbackID string) (string, bool, error) {
	id, err := swapScript.Run(ctx, c.rdb, []string{c.key("pending"), c.key("flushing")}, fallbackID, c.key("flush")+":").Text()
	if err != nil {
		return "", false, fmt.Errorf("redis: swap pending views: %w", err)
	}
	return id, id != "", nil
}

// Swapped implements views.Counter.
func (c *ViewCounter) Swapped(ctx context.Context) ([]string, error) {
	ids, err := c.rdb.SMembers(ctx, c.key("flushing")).Result()
	if err != nil {
		return nil, fmt.Errorf("redis: swapped view sets: %w", err)
	}
	return ids, nil
}

// Batch implements views.Counter.
func (c *ViewCounter) Batch(ctx context.Context, flushID string) (views.Batch, error) {
	m, err := c.rdb.HGetAll(ctx, c.key("flush", flushID)).Result()
	if err != nil {
		return views.Batch{}, fmt.Errorf("redis: read view set: %w", err)
	}
	return parseBatch(m)
}

// parseBatch turns a pending hash into a Batch.
func parseBatch(m map[string]string) (views.Batch, error) {
	var b views.Batch
	b.Totals = make([]views.Delta, 0, len(m)/2)
	b.Daily = make([]views.DayDelta, 0, len(m)/2)
	for f, v := range m {
		if f == sinceField || f == idField {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return b, fmt.Errorf("redis: view set field %q has value %q", f, v)
		}
		if n == 0 {
			continue
		}
		vs, day, hasDay := strings.Cut(f, ":")
		vid, err := strconv.ParseInt(vs, 10, 64)
		if err != nil {
			return b, fmt.Errorf("redis: view set field %q", f)
		}
		if !hasDay {
			b.Totals = append(b.Totals, views.Delta{VideoID: vid, Views: n})
			continue
		}
		d, err := time.Parse("20060102", day)
		if err != nil {
			return b, fmt.Errorf("redis: view set field %q: %w", f, err)
		}
		b.Daily = append(b.Daily, views.DayDelta{VideoID: vid, Day: d, Views: n})
	}
	return b, nil
}

// dropScript deletes a swapped hash and forgets its id.
var dropScript = goredis.NewScript(`
redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[2], ARGV[1])
return 1`)

// Drop implements views.Counter.
func (c *ViewCounter) Drop(ctx context.Context, flushID string) error {
	if err := dropScript.Run(ctx, c.rdb, []string{c.key("flush", flushID), c.key("flushing")}, flushID).Err(); err != nil {
		return fmt.Errorf("redis: drop view set: %w", err)
	}
	return nil
}

// oldestScript returns the smallest _since over the pending and swapped
// hashes, or -1. KEYS: 1 pending, 2 flushing set; ARGV: 1 flush key prefix.
var oldestScript = goredis.NewScript(`
local best = tonumber(redis.call('HGET', KEYS[1], '_since') or '-1')
for _, id in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  local s = redis.call('HGET', ARGV[1] .. id, '_since')
  if s and (best < 0 or tonumber(s) < best) then best = tonumber(s) end
end
return best`)

// unflushedScript returns the pending hash and every swapped hash in one
// atomic read: {"", fields..., id1, fields1..., ...} as flat HGETALL lists.
// KEYS: 1 pending, 2 flushing set; ARGV: 1 flush key prefix.
var unflushedScript = goredis.NewScript(`
local out = {'', redis.call('HGETALL', KEYS[1])}
for _, id in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  out[#out + 1] = id
  out[#out + 1] = redis.call('HGETALL', ARGV[1] .. id)
end
return out`)

// Unflushed implements views.Counter.
func (c *ViewCounter) Unflushed(ctx context.Context) (map[string]views.UnflushedSet, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	res, err := unflushedScript.Run(ctx, c.rdb, []string{c.key("pending"), c.key("flushing")}, c.key("flush")+":").Slice()
	if err != nil {
		return nil, fmt.Errorf("redis: unflushed views: %w", err)
	}
	out := make(map[string]views.UnflushedSet)
	for i := 0; i+1 < len(res); i += 2 {
		id, _ := res[i].(string)
		flat, _ := res[i+1].([]any)
		if len(flat) == 0 {
			continue
		}
		m := make(map[string]string, len(flat)/2)
		for j := 0; j+1 < len(flat); j += 2 {
			k, _ := flat[j].(string)
			v, _ := flat[j+1].(string)
			m[k] = v
		}
		b, err := parseBatch(m)
		if err != nil {
			return nil, err
		}
		if id == "" && m[idField] != "" {
			id = m[idField] // the pending set under its batch id: a restored copy of an applied set is recognised
		}
		set := views.UnflushedSet{Batch: b}
		if ms, err := strconv.ParseInt(m[sinceField], 10, 64); err == nil {
			set.Since = time.UnixMilli(ms)
		}
		out[id] = set
	}
	return out, nil
}

// OldestPending implements views.Counter.
func (c *ViewCounter) OldestPending(ctx context.Context) (time.Time, bool, error) {
	ms, err := oldestScript.Run(ctx, c.rdb, []string{c.key("pending"), c.key("flushing")}, c.key("flush")+":").Int64()
	if err != nil {
		return time.Time{}, false, fmt.Errorf("redis: oldest pending view: %w", err)
	}
	if ms < 0 {
		return time.Time{}, false, nil
	}
	return time.UnixMilli(ms), true, nil
}
