package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"reflect"
	"time"

	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/ucc-video/ucc/internal/accounts"
)

func TestAPISignupTokenMeRevoke(t *testing.T) {
	ts := newTestServer(t)
	r := ts.do("POST", "/api/v1/auth/signup", map[string]string{"email": "Ann@Example.com", "password": "password123", "display_name": "Ann"})
	wantStatus(t, r, http.StatusCreated)
	r = ts.do("POST", "/api/v1/auth/signup", map[string]string{"email": "ann@example.com", "password": "password123"})
	wantStatus(t, r, http.StatusConflict)
	if !strings.Contains(string(r.Body), `"code":"email_taken"`) {
		t.Fatalf("duplicate signup body: %s", r.Body)
	}
	r = ts.do("POST", "/api/v1/auth/tokens", map[string]string{"email": "ann@example.com", "password": "password123"})
	wantStatus(t, r, http.StatusCreated)
	var tok struct{ Token string }
	r.JSON(t, &tok)
	r = ts.do("GET", "/api/v1/me", nil, bearer(tok.Token)...)
	wantStatus(t, r, http.StatusOK)
	var me struct{ User accounts.User }
	r.JSON(t, &me)
	if me.User.Email != "ann@example.com" || me.User.Role != accounts.RoleViewer || me.User.DisplayName != "Ann" {
		t.Fatalf("me = %+v", me.User)
	}
	wantStatus(t, ts.do("DELETE", "/api/v1/auth/tokens/current", nil, bearer(tok.Token)...), http.StatusNoContent)
	wantStatus(t, ts.do("GET", "/api/v1/me", nil, bearer(tok.Token)...), http.StatusUnauthorized)
	wantStatus(t, ts.do("GET", "/api/v1/me", nil), http.StatusUnauthorized)
}

func TestAPISignupValidation(t *testing.T) {
	ts := newTestServer(t)
	cases := []struct {
		name string
		body any
		code string
	}{
		{"bad email", map[string]string{"email": "nope", "password": "password123"}, "invalid_email"},
		{"short password", map[string]string{"email": "a@example.com", "password": "short"}, "password_too_short"},
		{"not json", []byte("{"), "invalid_json"},
		{"wrong type", []byte(`{"email": 5}`), "invalid_json"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := ts.do("POST", "/api/v1/auth/signup", c.body, "Content-Type", "application/json")
			wantStatus(t, r, http.StatusBadRequest)
			var e apiError
			r.JSON(t, &e)
			if e.Error.Code != c.code || e.Error.Message == "" {
				t.Fatalf("error = %+v, want code %s", e.Error, c.code)
			}
		})
	}
}

func TestLoginRateLimited(t *testing.T) {
	ts := newTestServer(t)
	ts.user("b@example.com", accounts.RoleViewer)
	for i := 0; i < 5; i++ {
		wantStatus(t, ts.do("POST", "/api/v1/auth/tokens", map[string]string{"email": "b@example.com", "password": "wrong password"}), http.StatusUnauthorized)
	}
	// The right password is refused too while the limit holds.
	wantStatus(t, ts.do("POST", "/api/v1/auth/tokens", map[string]string{"email": "b@example.com", "password": "correct horse battery"}), http.StatusTooManyRequests)
}

func TestBrowserLoginRotatesSessionAndLogsOut(t *testing.T) {
	ts := newTestServer(t)
	ts.user("c@example.com", accounts.RoleViewer)
	form := url.Values{"email": {"c@example.com"}, "password": {"correct horse battery"}, "next": {"/?x=1"}}.Encode()
	r := ts.do("POST", "/login", form, "Origin", ts.http.URL)
	wantStatus(t, r, http.StatusSeeOther)
	if loc := r.Header.Get("Location"); loc != "/?x=1" {
		t.Fatalf("redirect to %q", loc)
	}
	c1 := sessionFrom(t, r)
	if !c1.HttpOnly || c1.SameSite != http.SameSiteLaxMode {
		t.Fatalf("cookie flags: %+v", c1)
	}
	// Logging in again rotates: the old session stops working.
	r = ts.do("POST", "/login", form, "Origin", ts.http.URL, "Cookie", sessionCookie+"="+c1.Value)
	c2 := sessionFrom(t, r)
	if c2.Value == c1.Value {
		t.Fatal("session not rotated at login")
	}
	wantStatus(t, ts.do("GET", "/api/v1/me", nil, "Cookie", sessionCookie+"="+c1.Value), http.StatusUnauthorized)
	wantStatus(t, ts.do("GET", "/api/v1/me", nil, "Cookie", sessionCookie+"="+c2.Value), http.StatusOK)
	// Page shows the user.
	r = ts.do("GET", "/", nil, "Cookie", sessionCookie+"="+c2.Value)
	if !strings.Contains(string(r.Body), "Log out") {
		t.Fatal("home page does not show the signed-in header")
	}
	// Logout ends the session.
	wantStatus(t, ts.do("POST", "/logout", "", "Origin", ts.http.URL, "Cookie", sessionCookie+"="+c2.Value), http.StatusSeeOther)
	wantStatus(t, ts.do("GET", "/api/v1/me", nil, "Cookie", sessionCookie+"="+c2.Value), http.StatusUnauthorized)
}

func TestLoginFormErrorsAndOpenRedirect(t *testing.T) {
	ts := newTestServer(t)
	ts.user("d@example.com", accounts.RoleViewer)
	r := ts.do("POST", "/login", url.Values{"email": {"d@example.com"}, "password": {"nope nope"}}.Encode())
	wantStatus(t, r, http.StatusUnauthorized)
	if !strings.Contains(string(r.Body), "wrong email or password") {
		t.Fatalf("no error message on the page: %s", r.Body)
	}
	r = ts.do("POST", "/login", url.Values{"email": {"d@example.com"}, "password": {"correct horse battery"}, "next": {"//evil.example/x"}}.Encode())
	wantStatus(t, r, http.StatusSeeOther)
	if r.Header.Get("Location") != "/" {
		t.Fatalf("open redirect to %q", r.Header.Get("Location"))
	}
}

func TestCSRF(t *testing.T) {
	ts := newTestServer(t)
	ts.user("e@example.com", accounts.RoleViewer)
	form := url.Values{"email": {"e@example.com"}, "password": {"correct horse battery"}}.Encode()
	r := ts.do("POST", "/login", form, "Origin", ts.http.URL)
	c := sessionFrom(t, r)
	cookie := sessionCookie + "=" + c.Value
	// Cross-site browser requests are refused.
	wantStatus(t, ts.do("POST", "/logout", "", "Cookie", cookie, "Sec-Fetch-Site", "cross-site"), http.StatusForbidden)
	wantStatus(t, ts.do("POST", "/logout", "", "Cookie", cookie, "Origin", "https://evil.example"), http.StatusForbidden)
	// A cookie request with neither header needs the session's token.
	wantStatus(t, ts.do("POST", "/logout", "", "Cookie", cookie), http.StatusForbidden)
	wantStatus(t, ts.do("POST", "/logout", "", "Cookie", cookie, "X-CSRF-Token", "wrong"), http.StatusForbidden)
	page := ts.do("GET", "/", nil, "Cookie", cookie)
	i := strings.Index(string(page.Body), `name="csrf-token" content="`)
	if i < 0 {
		t.Fatal("no csrf meta tag")
	}
	rest := string(page.Body)[i+len(`name="csrf-token" content="`):]
	token := rest[:strings.IndexByte(rest, '"')]
	wantStatus(t, ts.do("POST", "/logout", url.Values{"csrf_token": {token}}.Encode(), "Cookie", cookie), http.StatusSeeOther)
}

func TestOpsEndpointsAndHeaders(t *testing.T) {
	ts := newTestServer(t, withReadyCheck(ReadyCheck{Name: "storage", Check: func(ctx context.Context) error { return errors.New("connection refused") }}))
	wantStatus(t, ts.do("GET", "/healthz", nil), http.StatusOK)
	r := ts.do("GET", "/readyz", nil)
	wantStatus(t, r, http.StatusServiceUnavailable)
	var rd struct {
		Failing []string
		Checks  map[string]string
	}
	r.JSON(t, &rd)
	if len(rd.Failing) != 1 || rd.Failing[0] != "storage" || rd.Checks["postgres"] != "ok" || rd.Checks["redis"] != "ok" {
		t.Fatalf("readyz = %+v", rd)
	}
	r = ts.do("GET", "/", nil)
	wantStatus(t, r, http.StatusOK)
	for _, h := range []string{"Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy"} {
		if r.Header.Get(h) == "" {
			t.Errorf("missing header %s", h)
		}
	}
	if csp := r.Header.Get("Content-Security-Policy"); strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("CSP = %s", csp)
	}
	m := ts.do("GET", "/metrics", nil, bearer(testMetricsToken)...)
	if !strings.Contains(string(m.Body), `ucc_http_requests_total{method="GET",route="/",status="200"} 1`) {
		t.Fatalf("metrics do not count the home page request:\n%s", m.Body)
	}
	r = ts.do("GET", "/no/such/page", nil)
	wantStatus(t, r, http.StatusNotFound)
	if !strings.Contains(string(r.Body), "<html") {
		t.Fatal("404 page is not HTML")
	}
}

func sessionFrom(t *testing.T, r response) *http.Cookie {
	t.Helper()
	for _, c := range r.Cookies() {
		if c.Name == sessionCookie && c.Value != "" {
			return c
		}
	}
	t.Fatalf("no session cookie set (status %d)", r.StatusCode)
	return nil
}

func TestStaticFilesWithoutListings(t *testing.T) {
	ts := newTestServer(t)
	wantStatus(t, ts.do("GET", "/static/css/app.css", nil), http.StatusOK)
	for _, dir := range []string{"/static/", "/static/css/", "/static/js"} {
		if r := ts.do("GET", dir, nil); r.StatusCode == http.StatusOK {
			t.Errorf("GET %s lists the directory: %s", dir, r.Body)
		}
	}
}

// TestRequestDeadline: a request whose dependency hangs answers 503 once the
// request deadline passes, instead of never.
func TestRequestDeadline(t *testing.T) {
	ts := newTestServer(t, withWeb(func(c *Config) { c.RequestTimeout = 200 * time.Millisecond }))
	hang := func(c *gin.Context) {
		<-c.Request.Context().Done() // a query that never returns until cancelled
		s := ts.srv
		s.fail(c, c.Request.Context().Err())
	}
	ts.srv.register(answering(http.MethodGet)("/test/hang", hang))
	start := time.Now()
	r := ts.do("GET", "/test/hang", nil, "Accept", "application/json")
	wantStatus(t, r, http.StatusServiceUnavailable)
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("answered after %v", d)
	}
}

// TestNewNamesMissingDependency: every Deps field is required, and New
// names the one that is missing.
func TestNewNamesMissingDependency(t *testing.T) {
	ts := newTestServer(t)
	typ := reflect.TypeOf(ts.deps)
	for i := 0; i < typ.NumField(); i++ {
		d := ts.deps
		reflect.ValueOf(&d).Elem().Field(i).SetZero()
		name := typ.Field(i).Name
		if _, err := New(ts.cfg, d); err == nil || err.Error() != "web: Deps."+name+" is required" {
			t.Errorf("New without Deps.%s: %v", name, err)
		}
	}
}
