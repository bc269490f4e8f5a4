package web

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ucc-video/ucc/internal/accounts"
	"github.com/ucc-video/ucc/internal/config"
	"github.com/ucc-video/ucc/internal/views"
)

// specDefault is the default of a UCC_* variable as an int: the farming
// test measures the limits `ucc serve` runs with.
func specDefault(t *testing.T, name string) int {
	t.Helper()
	for _, s := range config.Specs() {
		if s.Name == name {
			n, err := strconv.Atoi(s.Default)
			if err != nil {
				t.Fatalf("%s default %q: %v", name, s.Default, err)
			}
			return n
		}
	}
	t.Fatalf("no spec %s", name)
	return 0
}

// defaultViewLimits sets the production defaults of the per-network limits.
func defaultViewLimits(t *testing.T) func(*views.Config) {
	return func(c *views.Config) {
		c.IPHourlyCap = specDefault(t, "UCC_VIEW_IP_HOURLY_CAP")
		c.VideoHourlyCap = specDefault(t, "UCC_VIEW_NET_VIDEO_HOURLY_CAP")
		c.CreatorHourlyCap = specDefault(t, "UCC_VIEW_NET_CREATOR_HOURLY_CAP")
		c.MintHourlyCap = specDefault(t, "UCC_VIEW_ANON_MINT_HOURLY_CAP")
		c.CreatorNetworkTTL = 24 * time.Hour
	}
}

// trustLoopback believes the rig's X-Forwarded-For, so a test plays from any address.
func trustLoopback(c *Config) {
	c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("::1/128")}
}

// creatorVideos inserts n ready public videos of owner and returns their public ids.
func (ts *testServer) creatorVideos(owner int64, n int) []string {
	ts.t.Helper()
	ctx := context.Background()
	var ch int64
	if err := ts.db.Pool.QueryRow(ctx, `INSERT INTO channels (owner_id, handle, name) VALUES ($1::bigint, 'farm' || $1::text, 'Farm')
		ON CONFLICT (owner_id) DO UPDATE SET name = excluded.name RETURNING id`, owner).Scan(&ch); err != nil {
		ts.t.Fatal(err)
	}
	var pubs []string
	for i := range n {
		pub := fmt.Sprintf("f%04d%06d", owner%10000, i)
		if _, err := ts.db.Pool.Exec(ctx, `INSERT INTO videos (public_id, channel_id, creator_id, title, visibility, status, duration_seconds)
			VALUES ($1, $2, $3, 'T', 'public', 'ready', 300)`, pub, ch, owner); err != nil {
			ts.t.Fatal(err)
		}
		pubs = append(pubs, pub)
	}
	return pubs
}

// farmer plays videos through the documented API, as a script would.
type farmer struct {
	t       *testing.T
	ts      *testServer
	ua      string
	counted []time.Time    // fake-clock times of the answers counted:true
	refused map[string]int // reasons of the answers counted:false
}

// play asks for a play token from ip; viewer "" is a client without
// cookies. It returns the token and the viewer id to use.
func (f *farmer) play(pub, ip, viewer string, extra ...string) (token, id string) {
	f.t.Helper()
	h := append([]string{"User-Agent", f.ua, "X-Forwarded-For", ip}, extra...)
	if viewer != "" {
		h = append(h, "X-UCC-Viewer", viewer)
	}
	r := f.ts.do("GET", "/api/v1/videos/"+pub+"/play", nil, h...)
	wantStatus(f.t, r, http.StatusOK)
	var g views.Grant
	r.JSON(f.t, &g)
	if id = r.Header.Get("X-UCC-Viewer"); id == "" {
		id = viewer
	}
	return g.PlayToken, id
}

// report reports a view; every answer, counted or not, must be a 200 with
// a reason when not counted.
func (f *farmer) report(pub, ip, viewer, token string, extra ...string) views.Result {
	f.t.Helper()
	h := append([]string{"User-Agent", f.ua, "X-Forwarded-For", ip}, extra...)
	if viewer != "" {
		h = append(h, "X-UCC-Viewer", viewer)
	}
	r := f.ts.do("POST", "/api/v1/videos/"+pub+"/views", map[string]string{"play_token": token}, h...)
	wantStatus(f.t, r, http.StatusOK)
	var res views.Result
	r.JSON(f.t, &res)
	if res.Counted {
		f.counted = append(f.counted, f.ts.clock.now())
	} else {
		if res.Reason == "" {
			f.t.Fatalf("refused without a reason: %s", r.Body)
		}
		f.refused[string(res.Reason)]++
	}
	return res
}

// client is one cookie-less client: a fresh viewer id from the first play,
// then every video with it.
func (f *farmer) client(pubs []string, ip string) {
	viewer := ""
	for _, pub := range pubs {
		tok, id := f.play(pub, ip, viewer)
		viewer = id
		f.report(pub, ip, viewer, tok)
	}
}

// maxPerHour is the most counted answers in any sliding hour.
func maxPerHour(ts []time.Time) int {
	sort.Slice(ts, func(i, j int) bool { return ts[i].Before(ts[j]) })
	best := 0
	for i := range ts {
		j := i
		for j < len(ts) && ts[j].Sub(ts[i]) < time.Hour {
			j++
		}
		best = max(best, j-i)
	}
	return best
}

// TestViewFarmingPerNetwork drives the play/report API the way a view
// farm does (a fresh cookie-less client per play, a new address per play
// within an IPv6 /64, many addresses) on the fake clock across a clock hour
// and counts what is counted: at most the per-video cap of one video and the
// per-creator cap of one creator's videos per network in every sliding hour,
// however often it asks; each refusal is a 200 with a reason; PostgreSQL
// ends with exactly the views answered counted. On main every cookie-less
// play counted up to 200 per exact IP per clock hour (400 within two
// minutes around the hour), and without limit over the addresses of a /64.
func TestViewFarmingPerNetwork(t *testing.T) {
	videoCap := specDefault(t, "UCC_VIEW_NET_VIDEO_HOURLY_CAP")
	creatorCap := specDefault(t, "UCC_VIEW_NET_CREATOR_HOURLY_CAP")
	start := time.Date(2026, 11, 10, 10, 30, 0, 0, time.UTC) // the runs cross 11:00 and 12:00
	const creatorVideos = 5
	cases := []struct {
		name     string
		videos   int
		networks int
		ip       func(network, step int) string
		every    time.Duration // one client per network this often
		span     time.Duration
		perHour  int // most counted in any sliding hour, per network
		total    int // counted over the span, all networks
	}{
		{name: "one IPv4, one video", videos: 1, networks: 1, every: 30 * time.Second, span: 2 * time.Hour,
			ip:      func(_, _ int) string { return "198.51.100.7" },
			perHour: videoCap, total: 2 * videoCap},
		{name: "one IPv6 /64, new address each play, one video", videos: 1, networks: 1, every: 30 * time.Second, span: 2 * time.Hour,
			ip:      func(_, step int) string { return fmt.Sprintf("2001:db8:7:7:%x:%x::1", step/65536+1, step%65536) },
			perHour: videoCap, total: 2 * videoCap},
		{name: "one IPv4, a creator's videos", videos: creatorVideos, networks: 1, every: time.Minute, span: 2 * time.Hour,
			ip:      func(_, _ int) string { return "198.51.100.8" },
			perHour: creatorCap, total: 2 * creatorCap},
		{name: "one IPv6 /64, a creator's videos", videos: creatorVideos, networks: 1, every: time.Minute, span: 2 * time.Hour,
			ip:      func(_, step int) string { return fmt.Sprintf("2001:db8:8:8::%x", step+1) },
			perHour: creatorCap, total: 2 * creatorCap},
		{name: "100 IPv4, one video", videos: 1, networks: 100, every: 2 * time.Minute, span: time.Hour,
			ip:      func(n, _ int) string { return fmt.Sprintf("198.18.%d.%d", n/200, n%200+1) },
			perHour: 100 * videoCap, total: 100 * videoCap},
		{name: "100 IPv4, a creator's videos", videos: creatorVideos, networks: 100, every: 4 * time.Minute, span: time.Hour,
			ip:      func(n, _ int) string { return fmt.Sprintf("198.19.%d.%d", n/200, n%200+1) },
			perHour: 100 * creatorCap, total: 100 * creatorCap},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ts := newTestServer(t, withClock(func() time.Time { return start }), withWeb(trustLoopback), withViews(defaultViewLimits(t)))
			_, creator := ts.user("farmed@example.com", accounts.RoleCreator)
			pubs := ts.creatorVideos(creator, tc.videos)
			f := &farmer{t: t, ts: ts, ua: firefoxUA, refused: map[string]int{}}
			for step := 0; time.Duration(step)*tc.every < tc.span; step++ {
				for n := range tc.networks {
					f.client(pubs, tc.ip(n, step))
				}
				ts.clock.add(tc.every)
			}
			got, most := len(f.counted), maxPerHour(f.counted)
			t.Logf("%s: %d counted in %v, at most %d in a sliding hour; refused %v", tc.name, got, tc.span, most, f.refused)
			if got != tc.total || most != tc.perHour {
				t.Fatalf("counted %d (want %d), %d in the busiest sliding hour (want %d); refused %v", got, tc.total, most, tc.perHour, f.refused)
			}
			for r := range f.refused {
				switch views.Reason(r) {
				case views.ReasonVideoRateLimited, views.ReasonCreatorRateLimited, views.ReasonDuplicate:
				default:
					t.Errorf("refused as %q", r)
				}
			}
			// Nothing half counted: what PostgreSQL holds after the flush is
			// exactly what was answered counted.
			if _, err := ts.flusher.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
			if pg := ts.count(`SELECT coalesce(sum(views), 0)::int FROM videos WHERE creator_id = $1`, creator); pg != got {
				t.Fatalf("PostgreSQL holds %d views, answers counted %d", pg, got)
			}
		})
	}
}

// TestViewSelfViewsAndAPIClients: a creator's plays from a network they
// were recently signed in from do not count, signed out or on a second
// account (on main both counted); an app using the documented API with an
// HTTP library's User-Agent counts (on main okhttp, axios, Go-http-client
// were all refused as bots) while a self-declared crawler does not; and a
// network gets a bounded number of fresh anonymous ids, then one shared id.
func TestViewSelfViewsAndAPIClients(t *testing.T) {
	ts := newTestServer(t, withWeb(trustLoopback), withViews(defaultViewLimits(t)))
	creatorTok, creator := ts.user("self@example.com", accounts.RoleCreator)
	pub := ts.creatorVideos(creator, 1)[0]
	f := &farmer{t: t, ts: ts, ua: firefoxUA, refused: map[string]int{}}
	watch := func(ip, ua string, extra ...string) views.Result {
		t.Helper()
		f.ua = ua
		tok, id := f.play(pub, ip, "", extra...)
		return f.report(pub, ip, id, tok, extra...)
	}
	// The creator signs in (any signed-in request) from home, IPv4 and IPv6.
	wantStatus(t, ts.do("GET", "/api/v1/me", nil, append(bearer(creatorTok), "X-Forwarded-For", "203.0.113.5")...), http.StatusOK)
	wantStatus(t, ts.do("GET", "/api/v1/me", nil, append(bearer(creatorTok), "X-Forwarded-For", "2001:db8:5:5::1")...), http.StatusOK)
	if r := watch("203.0.113.5", firefoxUA); r.Counted || r.Reason != views.ReasonSelfView {
		t.Fatalf("signed-out play from the creator's network: %+v", r)
	}
	if r := watch("2001:db8:5:5:aaaa::99", firefoxUA); r.Counted || r.Reason != views.ReasonSelfView {
		t.Fatalf("signed-out play from another address of the creator's /64: %+v", r)
	}
	second, _ := ts.user("self-second@example.com", accounts.RoleViewer)
	if r := watch("203.0.113.5", firefoxUA, bearer(second)...); r.Counted || r.Reason != views.ReasonSelfView {
		t.Fatalf("second account on the creator's network: %+v", r)
	}
	if r := watch("203.0.113.6", firefoxUA); !r.Counted {
		t.Fatalf("a viewer on another network: %+v", r)
	}
	// API clients count; self-declared crawlers do not.
	for i, ua := range []string{"okhttp/4.12.0", "axios/1.6.8", "Go-http-client/2.0", "MyTVApp/2.3 (Android 14)"} {
		if r := watch(fmt.Sprintf("203.0.113.%d", 20+i), ua); !r.Counted {
			t.Errorf("API client %q: %+v", ua, r)
		}
	}
	if r := watch("203.0.113.30", "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"); r.Counted || r.Reason != views.ReasonExcluded {
		t.Fatalf("crawler: %+v", r)
	}
	// Minting: the allowance of fresh ids, then the network's one shared id
	// (kept an hour), also for other addresses of the same /64.
	limit := specDefault(t, "UCC_VIEW_ANON_MINT_HOURLY_CAP")
	seen := map[string]bool{}
	mint := func(ip string) (id, cookie string) {
		r := ts.do("GET", "/api/v1/videos/"+pub+"/play", nil, "User-Agent", firefoxUA, "X-Forwarded-For", ip)
		wantStatus(t, r, http.StatusOK)
		return r.Header.Get("X-UCC-Viewer"), r.Header.Get("Set-Cookie")
	}
	for i := range limit {
		id, _ := mint(fmt.Sprintf("2001:db8:9:9::%x", i+1))
		if id == "" || seen[id] {
			t.Fatalf("mint %d: id %q again", i, id)
		}
		seen[id] = true
	}
	shared, cookie := mint("2001:db8:9:9::ffff")
	again, _ := mint("2001:db8:9:9:1::1")
	if seen[shared] || shared != again || !strings.Contains(cookie, "Max-Age=3600") {
		t.Fatalf("over the allowance: %q then %q, cookie %q", shared, again, cookie)
	}
	if other, _ := mint("2001:db8:9:a::1"); other == shared || seen[other] {
		t.Fatalf("the next /64 got %q", other)
	}
}
