package web

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ucc-video/ucc/internal/accounts"
	"github.com/ucc-video/ucc/internal/community"
	"github.com/ucc-video/ucc/internal/videos"
)

// Trending and search must not be a way to take the server down: cache hits
// wait for nothing, no client input grows the cache, each client network
// gets a bounded number of searches and list pages, a slow query is stopped,
// and a search of exclusions alone is refused before it ranks every video.

// trendingStore is the real community store with a hand on TrendingVideos:
// it counts the calls and, while hold is set for a window start, blocks
// the calls for it until released.
type trendingStore struct {
	community.Store
	calls   atomic.Int64
	mu      sync.Mutex
	hold    map[string]chan struct{} // window start (date) -> closed to release
	entered chan string              // a held call's window start, as it starts waiting
}

func (s *trendingStore) TrendingVideos(ctx context.Context, since time.Time, offset, limit int) ([]videos.Video, error) {
	s.calls.Add(1)
	s.mu.Lock()
	ch := s.hold[since.Format(time.DateOnly)]
	s.mu.Unlock()
	if ch != nil {
		s.entered <- since.Format(time.DateOnly)
		<-ch
	}
	return s.Store.TrendingVideos(ctx, since, offset, limit)
}

// trendingRig is a rig on a clock the test sets, with two videos that have
// views on every day of March 2025, and the store above.
func trendingRig(t *testing.T, cfg community.Config) (*testServer, *trendingStore, *atomic.Int64) {
	var now atomic.Int64
	now.Store(time.Date(2025, 3, 20, 15, 0, 0, 0, time.UTC).UnixNano())
	clock := func() time.Time { return time.Unix(0, now.Load()).UTC() }
	st := &trendingStore{hold: map[string]chan struct{}{}, entered: make(chan string, 8)}
	ts := newTestServer(t, withCommunity(cfg), withClock(clock),
		withCommunityStore(func(s community.Store) community.Store { st.Store = s; return st }))
	_, uid := ts.user("trend@example.com", accounts.RoleCreator)
	ch := ts.seedChannel(uid, "trender", "T", "")
	for i := 0; i < 2; i++ {
		id, _ := ts.seedVideo(seedVideo{Channel: ch, Creator: uid, Title: fmt.Sprint("V", i)})
		ts.sql(`INSERT INTO video_views_daily (video_id, creator_id, day, views)
			SELECT $1, $2, d, $3 FROM generate_series('2025-03-01'::date, '2025-03-31', '1 day') d`, id, uid, 10+i)
	}
	return ts, st, &now
}

// TestTrendingHitsWaitForNoLoad: while the ranking of one window is being
// computed (its load held in the store), trending pages of another window
// that is cached answer at once, and so do other pages of it; a request of
// the loading window waits for that one load instead of starting its own.
// Before, one mutex was held for the whole database query, cache hit or
// not: every trending request queued behind the slowest load.
func TestTrendingHitsWaitForNoLoad(t *testing.T) {
	ts, st, now := trendingRig(t, community.Config{CommentLimit: 10, CommentWindow: time.Minute, TrendingTTL: time.Hour})
	trending := func(ctx context.Context, path string) (int, error) {
		req, _ := http.NewRequestWithContext(ctx, "GET", ts.http.URL+path, nil)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err
		}
		res.Body.Close()
		return res.StatusCode, nil
	}
	if code, err := trending(t.Context(), "/api/v1/videos?sort=trending"); err != nil || code != 200 {
		t.Fatalf("first trending: %d %v", code, err)
	}
	if st.calls.Load() != 1 {
		t.Fatalf("%d store calls for the first page, want 1", st.calls.Load())
	}

	// The next day's window: its load is held.
	release := make(chan struct{})
	st.mu.Lock()
	st.hold["2025-03-15"] = release
	st.mu.Unlock()
	today := now.Load()
	now.Store(today + int64(24*time.Hour))
	held := make(chan error, 2)
	for i := 0; i < 2; i++ {
		go func() {
			code, err := trending(context.Background(), "/api/v1/videos?sort=trending&limit="+strconv.Itoa(5+i))
			if err == nil && code != 200 {
				err = fmt.Errorf("status %d", code)
			}
			held <- err
		}()
	}
	select {
	case <-st.entered:
	case <-time.After(30 * time.Second):
		t.Fatal("the held load never started")
	}

	// Back to the cached window, while the other load is still held.
	now.Store(today)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	for _, path := range []string{"/api/v1/videos?sort=trending", "/api/v1/videos?sort=trending&limit=1", "/"} {
		if code, err := trending(ctx, path); err != nil || code != 200 {
			close(release)
			t.Fatalf("GET %s while another window loads: %d %v (a cache hit waited for the load)", path, code, err)
		}
	}
	close(release)
	for i := 0; i < 2; i++ {
		if err := <-held; err != nil {
			t.Fatalf("a request of the held window: %v", err)
		}
	}
	// One load of the held window served both of its requests (the second
	// may have arrived after the first finished: then it was a hit).
	if n := st.calls.Load(); n != 2 {
		t.Fatalf("%d store calls, want 2 (one per window)", n)
	}
}

// TestTrendingCacheBounded: no cursor or page size a client sends adds a
// cache entry. 300 distinct (cursor, limit) pairs within the cached head of
// the ranking are cut from one entry; the first page is still cached after
// them (before, the cache was wiped at 256 keys, so a client walking
// cursors evicted the home page's trending for everyone). Pages past the
// head go to the database each time and are never cached; a new day's
// window replaces old ones beyond two.
func TestTrendingCacheBounded(t *testing.T) {
	ts, st, now := trendingRig(t, community.Config{CommentLimit: 10, CommentWindow: time.Minute, TrendingTTL: time.Hour})
	get := func(cur community.Cursor, limit int) {
		t.Helper()
		r := ts.do("GET", "/api/v1/videos?sort=trending&limit="+strconv.Itoa(limit)+"&cursor="+url.QueryEscape(cur.String()), nil)
		wantStatus(t, r, http.StatusOK)
	}
	n := 0
	for off := 0; off < 150 && n < 300; off++ {
		for _, limit := range []int{1, 2, 50} {
			get(community.Cursor{Offset: off}, limit)
			n++
		}
	}
	if c := st.calls.Load(); c != 1 {
		t.Fatalf("%d store calls for %d distinct pages inside the head, want 1", c, n)
	}
	if k := ts.deps.Community.TrendingKeys(); k != 1 {
		t.Fatalf("%d cache keys after %d distinct pages, want 1", k, n)
	}
	wantStatus(t, ts.do("GET", "/", nil), http.StatusOK)
	if c := st.calls.Load(); c != 1 {
		t.Fatalf("the home page's trending was recomputed after %d distinct cursors (%d store calls)", n, c)
	}
	for i := 0; i < 5; i++ {
		get(community.Cursor{Offset: 1000 + i}, 10)
	}
	if c := st.calls.Load(); c != 6 {
		t.Fatalf("%d store calls after 5 pages past the head, want 6 (each to the database)", c)
	}
	for d := 0; d < 10; d++ {
		now.Add(int64(24 * time.Hour))
		get(community.Cursor{}, 10)
	}
	if k := ts.deps.Community.TrendingKeys(); k != 2 {
		t.Fatalf("%d cache keys after 10 days, want 2", k)
	}
}

// TestSearchAndListLimitsPerNetwork: beyond UCC_SEARCH_RATE_LIMIT searches
// or UCC_LIST_RATE_LIMIT list pages a minute from one client network, the
// answer is 429 with Retry-After and a translated message; the window
// slides (no double burst around a minute's edge) and a client that waits
// as long as it is told gets in; other networks, and the other budget, are
// unaffected; an IPv6 /64 is one network.
func TestSearchAndListLimitsPerNetwork(t *testing.T) {
	var now atomic.Int64
	now.Store(time.Date(2025, 3, 20, 15, 0, 50, 0, time.UTC).UnixNano()) // 10 s before a minute's edge
	clock := func() time.Time { return time.Unix(0, now.Load()).UTC() }
	ts := newTestServer(t, withClock(clock), withWeb(func(c *Config) {
		c.SearchRateLimit, c.ListRateLimit = 3, 5
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("::1/128")}
	}))
	from := func(ip string) []string { return []string{"X-Forwarded-For", ip} }
	for i := 0; i < 3; i++ {
		wantStatus(t, ts.do("GET", "/api/v1/search?q=cats", nil, from("203.0.113.7")...), http.StatusOK)
	}
	r := ts.do("GET", "/api/v1/search?q=cats", nil, from("203.0.113.7")...)
	wantStatus(t, r, http.StatusTooManyRequests)
	var e apiError
	r.JSON(t, &e)
	wait, _ := strconv.Atoi(r.Header.Get("Retry-After"))
	if e.Error.Code != "too_many_requests" || !strings.Contains(e.Error.Message, "too many searches from your network") || wait < 1 || wait > 120 {
		t.Fatalf("429: Retry-After %q, %s", r.Header.Get("Retry-After"), r.Body)
	}
	r = ts.do("GET", "/search?q=cats", nil, append(from("203.0.113.7"), "Accept-Language", "ko")...)
	wantStatus(t, r, http.StatusTooManyRequests)
	if !strings.Contains(string(r.Body), "검색 요청이 너무 많습니다") || r.Header.Get("Retry-After") == "" {
		t.Fatalf("Korean search page 429: %s", r.Body)
	}
	// Other networks and the list budget are not spent.
	wantStatus(t, ts.do("GET", "/api/v1/search?q=cats", nil, from("203.0.113.8")...), http.StatusOK)
	wantStatus(t, ts.do("GET", "/api/v1/videos", nil, from("203.0.113.7")...), http.StatusOK)

	// 15 s later the next minute has begun: a fixed window would open
	// again; the sliding one still holds the three searches.
	now.Add(int64(15 * time.Second))
	wantStatus(t, ts.do("GET", "/api/v1/search?q=cats", nil, from("203.0.113.7")...), http.StatusTooManyRequests)
	// Once the time it was told has passed, it gets in.
	now.Add(int64(time.Duration(wait) * time.Second))
	wantStatus(t, ts.do("GET", "/api/v1/search?q=cats", nil, from("203.0.113.7")...), http.StatusOK)

	// Lists: the home page, the API list and channel pages share a budget;
	// two addresses of one IPv6 /64 are one network.
	for i, path := range []string{"/", "/api/v1/videos?sort=trending", "/api/v1/videos", "/", "/api/v1/videos"} {
		ip := "2001:db8:1:2::" + strconv.Itoa(i+1)
		wantStatus(t, ts.do("GET", path, nil, from(ip)...), http.StatusOK)
	}
	r = ts.do("GET", "/", nil, from("2001:db8:1:2:ffff::9")...)
	wantStatus(t, r, http.StatusTooManyRequests)
	if r.Header.Get("Retry-After") == "" || !strings.Contains(string(r.Body), "too many requests from your network") {
		t.Fatalf("home page 429: %s", r.Body)
	}
	wantStatus(t, ts.do("GET", "/", nil, from("2001:db8:1:3::1")...), http.StatusOK)
}

// TestListQueriesStopAtTheStatementTimeout: a list or search query that
// runs past UCC_QUERY_TIMEOUT is stopped by PostgreSQL and answered 503
// with Retry-After and a message saying the search took too long (in the
// reader's language), not left holding a connection. The test makes the
// queries slow by holding a lock on the videos table.
func TestListQueriesStopAtTheStatementTimeout(t *testing.T) {
	ts := newTestServer(t, withQueryTimeout(200*time.Millisecond))
	ctx := t.Context()
	tx, err := ts.db.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(context.Background()) //nolint:errcheck
	if _, err := tx.Exec(ctx, `LOCK TABLE videos IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	done := make(chan response, 3)
	go func() {
		done <- ts.do("GET", "/api/v1/search?q=cats", nil)
		done <- ts.do("GET", "/search?q=cats", nil, "Accept-Language", "ko")
		done <- ts.do("GET", "/api/v1/videos", nil)
	}()
	var got []response
	for len(got) < 3 {
		select {
		case r := <-done:
			got = append(got, r)
		case <-time.After(20 * time.Second):
			t.Fatal("a list query is still waiting for the lock: no statement timeout")
		}
	}
	var e apiError
	got[0].JSON(t, &e)
	if got[0].StatusCode != http.StatusServiceUnavailable || e.Error.Code != "query_timeout" ||
		!strings.Contains(e.Error.Message, "the search took too long") || got[0].Header.Get("Retry-After") == "" {
		t.Fatalf("API search: %d %s", got[0].StatusCode, got[0].Body)
	}
	if got[1].StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(got[1].Body), "검색에 시간이 너무 오래 걸렸습니다") {
		t.Fatalf("Korean search page: %d %s", got[1].StatusCode, got[1].Body)
	}
	got[2].JSON(t, &e)
	if got[2].StatusCode != http.StatusServiceUnavailable || e.Error.Code != "query_timeout" || !strings.Contains(e.Error.Message, "took too long") {
		t.Fatalf("API list: %d %s", got[2].StatusCode, got[2].Body)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	// The pool's connections carry no timeout of their own afterwards.
	var timeout string
	if err := ts.db.Pool.QueryRow(ctx, `SHOW statement_timeout`).Scan(&timeout); err != nil || timeout != "0" {
		t.Fatalf("statement_timeout outside the list queries = %q (%v), want 0", timeout, err)
	}
	wantStatus(t, ts.do("GET", "/api/v1/search?q=cats", nil), http.StatusOK)
}

// TestSearchOfOnlyExclusionsRefused: a query with nothing to look for, only
// words to leave out, would match nearly every video and rank the whole
// table with no index; it is refused with 400 and a message that says
// why, on the API and the page, in English and Korean. Queries with a word
// to look for beside exclusions still work.
func TestSearchOfOnlyExclusionsRefused(t *testing.T) {
	ts := newTestServer(t)
	_, uid := ts.user("s@example.com", accounts.RoleCreator)
	ch := ts.seedChannel(uid, "cooks", "Cooks", "")
	_, cats := ts.seedVideo(seedVideo{Channel: ch, Creator: uid, Title: "Cats and boxes"})
	ts.seedVideo(seedVideo{Channel: ch, Creator: uid, Title: "Dogs at the beach"})
	for _, q := range []string{"-cats", "-cats -dogs", "dogs or -cats", "the -cats", "-the", "-기타", "-기타 -cats"} {
		r := ts.do("GET", "/api/v1/search?q="+url.QueryEscape(q), nil)
		wantStatus(t, r, http.StatusBadRequest)
		var e apiError
		r.JSON(t, &e)
		if e.Error.Code != "query_only_exclusions" || !strings.Contains(e.Error.Message, "at least one word to look for") {
			t.Fatalf("%q: %s", q, r.Body)
		}
	}
	r := ts.do("GET", "/search?q=-cats", nil, "Accept-Language", "ko")
	wantStatus(t, r, http.StatusBadRequest)
	if !strings.Contains(string(r.Body), "찾을 단어가 하나 이상") {
		t.Fatalf("Korean page: %s", r.Body)
	}
	var p struct {
		Videos []videos.Video `json:"videos"`
	}
	r = ts.do("GET", "/api/v1/search?q="+url.QueryEscape("boxes -dogs"), nil)
	wantStatus(t, r, http.StatusOK)
	r.JSON(t, &p)
	if len(p.Videos) != 1 || p.Videos[0].PublicID != cats {
		t.Fatalf("boxes -dogs: %s", r.Body)
	}
	for _, q := range []string{"", "the", "-", "\"-cats\""} {
		wantStatus(t, ts.do("GET", "/api/v1/search?q="+url.QueryEscape(q), nil), http.StatusOK)
	}
}

// TestTrendingHeadNotHeldToTheStatementTimeout: the head of trending is one
// shared load a day that every home page reads. Held to one reader's
// statement timeout, a head slower than it was never cached and every home
// page failed with 503 query_timeout (20 of 20 under
// BenchmarkHomeUnderTrendingCursors); it is bounded by its own deadline.
func TestTrendingHeadNotHeldToTheStatementTimeout(t *testing.T) {
	ts := newTestServer(t, withQueryTimeout(200*time.Millisecond), withCommunity(community.DefaultConfig()))
	ctx := t.Context()
	tx, err := ts.db.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(context.Background()) //nolint:errcheck
	// The ranking's input is locked for longer than the statement timeout.
	if _, err := tx.Exec(ctx, `LOCK TABLE video_views_daily IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	released := make(chan error, 1)
	go func() {
		time.Sleep(time.Second)
		released <- tx.Rollback(context.Background())
	}()
	wantStatus(t, ts.do("GET", "/", nil), http.StatusOK)
	if err := <-released; err != nil {
		t.Fatal(err)
	}
	// A reader's own deep page is still held to the timeout (see above).
}
