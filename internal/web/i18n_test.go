package web

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"

	"golang.org/x/net/html"

	"github.com/ucc-video/ucc/internal/accounts"
	"github.com/ucc-video/ucc/internal/community"
	"github.com/ucc-video/ucc/internal/i18n"
	"github.com/ucc-video/ucc/internal/testenv"
)

// htmlLang is the page's <html lang>.
func htmlLang(t *testing.T, r response) string {
	t.Helper()
	m := regexp.MustCompile(`<html lang="([a-z]+)">`).FindSubmatch(r.Body)
	if m == nil {
		t.Fatalf("%s: no <html lang>: %.200s", r.Request.URL, r.Body)
	}
	return string(m[1])
}

// cookieOf is the value of the cookie name that r sets ("" when none).
func cookieOf(r response, name string) string {
	for _, c := range r.Cookies() {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// TestLanguageChoice: Accept-Language picks Korean or English, the site's
// default answers the rest, the footer's switcher (a plain form) changes it
// and it sticks, and a signed-in user's saved choice follows them, over the
// switcher's cookie and the browser's header. Every page says it varies by
// those.
func TestLanguageChoice(t *testing.T) {
	ts := newTestServer(t, withWeb(func(c *Config) { c.Language = "" })) // ucc serve's default: Korean
	home := func(headers ...string) response {
		t.Helper()
		r := ts.do("GET", "/", nil, headers...)
		wantStatus(t, r, http.StatusOK)
		return r
	}
	ko := home("Accept-Language", "ko-KR,ko;q=0.9")
	if htmlLang(t, ko) != "ko" || !strings.Contains(string(ko.Body), "독립 크리에이터의 영상") || ko.Header.Get("Content-Language") != "ko" {
		t.Errorf("Accept-Language ko: lang %s, %q", htmlLang(t, ko), ko.Header.Get("Content-Language"))
	}
	if v := ko.Header.Get("Vary"); !strings.Contains(v, "Accept-Language") || !strings.Contains(v, "Cookie") {
		t.Errorf("Vary = %q, want Accept-Language and Cookie", v)
	}
	en := home("Accept-Language", "en-US,en;q=0.9")
	if htmlLang(t, en) != "en" || !strings.Contains(string(en.Body), "Videos from independent creators") || strings.Contains(string(en.Body), "독립 크리에이터") {
		t.Errorf("Accept-Language en-US: lang %s", htmlLang(t, en))
	}
	if htmlLang(t, home()) != "ko" || htmlLang(t, home("Accept-Language", "ja-JP")) != "ko" {
		t.Error("a reader asking for no language UCC speaks does not get the default, Korean")
	}
	if htmlLang(t, home("Accept-Language", "de-DE,en;q=0.5")) != "en" {
		t.Error("a German reader who also reads English does not get English")
	}
	if s := ts.do("GET", "/static/js/app.js", nil); strings.Contains(s.Header.Get("Vary"), "Accept-Language") {
		t.Error("static files say they vary by language")
	}

	// The switcher: a form posting to /language, back to the page.
	if !strings.Contains(string(ko.Body), `action="/language"`) || !strings.Contains(string(ko.Body), `name="lang" value="en"`) {
		t.Fatal("the page has no language switcher form")
	}
	sw := ts.do("POST", "/language", "lang=en&next="+url.QueryEscape("/search?q=x"), "Accept-Language", "ko")
	wantStatus(t, sw, http.StatusSeeOther)
	if loc := sw.Header.Get("Location"); loc != "/search?q=x" {
		t.Errorf("switcher goes to %q", loc)
	}
	choice := cookieOf(sw, langCookie)
	if choice != "en" {
		t.Fatalf("switcher set %s=%q", langCookie, choice)
	}
	if htmlLang(t, home("Accept-Language", "ko", "Cookie", langCookie+"=en")) != "en" {
		t.Error("the switcher's choice does not stick over Accept-Language")
	}
	if r := ts.do("POST", "/language", "lang=fr", "Accept-Language", "ko"); r.StatusCode != http.StatusBadRequest || !strings.Contains(string(r.Body), "지원하지 않습니다") {
		t.Errorf("lang=fr: %d %.200s", r.StatusCode, r.Body)
	}
	if r := ts.do("POST", "/language", "lang=en&next=//evil.example/"); r.Header.Get("Location") != "/" {
		t.Errorf("the switcher follows next to %q", r.Header.Get("Location"))
	}

	// A signed-in user's choice: saved from the API and the settings page,
	// it follows them over the cookie and the header.
	tok, uid := ts.user("choice@example.com", accounts.RoleViewer)
	var me struct{ User accounts.User }
	r := ts.do("PATCH", "/api/v1/me", map[string]string{"language": "ko"}, append(bearer(tok), "Accept-Language", "en")...)
	wantStatus(t, r, http.StatusOK)
	r.JSON(t, &me)
	if me.User.Language != "ko" {
		t.Errorf("PATCH /api/v1/me language ko: %+v", me.User)
	}
	if got := htmlLang(t, home(append(bearer(tok), "Accept-Language", "en-US", "Cookie", langCookie+"=en")...)); got != "ko" {
		t.Errorf("the user's saved Korean lost to the cookie and the header: %s", got)
	}
	r = ts.do("PATCH", "/api/v1/me", map[string]string{"language": "xx"}, append(bearer(tok), "Accept-Language", "ko")...)
	wantError(t, r, http.StatusBadRequest, "invalid_language")
	if !strings.Contains(string(r.Body), "지원하지 않습니다") {
		t.Errorf("invalid_language in Korean: %s", r.Body)
	}
	// The switcher, signed in, saves the choice too.
	sess, _, err := ts.deps.Accounts.StartSession(t.Context(), uid)
	if err != nil {
		t.Fatal(err)
	}
	cookie := sessionCookie + "=" + sess
	wantStatus(t, ts.do("POST", "/language", "lang=en&next=/", "Cookie", cookie, "Origin", "http://ucc.test", "Sec-Fetch-Site", "same-origin"), http.StatusSeeOther)
	if u, _ := ts.deps.Accounts.SessionUser(t.Context(), sess); u.Language != "en" {
		t.Errorf("after the switcher, the saved language is %q", u.Language)
	}
	if got := htmlLang(t, home(append(bearer(tok), "Accept-Language", "ko")...)); got != "en" {
		t.Errorf("the choice made with the switcher does not follow the user: %s", got)
	}
	page := ts.do("GET", "/settings", nil, "Cookie", cookie)
	wantStatus(t, page, http.StatusOK)
	if !strings.Contains(string(page.Body), `value="en" checked`) {
		t.Error("the settings page does not show the saved choice")
	}
	set := ts.do("POST", "/settings", "language=ko", "Cookie", cookie, "Origin", "http://ucc.test", "Sec-Fetch-Site", "same-origin")
	wantStatus(t, set, http.StatusSeeOther)
	next := ts.do("GET", "/settings", nil, "Cookie", cookie+"; "+flashCookie+"="+flashCookieOf(t, set))
	if htmlLang(t, next) != "ko" || !strings.Contains(string(next.Body), "설정을 저장했습니다.") {
		t.Errorf("after saving Korean in the settings: lang %s", htmlLang(t, next))
	}
	wantStatus(t, ts.do("POST", "/settings", "language=", "Cookie", cookie, "Origin", "http://ucc.test", "Sec-Fetch-Site", "same-origin"), http.StatusSeeOther)
	if got := htmlLang(t, home("Cookie", cookie, "Accept-Language", "en")); got != "en" {
		t.Errorf("with no saved choice the browser's English is not used: %s", got)
	}
}

// TestErrorsInKorean: the issue's three errors read in Korean with
// Accept-Language: ko, in the API and on the pages, with their codes unchanged.
func TestErrorsInKorean(t *testing.T) {
	ts := newTestServer(t)
	ko := []string{"Accept-Language", "ko"}
	if _, err := ts.deps.Accounts.Signup(t.Context(), "minsu@example.com", "correct horse battery", "민수", accounts.RoleCreator); err != nil {
		t.Fatal(err)
	}
	check := func(r response, status int, code, korean string) {
		t.Helper()
		wantError(t, r, status, code)
		var e apiError
		r.JSON(t, &e)
		if e.Error.Message != korean {
			t.Errorf("%s: message %q, want %q", code, e.Error.Message, korean)
		}
		if r.Header.Get("Content-Language") != "ko" {
			t.Errorf("%s: Content-Language %q", code, r.Header.Get("Content-Language"))
		}
	}
	// A wrong password.
	check(ts.do("POST", "/api/v1/auth/tokens", map[string]string{"email": "minsu@example.com", "password": "wrong password!"}, ko...),
		http.StatusUnauthorized, "bad_credentials", "이메일 또는 비밀번호가 틀렸습니다.")
	en := ts.do("POST", "/api/v1/auth/tokens", map[string]string{"email": "minsu@example.com", "password": "wrong password!"}, "Accept-Language", "en")
	wantError(t, en, http.StatusUnauthorized, "bad_credentials")
	if !strings.Contains(string(en.Body), "wrong email or password") {
		t.Errorf("English: %s", en.Body)
	}
	page := ts.do("POST", "/login", "email=minsu%40example.com&password=wrong+password%21", ko...)
	if page.StatusCode != http.StatusUnauthorized || !strings.Contains(string(page.Body), "이메일 또는 비밀번호가 틀렸습니다.") || htmlLang(t, page) != "ko" {
		t.Errorf("log-in page: %d", page.StatusCode)
	}

	// A comment that is too long.
	tok, _, _, _, pub := ts.creatorWithVideo("creator@example.com", "creator")
	check(ts.do("POST", "/api/v1/videos/"+pub+"/comments", map[string]string{"body": strings.Repeat("가", 10_001)}, append(bearer(tok), ko...)...),
		http.StatusBadRequest, "comment_too_long", "댓글은 최대 10,000자까지 쓸 수 있습니다. 지금 댓글은 10,001자입니다.")

	// An upload that is not a video.
	body, ct := multipartBody(t, map[string]string{"title": "영상 아님"}, []byte("이것은 영상이 아니라 그냥 글입니다.\n"), "notes.mp4")
	check(ts.do("POST", "/api/v1/videos", body, append(bearer(tok), append(ko, "Content-Type", ct)...)...),
		http.StatusUnsupportedMediaType, "not_a_video", "UCC가 읽을 수 있는 영상이나 오디오 파일이 아닙니다.")

	// Errors without an errs.Error of their own (a route that is not there).
	check(ts.do("GET", "/api/v1/nothing-here", nil, ko...), http.StatusNotFound, "not_found", "이 주소에는 아무것도 없습니다.")
	nf := ts.do("GET", "/nothing-here", nil, ko...)
	if nf.StatusCode != http.StatusNotFound || !strings.Contains(string(nf.Body), "페이지를 찾을 수 없습니다") {
		t.Errorf("404 page: %d", nf.StatusCode)
	}
}

// leakAllowed are the Latin words a Korean page may show: names, codes and
// units that Korean writes in Latin letters too.
var leakAllowed = []string{"UCC", "CSV", "ISO", "IBAN", "PayPal", "JPEG", "PNG", "GIF", "USD", "KRW", "EUR", "API", "tus",
	"MiB", "KiB", "GiB", "UTC", "YYYY", "CSRF", "bps"}

// latinWord is a run of three or more Latin letters.
var latinWord = regexp.MustCompile(`[A-Za-z]{3,}`)

// catalogKey is text that looks like a catalog key left unrendered.
var catalogKey = regexp.MustCompile(`\b[a-z_]{2,}(?:\.[a-z_]{2,})+\b`)

// pathOrURL is a site path or a URL in a text (/api/v1/uploads, https://...):
// no words to translate.
var pathOrURL = regexp.MustCompile(`(?:https?://|/)[\w/.{}:-]*`)

// markup is a tag in text an HTML parser keeps as text (a <noscript>'s).
var markup = regexp.MustCompile(`<[^>]*>`)

// pageText walks a page's visible text and the attributes a person reads
// (title, alt, aria-label, placeholder, a button's value), skipping
// scripts, styles and anything marked as in another language than lang.
func pageText(page []byte, lang string, visit func(where, text string)) error {
	doc, err := html.Parse(bytes.NewReader(page))
	if err != nil {
		return err
	}
	var walk func(n *html.Node, skip bool)
	walk = func(n *html.Node, skip bool) {
		if n.Type == html.ElementNode {
			if n.Data == "script" || n.Data == "style" || n.Data == "code" {
				return
			}
			for _, a := range n.Attr {
				if a.Key == "lang" && a.Val != lang && n.Data != "html" {
					skip = true
				}
			}
			if !skip {
				for _, a := range n.Attr {
					switch a.Key {
					case "title", "alt", "aria-label", "placeholder":
						visit("<"+n.Data+" "+a.Key+">", a.Val)
					case "content":
						for _, b := range n.Attr {
							if b.Key == "name" && b.Val == "description" {
								visit("<meta description>", a.Val)
							}
						}
					}
				}
			}
		}
		if n.Type == html.TextNode && !skip {
			visit("text", markup.ReplaceAllString(n.Data, " "))
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, skip)
		}
	}
	walk(doc, false)
	return nil
}

// TestCatalogCoversEveryPage renders every page template, with realistic
// data in every state its template knows (signed out and in, owner, empty
// and full lists, processing and failed videos, a calculated, approved and
// paid revenue period, form errors, error pages), in both languages. It
// fails when a page asks for a message a catalog lacks, shows a catalog
// key, or when a Korean page shows an English word outside what Korean
// writes in Latin letters (and the people's own names, handles and titles).
func TestCatalogCoversEveryPage(t *testing.T) {
	var logs testenv.Log
	ts := newTestServer(t, withRecordingFinisher(), withLogs(&logs))
	ctx := t.Context()

	// People and their words, in Korean where a person would write Korean.
	mk := func(email, name string, role accounts.Role) (string, int64) {
		t.Helper()
		u, err := ts.deps.Accounts.Signup(ctx, email, "correct horse battery", name, role)
		if err != nil {
			t.Fatal(err)
		}
		tok, err := ts.deps.Accounts.IssueToken(ctx, u.ID, "t")
		if err != nil {
			t.Fatal(err)
		}
		return tok, u.ID
	}
	creator, creatorID := mk("minsu@example.com", "김민수", accounts.RoleCreator)
	viewer, _ := mk("jieun@example.com", "이지은", accounts.RoleViewer)
	newbie, _ := mk("newbie@example.com", "박새롬", accounts.RoleViewer)
	fin, _ := mk("finance@example.com", "정산팀", accounts.RoleFinance)
	chID := ts.seedChannel(creatorID, "minsu_guitar", "민수의 기타 교실", "통기타와 일렉 기타를 배우는 채널입니다.")
	_, pub := ts.seedVideo(seedVideo{Channel: chID, Creator: creatorID, Title: "기타를 배우는 법", Description: "첫 수업: 코드 잡는 법", Views: 12_345, Renditions: []int{360, 720}})
	ts.seedVideo(seedVideo{Channel: chID, Creator: creatorID, Title: "통기타 연주", Views: 1_234_567})
	ts.seedVideo(seedVideo{Channel: chID, Creator: creatorID, Title: "처리 중인 영상", Status: "processing"})
	_, failed := ts.seedVideo(seedVideo{Channel: chID, Creator: creatorID, Title: "실패한 영상", Status: "failed"})
	ts.sql(`UPDATE videos SET failure_reason = $1 WHERE public_id = $2`,
		"the video could not be converted; it may be damaged or use a codec UCC cannot decode", failed)
	r := ts.do("POST", "/api/v1/videos/"+pub+"/comments", map[string]string{"body": "정말 도움이 됐어요!"}, bearer(viewer)...)
	wantStatus(t, r, http.StatusCreated)
	var cm struct{ Comment struct{ ID int64 } }
	r.JSON(t, &cm)
	for i := range 4 {
		wantStatus(t, ts.do("POST", "/api/v1/videos/"+pub+"/comments", map[string]any{"body": fmt.Sprintf("답글 %d", i), "parent_id": cm.Comment.ID}, bearer(creator)...), http.StatusCreated)
	}
	wantStatus(t, ts.do("PUT", "/api/v1/videos/"+pub+"/like", map[string]string{"value": "like"}, bearer(viewer)...), http.StatusOK)
	wantStatus(t, ts.do("PUT", "/api/v1/channels/minsu_guitar/subscription", nil, bearer(viewer)...), http.StatusOK)
	wantStatus(t, ts.do("PUT", "/api/v1/me/payout-profile", map[string]string{"legal_name": "김민수", "country": "KR", "method_ref": "KR12 3456 7890"}, bearer(creator)...), http.StatusOK)
	for _, p := range []struct {
		key, cur string
		revenue  int64
	}{{"2026-01", "KRW", 1_000_000}, {"2026-02", "USD", 123_456}, {"2026-03", "USD", 50_000}} {
		wantStatus(t, ts.do("POST", "/api/v1/revenue/periods", map[string]any{"period": p.key, "revenue_minor": p.revenue, "currency": p.cur, "view_threshold": 0}, bearer(fin)...), http.StatusCreated)
		ts.sql(`INSERT INTO video_views_daily (video_id, creator_id, day, views) SELECT id, creator_id, $1::date, 1000 FROM videos`, p.key+"-15")
	}
	for _, step := range []string{"2026-01/calculate", "2026-01/approve", "2026-02/calculate", "2026-02/approve", "2026-03/calculate"} {
		wantStatus(t, ts.do("POST", "/api/v1/revenue/periods/"+step, nil, bearer(fin)...), http.StatusOK)
	}
	wantStatus(t, ts.do("POST", "/api/v1/revenue/periods/2026-01/mark-paid", map[string]any{"creator_id": creatorID, "reference": "이체 2026-02-01"}, bearer(fin)...), http.StatusOK)
	wantStatus(t, ts.do("POST", "/api/v1/revenue/periods/2026-02/adjustments", map[string]any{"creator_id": creatorID, "amount_minor": 500, "reason": "누락된 조회수"}, bearer(fin)...), http.StatusCreated)

	// Enough videos for a second page of recent ones.
	for i := range community.DefaultLimit {
		ts.seedVideo(seedVideo{Channel: chID, Creator: creatorID, Title: fmt.Sprintf("연습 영상 %d", i+1), Views: int64(i * 37)})
	}
	older := nextLink(ts.do("GET", "/", nil))
	if older == "" {
		t.Fatal("the home page has no link to older videos")
	}

	// The people's own words a Korean page may show in Latin letters.
	allowed := append(slices.Clone(leakAllowed), "minsu", "guitar", "example", "com", "jieun", "newbie", "finance")

	type page struct {
		name, method, path, form string
		auth                     []string
		status                   int
	}
	pages := []page{
		{name: "home", path: "/"},
		{name: "home signed in", path: "/", auth: bearer(viewer)},
		{name: "home, older", path: older},
		{name: "watch", path: "/watch/" + pub},
		{name: "watch signed in", path: "/watch/" + pub, auth: bearer(viewer)},
		{name: "watch owner", path: "/watch/" + pub, auth: bearer(creator)},
		{name: "watch thread", path: fmt.Sprintf("/watch/%s?thread=%d", pub, cm.Comment.ID), auth: bearer(viewer)},
		{name: "watch editing", path: fmt.Sprintf("/watch/%s?edit=%d&reply=%d", pub, cm.Comment.ID, cm.Comment.ID), auth: bearer(viewer)},
		{name: "channel", path: "/c/minsu_guitar", auth: bearer(viewer)},
		{name: "channel owner, popular", path: "/c/minsu_guitar?sort=popular", auth: bearer(creator)},
		{name: "search", path: "/search?q=" + url.QueryEscape("기타")},
		{name: "search, nothing", path: "/search?q=" + url.QueryEscape("없는말")},
		{name: "search, empty", path: "/search"},
		{name: "liked", path: "/liked", auth: bearer(viewer)},
		{name: "liked, empty", path: "/liked", auth: bearer(newbie)},
		{name: "feed", path: "/feed/subscriptions", auth: bearer(viewer)},
		{name: "login", path: "/login"},
		{name: "login, wrong password", method: "POST", path: "/login", form: "email=minsu%40example.com&password=nope+nope+nope", status: 401},
		{name: "signup", path: "/signup"},
		{name: "signup, short password", method: "POST", path: "/signup", form: "email=new%40example.com&password=short", status: 400},
		{name: "channel new", path: "/channels/new", auth: bearer(newbie)},
		{name: "channel new, bad handle", method: "POST", path: "/channels/new", form: "name=%EC%83%88+%EC%B1%84%EB%84%90&handle=%21%21", auth: bearer(newbie), status: 400},
		{name: "studio, no channel", path: "/studio", auth: bearer(newbie)},
		{name: "studio", path: "/studio", auth: bearer(creator)},
		{name: "video edit", path: "/studio/videos/" + pub + "/edit", auth: bearer(creator)},
		{name: "video edit, failed", path: "/studio/videos/" + failed + "/edit", auth: bearer(creator)},
		{name: "upload", path: "/upload", auth: bearer(creator)},
		{name: "earnings", path: "/earnings", auth: bearer(creator)},
		{name: "earnings, nothing yet", path: "/earnings", auth: bearer(viewer)},
		{name: "finance", path: "/finance", auth: bearer(fin)},
		{name: "finance, bad month", method: "POST", path: "/finance/periods", form: "period=2026-13&revenue=1&currency=USD", auth: bearer(fin), status: 400},
		{name: "period paid", path: "/finance/periods/2026-01", auth: bearer(fin)},
		{name: "period approved", path: "/finance/periods/2026-02", auth: bearer(fin)},
		{name: "period calculated", path: "/finance/periods/2026-03?per_page=1&page=1", auth: bearer(fin)},
		{name: "settings", path: "/settings", auth: bearer(viewer)},
		{name: "not found", path: "/watch/nosuchvideo", status: 404},
		{name: "forbidden", path: "/finance", auth: bearer(viewer), status: 403},
	}
	for _, lang := range i18n.Languages() {
		for _, p := range pages {
			method := p.method
			if method == "" {
				method = "GET"
			}
			var body any
			if p.form != "" {
				body = p.form
			}
			res := ts.do(method, p.path, body, append([]string{"Accept-Language", lang, "User-Agent", firefoxUA}, p.auth...)...)
			want := p.status
			if want == 0 {
				want = http.StatusOK
			}
			if res.StatusCode != want {
				t.Errorf("%s %s: status %d, want %d: %.300s", lang, p.name, res.StatusCode, want, res.Body)
				continue
			}
			if got := htmlLang(t, res); got != lang {
				t.Errorf("%s %s: <html lang=%q>", lang, p.name, got)
			}
			err := pageText(res.Body, lang, func(where, text string) {
				if k := catalogKey.FindString(text); k != "" && !strings.Contains(k, "example.com") {
					t.Errorf("%s %s: %s shows %q, a catalog key", lang, p.name, where, k)
				}
				if lang != i18n.Korean {
					return
				}
				for _, w := range latinWord.FindAllString(pathOrURL.ReplaceAllString(text, " "), -1) {
					if !slices.ContainsFunc(allowed, func(a string) bool { return strings.EqualFold(a, w) }) {
						t.Errorf("ko %s: %s shows the English %q in %q", p.name, where, w, strings.TrimSpace(text))
					}
				}
			})
			if err != nil {
				t.Errorf("%s %s: %v", lang, p.name, err)
			}
			if lang == i18n.Korean && !strings.ContainsFunc(string(res.Body), func(r rune) bool { return unicode.Is(unicode.Hangul, r) }) {
				t.Errorf("ko %s: no Korean on the page", p.name)
			}
		}
	}
	if strings.Contains(logs.String(), "message missing from the catalog") {
		t.Errorf("pages asked for messages the catalogs lack:\n%s", grepLines(logs.String(), "message missing"))
	}
}

// nextLink is the rel="next" link of a page ("" when none).
func nextLink(r response) string {
	m := regexp.MustCompile(`href="([^"]+)" rel="next"`).FindSubmatch(r.Body)
	if m == nil {
		return ""
	}
	return html.UnescapeString(string(m[1]))
}

// grepLines keeps the lines of s that contain sub.
func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
