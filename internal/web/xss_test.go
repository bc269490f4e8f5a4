package web

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/gin-gonic/gin"

	"github.com/ucc-video/ucc/internal/accounts"
)

// xssPayload is the hostile text put in a field: a script element, an
// attribute break-out with an event handler, and javascript: links. tag
// names the field so each page can be checked to really show it.
func xssPayload(tag string) string {
	return `<script>alert("xss-` + tag + `")</script>"'><img src=x onerror=alert(1)> javascript:alert(1)`
}

// xssName is a shorter payload for display names (at most 80 characters).
func xssName(tag string) string {
	return `<script>alert("xss-` + tag + `")</script>'"><img src=x onerror=alert(1)>`
}

// TestUserTextEscapedEverywhere puts script tags and javascript: links into
// every text field a user controls, through the real API and forms, then
// fetches every page that shows them: each field must appear on its pages
// (so the check is real) but only as text — no raw <script>, no element or
// event handler of the payload, no href/src/action that is a javascript: URL.
func TestUserTextEscapedEverywhere(t *testing.T) {
	f := newTestServer(t, withRecordingFinisher())
	ctx := t.Context()

	// A viewer and a creator who signed up with hostile display names.
	signup := func(email, tag string) string {
		wantStatus(t, f.do("POST", "/api/v1/auth/signup", map[string]string{"email": email, "password": "password123", "display_name": xssName(tag)}), http.StatusCreated)
		r := f.do("POST", "/api/v1/auth/tokens", map[string]string{"email": email, "password": "password123"})
		wantStatus(t, r, http.StatusCreated)
		var tok struct{ Token string }
		r.JSON(t, &tok)
		return tok.Token
	}
	viewer := signup("xss-viewer@example.com", "viewername")
	creator := signup("xss-creator@example.com", "creatorname")
	finTok, _ := f.user("xss-fin@example.com", accounts.RoleFinance)

	// The creator opens a channel and publishes a video, all text hostile.
	wantStatus(t, f.do("POST", "/api/v1/channels", map[string]string{"handle": "xsschan", "name": xssPayload("channelname"),
		"description": xssPayload("channeldesc") + " see javascript:alert(document.cookie) and https://ok.example/a\"onmouseover=alert(1)"}, bearer(creator)...), http.StatusCreated)
	var creatorID, channelID int64
	if err := f.db.Pool.QueryRow(ctx, `SELECT owner_id, id FROM channels WHERE handle = 'xsschan'`).Scan(&creatorID, &channelID); err != nil {
		t.Fatal(err)
	}
	_, pub := f.seedVideo(seedVideo{Channel: channelID, Creator: creatorID, Title: "placeholder", Renditions: []int{360}})
	wantStatus(t, f.do("PATCH", "/api/v1/videos/"+pub, map[string]string{"title": xssPayload("videotitle"),
		"description": xssPayload("videodesc") + " javascript:alert(2) JaVaScRiPt:alert(3) https://ok.example/x?<script>"}, bearer(creator)...), http.StatusOK)

	// The viewer comments, replies, likes and subscribes.
	r := f.do("POST", "/api/v1/videos/"+pub+"/comments", map[string]string{"body": xssPayload("comment") + " javascript:alert(4) http://ok.example/\"><script>alert(5)</script>"}, bearer(viewer)...)
	wantStatus(t, r, http.StatusCreated)
	var cm struct{ Comment struct{ ID int64 } }
	r.JSON(t, &cm)
	wantStatus(t, f.do("POST", "/api/v1/videos/"+pub+"/comments", map[string]any{"body": xssPayload("reply"), "parent_id": cm.Comment.ID}, bearer(viewer)...), http.StatusCreated)
	wantStatus(t, f.do("PUT", "/api/v1/videos/"+pub+"/like", map[string]string{"value": "like"}, bearer(viewer)...), http.StatusOK)
	wantStatus(t, f.do("PUT", "/api/v1/channels/xsschan/subscription", nil, bearer(viewer)...), http.StatusOK)

	// Payout profile, then a period: calculated, approved, paid with a hostile reference, adjusted with a hostile reason.
	wantStatus(t, f.do("PUT", "/api/v1/me/payout-profile", map[string]string{"legal_name": xssPayload("legalname"), "country": "DE",
		"method_ref": "DE89 " + xssPayload("methodref")}, bearer(creator)...), http.StatusOK)
	wantStatus(t, f.do("POST", "/api/v1/revenue/periods", map[string]any{"period": "2026-01", "revenue_minor": 100000, "currency": "USD", "view_threshold": 0}, bearer(finTok)...), http.StatusCreated)
	f.sql(`INSERT INTO video_views_daily (video_id, creator_id, day, views) SELECT id, creator_id, '2026-01-15', 1000 FROM videos`)
	wantStatus(t, f.do("POST", "/api/v1/revenue/periods/2026-01/calculate", nil, bearer(finTok)...), http.StatusOK)
	wantStatus(t, f.do("POST", "/api/v1/revenue/periods/2026-01/approve", nil, bearer(finTok)...), http.StatusOK)
	wantStatus(t, f.do("POST", "/api/v1/revenue/periods/2026-01/mark-paid", map[string]any{"creator_id": creatorID, "reference": xssPayload("reference")}, bearer(finTok)...), http.StatusOK)
	wantStatus(t, f.do("POST", "/api/v1/revenue/periods/2026-01/adjustments", map[string]any{"creator_id": creatorID, "amount_minor": 5, "reason": xssPayload("reason")}, bearer(finTok)...), http.StatusCreated)

	q := url.QueryEscape
	pages := []struct {
		name   string
		method string
		path   string
		form   url.Values
		auth   []string
		fields []string // fields the page must show
		hidden []string // fields the page must not show at all (unsigned notices)
		follow bool     // a POST that redirects: check the page it redirects to
	}{
		{name: "home", path: "/", auth: bearer(viewer), fields: []string{"videotitle", "channelname", "viewername"}},
		{name: "watch", path: "/watch/" + pub, auth: bearer(viewer), fields: []string{"videotitle", "videodesc", "channelname", "comment", "reply", "viewername"}},
		{name: "watch (owner)", path: "/watch/" + pub, auth: bearer(creator), fields: []string{"videotitle", "videodesc", "comment", "reply", "viewername", "creatorname"}},
		{name: "watch thread", path: fmt.Sprintf("/watch/%s?thread=%d", pub, cm.Comment.ID), fields: []string{"comment", "reply", "viewername"}},
		{name: "watch editing", path: fmt.Sprintf("/watch/%s?edit=%d&reply=%d", pub, cm.Comment.ID, cm.Comment.ID), auth: bearer(viewer), fields: []string{"comment", "viewername"}},
		{name: "channel", path: "/c/xsschan", auth: bearer(viewer), fields: []string{"channelname", "channeldesc", "videotitle"}},
		{name: "search", path: "/search?q=" + q(xssPayload("query")), auth: bearer(viewer), fields: []string{"query"}},
		{name: "search hit", path: "/search?q=xsschan", auth: bearer(viewer), fields: []string{"videotitle", "channelname"}},
		{name: "liked", path: "/liked", auth: bearer(viewer), fields: []string{"videotitle", "channelname"}},
		{name: "feed", path: "/feed/subscriptions", auth: bearer(viewer), fields: []string{"videotitle", "channelname"}},
		{name: "studio", path: "/studio", auth: bearer(creator), fields: []string{"channelname", "videotitle", "creatorname"}},
		{name: "video edit", path: "/studio/videos/" + pub + "/edit", auth: bearer(creator), fields: []string{"videotitle", "videodesc"}},
		{name: "earnings", path: "/earnings", auth: bearer(creator), fields: []string{"legalname", "methodref", "reference"}},
		{name: "earnings forged notice", path: "/earnings?notice=" + q(xssPayload("notice")) + "&notice_sig=x", auth: bearer(creator), hidden: []string{"notice"}},
		{name: "finance forged notice", path: "/finance?notice=" + q(xssPayload("notice")), auth: bearer(finTok), hidden: []string{"notice"}},
		{name: "finance period", path: "/finance/periods/2026-01?error=" + q(xssPayload("error")) + "&notice=" + q(xssPayload("notice")), auth: bearer(finTok),
			fields: []string{"channelname", "creatorname", "legalname", "reference", "reason"}, hidden: []string{"error", "notice"}},
		{name: "finance action error", method: "POST", path: "/finance/periods/2026-01/adjustments", auth: bearer(finTok), follow: true,
			form: url.Values{"creator_id": {fmt.Sprint(creatorID)}, "amount": {xssPayload("amount")}, "reason": {"r"}}, fields: []string{"amount"}},
		{name: "finance form echo", method: "POST", path: "/finance/periods", auth: bearer(finTok),
			form: url.Values{"period": {xssPayload("periodkey")}, "revenue": {"1"}, "currency": {"USD"}}, fields: []string{"periodkey"}},
		{name: "finance currency error", method: "POST", path: "/finance/periods", auth: bearer(finTok),
			form: url.Values{"period": {"2026-04"}, "revenue": {"1"}, "currency": {xssPayload("currency")}}, fields: []string{"currency"}},
		{name: "earnings form echo", method: "POST", path: "/earnings/payout-profile", auth: bearer(creator),
			form: url.Values{"legal_name": {xssPayload("formlegal")}, "country": {"ZZZ"}, "method_ref": {"1234"}}, fields: []string{"formlegal"}},
		{name: "channel form echo", method: "POST", path: "/channels/new", auth: bearer(viewer),
			form: url.Values{"handle": {"xsschan"}, "name": {xssPayload("formchannel")}, "description": {xssPayload("formchanneldesc")}}, fields: []string{"formchannel", "formchanneldesc"}},
		{name: "signup form echo", method: "POST", path: "/signup",
			form: url.Values{"email": {"xss-viewer@example.com"}, "password": {"password123"}, "display_name": {xssName("formname")}}, fields: []string{"formname"}},
		{name: "video edit error", method: "POST", path: "/studio/videos/" + pub + "/edit", auth: bearer(creator),
			form: url.Values{"title": {xssPayload("edittitle")}, "description": {"d"}, "visibility": {"<script>alert(1)</script>"}}, fields: []string{"videotitle"}},
	}
	checks, hiddenChecks := 0, 0
	shown := map[string]bool{}
	for _, p := range pages {
		var res response
		if p.method == "POST" {
			res = f.do("POST", p.path, p.form.Encode(), p.auth...)
			if p.follow {
				if res.StatusCode != http.StatusSeeOther {
					t.Fatalf("%s: %d, want a redirect: %.300s", p.name, res.StatusCode, res.Body)
				}
				// As a browser does: with the flash cookie the redirect set.
				res = f.do("GET", res.Header.Get("Location"), nil, append(p.auth, "Cookie", flashCookie+"="+flashCookieOf(t, res))...)
			}
		} else {
			res = f.do("GET", p.path, nil, append([]string{"User-Agent", firefoxUA}, p.auth...)...)
		}
		if !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
			t.Errorf("%s: %d %s, not a page: %.300s", p.name, res.StatusCode, res.Header.Get("Content-Type"), res.Body)
			continue
		}
		for _, field := range p.fields {
			if !strings.Contains(string(res.Body), "xss-"+field) {
				t.Errorf("%s (%d): field %s is not shown, so its escaping is not tested", p.name, res.StatusCode, field)
			}
			shown[field] = true
			checks++
		}
		for _, field := range p.hidden {
			if strings.Contains(string(res.Body), "xss-"+field) {
				t.Errorf("%s: shows the unsigned %s from the query string", p.name, field)
			}
			hiddenChecks++
		}
		for _, problem := range unsafeMarkup(res.Body) {
			t.Errorf("%s: %s", p.name, problem)
		}
	}
	var fields []string
	for k := range shown {
		fields = append(fields, k)
	}
	sort.Strings(fields)
	t.Logf("escaping: %d field×page checks (%d fields) over %d pages, plus %d unsigned query notices not shown; fields: %s",
		checks, len(fields), len(pages), hiddenChecks, strings.Join(fields, ", "))
}

// unsafeMarkup lists what in page could run a payload: raw payload
// markup, script elements other than the site's own files, event-handler
// attributes, and URL attributes with a script scheme.
func unsafeMarkup(page []byte) []string {
	var out []string
	lower := bytes.ToLower(page)
	for _, raw := range []string{`<script>`, `<img src=x`, `"onmouseover=`} {
		if bytes.Contains(lower, []byte(raw)) {
			out = append(out, "raw markup "+raw+" in the page")
		}
	}
	z := html.NewTokenizer(bytes.NewReader(page))
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			if z.Err() != io.EOF {
				out = append(out, "HTML does not parse: "+z.Err().Error())
			}
			return out
		}
		if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
			continue
		}
		tok := z.Token()
		if tok.Data == "script" {
			src := ""
			for _, a := range tok.Attr {
				if a.Key == "src" {
					src = a.Val
				}
			}
			if !strings.HasPrefix(src, "/static/js/") {
				out = append(out, fmt.Sprintf("script element with src %q", src))
			}
		}
		for _, a := range tok.Attr {
			key := strings.ToLower(a.Key)
			if strings.HasPrefix(key, "on") {
				out = append(out, fmt.Sprintf("<%s %s=%q>: event handler attribute", tok.Data, a.Key, a.Val))
			}
			switch key {
			case "href", "src", "action", "formaction", "poster", "data", "xlink:href", "srcset", "background", "cite":
				v := strings.Map(func(r rune) rune {
					if r <= ' ' {
						return -1 // browsers ignore whitespace and control characters in schemes
					}
					return r
				}, strings.ToLower(a.Val))
				for _, scheme := range []string{"javascript:", "vbscript:", "data:text/html"} {
					if strings.HasPrefix(v, scheme) {
						out = append(out, fmt.Sprintf("<%s %s=%q>: script URL", tok.Data, a.Key, a.Val))
					}
				}
			}
		}
	}
}

// TestUnsafeMarkupDetector shows the page check catches what it must, so a
// pass of TestUserTextEscapedEverywhere means something.
func TestUnsafeMarkupDetector(t *testing.T) {
	for _, bad := range []string{
		`<p><script>alert(1)</script></p>`,
		`<a href="javascript:alert(1)">x</a>`,
		`<a href=" JaVa&#x09;ScRiPt:alert(1)">x</a>`,
		`<a href="&#106;avascript:alert(1)">x</a>`,
		`<form action="javascript:alert(1)"></form>`,
		`<img src=x onerror=alert(1)>`,
		`<div onclick="alert(1)">`,
		`<iframe src="data:text/html,<script>alert(1)</script>"></iframe>`,
		`<script src="https://evil.example/x.js"></script>`,
	} {
		if len(unsafeMarkup([]byte(bad))) == 0 {
			t.Errorf("not caught: %s", bad)
		}
	}
	safe := `<p>&lt;script&gt;alert(&#34;xss&#34;)&lt;/script&gt; javascript:alert(1)</p><a href="https://ok.example/">ok</a><script src="/static/js/app.js" defer></script><a href="#ZgotmplZ">x</a>`
	if got := unsafeMarkup([]byte(safe)); len(got) != 0 {
		t.Errorf("escaped text flagged: %v", got)
	}
}

// TestSignedFlash: the notice a form's redirect carries in the flash cookie
// is shown on the next page, once; the same cookie altered, or kept past
// its minute, shows nothing, and neither does a notice in the query string.
func TestSignedFlash(t *testing.T) {
	ts := newTestServer(t, withClock(revenueNow))
	fin, _ := ts.user("notice-fin@example.com", accounts.RoleFinance)
	wantStatus(t, ts.do("POST", "/api/v1/revenue/periods", map[string]any{"period": "2026-10", "revenue_minor": 100, "currency": "USD"}, bearer(fin)...), http.StatusCreated)
	r := ts.do("POST", "/finance/periods/2026-10/calculate", "", bearer(fin)...)
	wantStatus(t, r, http.StatusSeeOther)
	loc, cookie := r.Header.Get("Location"), flashCookieOf(t, r)
	if strings.Contains(loc, "?") || cookie == "" {
		t.Fatalf("calculate redirects to %q with flash cookie %q", loc, cookie)
	}
	page := ts.do("GET", loc, nil, append(bearer(fin), "Cookie", flashCookie+"="+cookie)...)
	if !strings.Contains(string(page.Body), "Calculated: E =") {
		t.Fatalf("signed flash not shown on %s", loc)
	}
	if c := flashCookieOf(t, page); c != "" {
		t.Fatalf("the page that showed the flash did not clear it (%q)", c)
	}
	if cleared := page.Header.Get("Set-Cookie"); !strings.Contains(cleared, flashCookie+"=;") || !strings.Contains(cleared, "Max-Age=0") {
		t.Fatalf("flash cookie not cleared: %q", cleared)
	}
	// The same message made up or altered: not shown.
	payload, mac, _ := strings.Cut(cookie, ".")
	raw, _ := base64.RawURLEncoding.DecodeString(payload)
	forged := strings.Replace(string(raw), "Calculated: E = ", "Call +1 555 0100 to confirm your bank details. E = ", 1)
	for _, c := range []string{base64.RawURLEncoding.EncodeToString([]byte(forged)) + "." + mac, payload + ".x" + mac, payload} {
		if page := ts.do("GET", loc, nil, append(bearer(fin), "Cookie", flashCookie+"="+c)...); strings.Contains(string(page.Body), "555 0100") || strings.Contains(string(page.Body), "Calculated: E =") {
			t.Fatalf("an altered flash cookie %q is shown", c)
		}
	}
	u, _ := url.Parse(loc)
	v := u.Query()
	v.Set("notice", "Calculated: E = 0. Call +1 555 0100 to confirm your bank details.")
	if page := ts.do("GET", u.Path+"?"+v.Encode(), nil, bearer(fin)...); strings.Contains(string(page.Body), "555 0100") {
		t.Fatal("a notice in the query string is shown")
	}
	// A flash past its minute is not shown.
	ts.clock.add(2 * flashTTL)
	if page := ts.do("GET", loc, nil, append(bearer(fin), "Cookie", flashCookie+"="+cookie)...); strings.Contains(string(page.Body), "Calculated: E =") {
		t.Fatal("an expired flash is shown")
	}
}

// flashCookieOf is the value r sets the flash cookie to ("" when it sets
// none, or clears it).
func flashCookieOf(t testing.TB, r response) string {
	t.Helper()
	for _, line := range r.Header.Values("Set-Cookie") {
		c, err := http.ParseSetCookie(line)
		if err != nil {
			t.Fatalf("Set-Cookie %q: %v", line, err)
		}
		if c.Name == flashCookie && c.MaxAge > 0 {
			return c.Value
		}
	}
	return ""
}

// flashOf is the flash r's redirect carries, as the next page will read it.
func (ts *testServer) flashOf(r response) *flash {
	ts.t.Helper()
	c, _ := gin.CreateTestContext(httptest.NewRecorder())
	c.Request = httptest.NewRequest(http.MethodGet, "/", nil)
	if v := flashCookieOf(ts.t, r); v != "" {
		c.Request.AddCookie(&http.Cookie{Name: flashCookie, Value: v})
	}
	return ts.srv.takeFlash(c)
}
