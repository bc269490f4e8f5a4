package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/ucc-video/ucc/internal/accounts"
)

// iphoneUA is Safari on an iPhone (firefoxUA, Firefox on Linux, is in views_test.go).
const (
	iphoneUA = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)

// logIn signs in through the form with userAgent and returns the Cookie
// header of the new session.
func (ts *testServer) logIn(email, password, userAgent string) string {
	ts.t.Helper()
	r := ts.do("POST", "/login", url.Values{"email": {email}, "password": {password}}.Encode(), "User-Agent", userAgent)
	wantStatus(ts.t, r, http.StatusSeeOther)
	for _, c := range r.Cookies() {
		if c.Name == sessionCookie && c.Value != "" {
			return sessionCookie + "=" + c.Value
		}
	}
	ts.t.Fatal("no session cookie after log-in")
	return ""
}

// apiToken creates a token through the API with userAgent.
func (ts *testServer) apiToken(email, password, name, userAgent string) string {
	ts.t.Helper()
	r := ts.do("POST", "/api/v1/auth/tokens", map[string]string{"email": email, "password": password, "name": name}, "User-Agent", userAgent)
	wantStatus(ts.t, r, http.StatusCreated)
	var out struct{ Token string }
	r.JSON(ts.t, &out)
	return out.Token
}

type sessionList struct {
	Sessions   []accounts.Session `json:"sessions"`
	NextCursor string             `json:"next_cursor"`
}

type tokenList struct {
	Tokens     []accounts.Token `json:"tokens"`
	NextCursor string           `json:"next_cursor"`
}

// TestMySessionsAndTokensAPI: a user lists their sessions and tokens (the
// current one marked, the device named, times given), revokes one by id,
// and revokes all others; another user's ids are 404; revoked credentials
// stop working at once.
func TestMySessionsAndTokensAPI(t *testing.T) {
	ts := newTestServer(t)
	const pw = "correct horse battery"
	_, uid := ts.user("me@example.com", accounts.RoleViewer) // also holds a token named "test"
	otherTok, _ := ts.user("other@example.com", accounts.RoleViewer)
	laptop := ts.logIn("me@example.com", pw, firefoxUA)
	phone := ts.logIn("me@example.com", pw, iphoneUA)
	cli := ts.apiToken("me@example.com", pw, "deploy script", "curl/8.5.0")

	r := ts.do("GET", "/api/v1/me/sessions", nil, "Cookie", laptop)
	wantStatus(t, r, http.StatusOK)
	var ss sessionList
	r.JSON(t, &ss)
	if len(ss.Sessions) != 2 || ss.NextCursor != "" {
		t.Fatalf("sessions: %s", r.Body)
	}
	phoneS, laptopS := ss.Sessions[0], ss.Sessions[1]
	if !laptopS.Current || phoneS.Current || laptopS.Device != "Firefox · Linux" || phoneS.Device != "Safari · iOS" ||
		laptopS.UserAgent != firefoxUA || laptopS.CreatedAt.IsZero() || laptopS.LastUsedAt == nil {
		t.Fatalf("sessions as seen from the laptop: %s", r.Body)
	}
	r = ts.do("GET", "/api/v1/me/tokens", nil, bearer(cli)...)
	wantStatus(t, r, http.StatusOK)
	var tl tokenList
	r.JSON(t, &tl)
	if len(tl.Tokens) != 2 || tl.Tokens[0].Name != "deploy script" || !tl.Tokens[0].Current || tl.Tokens[0].Device != "curl" ||
		tl.Tokens[1].Current || tl.Tokens[0].LastUsedAt == nil || strings.Contains(string(r.Body), cli) {
		t.Fatalf("tokens as seen with the CLI token: %s", r.Body)
	}
	// Another user cannot touch them.
	wantStatus(t, ts.do("DELETE", fmt.Sprintf("/api/v1/me/sessions/%d", phoneS.ID), nil, bearer(otherTok)...), http.StatusNotFound)
	wantStatus(t, ts.do("DELETE", fmt.Sprintf("/api/v1/me/tokens/%d", tl.Tokens[1].ID), nil, bearer(otherTok)...), http.StatusNotFound)
	wantStatus(t, ts.do("DELETE", "/api/v1/me/sessions/nope", nil, bearer(otherTok)...), http.StatusNotFound)
	// One by id: the phone's session ends.
	wantStatus(t, ts.do("DELETE", fmt.Sprintf("/api/v1/me/sessions/%d", phoneS.ID), nil, "Cookie", laptop, "Sec-Fetch-Site", "same-origin"), http.StatusNoContent)
	if r := ts.do("GET", "/api/v1/me", nil, "Cookie", phone); r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("the revoked phone session still answers %d", r.StatusCode)
	}
	// All tokens but the current one; all sessions (a token has none current).
	r = ts.do("DELETE", "/api/v1/me/tokens", nil, bearer(cli)...)
	wantStatus(t, r, http.StatusOK)
	if !strings.Contains(string(r.Body), `"revoked_tokens":1`) {
		t.Fatalf("revoke all tokens: %s", r.Body)
	}
	r = ts.do("DELETE", "/api/v1/me/sessions", nil, bearer(cli)...)
	wantStatus(t, r, http.StatusOK)
	if !strings.Contains(string(r.Body), `"revoked_sessions":1`) {
		t.Fatalf("revoke all sessions: %s", r.Body)
	}
	wantStatus(t, ts.do("GET", "/api/v1/me", nil, "Cookie", laptop), http.StatusUnauthorized)
	wantStatus(t, ts.do("GET", "/api/v1/me", nil, bearer(cli)...), http.StatusOK)
	wantStatus(t, ts.do("GET", "/api/v1/me", nil, bearer(otherTok)...), http.StatusOK)
	if n := ts.count(`SELECT count(*) FROM api_tokens WHERE user_id = $1`, uid); n != 1 {
		t.Fatalf("%d tokens left, want the current one", n)
	}
}

// TestChangePasswordAPI: the current password is needed (a wrong one is
// 400 and counts as a failed log-in); after the change the session that
// asked survives and every other session and token ends; the new password
// logs in, the old one does not.
func TestChangePasswordAPI(t *testing.T) {
	ts := newTestServer(t)
	const pw, newPW = "correct horse battery", "staple battery horse"
	_, uid := ts.user("me@example.com", accounts.RoleViewer)
	here := ts.logIn("me@example.com", pw, firefoxUA)
	there := ts.logIn("me@example.com", pw, iphoneUA)
	tok := ts.apiToken("me@example.com", pw, "cli", "curl/8")
	same := []string{"Cookie", here, "Sec-Fetch-Site", "same-origin"}

	r := ts.do("POST", "/api/v1/me/password", map[string]string{"current_password": "wrong wrong", "new_password": newPW}, same...)
	wantStatus(t, r, http.StatusBadRequest)
	if !strings.Contains(string(r.Body), "wrong_current_password") {
		t.Fatalf("wrong current password: %s", r.Body)
	}
	r = ts.do("POST", "/api/v1/me/password", map[string]string{"current_password": pw, "new_password": "short"}, same...)
	wantStatus(t, r, http.StatusBadRequest)
	wantStatus(t, ts.do("GET", "/api/v1/me", nil, "Cookie", there), http.StatusOK) // nothing changed yet

	r = ts.do("POST", "/api/v1/me/password", map[string]string{"current_password": pw, "new_password": newPW}, same...)
	wantStatus(t, r, http.StatusOK)
	var got accounts.Revoked
	r.JSON(t, &got)
	if got.Sessions != 1 || got.Tokens != 2 { // the phone; the rig's token and "cli"
		t.Fatalf("password change ended %+v", got)
	}
	wantStatus(t, ts.do("GET", "/api/v1/me", nil, "Cookie", here), http.StatusOK)
	wantStatus(t, ts.do("GET", "/api/v1/me", nil, "Cookie", there), http.StatusUnauthorized)
	wantStatus(t, ts.do("GET", "/api/v1/me", nil, bearer(tok)...), http.StatusUnauthorized)
	wantStatus(t, ts.do("POST", "/api/v1/auth/tokens", map[string]string{"email": "me@example.com", "password": pw}), http.StatusUnauthorized)
	wantStatus(t, ts.do("POST", "/api/v1/auth/tokens", map[string]string{"email": "me@example.com", "password": newPW}), http.StatusCreated)
	if n := ts.count(`SELECT count(*) FROM sessions WHERE user_id = $1`, uid); n != 1 {
		t.Fatalf("%d sessions left, want the one that changed the password", n)
	}
	// Through a token, the token survives instead.
	tok2 := ts.apiToken("me@example.com", newPW, "cli2", "curl/8")
	r = ts.do("POST", "/api/v1/me/password", map[string]string{"current_password": newPW, "new_password": pw}, bearer(tok2)...)
	wantStatus(t, r, http.StatusOK)
	r.JSON(t, &got)
	if got.Sessions != 1 || got.Tokens != 1 {
		t.Fatalf("password change by token ended %+v", got)
	}
	wantStatus(t, ts.do("GET", "/api/v1/me", nil, bearer(tok2)...), http.StatusOK)
	wantStatus(t, ts.do("GET", "/api/v1/me", nil, "Cookie", here), http.StatusUnauthorized)
}

// TestSecurityPage: the settings → security page lists the sessions (this
// browser marked, the other's device named) and tokens, in English and
// Korean; its forms sign another browser out, revoke a token, revoke all,
// and change the password, each with a notice.
func TestSecurityPage(t *testing.T) {
	ts := newTestServer(t)
	const pw, newPW = "correct horse battery", "staple battery horse"
	_, uid := ts.user("me@example.com", accounts.RoleViewer)
	here := ts.logIn("me@example.com", pw, firefoxUA)
	there := ts.logIn("me@example.com", pw, iphoneUA)
	ts.apiToken("me@example.com", pw, "deploy script", "curl/8")
	page := ts.do("GET", "/settings/security", nil, "Cookie", here)
	wantStatus(t, page, http.StatusOK)
	body := string(page.Body)
	for _, want := range []string{"This browser", "Firefox · Linux", "Safari · iOS", "deploy script", "Sign out everywhere else", "Change password"} {
		if !strings.Contains(body, want) {
			t.Fatalf("security page lacks %q:\n%s", want, body)
		}
	}
	ko := ts.do("GET", "/settings/security", nil, "Cookie", here, "Accept-Language", "ko")
	for _, want := range []string{"지금 이 브라우저", "다른 모든 기기에서 로그아웃", "비밀번호 변경"} {
		if !strings.Contains(string(ko.Body), want) {
			t.Fatalf("Korean security page lacks %q", want)
		}
	}
	if !strings.Contains(string(ts.do("GET", "/settings", nil, "Cookie", here).Body), `href="/settings/security"`) {
		t.Fatal("the settings page does not link to the security page")
	}
	cookie, csrf := here, ""
	post := func(path string, form url.Values) response {
		t.Helper()
		form.Set("csrf_token", csrf)
		return ts.do("POST", path, form.Encode(), "Cookie", cookie)
	}
	_, csrf = csrfOf(t, ts, here)
	var otherID, tokenID int64
	ts.scan(`SELECT id FROM sessions WHERE user_id = $1 AND user_agent = $2`, []any{uid, iphoneUA}, &otherID)
	ts.scan(`SELECT id FROM api_tokens WHERE user_id = $1 AND name = 'deploy script'`, []any{uid}, &tokenID)
	r := post(fmt.Sprintf("/settings/security/sessions/%d/revoke", otherID), url.Values{})
	wantStatus(t, r, http.StatusSeeOther)
	wantStatus(t, ts.do("GET", "/api/v1/me", nil, "Cookie", there), http.StatusUnauthorized)
	r = post(fmt.Sprintf("/settings/security/tokens/%d/revoke", tokenID), url.Values{})
	wantStatus(t, r, http.StatusSeeOther)
	if n := ts.count(`SELECT count(*) FROM api_tokens WHERE id = $1`, tokenID); n != 0 {
		t.Fatal("the token was not revoked")
	}
	r = post("/settings/security/tokens/revoke-all", url.Values{})
	wantStatus(t, r, http.StatusSeeOther)
	if n := ts.count(`SELECT count(*) FROM api_tokens WHERE user_id = $1`, uid); n != 0 {
		t.Fatalf("%d tokens after revoke all", n)
	}
	// A wrong current password: the page again, with the reason.
	r = post("/settings/security/password", url.Values{"current_password": {"nope nope"}, "new_password": {newPW}})
	wantStatus(t, r, http.StatusBadRequest)
	if !strings.Contains(string(r.Body), "the current password is wrong") {
		t.Fatalf("password form error: %s", r.Body)
	}
	third := ts.logIn("me@example.com", pw, iphoneUA)
	r = post("/settings/security/password", url.Values{"current_password": {pw}, "new_password": {newPW}})
	wantStatus(t, r, http.StatusSeeOther)
	wantStatus(t, ts.do("GET", "/api/v1/me", nil, "Cookie", third), http.StatusUnauthorized)
	notice := here
	for _, c := range r.Cookies() {
		if c.Name == flashCookie {
			notice += "; " + c.Name + "=" + c.Value
		}
	}
	next := ts.do("GET", r.Header.Get("Location"), nil, "Cookie", notice)
	if !strings.Contains(string(next.Body), "Your password was changed; 1 other session and 0 tokens were ended.") {
		t.Fatalf("notice after the password change: %s", next.Body)
	}
	// Signing this browser out from the list ends it and leaves the site.
	var hereID int64
	ts.scan(`SELECT id FROM sessions WHERE user_id = $1`, []any{uid}, &hereID)
	r = post(fmt.Sprintf("/settings/security/sessions/%d/revoke", hereID), url.Values{})
	wantStatus(t, r, http.StatusSeeOther)
	if r.Header.Get("Location") != "/" {
		t.Fatalf("signing this browser out goes to %q", r.Header.Get("Location"))
	}
	wantStatus(t, ts.do("GET", "/api/v1/me", nil, "Cookie", here), http.StatusUnauthorized)
}

// csrfOf returns the CSRF token of the session behind cookie.
func csrfOf(t *testing.T, ts *testServer, cookie string) (string, string) {
	t.Helper()
	page := ts.do("GET", "/", nil, "Cookie", cookie)
	m := regexp.MustCompile(`name="csrf-token" content="([^"]+)"`).FindSubmatch(page.Body)
	if m == nil {
		t.Fatalf("no CSRF token on the home page: %s", page.Body)
	}
	return cookie, string(m[1])
}

// scan runs a one-row query into dest.
func (ts *testServer) scan(sql string, args []any, dest ...any) {
	ts.t.Helper()
	if err := ts.db.Pool.QueryRow(context.Background(), sql, args...).Scan(dest...); err != nil {
		ts.t.Fatalf("%s: %v", sql, err)
	}
}
