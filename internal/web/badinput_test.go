package web

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ucc-video/ucc/internal/accounts"
)

// dbDigest fingerprints every application table (all rows), so a test can
// prove a refused request stored nothing. River's tables and sessions and
// tokens (whose last-use times move) are left out.
func (ts *testServer) dbDigest() map[string]string {
	ts.t.Helper()
	ctx := context.Background()
	rows, err := ts.db.Pool.Query(ctx, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'
		AND table_name NOT LIKE 'river%' AND table_name NOT IN ('sessions', 'api_tokens', 'goose_db_version')`)
	if err != nil {
		ts.t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var n string
		_ = rows.Scan(&n)
		tables = append(tables, n)
	}
	rows.Close()
	out := map[string]string{}
	for _, tbl := range tables {
		var d string
		if err := ts.db.Pool.QueryRow(ctx, `SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM `+tbl+` t`).Scan(&d); err != nil {
			ts.t.Fatal(err)
		}
		out[tbl] = d
	}
	return out
}

func diffDigest(before, after map[string]string) []string {
	var changed []string
	for k, v := range after {
		if before[k] != v {
			changed = append(changed, k)
		}
	}
	sort.Strings(changed)
	return changed
}

// TestOversizeBodies sends every state-changing route outside the upload
// routes a 2 MiB body (with Content-Length, and chunked without one): each
// is refused with 413 and a clear message before any handler work. JSON
// routes also refuse bodies above their own smaller caps.
func TestOversizeBodies(t *testing.T) {
	f := newTestServer(t, withRecordingFinisher())
	fx, _, _ := f.seedWorld()
	adminTok, _ := f.user("big-admin@example.com", accounts.RoleAdmin)
	big := bytes.Repeat([]byte("a"), 2<<20)
	before := f.dbDigest()
	checked := 0
	for _, r := range f.srv.routeTable() {
		if !stateChanging(r.method) || r.body.stream {
			continue
		}
		path := routePath(r.path, fx)
		for _, chunked := range []bool{false, true} {
			var body any = big
			if chunked {
				body = io.MultiReader(bytes.NewReader(big)) // no length: sent chunked
			}
			res := f.doBody(r.method, path, body, append(bearer(adminTok), "Content-Type", "application/json", "Tus-Resumable", "1.0.0")...)
			if res.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(res.Body), "larger than") {
				t.Errorf("%s %s (chunked %v): status %d, want 413 with a message; body %.200s", r.method, path, chunked, res.StatusCode, res.Body)
			}
			checked++
		}
	}
	// Per-route caps below the global one: sign-up takes 64 KiB, view reports 4 KiB.
	for _, c := range []struct {
		path string
		size int
	}{{"/api/v1/auth/signup", 100 << 10}, {"/api/v1/videos/" + fx.videoPub + "/views", 8 << 10}} {
		body := []byte(`{"email":"` + strings.Repeat("x", c.size) + `"}`)
		res := f.do("POST", c.path, body, "Content-Type", "application/json")
		wantStatus(t, res, http.StatusRequestEntityTooLarge)
		var e apiError
		res.JSON(t, &e)
		if e.Error.Code != "body_too_large" || !strings.Contains(e.Error.Message, "larger than") {
			t.Errorf("%s: %s", c.path, res.Body)
		}
	}
	if changed := diffDigest(before, f.dbDigest()); len(changed) > 0 {
		t.Fatalf("oversize requests changed tables %v", changed)
	}
	t.Logf("oversize bodies: %d requests (routes × with/without Content-Length) refused with 413", checked)
}

// doBody is do with a body of any io.Reader (sent chunked when it has no length).
func (ts *testServer) doBody(method, path string, body any, headers ...string) response {
	ts.t.Helper()
	if b, ok := body.([]byte); ok {
		return ts.do(method, path, b, headers...)
	}
	req, err := http.NewRequest(method, ts.http.URL+path, body.(io.Reader))
	if err != nil {
		ts.t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := ts.http.Client().Do(req)
	if err != nil {
		ts.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{res, b}
}

// realServer serves f behind the http.Server `ucc serve` uses (header
// limits and timeouts), on a loopback port.
func realServer(t *testing.T, h http.Handler, tweak func(*http.Server)) *httptest.Server {
	t.Helper()
	hs := httptest.NewUnstartedServer(h)
	hs.Config = NewHTTPServer("", h, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if tweak != nil {
		tweak(hs.Config)
	}
	hs.Start()
	t.Cleanup(hs.Close)
	return hs
}

// TestOversizeHeaders: net/http answers 431 past MaxHeaderBytes in the
// server `ucc serve` runs; headers within it are served.
func TestOversizeHeaders(t *testing.T) {
	ts := newTestServer(t)
	hs := realServer(t, ts.srv, nil)
	for _, c := range []struct {
		size int
		want int
	}{{MaxHeaderBytes / 2, http.StatusOK}, {MaxHeaderBytes + 8<<10, http.StatusRequestHeaderFieldsTooLarge}, {1 << 20, http.StatusRequestHeaderFieldsTooLarge}} {
		req, _ := http.NewRequest("GET", hs.URL+"/healthz", nil)
		req.Header.Set("X-Padding", strings.Repeat("p", c.size))
		res, err := hs.Client().Do(req)
		if err != nil {
			t.Fatalf("%d-byte header: %v", c.size, err)
		}
		res.Body.Close()
		if res.StatusCode != c.want {
			t.Errorf("%d-byte header: status %d, want %d", c.size, res.StatusCode, c.want)
		}
	}
	// Many cookies add up too.
	req, _ := http.NewRequest("GET", hs.URL+"/", nil)
	for i := 0; i < 2000; i++ {
		req.AddCookie(&http.Cookie{Name: fmt.Sprintf("c%d", i), Value: strings.Repeat("v", 40)})
	}
	res, err := hs.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("100 KB of cookies: status %d, want 431", res.StatusCode)
	}
}

// rawRequest writes head (and then body, slowly when gap > 0) on a new
// connection and returns the status line read back, or "" when the
// server closed the connection without answering.
func rawRequest(t *testing.T, addr, head string, body []byte, gap time.Duration) (status string, took time.Duration) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	if _, err := io.WriteString(conn, head); err != nil {
		t.Fatal(err)
	}
	go func() {
		for _, b := range body {
			if gap > 0 {
				time.Sleep(gap)
			}
			if _, err := conn.Write([]byte{b}); err != nil {
				return
			}
		}
	}()
	_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	line, _ := bufio.NewReader(conn).ReadString('\n')
	return strings.TrimSpace(line), time.Since(start)
}

// TestSlowClients: a body that trickles in slower than the body read
// timeout is cut off with 408 (and the connection closed); headers that
// never finish are cut off by ReadHeaderTimeout; an upload that keeps
// sending is never cut off however long it takes.
func TestSlowClients(t *testing.T) {
	if NewHTTPServer("", nil, slog.Default()).ReadHeaderTimeout != ReadHeaderTimeout || ReadHeaderTimeout <= 0 || ReadHeaderTimeout > 30*time.Second {
		t.Fatal("the server has no sane ReadHeaderTimeout")
	}
	f := newTestServer(t, withRecordingFinisher(), withWeb(func(c *Config) { c.BodyReadTimeout = time.Second }))
	_, creatorTok, _ := f.seedWorld()
	hs := realServer(t, f.srv, func(s *http.Server) { s.ReadHeaderTimeout = 500 * time.Millisecond })
	addr := hs.Listener.Addr().String()

	// A JSON body of 100 bytes sent one byte every 100 ms: 408 after ~1 s.
	head := "POST /api/v1/auth/signup HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n"
	status, took := rawRequest(t, addr, head, bytes.Repeat([]byte(" "), 100), 100*time.Millisecond)
	if !strings.Contains(status, "408") || took > 5*time.Second {
		t.Errorf("slow body: %q after %s, want 408 after about 1s", status, took)
	}
	// A form body that stalls.
	head = "POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 50\r\n\r\nemail=a"
	if status, took := rawRequest(t, addr, head, nil, 0); !strings.Contains(status, "408") || took > 5*time.Second {
		t.Errorf("stalled form: %q after %s, want 408", status, took)
	}
	// Headers that never end: the connection is closed without an answer.
	if status, took := rawRequest(t, addr, "GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ", nil, 0); took > 5*time.Second || strings.Contains(status, "200") {
		t.Errorf("slow headers: %q after %s, want the connection closed", status, took)
	}

	// A tus PATCH that trickles for 2.5 s (over twice the body timeout) but never stalls succeeds.
	r := f.do("POST", "/api/v1/uploads", nil, append(bearer(creatorTok), "Tus-Resumable", "1.0.0", "Upload-Length", "50")...)
	wantStatus(t, r, http.StatusCreated)
	loc := r.Header.Get("Location")
	body := append(append([]byte{}, videoMagic...), bytes.Repeat([]byte("v"), 50-len(videoMagic))...)
	head = "PATCH " + loc + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + creatorTok + "\r\nTus-Resumable: 1.0.0\r\n" +
		"Content-Type: application/offset+octet-stream\r\nUpload-Offset: 0\r\nContent-Length: 50\r\n\r\n"
	if status, took := rawRequest(t, addr, head, body, 50*time.Millisecond); !strings.Contains(status, "204") || took < 2*time.Second {
		t.Fatalf("slow but steady upload: %q after %s, want 204", status, took)
	}
	if got := f.fin.calls(); len(got) != 1 || got[0].Size != 50 {
		t.Fatalf("finished uploads: %+v", got)
	}
}

// TestTusPatchLengthOverflow: a PATCH whose Content-Length is near the
// int64 limit at a non-zero offset is refused at once (413), instead of
// overflowing the bounds check and streaming past the declared length.
func TestTusPatchLengthOverflow(t *testing.T) {
	f := newTestServer(t, withRecordingFinisher())
	_, creatorTok, _ := f.seedWorld()
	r := f.do("POST", "/api/v1/uploads", nil, append(bearer(creatorTok), "Tus-Resumable", "1.0.0", "Upload-Length", "100")...)
	wantStatus(t, r, http.StatusCreated)
	loc := r.Header.Get("Location")
	r = f.do("PATCH", loc, []byte("F"), append(bearer(creatorTok), "Tus-Resumable", "1.0.0", "Upload-Offset", "0", "Content-Type", "application/offset+octet-stream")...)
	wantStatus(t, r, http.StatusNoContent)
	head := "PATCH " + loc + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + creatorTok + "\r\nTus-Resumable: 1.0.0\r\n" +
		"Content-Type: application/offset+octet-stream\r\nUpload-Offset: 1\r\nContent-Length: 9223372036854775807\r\n\r\n"
	status, took := rawRequest(t, strings.TrimPrefix(f.http.URL, "http://"), head, bytes.Repeat([]byte("x"), 64), 0)
	if !strings.Contains(status, "413") || took > 5*time.Second {
		t.Fatalf("PATCH with Content-Length MaxInt64 at offset 1: %q after %s, want 413", status, took)
	}
	r = f.do("HEAD", loc, nil, append(bearer(creatorTok), "Tus-Resumable", "1.0.0")...)
	if r.Header.Get("Upload-Offset") != "1" {
		t.Fatalf("offset after the refused PATCH: %q", r.Header.Get("Upload-Offset"))
	}
	for _, bad := range []string{"+1", "-0", "1e3", "0x1", "1.0", "99999999999999999999"} {
		r = f.do("PATCH", loc, []byte("x"), append(bearer(creatorTok), "Tus-Resumable", "1.0.0", "Upload-Offset", bad, "Content-Type", "application/offset+octet-stream")...)
		if r.StatusCode != http.StatusBadRequest {
			t.Errorf("Upload-Offset %q: status %d, want 400", bad, r.StatusCode)
		}
	}
}

// TestPathTraversal tries to reach files outside the object store through
// /media/ and /static/, and to make a storage key out of a client-chosen
// file name (tus metadata, the simple upload's file part, thumbnail
// uploads): nothing outside the store is served or written.
func TestPathTraversal(t *testing.T) {
	f := newTestServer(t, withRecordingFinisher())
	fx, creatorTok, _ := f.seedWorld()
	const secret = "TOP-SECRET-CONTENT-7f3a"
	parent := filepath.Dir(f.dataDir)
	for _, p := range []string{filepath.Join(parent, "secret.txt"), filepath.Join(f.dataDir, "secret.txt")} {
		if err := os.WriteFile(p, []byte(secret), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	pub := fx.videoPub
	probes := []string{
		"/media/../secret.txt", "/media/..%2fsecret.txt", "/media/%2e%2e/secret.txt", "/media/%2e%2e%2fsecret.txt",
		"/media/secret.txt", "/media/videos/" + pub + "/../../secret.txt", "/media/videos/" + pub + "/..%2f..%2f..%2fsecret.txt",
		"/media/videos/" + pub + "/%2e%2e%2f%2e%2e%2fsecret.txt", "/media/videos%2f..%2f..%2fsecret.txt",
		"/media/videos/..%5c..%5csecret.txt", "/media/videos\\..\\..\\secret.txt", "/media/....//....//secret.txt",
		"/media/%2fetc%2fpasswd", "/media//etc/passwd", "/media/videos/" + pub + "/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
		"/media/videos/" + pub + "/thumb.jpg%00.txt", "/media/videos/" + pub + "/%c0%ae%c0%ae/secret.txt",
		"/static/../secret.txt", "/static/..%2f..%2fsecret.txt", "/static/%2e%2e/%2e%2e/etc/passwd", "/static//etc/passwd",
		"/static/css/../../../../etc/passwd", "/static/..%5c..%5cetc%5cpasswd",
	}
	for _, p := range probes {
		req, err := http.NewRequest("GET", f.http.URL+"/", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.URL.Opaque = p // sent exactly as written, no client-side cleaning
		res, err := f.http.Client().Do(req)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if strings.Contains(string(b), secret) || strings.Contains(string(b), "root:x:0:0") || res.StatusCode == http.StatusOK {
			t.Errorf("GET %s: status %d served %.100q", p, res.StatusCode, b)
		}
	}

	// tus: a file name that is a path only ever becomes a display title.
	meta := "filename " + base64.StdEncoding.EncodeToString([]byte("../../../../tmp/evil-tus.mp4"))
	r := f.do("POST", "/api/v1/uploads", nil, append(bearer(creatorTok), "Tus-Resumable", "1.0.0", "Upload-Length", "9", "Upload-Metadata", meta)...)
	wantStatus(t, r, http.StatusCreated)
	loc := r.Header.Get("Location")
	r = f.do("PATCH", loc, videoMagic, append(bearer(creatorTok), "Tus-Resumable", "1.0.0", "Upload-Offset", "0", "Content-Type", "application/offset+octet-stream")...)
	wantStatus(t, r, http.StatusNoContent)
	got := f.fin.calls()
	if len(got) != 1 || !strings.HasPrefix(got[0].ObjectKey, "originals/") || strings.Contains(got[0].ObjectKey, "..") || got[0].Title != "evil-tus" {
		t.Fatalf("tus upload handed over %+v", got)
	}

	// Simple upload with a path as the file part's name.
	dir := t.TempDir()
	vid := gen(t, dir, "clip.mp4", cat(lavfiVideo("160x90", 1), []string{"-pix_fmt", "yuv420p", "-c:v", "libx264", "-preset", "ultrafast"})...)
	data, err := os.ReadFile(vid)
	if err != nil {
		t.Fatal(err)
	}
	body, ct := multipartBody(t, map[string]string{"title": "traversal"}, data, "../../../../tmp/evil-simple.mp4")
	r = f.do("POST", "/api/v1/videos", body, append(bearer(creatorTok), "Content-Type", ct)...)
	wantStatus(t, r, http.StatusCreated)
	var v struct{ ID string }
	if err := json.Unmarshal(r.Body, &struct{ Video any }{&v}); err != nil || v.ID == "" {
		t.Fatalf("upload answer %s (%v)", r.Body, err)
	}

	// Thumbnails, as a form with a path for the file name (page and API).
	for _, c := range []struct{ method, path string }{{"PUT", "/api/v1/videos/" + v.ID + "/thumbnail"}, {"POST", "/studio/videos/" + v.ID + "/thumbnail"}} {
		var b bytes.Buffer
		w := multipart.NewWriter(&b)
		fw, _ := w.CreateFormFile("thumbnail", "../../../../tmp/evil-thumb.png")
		fw.Write(pngBytes(t, 32, 18))
		w.Close()
		r = f.do(c.method, c.path, b.Bytes(), append(bearer(creatorTok), "Content-Type", w.FormDataContentType())...)
		if r.StatusCode != http.StatusOK && r.StatusCode != http.StatusSeeOther {
			t.Fatalf("%s %s: %d %s", c.method, c.path, r.StatusCode, r.Body)
		}
	}
	var keys []string
	if err := f.db.Pool.QueryRow(context.Background(), `SELECT array[original_key, thumbnail_key] FROM videos WHERE public_id = $1`, v.ID).Scan(&keys); err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if !strings.HasPrefix(k, "videos/"+v.ID+"/") || strings.Contains(k, "..") || strings.Contains(k, "evil") {
			t.Errorf("stored key %q", k)
		}
	}
	// No file named after the client's path appeared anywhere.
	for _, root := range []string{parent, os.TempDir()} {
		_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err == nil && strings.HasPrefix(d.Name(), "evil-") {
				t.Errorf("client-named file written: %s", p)
			}
			if err == nil && d.IsDir() && p != root && root == os.TempDir() {
				return fs.SkipDir // only the top of /tmp
			}
			return nil
		})
	}
}

// textCase is one request carrying bad text in one field.
type textCase struct {
	name   string
	method string
	path   string
	json   string   // JSON body with %s where the bad string goes (already JSON-quoted)
	form   []string // form fields: name, value pairs; the value "%s" is replaced
	auth   []string
}

// TestInvalidTextInEveryField puts invalid UTF-8 and NUL into every text
// field of every JSON and form endpoint: each answer is 400 with a message
// naming the problem, and no table changes.
func TestInvalidTextInEveryField(t *testing.T) {
	f := newTestServer(t, withRecordingFinisher())
	fx, creatorTok, creatorID := f.seedWorld()
	finTok, finID := f.user("text-fin@example.com", accounts.RoleFinance)
	viewerTok, viewerID := f.user("text-viewer@example.com", accounts.RoleViewer)
	// An approved period, so mark-paid and adjustments reach their validation.
	r := f.do("POST", "/api/v1/revenue/periods", map[string]any{"period": "2026-01", "revenue_minor": 1000, "currency": "USD"}, bearer(finTok)...)
	wantStatus(t, r, http.StatusCreated)
	f.sql(`INSERT INTO video_views_daily (video_id, creator_id, day, views) SELECT id, creator_id, '2026-01-15', 10 FROM videos`)
	wantStatus(t, f.do("POST", "/api/v1/revenue/periods/2026-01/calculate", nil, bearer(finTok)...), http.StatusOK)
	wantStatus(t, f.do("POST", "/api/v1/revenue/periods/2026-01/approve", nil, bearer(finTok)...), http.StatusOK)
	creatorCookie, creatorCSRF := f.session(creatorID)
	finCookie, finCSRF := f.session(finID)
	viewerCookie, viewerCSRF := f.session(viewerID)
	cr, fin, vw := bearer(creatorTok), bearer(finTok), bearer(viewerTok)
	crForm := []string{"Cookie", creatorCookie, "X-CSRF-Token", creatorCSRF}
	finForm := []string{"Cookie", finCookie, "X-CSRF-Token", finCSRF}
	vwForm := []string{"Cookie", viewerCookie, "X-CSRF-Token", viewerCSRF}
	vp, cid := fx.videoPub, fmt.Sprint(fx.commentID)
	creds := `"email":"world-creator@example.com","password":"correct horse battery"`
	cases := []textCase{
		{name: "signup email", method: "POST", path: "/api/v1/auth/signup", json: `{"email":%s,"password":"password123"}`},
		{name: "signup password", method: "POST", path: "/api/v1/auth/signup", json: `{"email":"n1@example.com","password":%s}`},
		{name: "signup display_name", method: "POST", path: "/api/v1/auth/signup", json: `{"email":"n2@example.com","password":"password123","display_name":%s}`},
		{name: "token email", method: "POST", path: "/api/v1/auth/tokens", json: `{"email":%s,"password":"password123"}`},
		{name: "token name", method: "POST", path: "/api/v1/auth/tokens", json: `{` + creds + `,"name":%s}`},
		{name: "channel name", method: "POST", path: "/api/v1/channels", json: `{"handle":"newchan","name":%s}`, auth: vw},
		{name: "channel handle", method: "POST", path: "/api/v1/channels", json: `{"handle":%s,"name":"N"}`, auth: vw},
		{name: "channel description", method: "POST", path: "/api/v1/channels", json: `{"handle":"newchan","name":"N","description":%s}`, auth: vw},
		{name: "video title", method: "PATCH", path: "/api/v1/videos/" + vp, json: `{"title":%s}`, auth: cr},
		{name: "video description", method: "PATCH", path: "/api/v1/videos/" + vp, json: `{"description":%s}`, auth: cr},
		{name: "video visibility", method: "PATCH", path: "/api/v1/videos/" + vp, json: `{"visibility":%s}`, auth: cr},
		{name: "comment body", method: "POST", path: "/api/v1/videos/" + vp + "/comments", json: `{"body":%s}`, auth: cr},
		{name: "comment edit", method: "PATCH", path: "/api/v1/comments/" + cid, json: `{"body":%s}`, auth: cr},
		{name: "like value", method: "PUT", path: "/api/v1/videos/" + vp + "/like", json: `{"value":%s}`, auth: cr},
		{name: "view play_token", method: "POST", path: "/api/v1/videos/" + vp + "/views", json: `{"play_token":%s}`},
		{name: "profile legal_name", method: "PUT", path: "/api/v1/me/payout-profile", json: `{"legal_name":%s,"country":"DE","method_ref":"DE89370400440532013000"}`, auth: cr},
		{name: "profile country", method: "PUT", path: "/api/v1/me/payout-profile", json: `{"legal_name":"A","country":%s,"method_ref":"DE89370400440532013000"}`, auth: cr},
		{name: "profile method_ref", method: "PUT", path: "/api/v1/me/payout-profile", json: `{"legal_name":"A","country":"DE","method_ref":%s}`, auth: cr},
		{name: "period key", method: "POST", path: "/api/v1/revenue/periods", json: `{"period":%s,"revenue_minor":1,"currency":"USD"}`, auth: fin},
		{name: "period currency", method: "POST", path: "/api/v1/revenue/periods", json: `{"period":"2026-02","revenue_minor":1,"currency":%s}`, auth: fin},
		{name: "payment reference", method: "POST", path: "/api/v1/revenue/periods/2026-01/mark-paid", json: `{"reference":%s}`, auth: fin},
		{name: "adjustment reason", method: "POST", path: "/api/v1/revenue/periods/2026-01/adjustments", json: fmt.Sprintf(`{"creator_id":%d,"amount_minor":5,"reason":%%s}`, creatorID), auth: fin},
		{name: "JSON key", method: "POST", path: "/api/v1/videos/" + vp + "/comments", json: `{%s:"x","body":"hello"}`, auth: cr},

		{name: "form signup email", method: "POST", path: "/signup", form: []string{"email", "%s", "password", "password123"}},
		{name: "form signup password", method: "POST", path: "/signup", form: []string{"email", "n3@example.com", "password", "%s"}},
		{name: "form signup display_name", method: "POST", path: "/signup", form: []string{"email", "n4@example.com", "password", "password123", "display_name", "%s"}},
		{name: "form login email", method: "POST", path: "/login", form: []string{"email", "%s", "password", "password123"}},
		{name: "form next", method: "POST", path: "/login", form: []string{"email", "world-creator@example.com", "password", "correct horse battery", "next", "/%s"}},
		{name: "form channel name", method: "POST", path: "/channels/new", form: []string{"handle", "newchan2", "name", "%s"}, auth: vwForm},
		{name: "form channel description", method: "POST", path: "/channels/new", form: []string{"handle", "newchan2", "name", "N", "description", "%s"}, auth: vwForm},
		{name: "form video title", method: "POST", path: "/studio/videos/" + vp + "/edit", form: []string{"title", "%s", "visibility", "public"}, auth: crForm},
		{name: "form video description", method: "POST", path: "/studio/videos/" + vp + "/edit", form: []string{"title", "T", "description", "%s", "visibility", "public"}, auth: crForm},
		{name: "form comment", method: "POST", path: "/watch/" + vp + "/comments", form: []string{"body", "%s"}, auth: crForm},
		{name: "form comment edit", method: "POST", path: "/comments/" + cid + "/edit", form: []string{"body", "%s"}, auth: crForm},
		{name: "form profile legal_name", method: "POST", path: "/earnings/payout-profile", form: []string{"legal_name", "%s", "country", "DE", "method_ref", "DE89370400440532013000"}, auth: crForm},
		{name: "form profile method_ref", method: "POST", path: "/earnings/payout-profile", form: []string{"legal_name", "A", "country", "DE", "method_ref", "%s"}, auth: crForm},
		{name: "form period currency", method: "POST", path: "/finance/periods", form: []string{"period", "2026-03", "revenue", "10.00", "currency", "%s"}, auth: finForm},
		{name: "form payment reference", method: "POST", path: "/finance/periods/2026-01/mark-paid", form: []string{"reference", "%s"}, auth: finForm},
		{name: "form adjustment reason", method: "POST", path: "/finance/periods/2026-01/adjustments", form: []string{"creator_id", fmt.Sprint(creatorID), "amount", "1.00", "reason", "%s"}, auth: finForm},
		{name: "form field name", method: "POST", path: "/watch/" + vp + "/comments", form: []string{"%s", "x", "body", "hello"}, auth: crForm},
	}
	bads := map[string]string{"invalid UTF-8": "bad \xff\xfe text", "NUL": "bad \x00 text", "truncated UTF-8": "caf\xc3"}
	before := f.dbDigest()
	checked := 0
	for _, c := range cases {
		for kind, bad := range bads {
			var res response
			if c.json != "" {
				q, _ := json.Marshal(bad) // NUL becomes \u0000; invalid bytes become U+FFFD, so put them back raw
				if kind != "NUL" {
					q = []byte(`"` + bad + `"`)
				}
				body := strings.Replace(c.json, "%s", string(q), 1)
				res = f.do(c.method, c.path, []byte(body), append([]string{"Content-Type", "application/json"}, c.auth...)...)
			} else {
				var parts []string
				for i := 0; i+1 < len(c.form); i += 2 {
					k, v := c.form[i], c.form[i+1]
					k, v = strings.Replace(k, "%s", bad, 1), strings.Replace(v, "%s", bad, 1)
					parts = append(parts, url.QueryEscape(k)+"="+url.QueryEscape(v))
				}
				res = f.do(c.method, c.path, strings.Join(parts, "&"), c.auth...)
			}
			checked++
			msg := strings.ToLower(string(res.Body))
			if res.StatusCode != http.StatusBadRequest || !(strings.Contains(msg, "utf-8") || strings.Contains(msg, "nul") || strings.Contains(msg, "invalid") || strings.Contains(msg, "must")) {
				t.Errorf("%s with %s: status %d, want 400 with a clear message; body %.300s", c.name, kind, res.StatusCode, res.Body)
			}
		}
	}
	// tus metadata and the simple upload's form fields.
	for kind, bad := range bads {
		meta := "title " + base64.StdEncoding.EncodeToString([]byte(bad))
		r := f.do("POST", "/api/v1/uploads", nil, append(bearer(creatorTok), "Tus-Resumable", "1.0.0", "Upload-Length", "10", "Upload-Metadata", meta)...)
		if r.StatusCode != http.StatusBadRequest {
			t.Errorf("tus title with %s: %d %s", kind, r.StatusCode, r.Body)
		}
		for _, field := range []string{"title", "description"} {
			body, ct := multipartBody(t, map[string]string{field: bad}, videoMagic, "clip.mp4")
			r = f.do("POST", "/api/v1/videos", body, append(bearer(creatorTok), "Content-Type", ct)...)
			if r.StatusCode != http.StatusBadRequest {
				t.Errorf("simple upload %s with %s: %d %s", field, kind, r.StatusCode, r.Body)
			}
		}
		checked += 3
	}
	if changed := diffDigest(before, f.dbDigest()); len(changed) > 0 {
		t.Fatalf("refused requests changed tables %v", changed)
	}
	t.Logf("invalid text: %d requests (%d fields × %d kinds of bad text, plus uploads) refused with 400, nothing stored", checked, len(cases), len(bads))
}

// TestHugeComments: 10,000 characters are accepted, 10,001 refused with
// 400 (API and form, counting characters, not bytes), and bodies past the
// byte caps with 413; nothing half-stored.
func TestHugeComments(t *testing.T) {
	f := newTestServer(t, withRecordingFinisher())
	fx, creatorTok, creatorID := f.seedWorld()
	cookie, csrf := f.session(creatorID)
	path := "/api/v1/videos/" + fx.videoPub + "/comments"
	post := func(body string) response {
		return f.do("POST", path, map[string]string{"body": body}, bearer(creatorTok)...)
	}
	form := func(body string) response {
		return f.do("POST", "/watch/"+fx.videoPub+"/comments", url.Values{"body": {body}}.Encode(), "Cookie", cookie, "X-CSRF-Token", csrf)
	}
	wantStatus(t, post(strings.Repeat("a", 10000)), http.StatusCreated)
	wantStatus(t, post(strings.Repeat("😀", 10000)), http.StatusCreated)
	wantStatus(t, form(strings.Repeat("é", 10000)), http.StatusSeeOther)
	before := f.dbDigest()
	for _, body := range []string{strings.Repeat("a", 10001), strings.Repeat("😀", 10001), strings.Repeat("x", 50000)} {
		r := post(body)
		wantStatus(t, r, http.StatusBadRequest)
		if !strings.Contains(string(r.Body), "at most 10,000 characters") {
			t.Fatalf("message: %s", r.Body)
		}
		r = form(body)
		wantStatus(t, r, http.StatusBadRequest)
		if !strings.Contains(string(r.Body), "at most 10,000 characters") {
			t.Fatalf("form message: %.300s", r.Body)
		}
	}
	wantStatus(t, post(strings.Repeat("a", 200<<10)), http.StatusRequestEntityTooLarge)
	wantStatus(t, form(strings.Repeat("a", 2<<20)), http.StatusRequestEntityTooLarge)
	r := f.do("PATCH", "/api/v1/comments/"+fmt.Sprint(fx.commentID), map[string]string{"body": strings.Repeat("b", 10001)}, bearer(creatorTok)...)
	wantStatus(t, r, http.StatusBadRequest)
	if changed := diffDigest(before, f.dbDigest()); len(changed) > 0 {
		t.Fatalf("refused comments changed tables %v", changed)
	}
}

// TestRedirectsStayOnSite: "next" values that browsers would take off the
// site (tabs and line breaks are dropped by URL parsers, a backslash reads
// as a slash) fall back to a local page, on log-in and on page forms.
func TestRedirectsStayOnSite(t *testing.T) {
	f := newTestServer(t, withRecordingFinisher())
	fx, _, creatorID := f.seedWorld()
	cookie, csrf := f.session(creatorID)
	for _, next := range []string{"//evil.example", "/\\evil.example", "/\t/evil.example", "/\n/evil.example", "/\r\n/evil.example", "https://evil.example", "javascript:alert(1)", "/%09/evil.example"} {
		r := f.do("POST", "/login", url.Values{"email": {"world-creator@example.com"}, "password": {"correct horse battery"}, "next": {next}}.Encode())
		wantStatus(t, r, http.StatusSeeOther)
		if loc := r.Header.Get("Location"); loc != "/" && !(next == "/%09/evil.example" && loc == next) {
			t.Errorf("log-in next %q redirected to %q", next, loc)
		}
		r = f.do("POST", "/watch/"+fx.videoPub+"/like", url.Values{"value": {"like"}, "next": {next}}.Encode(), "Cookie", cookie, "X-CSRF-Token", csrf)
		wantStatus(t, r, http.StatusSeeOther)
		if loc := r.Header.Get("Location"); !strings.HasPrefix(loc, "/watch/") && !(next == "/%09/evil.example" && loc == next) {
			t.Errorf("like form next %q redirected to %q", next, loc)
		}
	}
}
