package views_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	goredis "github.com/redis/go-redis/v9"

	"github.com/ucc-video/ucc/internal/errs"
	"github.com/ucc-video/ucc/internal/views"
	"github.com/ucc-video/ucc/storage/postgres"
	"github.com/ucc-video/ucc/storage/postgres/pgtest"
	uccredis "github.com/ucc-video/ucc/storage/redis"
	"github.com/ucc-video/ucc/storage/redis/redistest"
)

const browserUA = "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0"

// clock is an injected, settable time.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type env struct {
	db      *postgres.DB
	url     string
	rdb     *goredis.Client
	prefix  string
	counter *uccredis.ViewCounter
	store   *postgres.Views
	svc     *views.Service
	flusher *views.Flusher
	clock   *clock
	creator int64
	channel int64
}

func newEnv(t *testing.T, ipCap int) *env {
	t.Helper()
	url := pgtest.URL(t)
	db, err := postgres.Open(context.Background(), url, 10)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	rdb, prefix := redistest.Client(t)
	e := &env{db: db, url: url, rdb: rdb, prefix: prefix, clock: &clock{t: time.Date(2025, 3, 1, 23, 0, 0, 0, time.UTC)}}
	e.counter = uccredis.NewViewCounter(rdb, prefix, time.Second)
	e.store = postgres.NewViews(db)
	cfg := views.Config{Secret: []byte("0123456789abcdef0123456789abcdef"), MinWatch: 30 * time.Second,
		DedupWindow: time.Hour, IPHourlyCap: ipCap}
	e.svc = views.NewService(cfg, e.store, e.counter, e.store, nil, e.clock.now)
	e.flusher = views.NewFlusher(e.counter, e.store, nil, slog.New(slog.NewTextHandler(io.Discard, nil)), time.Second, e.clock.now)
	ctx := context.Background()
	if err := db.Pool.QueryRow(ctx, `INSERT INTO users (email, display_name, password_hash, role)
		VALUES ('creator@example.com', 'Creator', 'x', 'creator') RETURNING id`).Scan(&e.creator); err != nil {
		t.Fatal(err)
	}
	if err := db.Pool.QueryRow(ctx, `INSERT INTO channels (owner_id, handle, name) VALUES ($1, 'creator', 'Creator') RETURNING id`,
		e.creator).Scan(&e.channel); err != nil {
		t.Fatal(err)
	}
	return e
}

// video inserts a video and returns its public and internal ids.
func (e *env) video(t *testing.T, visibility, status string, duration float64) (string, int64) {
	t.Helper()
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	pub := base64.RawURLEncoding.EncodeToString(b)[:11]
	var id int64
	if err := e.db.Pool.QueryRow(context.Background(), `INSERT INTO videos (public_id, channel_id, creator_id, title, visibility, status, duration_seconds)
		VALUES ($1, $2, $3, 'A video', $4, $5, $6) RETURNING id`, pub, e.channel, e.creator, visibility, status, duration).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return pub, id
}

func (e *env) user(t *testing.T, email string) int64 {
	t.Helper()
	var id int64
	if err := e.db.Pool.QueryRow(context.Background(), `INSERT INTO users (email, display_name, password_hash) VALUES ($1, 'U', 'x') RETURNING id`,
		email).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

var anonN int

func anon(ip string) views.Viewer {
	anonN++
	return views.Viewer{AnonID: fmt.Sprintf("anon%06d-xxxxxxxxxxxxxxx", anonN), IP: ip, UserAgent: browserUA}
}

// watch gets a token, waits wait on the clock and reports.
func (e *env) watch(t *testing.T, pub string, v views.Viewer, wait time.Duration) views.Result {
	t.Helper()
	ctx := context.Background()
	g, err := e.svc.Play(ctx, pub, v)
	if err != nil {
		t.Fatalf("play: %v", err)
	}
	e.clock.add(wait)
	r, err := e.svc.Report(ctx, pub, v, g.PlayToken)
	if err != nil {
		t.Fatalf("report: %v", err)
	}
	return r
}

func (e *env) pgViews(t *testing.T, id int64) (total, daily int64) {
	t.Helper()
	ctx := context.Background()
	if err := e.db.Pool.QueryRow(ctx, `SELECT views FROM videos WHERE id = $1`, id).Scan(&total); err != nil {
		t.Fatal(err)
	}
	if err := e.db.Pool.QueryRow(ctx, `SELECT coalesce(sum(views), 0) FROM video_views_daily WHERE video_id = $1`, id).Scan(&daily); err != nil {
		t.Fatal(err)
	}
	return total, daily
}

func (e *env) displayed(t *testing.T, id int64) int64 {
	t.Helper()
	m, err := e.svc.Displayed(context.Background(), []int64{id})
	if err != nil {
		t.Fatal(err)
	}
	return m[id]
}

func (e *env) flush(t *testing.T) views.FlushStats {
	t.Helper()
	st, err := e.flusher.Flush(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func want(t *testing.T, r views.Result, counted bool, reason views.Reason) {
	t.Helper()
	if r.Counted != counted || r.Reason != reason {
		t.Fatalf("result = %+v, want counted=%v reason=%q", r, counted, reason)
	}
}

func TestReportRules(t *testing.T) {
	e := newEnv(t, 3)
	ctx := context.Background()
	pub, id := e.video(t, "public", "ready", 600)
	wait := 31 * time.Second

	// Distinct viewers count; the same viewer again is a duplicate.
	alice := anon("10.0.0.1")
	want(t, e.watch(t, pub, alice, wait), true, "")
	want(t, e.watch(t, pub, alice, wait), false, views.ReasonDuplicate)
	bob := views.Viewer{UserID: e.user(t, "bob@example.com"), IP: "10.0.0.2", UserAgent: browserUA}
	want(t, e.watch(t, pub, bob, wait), true, "")

	// Replaying the token that counted answers counted again, without counting.
	carol := anon("10.0.0.3")
	g, _ := e.svc.Play(ctx, pub, carol)
	e.clock.add(wait)
	r1, _ := e.svc.Report(ctx, pub, carol, g.PlayToken)
	r2, _ := e.svc.Report(ctx, pub, carol, g.PlayToken)
	want(t, r1, true, "")
	want(t, r2, true, "")

	// Too early: younger than the minimum watch time (30 s here).
	want(t, e.watch(t, pub, anon("10.0.0.4"), 29*time.Second), false, views.ReasonTooEarly)
	// Short video: half its duration is enough.
	shortPub, shortID := e.video(t, "public", "ready", 20)
	want(t, e.watch(t, shortPub, anon("10.0.0.4"), 9*time.Second), false, views.ReasonTooEarly)
	want(t, e.watch(t, shortPub, anon("10.0.0.4"), 10*time.Second), true, "")
	// Expired: older than max(duration + 1 h, 2 h).
	want(t, e.watch(t, pub, anon("10.0.0.5"), 2*time.Hour+time.Second), false, views.ReasonInvalidToken)

	// Forged, other video's, other viewer's tokens.
	dave := anon("10.0.0.6")
	r, err := e.svc.Report(ctx, pub, dave, "AQID"+g.PlayToken[4:])
	if err != nil {
		t.Fatal(err)
	}
	want(t, r, false, views.ReasonInvalidToken)
	gs, _ := e.svc.Play(ctx, shortPub, dave)
	e.clock.add(wait)
	r, _ = e.svc.Report(ctx, pub, dave, gs.PlayToken)
	want(t, r, false, views.ReasonInvalidToken)
	r, _ = e.svc.Report(ctx, pub, dave, g.PlayToken) // carol's token
	want(t, r, false, views.ReasonInvalidToken)
	r, _ = e.svc.Report(ctx, pub, views.Viewer{IP: "10.0.0.6", UserAgent: browserUA}, g.PlayToken) // no identity
	want(t, r, false, views.ReasonInvalidToken)

	// Excluded: the creator's own plays, bots, private and not-ready videos.
	self := views.Viewer{UserID: e.creator, IP: "10.0.0.7", UserAgent: browserUA}
	want(t, e.watch(t, pub, self, wait), false, views.ReasonExcluded)
	bot := anon("10.0.0.8")
	for _, ua := range []string{"HeadlessChrome/120.0", "", "Mozilla/5.0 (compatible; Googlebot/2.1)"} {
		bot.UserAgent = ua
		want(t, e.watch(t, pub, bot, wait), false, views.ReasonExcluded)
	}
	privPub, privID := e.video(t, "private", "ready", 600)
	want(t, e.watch(t, privPub, self, wait), false, views.ReasonExcluded)
	procPub, procID := e.video(t, "public", "processing", 600)
	want(t, e.watch(t, procPub, self, wait), false, views.ReasonExcluded)
	admin := views.Viewer{UserID: e.user(t, "admin@example.com"), Admin: true, IP: "10.0.0.9", UserAgent: browserUA}
	want(t, e.watch(t, privPub, admin, wait), false, views.ReasonExcluded)
	// Others cannot play or report them at all: not found.
	for _, p := range []string{privPub, procPub, "nosuchvideo", "bad"} {
		if _, err := e.svc.Play(ctx, p, anon("10.0.0.10")); !errors.Is(err, errs.ErrNotFound) {
			t.Fatalf("play %s: err = %v, want not found", p, err)
		}
		if _, err := e.svc.Report(ctx, p, anon("10.0.0.10"), g.PlayToken); !errors.Is(err, errs.ErrNotFound) {
			t.Fatalf("report %s: err = %v, want not found", p, err)
		}
	}

	// The IP cap: 3 counted views per IP per hour; the 4th is refused and
	// leaves no dedup key, so the same viewer counts in the next hour.
	capPub, capID := e.video(t, "public", "ready", 600)
	e.clock.t = e.clock.now().Truncate(time.Hour).Add(time.Hour) // start of an hour
	ip := "192.0.2.1"
	var late views.Viewer
	for i := 0; i < 4; i++ {
		v := anon(ip)
		g, _ := e.svc.Play(ctx, capPub, v)
		e.clock.add(time.Minute)
		r, _ := e.svc.Report(ctx, capPub, v, g.PlayToken)
		if i < 3 {
			want(t, r, true, "")
		} else {
			want(t, r, false, views.ReasonRateLimited)
			late = v
			e.clock.add(time.Hour)
			r, _ = e.svc.Report(ctx, capPub, v, g.PlayToken)
			want(t, r, true, "")
		}
	}
	want(t, e.watch(t, capPub, late, wait), false, views.ReasonDuplicate)
	// Another IP is not affected.
	want(t, e.watch(t, capPub, anon("192.0.2.2"), wait), true, "")

	e.flush(t)
	for _, c := range []struct {
		id   int64
		want int64
	}{{id, 3}, {shortID, 1}, {privID, 0}, {procID, 0}, {capID, 5}} {
		total, daily := e.pgViews(t, c.id)
		if total != c.want || daily != c.want {
			t.Errorf("video %d: total %d, daily %d, want %d", c.id, total, daily, c.want)
		}
	}
	if n, err := e.counter.UniqueViewers(ctx, id); err != nil || n != 3 {
		t.Errorf("unique viewers = %d, %v; want 3", n, err)
	}
}

func TestDisplayedAndFlush(t *testing.T) {
	e := newEnv(t, 0)
	pub, id := e.video(t, "public", "ready", 600)
	other, otherID := e.video(t, "public", "ready", 600)
	for i := 0; i < 5; i++ {
		want(t, e.watch(t, pub, anon("10.1.0.1"), 31*time.Second), true, "")
	}
	want(t, e.watch(t, other, anon("10.1.0.1"), 31*time.Second), true, "")
	// At once: shown, though not yet in PostgreSQL.
	if got := e.displayed(t, id); got != 5 {
		t.Fatalf("displayed = %d, want 5", got)
	}
	if total, _ := e.pgViews(t, id); total != 0 {
		t.Fatalf("PostgreSQL total before flush = %d", total)
	}
	// The clock crosses midnight UTC (it started at 23:00): a second day bucket.
	e.clock.add(time.Hour)
	want(t, e.watch(t, pub, anon("10.1.0.1"), 31*time.Second), true, "")
	st := e.flush(t)
	if st.Views != 7 || st.Sets != 1 {
		t.Fatalf("flush stats = %+v, want 7 views in 1 set", st)
	}
	total, daily := e.pgViews(t, id)
	if total != 6 || daily != 6 {
		t.Fatalf("after flush: total %d, daily %d, want 6", total, daily)
	}
	rows, err := e.db.Pool.Query(context.Background(), `SELECT day::text, views, creator_id FROM video_views_daily WHERE video_id = $1 ORDER BY day`, id)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var day string
		var n, creator int64
		if err := rows.Scan(&day, &n, &creator); err != nil {
			t.Fatal(err)
		}
		if creator != e.creator {
			t.Fatalf("bucket creator %d, want %d", creator, e.creator)
		}
		got = append(got, fmt.Sprintf("%s=%d", day, n))
	}
	if fmt.Sprint(got) != "[2025-03-01=5 2025-03-02=1]" {
		t.Fatalf("daily buckets = %v", got)
	}
	m, err := e.svc.Displayed(context.Background(), []int64{id, otherID, 999999})
	if err != nil {
		t.Fatal(err)
	}
	if m[id] != 6 || m[otherID] != 1 || len(m) != 2 {
		t.Fatalf("displayed after flush = %v", m)
	}
	// Nothing pending: another flush does nothing; counts add up on top.
	if st := e.flush(t); st.Views != 0 || st.Sets != 0 {
		t.Fatalf("empty flush = %+v", st)
	}
	want(t, e.watch(t, pub, anon("10.1.0.1"), 31*time.Second), true, "")
	e.flush(t)
	if total, daily := e.pgViews(t, id); total != 7 || daily != 7 {
		t.Fatalf("second flush: total %d daily %d", total, daily)
	}
}

func TestFlushCrashRecovery(t *testing.T) {
	ctx := context.Background()
	t.Run("swapped, not applied", func(t *testing.T) {
		e := newEnv(t, 0)
		pub, id := e.video(t, "public", "ready", 600)
		for i := 0; i < 3; i++ {
			e.watch(t, pub, anon("10.2.0.1"), 31*time.Second)
		}
		// A flusher swapped the set and died before applying it.
		if _, ok, err := e.counter.Swap(ctx, "crashed-1"); err != nil || !ok {
			t.Fatalf("swap = %v, %v", ok, err)
		}
		e.watch(t, pub, anon("10.2.0.1"), 31*time.Second) // a new pending set
		if got := e.displayed(t, id); got != 4 {
			t.Fatalf("displayed with a swapped set = %d, want 4", got)
		}
		st := e.flush(t)
		if st.Views != 4 || st.Sets != 2 {
			t.Fatalf("recovery flush = %+v", st)
		}
		if total, daily := e.pgViews(t, id); total != 4 || daily != 4 {
			t.Fatalf("total %d daily %d, want 4", total, daily)
		}
		if left, _ := e.counter.Swapped(ctx); len(left) != 0 {
			t.Fatalf("swapped sets left: %v", left)
		}
		if got := e.displayed(t, id); got != 4 {
			t.Fatalf("displayed = %d, want 4", got)
		}
	})
	t.Run("applied, not dropped", func(t *testing.T) {
		e := newEnv(t, 0)
		pub, id := e.video(t, "public", "ready", 600)
		for i := 0; i < 3; i++ {
			e.watch(t, pub, anon("10.2.0.1"), 31*time.Second)
		}
		// A flusher swapped, applied and died before dropping the set.
		fid, ok, err := e.counter.Swap(ctx, "crashed-2")
		if err != nil || !ok {
			t.Fatalf("swap = %v, %v", ok, err)
		}
		b, err := e.counter.Batch(ctx, fid)
		if err != nil {
			t.Fatal(err)
		}
		if ok, err := e.store.Apply(ctx, fid, b); err != nil || !ok {
			t.Fatalf("apply = %v, %v", ok, err)
		}
		// The set is both in PostgreSQL and in Redis: shown once.
		if got := e.displayed(t, id); got != 3 {
			t.Fatalf("displayed with an applied, undropped set = %d, want 3", got)
		}
		if ok, err := e.store.Apply(ctx, fid, b); err != nil || ok {
			t.Fatalf("second apply = %v, %v; want a no-op", ok, err)
		}
		st := e.flush(t)
		if st.Views != 0 || st.Sets != 0 {
			t.Fatalf("recovery flush applied again: %+v", st)
		}
		if total, daily := e.pgViews(t, id); total != 3 || daily != 3 {
			t.Fatalf("total %d daily %d, want 3", total, daily)
		}
		if left, _ := e.counter.Swapped(ctx); len(left) != 0 {
			t.Fatalf("swapped sets left: %v", left)
		}
		if got := e.displayed(t, id); got != 3 {
			t.Fatalf("displayed = %d, want 3", got)
		}
	})
}

// TestFlushAfterRedisRestore: a Redis failover to a lagging replica, or a
// restore of an RDB/AOF snapshot, brings back view sets the flusher has
// already applied. Each key is snapshotted here with DUMP and put back with
// RESTORE on real Redis, as a restore would. On main a pending set restored
// from before its swap was swapped again under a new flush id and applied a
// second time (6 views became 12); the batch id the set carries from its
// first view makes the second apply a no-op.
func TestFlushAfterRedisRestore(t *testing.T) {
	ctx := context.Background()
	key := func(e *env, parts ...string) string { return uccredis.Keys{Prefix: e.prefix}.Key("views", parts...) }
	snapshot := func(t *testing.T, e *env, keys ...string) map[string]string {
		t.Helper()
		out := map[string]string{}
		for _, k := range keys {
			d, err := e.rdb.Dump(ctx, k).Result()
			if err != nil {
				t.Fatalf("dump %s: %v", k, err)
			}
			out[k] = d
		}
		return out
	}
	restore := func(t *testing.T, e *env, snap map[string]string) {
		t.Helper()
		for k, d := range snap {
			if err := e.rdb.RestoreReplace(ctx, k, 0, d).Err(); err != nil {
				t.Fatalf("restore %s: %v", k, err)
			}
		}
	}
	t.Run("snapshot before the swap", func(t *testing.T) {
		e := newEnv(t, 0)
		pub, id := e.video(t, "public", "ready", 600)
		for range 6 {
			want(t, e.watch(t, pub, anon("10.3.0.1"), 31*time.Second), true, "")
		}
		snap := snapshot(t, e, key(e, "pending"))
		if st := e.flush(t); st.Views != 6 {
			t.Fatalf("flush = %+v", st)
		}
		restore(t, e, snap) // the pending set is back, as it was before the flush
		if got := e.displayed(t, id); got != 6 {
			t.Fatalf("displayed after the restore = %d, want 6", got)
		}
		if st := e.flush(t); st.Views != 0 || st.Sets != 0 {
			t.Fatalf("flush after the restore applied again: %+v", st)
		}
		if total, daily := e.pgViews(t, id); total != 6 || daily != 6 {
			t.Fatalf("total %d daily %d, want 6", total, daily)
		}
		// Counting goes on in a new set.
		want(t, e.watch(t, pub, anon("10.3.0.2"), 31*time.Second), true, "")
		e.flush(t)
		if total, _ := e.pgViews(t, id); total != 7 {
			t.Fatalf("total %d, want 7", total)
		}
	})
	t.Run("snapshot after the swap", func(t *testing.T) {
		e := newEnv(t, 0)
		pub, id := e.video(t, "public", "ready", 600)
		for range 4 {
			want(t, e.watch(t, pub, anon("10.3.0.3"), 31*time.Second), true, "")
		}
		fid, ok, err := e.counter.Swap(ctx, "unused")
		if err != nil || !ok {
			t.Fatalf("swap: %v %v", ok, err)
		}
		snap := snapshot(t, e, key(e, "flush", fid), key(e, "flushing"))
		if st := e.flush(t); st.Views != 4 {
			t.Fatalf("flush = %+v", st)
		}
		restore(t, e, snap)
		if st := e.flush(t); st.Views != 0 || st.Sets != 0 {
			t.Fatalf("flush after the restore applied again: %+v", st)
		}
		if total, daily := e.pgViews(t, id); total != 4 || daily != 4 {
			t.Fatalf("total %d daily %d, want 4", total, daily)
		}
	})
}

func TestConcurrentFlushersDoNotDouble(t *testing.T) {
	e := newEnv(t, 0)
	ctx := context.Background()
	pub, id := e.video(t, "public", "ready", 600)
	// A second flusher as if in another process, on its own pool.
	db2, err := postgres.Open(ctx, e.url, 4)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db2.Close)
	store2 := postgres.NewViews(db2)
	f2 := views.NewFlusher(e.counter, store2, nil, slog.New(slog.NewTextHandler(io.Discard, nil)), time.Second, e.clock.now)

	var wg sync.WaitGroup
	stop := make(chan struct{})
	var flushed [2]int64
	for i, f := range []*views.Flusher{e.flusher, f2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				st, err := f.Flush(ctx)
				if err != nil {
					t.Error(err)
					return
				}
				flushed[i] += st.Views
				select {
				case <-stop:
					return
				default:
				}
			}
		}()
	}
	const n = 300
	for i := 0; i < n; i++ {
		v := anon("10.3.0.1")
		g, err := e.svc.Play(ctx, pub, v)
		if err != nil {
			t.Fatal(err)
		}
		e.clock.add(31 * time.Second)
		r, err := e.svc.Report(ctx, pub, v, g.PlayToken)
		if err != nil || !r.Counted {
			t.Fatalf("report %d: %+v %v", i, r, err)
		}
	}
	close(stop)
	wg.Wait()
	e.flush(t)
	total, daily := e.pgViews(t, id)
	if total != n || daily != n {
		t.Fatalf("total %d daily %d, want %d (flushers applied %v)", total, daily, n, flushed)
	}
	var sets int64
	if err := e.db.Pool.QueryRow(ctx, `SELECT coalesce(sum(views), 0) FROM view_flushes`).Scan(&sets); err != nil || sets != n {
		t.Fatalf("view_flushes sum = %d, %v", sets, err)
	}
}

func TestLockedFlusherSkips(t *testing.T) {
	e := newEnv(t, 0)
	ctx := context.Background()
	unlock, ok, err := e.store.TryLockFlush(ctx)
	if err != nil || !ok {
		t.Fatalf("lock: %v %v", ok, err)
	}
	if _, ok2, _ := e.store.TryLockFlush(ctx); ok2 {
		t.Fatal("second lock taken while held")
	}
	st, err := e.flusher.Flush(ctx)
	if err != nil || !st.Busy {
		t.Fatalf("flush while locked = %+v, %v; want busy", st, err)
	}
	unlock()
	if st, err := e.flusher.Flush(ctx); err != nil || st.Busy {
		t.Fatalf("flush after unlock = %+v, %v", st, err)
	}
}

func TestRedisDown(t *testing.T) {
	e := newEnv(t, 0)
	ctx := context.Background()
	pub, id := e.video(t, "public", "ready", 600)
	want(t, e.watch(t, pub, anon("10.4.0.1"), 31*time.Second), true, "")
	e.flush(t)
	// A client to a port where nothing listens.
	dead := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:1", DialTimeout: 200 * time.Millisecond, MaxRetries: -1})
	t.Cleanup(func() { dead.Close() })
	reg := prometheus.NewRegistry()
	down := uccredis.NewViewCounter(dead, "x", 500*time.Millisecond)
	svc := views.NewService(views.Config{Secret: []byte("0123456789abcdef0123456789abcdef"), MinWatch: 30 * time.Second,
		DedupWindow: time.Hour}, e.store, down, e.store, views.NewMetrics(reg), e.clock.now)
	v := anon("10.4.0.2")
	g, err := svc.Play(ctx, pub, v)
	if err != nil {
		t.Fatalf("play needs no Redis: %v", err)
	}
	e.clock.add(31 * time.Second)
	start := time.Now()
	_, err = svc.Report(ctx, pub, v, g.PlayToken)
	if !errors.Is(err, errs.ErrUnavailable) {
		t.Fatalf("report with Redis down: err = %v, want unavailable", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("report with Redis down took %v", d)
	}
	m, err := svc.Displayed(ctx, []int64{id})
	if err != nil || m[id] != 1 {
		t.Fatalf("displayed with Redis down = %v, %v; want the PostgreSQL total 1", m, err)
	}
	if n := counterValue(t, reg, "ucc_view_redis_errors_total"); n != 2 {
		t.Fatalf("ucc_view_redis_errors_total = %v, want 2", n)
	}
}

// counterValue reads a registered counter by name.
func counterValue(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.Metric) == 1 {
			return mf.Metric[0].GetCounter().GetValue()
		}
	}
	t.Fatalf("metric %s not registered", name)
	return 0
}
