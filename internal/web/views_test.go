package web

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/ucc-video/ucc/internal/accounts"
	"github.com/ucc-video/ucc/internal/views"
)

const firefoxUA = "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0"

// readyVideo inserts a channel for owner and a ready public video; it returns the public id.
func (ts *testServer) readyVideo(owner int64, visibility string) string {
	ts.t.Helper()
	ctx := context.Background()
	var ch int64
	err := ts.db.Pool.QueryRow(ctx, `INSERT INTO channels (owner_id, handle, name) VALUES ($1::bigint, 'chan' || $1::text, 'Chan')
		ON CONFLICT (owner_id) DO UPDATE SET name = excluded.name RETURNING id`, owner).Scan(&ch)
	if err != nil {
		ts.t.Fatal(err)
	}
	pub := "vid" + strings.Repeat("x", 6) + visibility[:2]
	if _, err := ts.db.Pool.Exec(ctx, `INSERT INTO videos (public_id, channel_id, creator_id, title, visibility, status, duration_seconds)
		VALUES ($1, $2, $3, 'T', $4, 'ready', 300)`, pub, ch, owner, visibility); err != nil {
		ts.t.Fatal(err)
	}
	return pub
}

func TestViewAPI(t *testing.T) {
	ts := newTestServer(t)
	flusher := ts.flusher
	_, creator := ts.user("creator@example.com", accounts.RoleCreator)
	pub := ts.readyVideo(creator, "public")
	ua := []string{"User-Agent", firefoxUA}

	// Anonymous: /play mints the viewer id (cookie and header).
	r := ts.do("GET", "/api/v1/videos/"+pub+"/play", nil, ua...)
	wantStatus(t, r, http.StatusOK)
	var g struct {
		PlayToken       string `json:"play_token"`
		MinWatchSeconds *int   `json:"min_watch_seconds"`
	}
	r.JSON(t, &g)
	vid := r.Header.Get("X-UCC-Viewer")
	if g.PlayToken == "" || g.MinWatchSeconds == nil || vid == "" || !strings.Contains(r.Header.Get("Set-Cookie"), "ucc_vid="+vid) {
		t.Fatalf("play: body %s, headers %v", r.Body, r.Header)
	}
	report := func(body any, headers ...string) (response, views.Result) {
		r := ts.do("POST", "/api/v1/videos/"+pub+"/views", body, append(append([]string{}, ua...), headers...)...)
		var res views.Result
		if r.StatusCode == http.StatusOK {
			r.JSON(t, &res)
		}
		return r, res
	}
	tok := map[string]string{"play_token": g.PlayToken}
	// Without the viewer id the token does not verify.
	if r, res := report(tok); r.StatusCode != 200 || res.Counted || res.Reason != views.ReasonInvalidToken {
		t.Fatalf("report without viewer: %d %s", r.StatusCode, r.Body)
	}
	if r, res := report(tok, "X-UCC-Viewer", vid); r.StatusCode != 200 || !res.Counted {
		t.Fatalf("report: %d %s", r.StatusCode, r.Body)
	}
	// The cookie works as well as the header; the answer spells the reason.
	r, _ = report(tok, "Cookie", "ucc_vid="+vid)
	wantStatus(t, r, http.StatusOK)
	if string(r.Body) != `{"counted":true}` {
		t.Fatalf("replayed token: %s", r.Body)
	}
	g2 := ts.do("GET", "/api/v1/videos/"+pub+"/play", nil, append([]string{"X-UCC-Viewer", vid}, ua...)...)
	g2.JSON(t, &g)
	if g2.Header.Get("X-UCC-Viewer") != "" {
		t.Fatal("a valid viewer id was replaced")
	}
	r, _ = report(map[string]string{"play_token": g.PlayToken}, "X-UCC-Viewer", vid)
	if string(r.Body) != `{"counted":false,"reason":"duplicate"}` {
		t.Fatalf("duplicate: %s", r.Body)
	}
	// A self-declared bot.
	r = ts.do("POST", "/api/v1/videos/"+pub+"/views", tok, "X-UCC-Viewer", vid, "User-Agent", "Mozilla/5.0 (compatible; Googlebot/2.1)")
	if string(r.Body) != `{"counted":false,"reason":"excluded"}` {
		t.Fatalf("bot: %s", r.Body)
	}
	// Malformed reports: 400; unknown video: 404.
	for _, body := range []any{[]byte("{"), []byte(`{"play_token": 5}`), map[string]string{}, map[string]string{"play_token": "  "}} {
		r, _ := report(body, "X-UCC-Viewer", vid, "Content-Type", "application/json")
		wantStatus(t, r, http.StatusBadRequest)
	}
	wantStatus(t, ts.do("POST", "/api/v1/videos/nosuchvideo/views", tok, ua...), http.StatusNotFound)
	wantStatus(t, ts.do("GET", "/api/v1/videos/nosuchvideo/play", nil, ua...), http.StatusNotFound)
	// A signed-in user (bearer token) counts as "u:<id>"; the creator is excluded.
	userTok, _ := ts.user("viewer@example.com", accounts.RoleViewer)
	r = ts.do("GET", "/api/v1/videos/"+pub+"/play", nil, append(bearer(userTok), ua...)...)
	r.JSON(t, &g)
	r, res := report(map[string]string{"play_token": g.PlayToken}, bearer(userTok)...)
	if !res.Counted {
		t.Fatalf("signed-in report: %s", r.Body)
	}
	// The displayed count, at once.
	var cnt struct{ Views int64 }
	r = ts.do("GET", "/api/v1/videos/"+pub+"/views", nil)
	wantStatus(t, r, http.StatusOK)
	r.JSON(t, &cnt)
	if cnt.Views != 2 {
		t.Fatalf("views = %d, want 2", cnt.Views)
	}
	if _, err := flusher.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	ts.do("GET", "/api/v1/videos/"+pub+"/views", nil).JSON(t, &cnt)
	var pg int64
	if err := ts.db.Pool.QueryRow(context.Background(), `SELECT views FROM videos WHERE public_id = $1`, pub).Scan(&pg); err != nil || pg != 2 || cnt.Views != 2 {
		t.Fatalf("after flush: PostgreSQL %d (%v), displayed %d; want 2", pg, err, cnt.Views)
	}
	// Private videos: 404 for others.
	priv := ts.readyVideo(creator, "private")
	wantStatus(t, ts.do("GET", "/api/v1/videos/"+priv+"/play", nil, ua...), http.StatusNotFound)
	// Metrics are exported.
	m := string(ts.do("GET", "/metrics", nil, bearer(testMetricsToken)...).Body)
	for _, name := range []string{"ucc_views_counted_total 2", `ucc_views_rejected_total{reason="duplicate"} 1`,
		`ucc_views_rejected_total{reason="excluded"} 1`, "ucc_views_flushed_total 2", "ucc_view_flush_lag_seconds 0", "ucc_view_redis_errors_total 0"} {
		if !strings.Contains(m, name) {
			t.Errorf("metrics lack %q", name)
		}
	}
}

func TestViewAPIRedisDown(t *testing.T) {
	dead := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:1", DialTimeout: 200 * time.Millisecond, MaxRetries: -1})
	t.Cleanup(func() { dead.Close() })
	ts := newTestServer(t, withRedis(dead, "x"))
	_, creator := ts.user("creator@example.com", accounts.RoleCreator)
	pub := ts.readyVideo(creator, "public")
	r := ts.do("GET", "/api/v1/videos/"+pub+"/play", nil, "User-Agent", firefoxUA)
	wantStatus(t, r, http.StatusOK)
	var g struct {
		PlayToken string `json:"play_token"`
	}
	r.JSON(t, &g)
	start := time.Now()
	r = ts.do("POST", "/api/v1/videos/"+pub+"/views", map[string]string{"play_token": g.PlayToken},
		"User-Agent", firefoxUA, "X-UCC-Viewer", r.Header.Get("X-UCC-Viewer"))
	wantStatus(t, r, http.StatusServiceUnavailable)
	if d := time.Since(start); d > time.Second || !strings.Contains(string(r.Body), `"code":"views_unavailable"`) {
		t.Fatalf("Redis down: %v, %s", d, r.Body)
	}
	var cnt struct{ Views int64 }
	r = ts.do("GET", "/api/v1/videos/"+pub+"/views", nil)
	wantStatus(t, r, http.StatusOK)
	r.JSON(t, &cnt)
	if !strings.Contains(string(ts.do("GET", "/metrics", nil, bearer(testMetricsToken)...).Body), "ucc_view_redis_errors_total 2") {
		t.Fatal("redis errors not counted")
	}
}

// TestDisplayedCountEverywhere: a counted view shows at once (pending in
// Redis) in the video JSON, the watch page and lists, and stays the same
// after the flush moves it to PostgreSQL.
func TestDisplayedCountEverywhere(t *testing.T) {
	ts := newTestServer(t)
	flusher := ts.flusher
	_, creator := ts.user("dc@example.com", accounts.RoleCreator)
	ch := ts.seedChannel(creator, "dchan", "D", "")
	_, pub := ts.seedVideo(seedVideo{Channel: ch, Creator: creator, Title: "Counted", Views: 41, Renditions: []int{360}})
	viewer, _ := ts.user("dv@example.com", accounts.RoleViewer)
	h := append(bearer(viewer), "User-Agent", firefoxUA)
	var g struct {
		PlayToken string `json:"play_token"`
	}
	ts.do("GET", "/api/v1/videos/"+pub+"/play", nil, h...).JSON(t, &g)
	r := ts.do("POST", "/api/v1/videos/"+pub+"/views", map[string]string{"play_token": g.PlayToken}, h...)
	if !strings.Contains(string(r.Body), `"counted":true`) {
		t.Fatalf("report: %s", r.Body)
	}
	check := func(when string) {
		t.Helper()
		var v struct{ Video struct{ Views int64 } }
		ts.do("GET", "/api/v1/videos/"+pub, nil).JSON(t, &v)
		if v.Video.Views != 42 {
			t.Fatalf("%s: video JSON views = %d, want 42", when, v.Video.Views)
		}
		if page := ts.do("GET", "/watch/"+pub, nil); !strings.Contains(string(page.Body), `data-view-count="42"`) {
			t.Fatalf("%s: watch page does not show 42 views", when)
		}
		if list := ts.do("GET", "/api/v1/videos?sort=recent", nil); !strings.Contains(string(list.Body), `"views":42`) {
			t.Fatalf("%s: list does not show 42 views: %s", when, list.Body)
		}
	}
	check("pending")
	if _, err := flusher.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	var pg int64
	if err := ts.db.Pool.QueryRow(context.Background(), `SELECT views FROM videos WHERE public_id = $1`, pub).Scan(&pg); err != nil || pg != 42 {
		t.Fatalf("PostgreSQL total after flush = %d, %v", pg, err)
	}
	check("flushed")
}
