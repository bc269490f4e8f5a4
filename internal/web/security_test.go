package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/ucc-video/ucc/internal/accounts"
)

// TestCSRFEveryStateChangingRoute enumerates the router's routes, so a new
// route is covered the day it is added, and sends each state-changing one a
// cross-site request carrying a valid session cookie: by Sec-Fetch-Site,
// by a foreign Origin, and (for browsers that send neither) without the
// session's CSRF token. Every one must be refused with 403 before the
// handler runs. The same requests from the site itself get through the
// CSRF check (a control, so the test can fail).
func TestCSRFEveryStateChangingRoute(t *testing.T) {
	f := newTestServer(t, withRecordingFinisher())
	fx, _, _ := f.seedWorld()
	_, adminID := f.user("csrf-admin@example.com", accounts.RoleAdmin)
	cookie, _ := f.session(adminID)

	var routes []string
	for _, r := range f.srv.engine.Routes() {
		if stateChanging(r.Method) {
			routes = append(routes, r.Method+" "+r.Path)
		}
	}
	sort.Strings(routes)
	if len(routes) < 30 {
		t.Fatalf("only %d state-changing routes found: %v", len(routes), routes)
	}
	attacks := []struct {
		name    string
		headers []string
	}{
		{"Sec-Fetch-Site cross-site", []string{"Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example"}},
		{"Sec-Fetch-Site same-site", []string{"Sec-Fetch-Site", "same-site"}},
		{"foreign Origin", []string{"Origin", "https://evil.example"}},
		{"Origin null", []string{"Origin", "null"}},
		{"no token", nil},
		{"wrong token", []string{"X-CSRF-Token", "forged"}},
	}
	checked := 0
	for _, rt := range routes {
		method, pattern, _ := strings.Cut(rt, " ")
		path := routePath(pattern, fx)
		for _, a := range attacks {
			h := append([]string{"Cookie", cookie, "Content-Type", "application/x-www-form-urlencoded"}, a.headers...)
			r := f.do(method, path, "csrf_token=", h...)
			if !isCSRFRefusal(r) {
				t.Errorf("%s (%s) with %s: status %d, want 403 csrf; body %.200s", rt, path, a.name, r.StatusCode, r.Body)
			}
			checked++
		}
	}
	// The session must still be valid: every refusal above was for a signed-in user.
	wantStatus(t, f.do("GET", "/api/v1/me", nil, "Cookie", cookie), http.StatusOK)
	// Control: from the site itself, the CSRF check lets the request through
	// (whatever the handler then answers, it is not the CSRF refusal). Each
	// request gets its own session, as some (log out) end it.
	for _, rt := range routes {
		method, pattern, _ := strings.Cut(rt, " ")
		path := routePath(pattern, fx)
		for _, h := range [][]string{{"Sec-Fetch-Site", "same-origin"}, {"Origin", f.http.URL}, {"X-CSRF-Token", ""}} {
			cookie, token := f.session(adminID)
			if h[0] == "X-CSRF-Token" {
				h[1] = token
			}
			r := f.do(method, path, nil, append([]string{"Cookie", cookie}, h...)...)
			if isCSRFRefusal(r) {
				t.Errorf("%s (%s) with %v: same-site request refused as CSRF", rt, path, h)
			}
		}
	}
	t.Logf("CSRF: %d state-changing routes × %d cross-site variants = %d requests refused", len(routes), len(attacks), checked)
}

// isCSRFRefusal reports whether r is the CSRF middleware's 403 (JSON or page).
func isCSRFRefusal(r response) bool {
	b := string(r.Body)
	return r.StatusCode == http.StatusForbidden &&
		(strings.Contains(b, `"code":"csrf"`) || strings.Contains(b, "cross-site request refused") || strings.Contains(b, "wrong CSRF token"))
}

// TestCookieFlags checks the session and viewer cookies: HttpOnly, SameSite,
// Path=/, and Secure exactly when the server runs under TLS.
func TestCookieFlags(t *testing.T) {
	for _, secure := range []bool{false, true} {
		f := newTestServer(t, withRecordingFinisher(), withWeb(func(c *Config) { c.CookieSecure = secure }))
		f.user("cookie@example.com", accounts.RoleViewer)
		_, creator := f.user("cookie-creator@example.com", accounts.RoleCreator)
		ch := f.seedChannel(creator, "cookiechan", "Cookie channel", "")
		_, pub := f.seedVideo(seedVideo{Channel: ch, Creator: creator, Title: "Cookie video"})
		login := f.do("POST", "/login", url.Values{"email": {"cookie@example.com"}, "password": {"correct horse battery"}}.Encode(), "Origin", f.http.URL)
		wantStatus(t, login, http.StatusSeeOther)
		watch := f.do("GET", "/watch/"+pub, nil, "User-Agent", firefoxUA)
		wantStatus(t, watch, http.StatusOK)
		logout := f.do("POST", "/logout", "", "Origin", f.http.URL, "Cookie", sessionCookie+"="+sessionFrom(t, login).Value)
		seen := map[string]bool{}
		for _, r := range []response{login, watch, logout} {
			for _, line := range r.Header.Values("Set-Cookie") {
				c, err := http.ParseSetCookie(line)
				if err != nil {
					t.Fatalf("Set-Cookie %q: %v", line, err)
				}
				seen[c.Name] = true
				if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Secure != secure {
					t.Errorf("secure=%v: cookie %s = %q: want HttpOnly; SameSite=Lax; Path=/; Secure=%v", secure, c.Name, line, secure)
				}
			}
		}
		if !seen[sessionCookie] || !seen[viewerCookie] {
			t.Fatalf("cookies seen: %v", seen)
		}
		if hsts := login.Header.Get("Strict-Transport-Security"); (hsts != "") != secure {
			t.Errorf("secure=%v: Strict-Transport-Security = %q", secure, hsts)
		}
	}
}

// TestSecurityHeadersOnEveryPage fetches every GET route (enumerated from
// the router), anonymously and signed in, plus a 404, a static file and
// an error from the API, and checks the security headers on each answer.
func TestSecurityHeadersOnEveryPage(t *testing.T) {
	f := newTestServer(t, withRecordingFinisher())
	fx, _, _ := f.seedWorld()
	adminTok, _ := f.user("headers-admin@example.com", accounts.RoleAdmin)
	paths := []string{"/no/such/page", "/static/css/app.css", "/static/js/app.js", "/api/v1/videos/nosuchvideo", "/watch/nosuchvideo"}
	for _, r := range f.srv.engine.Routes() {
		if r.Method == http.MethodGet {
			paths = append(paths, routePath(r.Path, fx))
		}
	}
	checked := 0
	for _, p := range paths {
		for _, who := range [][]string{nil, bearer(adminTok)} {
			r := f.do("GET", p, nil, append([]string{"User-Agent", firefoxUA}, who...)...)
			checkSecurityHeaders(t, "GET "+p, r)
			checked++
		}
	}
	t.Logf("security headers checked on %d answers (%d paths × 2 users)", checked, len(paths))
}

func checkSecurityHeaders(t *testing.T, what string, r response) {
	t.Helper()
	h := r.Header
	csp := h.Get("Content-Security-Policy")
	directives := map[string][]string{}
	for _, d := range strings.Split(csp, ";") {
		fields := strings.Fields(d)
		if len(fields) > 0 {
			directives[fields[0]] = fields[1:]
		}
	}
	scripts, ok := directives["script-src"]
	if !ok {
		scripts = directives["default-src"]
	}
	for _, s := range scripts {
		if s == "'unsafe-inline'" || s == "'unsafe-eval'" || s == "*" || s == "data:" || s == "http:" || s == "https:" {
			t.Errorf("%s: CSP allows scripts from %s: %s", what, s, csp)
		}
	}
	if len(scripts) == 0 {
		t.Errorf("%s: CSP without script-src/default-src: %q", what, csp)
	}
	if fa := directives["frame-ancestors"]; len(fa) != 1 || fa[0] != "'none'" {
		t.Errorf("%s: CSP frame-ancestors = %v", what, fa)
	}
	if ob := directives["object-src"]; len(ob) != 1 || ob[0] != "'none'" {
		t.Errorf("%s: CSP object-src = %v", what, ob)
	}
	if v := h.Get("X-Content-Type-Options"); v != "nosniff" {
		t.Errorf("%s: X-Content-Type-Options = %q", what, v)
	}
	switch v := h.Get("Referrer-Policy"); v {
	case "no-referrer", "same-origin", "strict-origin", "strict-origin-when-cross-origin":
	default:
		t.Errorf("%s: Referrer-Policy = %q", what, v)
	}
	if v := h.Get("X-Frame-Options"); v != "DENY" {
		t.Errorf("%s: X-Frame-Options = %q", what, v)
	}
}

// TestSignupRateLimitPerIP: ten sign-ups an hour from one address, then a
// clear 429 on the API and the form; X-Forwarded-For from an untrusted
// client does not get around it; malformed attempts do not count.
func TestSignupRateLimitPerIP(t *testing.T) {
	acfg := accounts.DefaultConfig()
	if acfg.SignupLimit != 10 {
		t.Fatalf("default sign-up limit %d, want 10 an hour", acfg.SignupLimit)
	}
	ts := newTestServer(t, withAccounts(func(c *accounts.Config) {
		*c = accounts.DefaultConfig()
		c.PasswordParams = accounts.FastPasswordParams()
	}))
	for i := 0; i < 3; i++ {
		r := ts.do("POST", "/api/v1/auth/signup", map[string]string{"email": "bad", "password": "password123"})
		wantStatus(t, r, http.StatusBadRequest)
	}
	for i := 0; i < 10; i++ {
		r := ts.do("POST", "/api/v1/auth/signup", map[string]string{"email": "s" + string(rune('a'+i)) + "@example.com", "password": "password123"})
		wantStatus(t, r, http.StatusCreated)
	}
	r := ts.do("POST", "/api/v1/auth/signup", map[string]string{"email": "s11@example.com", "password": "password123"},
		"X-Forwarded-For", "203.0.113.9")
	wantStatus(t, r, http.StatusTooManyRequests)
	var e apiError
	r.JSON(t, &e)
	if e.Error.Code != "signup_rate_limited" || !strings.Contains(e.Error.Message, "too many sign-ups") {
		t.Fatalf("429 body: %s", r.Body)
	}
	r = ts.do("POST", "/signup", url.Values{"email": {"s12@example.com"}, "password": {"password123"}}.Encode(), "Origin", ts.http.URL)
	wantStatus(t, r, http.StatusTooManyRequests)
	if !strings.Contains(string(r.Body), "too many sign-ups from your network") {
		t.Fatalf("sign-up page does not say why: %s", r.Body)
	}
	var n int
	if err := ts.db.Pool.QueryRow(t.Context(), `SELECT count(*) FROM users`).Scan(&n); err != nil || n != 10 {
		t.Fatalf("%d users stored (%v), want 10", n, err)
	}
}

// TestLoginRateLimitPerAccountAndIP: failed log-ins are limited per client
// network over all accounts (5 × the limit, 5 in tests), on the API and the
// form, with a clear message; X-Forwarded-For from an untrusted client does
// not get around it.
func TestLoginRateLimitPerAccountAndIP(t *testing.T) {
	ts := newTestServer(t)
	ts.user("victim@example.com", accounts.RoleViewer)
	// Per network: failures spread over different accounts still add up.
	for i := 0; i < 5*accounts.LoginNetworkFactor; i++ {
		r := ts.do("POST", "/login", url.Values{"email": {fmt.Sprintf("nobody%d@example.com", i)}, "password": {"guess guess"}}.Encode())
		wantStatus(t, r, http.StatusUnauthorized)
	}
	r := ts.do("POST", "/login", url.Values{"email": {"victim@example.com"}, "password": {"correct horse battery"}}.Encode())
	wantStatus(t, r, http.StatusTooManyRequests)
	if !strings.Contains(string(r.Body), "too many failed log-in attempts") || r.Header.Get("Retry-After") == "" {
		t.Fatalf("log-in page does not say why: %s", r.Body)
	}
	r = ts.do("POST", "/api/v1/auth/tokens", map[string]string{"email": "victim@example.com", "password": "correct horse battery"}, "X-Forwarded-For", "198.51.100.7")
	wantStatus(t, r, http.StatusTooManyRequests)
	var e apiError
	if err := json.Unmarshal(r.Body, &e); err != nil || e.Error.Code != "login_rate_limited" {
		t.Fatalf("429 body: %s", r.Body)
	}
}
