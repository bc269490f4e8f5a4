package systemtest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ucc-video/ucc/internal/testenv"
)

// deps is ucc serve running with its three dependencies behind proxies.
type deps struct {
	*sysEnv
	ucc      *testenv.UCC
	postgres *proxy
	redis    *proxy
	storage  *proxy
}

// newDeps starts ucc serve against PostgreSQL, Redis and MinIO, each reached
// through its own proxy.
func newDeps(t *testing.T, extra map[string]string) *deps {
	t.Helper()
	e := newSysEnv(t)
	pu, err := url.Parse(e.DBURL)
	if err != nil {
		t.Fatal(err)
	}
	ru, err := url.Parse(testenv.RedisURL(t))
	if err != nil {
		t.Fatal(err)
	}
	d := &deps{sysEnv: e,
		postgres: newProxy(t, pu.Host), redis: newProxy(t, ru.Host), storage: newProxy(t, e.Bucket.S3.Endpoint)}
	pu.Host, ru.Host = d.postgres.Addr, d.redis.Addr
	env := e.serveEnv(t, d.storage.Addr, extra)
	env["UCC_DATABASE_URL"], env["UCC_REDIS_URL"] = pu.String(), ru.String()
	d.ucc = newUCC(t, env)
	d.ucc.Start()
	return d
}

// faults counts the connection cuts injected into every proxy.
func (d *deps) faults() int {
	n := 0
	for _, p := range []*proxy{d.postgres, d.redis, d.storage} {
		p.mu.Lock()
		n += p.cuts
		p.mu.Unlock()
	}
	return n
}

// readyz returns /readyz's status and the names it reports failing.
func readyz(base string) (int, []string, error) {
	c := testenv.NewClient(base)
	c.HTTP.Timeout = 10 * time.Second
	r, err := c.Do("GET", "/readyz", nil)
	if err != nil {
		return 0, nil, err
	}
	var body struct{ Failing []string }
	_ = json.Unmarshal(r.Body, &body)
	return r.Status, body.Failing, nil
}

// verdict says what an answer was.
type verdict int

const (
	verdictOK       verdict = iota // 2xx or 3xx (or 429 from a rate limit)
	verdictDegraded                // 503 with a reason a person understands
	verdictBad                     // anything else: 500, a transport error, a leak
)

// judge classifies an answer and explains a bad one.
func judge(r testenv.Reply, err error) (verdict, string) {
	if err != nil {
		return verdictBad, "no answer: " + err.Error()
	}
	if r.Status >= 200 && r.Status < 400 || r.Status == http.StatusTooManyRequests {
		return verdictOK, ""
	}
	body := string(r.Body)
	if len(body) > 300 {
		body = body[:300] + "..."
	}
	if err := errBodyLeak(r.Body); err != nil {
		return verdictBad, fmt.Sprintf("%d %v: %s", r.Status, err, body)
	}
	if r.Status != http.StatusServiceUnavailable {
		return verdictBad, fmt.Sprintf("status %d: %s", r.Status, body)
	}
	if r.Header.Get("Retry-After") == "" {
		return verdictBad, "503 without Retry-After: " + body
	}
	ct := r.Header.Get("Content-Type")
	switch {
	case strings.HasPrefix(ct, "application/json"):
		if code, msg, err := testenv.DecodeErrorCode(r.Body); err != nil || code == "" || msg == "" {
			return verdictBad, "503 without a JSON reason: " + body
		}
	case strings.HasPrefix(ct, "text/html"):
		// The error page names the status and says what to do.
		if !strings.Contains(string(r.Body), "503") || !strings.Contains(string(r.Body), "try again") {
			return verdictBad, "503 page without its message: " + body
		}
	default:
		if len(r.Body) > 0 || r.Header.Get("Tus-Resumable") == "" { // HEAD/tus answers have no body
			return verdictBad, "503 of type " + ct + ": " + body
		}
	}
	return verdictDegraded, ""
}

// recorder notes answers of an operation and judges them.
type recorder interface {
	note(op string, r testenv.Reply, err error) verdict
}

// tally counts answers per phase and operation.
type tally struct {
	mu     sync.Mutex
	phase  string
	counts map[string]map[string][3]int // phase -> op -> [ok, degraded, bad]
	slow   map[string]time.Duration     // phase -> slowest answer
	slowOp map[string]string            // phase -> its operation
	bad    []string
	sent   atomic.Int64
}

func newTally() *tally {
	return &tally{phase: "baseline", counts: map[string]map[string][3]int{}, slow: map[string]time.Duration{}, slowOp: map[string]string{}}
}

func (t *tally) setPhase(p string) { t.mu.Lock(); t.phase = p; t.mu.Unlock() }

// note records an answer of op and returns its verdict.
func (t *tally) note(op string, r testenv.Reply, err error) verdict {
	v, why := judge(r, err)
	t.sent.Add(1)
	t.mu.Lock()
	defer t.mu.Unlock()
	m := t.counts[t.phase]
	if m == nil {
		m = map[string][3]int{}
		t.counts[t.phase] = m
	}
	c := m[op]
	c[v]++
	m[op] = c
	if r.Took > t.slow[t.phase] {
		t.slow[t.phase], t.slowOp[t.phase] = r.Took, op
	}
	if v == verdictBad && len(t.bad) < 50 {
		t.bad = append(t.bad, t.phase+" "+op+": "+why)
	}
	return v
}

// table renders the counts, one line per phase and operation.
func (t *tally) table() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var b strings.Builder
	phases := make([]string, 0, len(t.counts))
	for p := range t.counts {
		phases = append(phases, p)
	}
	sort.Strings(phases)
	for _, p := range phases {
		ops := make([]string, 0)
		for op := range t.counts[p] {
			ops = append(ops, op)
		}
		sort.Strings(ops)
		fmt.Fprintf(&b, "  %-15s slowest %-7v %-12s", p, t.slow[p].Round(time.Millisecond), "("+t.slowOp[p]+")")
		for _, op := range ops {
			c := t.counts[p][op]
			fmt.Fprintf(&b, " %s %d/%d/%d", op, c[0], c[1], c[2])
		}
		b.WriteString("\n")
	}
	return b.String()
}

// get returns the counts of op in phase.
func (t *tally) get(phase, op string) [3]int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.counts[phase][op]
}

// world is the content the traffic works on: one ready public video, and
// users who comment and upload.
type world struct {
	base      string
	video     string
	creator   *testenv.Client
	viewers   []*testenv.Client
	clip      []byte
	mu        sync.Mutex
	comments  []int64  // comments answered 201
	uploads   []string // videos answered 201
	counted   int64    // view reports answered counted: true
	reports   int64
	pending   []string // play tokens whose report got no definite answer yet
	viewerIDs map[string]string
}

func newWorld(t *testing.T, base string, viewers int) *world {
	t.Helper()
	small := testenv.ClipFile(t, smallClip)
	clip, err := os.ReadFile(small)
	if err != nil {
		t.Fatal(err)
	}
	w := &world{base: base, clip: clip, viewerIDs: map[string]string{}}
	w.creator = testenv.SignUp(t, base, "creator@example.com", "faultcreator")
	w.video = w.creator.MustUpload(t, "Fault clip", clip)
	for i := 0; i < viewers; i++ {
		w.viewers = append(w.viewers, testenv.SignUp(t, base, fmt.Sprintf("viewer%d@example.com", i), ""))
	}
	return w
}

// view fetches a play token and reports the view; a report without a
// definite answer is retried later with the same token (the server counts
// a token once, however often it is reported).
func (w *world) view(tl recorder, anon *testenv.Client) {
	w.mu.Lock()
	var token string
	if n := len(w.pending); n > 0 {
		token, w.pending = w.pending[n-1], w.pending[:n-1]
	}
	w.mu.Unlock()
	if token == "" {
		r, err := anon.Do("GET", "/api/v1/videos/"+w.video+"/play", nil)
		if tl.note("play", r, err) != verdictOK || r.Status != http.StatusOK {
			return
		}
		g, err := testenv.DecodePlay(r.Body)
		if err != nil {
			tl.note("play", testenv.Reply{Status: 500, Body: r.Body}, nil)
			return
		}
		token = g.Token
		w.mu.Lock()
		w.viewerIDs[token] = r.Header.Get("X-UCC-Viewer")
		w.mu.Unlock()
	}
	w.mu.Lock()
	viewer := w.viewerIDs[token]
	w.mu.Unlock()
	r, err := anon.Do("POST", "/api/v1/videos/"+w.video+"/views", map[string]string{"play_token": token}, "X-UCC-Viewer", viewer)
	v := tl.note("report", r, err)
	w.mu.Lock()
	defer w.mu.Unlock()
	if v != verdictOK || r.Status != http.StatusOK {
		w.pending = append(w.pending, token)
		return
	}
	if res, err := testenv.DecodeViewResult(r.Body); err == nil && res.Counted {
		w.counted++
	}
	w.reports++
}

// comment posts a comment as viewer i.
func (w *world) comment(tl recorder, i int) {
	c := w.viewers[i%len(w.viewers)]
	r, err := c.Do("POST", "/api/v1/videos/"+w.video+"/comments", map[string]string{"body": fmt.Sprintf("comment %d", i)})
	if tl.note("comment", r, err) == verdictOK && r.Status == http.StatusCreated {
		if id, err := testenv.DecodeCommentID(r.Body); err == nil {
			w.mu.Lock()
			w.comments = append(w.comments, id)
			w.mu.Unlock()
		}
	}
}

// upload sends the clip through the simple upload.
func (w *world) upload(tl *tally, i int) {
	body, ctype := testenv.UploadForm(fmt.Sprintf("Upload %d", i), w.clip)
	r, err := w.creator.Do("POST", "/api/v1/videos", body, "Content-Type", ctype)
	if tl.note("upload", r, err) == verdictOK && r.Status == http.StatusCreated {
		if id, err := testenv.DecodeVideoID(r.Body); err == nil {
			w.mu.Lock()
			w.uploads = append(w.uploads, id)
			w.mu.Unlock()
		}
	}
}

// step runs the i-th operation of the mix.
func (w *world) step(tl *tally, anon *testenv.Client, i int) {
	switch i % 10 {
	case 0, 5:
		w.view(tl, anon)
	case 1:
		r, err := anon.Do("GET", "/watch/"+w.video, nil, "Accept", "text/html")
		tl.note("watch_page", r, err)
	case 2:
		r, err := anon.Do("GET", "/", nil, "Accept", "text/html")
		tl.note("home_page", r, err)
	case 3:
		r, err := anon.Do("GET", "/search?q=clip", nil, "Accept", "text/html")
		tl.note("search_page", r, err)
	case 4:
		r, err := anon.Do("GET", "/api/v1/search?q=fault", nil)
		tl.note("search_api", r, err)
	case 6:
		r, err := anon.Do("GET", "/api/v1/videos/"+w.video+"/comments", nil)
		tl.note("comments_api", r, err)
	case 7:
		w.comment(tl, i/10)
	case 8:
		if i%100 == 8 {
			w.upload(tl, i)
		} else {
			r, err := w.creator.Do("GET", "/api/v1/me/videos", nil)
			tl.note("my_videos", r, err)
		}
	case 9:
		r, err := anon.Do("GET", "/api/v1/videos/"+w.video+"/views", nil)
		tl.note("view_count", r, err)
	}
}

// traffic runs clients goroutines, each an anonymous client calling step
// with the next number of a shared sequence and pausing pause, until stop
// is closed.
func traffic(base string, clients int, pause time.Duration, stop <-chan struct{}, step func(anon *testenv.Client, i int)) *sync.WaitGroup {
	var wg sync.WaitGroup
	var seq atomic.Int64
	for g := 0; g < clients; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			anon := testenv.NewClient(base)
			anon.HTTP.Timeout = 15 * time.Second
			for {
				select {
				case <-stop:
					return
				default:
				}
				step(anon, int(seq.Add(1)))
				time.Sleep(pause)
			}
		}()
	}
	return &wg
}

// settle reports every view whose answer was lost, until each has a
// definite answer.
func (w *world) settle(t *testing.T, tl recorder) {
	t.Helper()
	anon := testenv.NewClient(w.base)
	deadline := time.Now().Add(30 * time.Second)
	for {
		w.mu.Lock()
		n := len(w.pending)
		w.mu.Unlock()
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d view reports still without a definite answer", n)
		}
		w.view(tl, anon)
	}
}

// checkAcknowledged fails the test unless everything answered as done is in
// PostgreSQL: every counted view (once the flusher has run), every comment
// answered 201, every upload answered 201 (and each becomes ready).
func (w *world) checkAcknowledged(t *testing.T, d *sysEnv) (views int64) {
	t.Helper()
	ctx := context.Background()
	w.mu.Lock()
	counted, comments, uploads := w.counted, slices.Clone(w.comments), slices.Clone(w.uploads)
	w.mu.Unlock()
	var total int64
	testenv.WaitFor(t, 30*time.Second, "the flusher to move every counted view to PostgreSQL", func() bool {
		total = d.count(t, `SELECT views FROM videos WHERE public_id = $1`, w.video)
		return total >= counted
	})
	time.Sleep(time.Second) // one more flush: nothing beyond the acknowledged
	total = d.count(t, `SELECT views FROM videos WHERE public_id = $1`, w.video)
	if total != counted {
		t.Errorf("PostgreSQL has %d views, %d reports were answered counted", total, counted)
	}
	if n := d.count(t, `SELECT count(*) FROM comments WHERE id = ANY($1)`, comments); n != int64(len(comments)) {
		t.Errorf("%d of the %d comments answered 201 are in PostgreSQL", n, len(comments))
	}
	for _, id := range uploads {
		waitStatus(t, ctx, d.DB, id, "ready", 2*time.Minute)
	}
	return total
}

// probe checks how the site degrades while dependency name is down: what
// does not need it keeps working, what does answers 503 with a reason.
func probe(t *testing.T, w *world, name string) {
	t.Helper()
	anon := testenv.NewClient(w.base)
	want := func(status int, what, method, path string, c *testenv.Client, body any, hdr ...string) {
		t.Helper()
		r, err := c.Do(method, path, body, hdr...)
		v, why := judge(r, err)
		if v == verdictBad || r.Status != status {
			t.Errorf("%s down: %s: got %d %s (%s), want %d", name, what, r.Status, r.Body, why, status)
		}
		t.Logf("%s down: %s: %d in %v", name, what, r.Status, r.Took.Round(time.Millisecond))
	}
	html := []string{"Accept", "text/html"}
	switch name {
	case "redis": // pages and reading work; counting, commenting and log-in need Redis
		want(http.StatusOK, "home page", "GET", "/", anon, nil, html...)
		want(http.StatusOK, "watch page", "GET", "/watch/"+w.video, anon, nil, html...)
		want(http.StatusOK, "search", "GET", "/api/v1/search?q=clip", anon, nil)
		r, err := anon.Do("GET", "/api/v1/videos/"+w.video+"/play", nil)
		var g testenv.Play
		if err == nil && r.Status == http.StatusOK {
			g, err = testenv.DecodePlay(r.Body)
		}
		if err != nil || r.Status != http.StatusOK {
			t.Errorf("redis down: play token: %d %s %v", r.Status, r.Body, err)
		}
		want(http.StatusServiceUnavailable, "view report", "POST", "/api/v1/videos/"+w.video+"/views", anon,
			map[string]string{"play_token": g.Token}, "X-UCC-Viewer", r.Header.Get("X-UCC-Viewer"))
		want(http.StatusServiceUnavailable, "comment", "POST", "/api/v1/videos/"+w.video+"/comments", w.viewers[0], map[string]string{"body": "while Redis is down"})
		want(http.StatusServiceUnavailable, "log-in", "POST", "/api/v1/auth/tokens", anon, map[string]string{"email": "viewer0@example.com", "password": testenv.TestPassword})
	case "postgres": // everything but liveness needs the database
		want(http.StatusOK, "liveness", "GET", "/healthz", anon, nil)
		want(http.StatusServiceUnavailable, "home page", "GET", "/", anon, nil, html...)
		want(http.StatusServiceUnavailable, "watch page", "GET", "/watch/"+w.video, anon, nil, html...)
		want(http.StatusServiceUnavailable, "video API", "GET", "/api/v1/videos/"+w.video, anon, nil)
		want(http.StatusServiceUnavailable, "signed-in API", "GET", "/api/v1/me", w.creator, nil)
		want(http.StatusServiceUnavailable, "log-in", "POST", "/api/v1/auth/tokens", anon, map[string]string{"email": "viewer0@example.com", "password": testenv.TestPassword})
	case "storage": // pages work; storing bytes does not
		want(http.StatusOK, "home page", "GET", "/", anon, nil, html...)
		want(http.StatusOK, "watch page", "GET", "/watch/"+w.video, anon, nil, html...)
		body, ctype := testenv.UploadForm("while storage is down", w.clip)
		want(http.StatusServiceUnavailable, "simple upload", "POST", "/api/v1/videos", w.creator, body, "Content-Type", ctype)
		want(http.StatusServiceUnavailable, "tus upload", "POST", "/api/v1/uploads", w.creator, nil, "Tus-Resumable", "1.0.0", "Upload-Length", "1000")
	}
}

// TestDependencyFaults cuts PostgreSQL, Redis and MinIO off in turn (every
// open connection dropped, new ones refused) while light mixed traffic runs,
// then brings each back without restarting ucc. While a dependency is down,
// every answer is either a success or a 503 with a reason (JSON error or an
// error page, Retry-After set) — never a 500, a stack trace or a hung
// request — and /readyz names the failing part. After it returns, /readyz
// is ready again by itself and every operation works; in the end everything
// acknowledged is in PostgreSQL (counted views, comments answered 201,
// uploads answered 201 — which all become ready, so River recovered too).
func TestDependencyFaults(t *testing.T) {
	systemTest(t)
	t0 := time.Now()
	d := newDeps(t, nil)
	w := newWorld(t, d.ucc.Base, 5)
	waitStatus(t, context.Background(), d.DB, w.video, "ready", 2*time.Minute)
	t.Logf("set up in %v", time.Since(t0).Round(time.Millisecond))

	tl := newTally()
	stop := make(chan struct{})
	wg := traffic(w.base, 4, 20*time.Millisecond, stop, func(anon *testenv.Client, i int) { w.step(tl, anon, i) })
	time.Sleep(2 * time.Second)

	type fault struct {
		name  string // as /readyz names it
		proxy *proxy
	}
	recovery := map[string]time.Duration{}
	for _, f := range []fault{{"redis", d.redis}, {"postgres", d.postgres}, {"storage", d.storage}} {
		tl.setPhase(f.name + " down")
		f.proxy.cut()
		cut := time.Now()
		testenv.WaitFor(t, 15*time.Second, "/readyz to name "+f.name, func() bool {
			st, failing, err := readyz(d.ucc.Base)
			return err == nil && st == http.StatusServiceUnavailable && slices.Equal(failing, []string{f.name})
		})
		probe(t, w, f.name)
		time.Sleep(3*time.Second - time.Since(cut))
		tl.setPhase(f.name + " back")
		f.proxy.restore(t)
		back := time.Now()
		testenv.WaitFor(t, 30*time.Second, "/readyz to recover from the "+f.name+" outage", func() bool {
			st, _, err := readyz(d.ucc.Base)
			return err == nil && st == http.StatusOK
		})
		recovery[f.name] = time.Since(back)
		time.Sleep(time.Second)
		tl.setPhase(f.name + " after")
		time.Sleep(2 * time.Second)
	}
	close(stop)
	wg.Wait()
	t.Logf("faults done at %v", time.Since(t0).Round(time.Millisecond))
	tl.setPhase("settle")
	w.settle(t, tl)
	views := w.checkAcknowledged(t, d.sysEnv)
	t.Logf("checked at %v", time.Since(t0).Round(time.Millisecond))
	swept := d.sweep(t)
	rep := checkNoOrphans(t, context.Background(), d.Bucket, d.DB)

	t.Logf("faults injected: %d (each: all connections cut, new ones refused for 3 s); requests sent: %d; readyz recovery after restore: %v",
		d.faults(), tl.sent.Load(), recovery)
	t.Logf("answers ok/503-with-reason/bad per phase and operation:\n%s", tl.table())
	t.Logf("acknowledged and found in PostgreSQL: %d counted views (of %d reports), %d comments, %d uploads (all ready); sweep removed %d; bucket %d objects, all referenced",
		views, w.reports, len(w.comments), len(w.uploads), swept, rep.Objects)
	for _, b := range tl.bad {
		t.Errorf("bad answer: %s", b)
	}
	// After each recovery (readyz ok + 1 s) everything works again, and
	// while a dependency is down no answer takes long (the machine may be
	// loaded by parallel tests, hence the generous bound).
	for phase, d := range tl.slow {
		if strings.HasSuffix(phase, " down") && d > 8*time.Second {
			t.Errorf("%s: an answer (%s) took %v", phase, tl.slowOp[phase], d)
		}
	}
	for _, name := range []string{"redis", "postgres", "storage"} {
		tl.mu.Lock()
		for op, c := range tl.counts[name+" after"] {
			if c[verdictDegraded] > 0 || c[verdictBad] > 0 {
				t.Errorf("%s still failing after the %s outage: %v", op, name, c)
			}
		}
		tl.mu.Unlock()
	}
	d.ucc.Stop()
}

// TestDependencyStalls makes PostgreSQL and Redis hang instead of refusing
// (connections accepted but never answered, as with a frozen server or a
// network dropping packets): requests needing them still answer 503 with a
// reason within seconds, pages not needing them still render, /readyz names
// the part, and all recovers when the dependency answers again.
func TestDependencyStalls(t *testing.T) {
	systemTest(t)
	d := newDeps(t, nil)
	c := testenv.SignUp(t, d.ucc.Base, "stall@example.com", "")
	c.HTTP.Timeout = 30 * time.Second
	anon := testenv.NewClient(d.ucc.Base)
	anon.HTTP.Timeout = 30 * time.Second
	const limit = 8 * time.Second
	want := func(dep string, status int, what string, cl *testenv.Client, method, path string, body any, hdr ...string) {
		t.Helper()
		r, err := cl.Do(method, path, body, hdr...)
		v, why := judge(r, err)
		t.Logf("%s stalled: %s: %d in %v", dep, what, r.Status, r.Took.Round(time.Millisecond))
		if v == verdictBad || r.Status != status || r.Took > limit {
			t.Errorf("%s stalled: %s: got %d %s (%s) after %v, want %d within %v", dep, what, r.Status, r.Body, why, r.Took, status, limit)
		}
	}
	for _, f := range []struct {
		name  string
		proxy *proxy
		check func()
	}{
		{"postgres", d.postgres, func() {
			want("postgres", http.StatusServiceUnavailable, "signed-in API", c, "GET", "/api/v1/me", nil)
			want("postgres", http.StatusServiceUnavailable, "home page", anon, "GET", "/", nil, "Accept", "text/html")
			want("postgres", http.StatusServiceUnavailable, "signed-in API again", c, "GET", "/api/v1/me", nil)
		}},
		{"redis", d.redis, func() {
			want("redis", http.StatusOK, "home page", anon, "GET", "/", nil, "Accept", "text/html")
			want("redis", http.StatusServiceUnavailable, "log-in", anon, "POST", "/api/v1/auth/tokens",
				map[string]string{"email": "stall@example.com", "password": testenv.TestPassword})
		}},
	} {
		f.proxy.stall(t)
		testenv.WaitFor(t, 15*time.Second, "/readyz to name "+f.name, func() bool {
			st, failing, err := readyz(d.ucc.Base)
			return err == nil && st == http.StatusServiceUnavailable && slices.Equal(failing, []string{f.name})
		})
		f.check()
		f.proxy.restore(t)
		testenv.WaitFor(t, 30*time.Second, "/readyz after the "+f.name+" stall", func() bool {
			st, _, err := readyz(d.ucc.Base)
			return err == nil && st == http.StatusOK
		})
		c.Must(t, http.StatusOK, "GET", "/api/v1/me", nil)
	}
	t.Logf("faults injected: %d stalls", d.faults())
	d.ucc.Stop()
}
