package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ucc-video/ucc/internal/accounts"
	"github.com/ucc-video/ucc/internal/community"
	"github.com/ucc-video/ucc/internal/objects"
	"github.com/ucc-video/ucc/internal/revenue"
	"github.com/ucc-video/ucc/internal/uploads"
	"github.com/ucc-video/ucc/internal/videos"
	"github.com/ucc-video/ucc/storage/fs"
)

// The authorization matrix: every route the server registers × six roles,
// with the status each must get. A route without a row fails the test, so
// a new route cannot slip in without its authorization being stated.
//
// Roles: anonymous; a viewer; creator A, who owns the resources the rows
// aim at ("owner"); creator B ("other", a creator who does not own them);
// finance staff; an admin. API rows are sent with a bearer token and again
// with the session cookie (as the pages' scripts call them); page rows with
// the session cookie; cookie requests that change state carry a same-origin
// Origin header, so the CSRF check passes and what is tested is
// authorization. Rows that would change what later rows rely on act on a
// fresh resource (video, comment, upload, period) or a fresh principal per
// cell.
//
// Status conventions asserted:
//   - 401 for an anonymous API request to a protected route; a 303 to
//     /login?next=… for an anonymous page request (toLogin);
//   - 403 when the role may not do this, or the requester may see the
//     resource but does not own it (a public video, someone's comment);
//   - 404 for a resource the requester may not know exists (another's
//     private video, its media, its comments; another's upload session);
//   - 415/400/409 where the requester passed authorization and the request
//     itself is refused (a non-video upload, one's own channel twice…).
//
// Besides statuses, every response body (and header) is searched for
// secrets — private titles, private comments, payout profiles, an upload's
// metadata — that the requesting role may not see.

// role is a column of the matrix.
type role int

const (
	anon role = iota
	viewer
	owner // creator A: owns the resources the rows aim at
	other // creator B: another creator
	finance
	admin
	nRoles
)

var roleNames = [nRoles]string{"anonymous", "viewer", "owner", "other-creator", "finance", "admin"}

func (r role) String() string { return roleNames[r] }

// toLogin is the expected "status" of an anonymous page request: 303 to /login?next=….
const toLogin = -303

// principal is a signed-in user with both kinds of credentials.
type principal struct {
	user    accounts.User
	token   string // bearer token
	session string // session cookie value
	channel int64  // channel id, 0 for none
	handle  string
}

// authzWorld is the seeded fixture set.
type authzWorld struct {
	t     *testing.T
	ts    *testServer
	store *fs.Store
	who   [nRoles]*principal // who[anon] is nil
	spare *principal         // for anonymous log-in

	pubA, unlA, privA, procA, pubB, privB        string // public ids
	pubAID, privAID, pubBID                      int64
	cmtAonPubB, cmtBonPubA, cmtAonPrivA, cmtVPub int64
	uploadA                                      string // creator A's tus session
	period                                       string // approved, with payouts for A and B
	n                                            int    // unique-name counter
	secrets                                      map[string][]role
	nextMonth                                    time.Time
}

// secrets maps a string to the roles that may see it anywhere in a response.
var authzSecrets = map[string][]role{
	"PRIVTITLE-A":   {owner, admin},
	"PRIVDESC-A":    {owner, admin},
	"PROCTITLE-A":   {owner, admin},
	"PRIVCOMMENT-A": {owner, admin},
	"PRIVTITLE-B":   {other, admin},
	"LEGALNAME-A":   {owner, finance, admin},
	"IBAN-A-SECRET": {owner},
	"LEGALNAME-B":   {other, finance, admin},
	"IBAN-B-SECRET": {other},
	"UPLOADTITLE-A": {owner},
	"NOWPRIVATE-A":  {owner, admin},                               // liked and subscribed to while public, then made private
	"UNLTITLE-A":    {anon, viewer, owner, other, finance, admin}, // anyone with the link; checked in lists separately
}

const authzPassword = "correct horse battery"

// newAuthzWorld seeds users of every role, channels, videos of every
// visibility (ready, with a rendition and files on the fs driver), comments,
// an upload session, an approved revenue period and payout profiles.
func newAuthzWorld(t *testing.T) *authzWorld {
	ts := newTestServer(t, withRecordingFinisher())
	st := ts.fsStore
	w := &authzWorld{t: t, ts: ts, store: st, nextMonth: time.Date(2015, 1, 1, 0, 0, 0, 0, time.UTC)}
	ctx := context.Background()
	w.who[viewer] = w.principal(accounts.RoleViewer, "")
	w.who[owner] = w.principal(accounts.RoleCreator, "alpha")
	w.who[other] = w.principal(accounts.RoleCreator, "bravo")
	w.who[finance] = w.principal(accounts.RoleFinance, "")
	w.who[admin] = w.principal(accounts.RoleAdmin, "")
	w.spare = w.principal(accounts.RoleViewer, "")
	A, B := w.who[owner], w.who[other]

	w.pubAID, w.pubA = w.video(A, "public", "ready", "Public video of A", "")
	_, w.unlA = w.video(A, "unlisted", "ready", "UNLTITLE-A", "")
	w.privAID, w.privA = w.video(A, "private", "ready", "PRIVTITLE-A", "PRIVDESC-A")
	_, w.procA = w.video(A, "public", "processing", "PROCTITLE-A", "")
	w.pubBID, w.pubB = w.video(B, "public", "ready", "Public video of B", "")
	_, w.privB = w.video(B, "private", "ready", "PRIVTITLE-B", "")
	// The private video has an original too, for the owner only.
	w.sql(`UPDATE videos SET original_key = $2, original_size = 5 WHERE id = $1`, w.privAID, videos.OriginalKey(w.privA))
	w.put(videos.OriginalKey(w.privA), "original bytes")
	w.sql(`UPDATE videos SET original_key = $2, original_size = 5 WHERE id = $1`, w.pubAID, videos.OriginalKey(w.pubA))
	w.put(videos.OriginalKey(w.pubA), "original bytes")

	w.cmtAonPubB = w.comment(A, w.pubB, "A says hi on B's video")
	w.cmtBonPubA = w.comment(B, w.pubA, "B says hi on A's video")
	w.cmtAonPrivA = w.comment(A, w.privA, "PRIVCOMMENT-A")
	w.cmtVPub = w.comment(w.who[viewer], w.pubA, "viewer likes it")
	w.uploadA = w.upload(A, "UPLOADTITLE-A")
	// The viewer liked a video of A and subscribed to A's channel; then A
	// made the video private: the viewer's liked list and feed drop it.
	nowPrivID, nowPriv := w.video(A, "public", "ready", "NOWPRIVATE-A", "")
	vu := w.who[viewer].user
	if _, err := ts.deps.Community.React(ctx, &vu, nowPriv, community.ReactionLike); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.deps.Community.Subscribe(ctx, &vu, A.handle, true); err != nil {
		t.Fatal(err)
	}
	w.sql(`UPDATE videos SET visibility = 'private' WHERE id = $1`, nowPrivID)

	// A user's email address is theirs alone.
	w.secrets = map[string][]role{}
	for k, v := range authzSecrets {
		w.secrets[k] = v
	}
	for r := viewer; r < nRoles; r++ {
		w.secrets[w.who[r].user.Email] = []role{r}
	}

	// Revenue: June 2025 with views for both creators, approved.
	w.sql(`INSERT INTO video_views_daily (video_id, creator_id, day, views) VALUES ($1, $2, '2025-06-03', 7000), ($3, $4, '2025-06-04', 3000)`,
		w.pubAID, A.user.ID, w.pubBID, B.user.ID)
	w.period = "2025-06"
	w.newPeriod(w.period, "approved")
	for _, p := range []struct {
		who        *principal
		name, iban string
	}{{A, "LEGALNAME-A", "IBAN-A-SECRET"}, {B, "LEGALNAME-B", "IBAN-B-SECRET"}} {
		if _, err := ts.deps.Revenue.SaveProfile(ctx, p.who.user.ID, revenue.Profile{LegalName: p.name, Country: "DE", MethodRef: p.iban}); err != nil {
			t.Fatal(err)
		}
	}
	return w
}

func (w *authzWorld) sql(q string, args ...any) {
	w.t.Helper()
	if _, err := w.ts.db.Pool.Exec(context.Background(), q, args...); err != nil {
		w.t.Fatalf("%s: %v", q, err)
	}
}

func (w *authzWorld) put(key, data string) {
	w.t.Helper()
	if _, err := w.store.Put(context.Background(), key, strings.NewReader(data), int64(len(data)), objects.PutOptions{}); err != nil {
		w.t.Fatal(err)
	}
}

func (w *authzWorld) uniq() int { w.n++; return w.n }

// principal signs up a user with role, opens a channel when handle is set,
// and gives it a bearer token and a browser session.
func (w *authzWorld) principal(r accounts.Role, handle string) *principal {
	w.t.Helper()
	ctx := context.Background()
	email := fmt.Sprintf("%s%d@example.com", r, w.uniq())
	u, err := w.ts.deps.Accounts.Signup(ctx, email, authzPassword, fmt.Sprintf("%s %d", r, w.n), r)
	if err != nil {
		w.t.Fatal(err)
	}
	p := &principal{user: u, handle: handle}
	if p.token, err = w.ts.deps.Accounts.IssueToken(ctx, u.ID, "authz"); err != nil {
		w.t.Fatal(err)
	}
	if p.session, _, err = w.ts.deps.Accounts.StartSession(ctx, u.ID); err != nil {
		w.t.Fatal(err)
	}
	if handle != "" {
		p.channel = w.ts.seedChannel(u.ID, handle, "Channel "+handle, "")
	}
	return p
}

// fresh is a new principal of the same kind as role r (for rows that
// change the principal itself: log-out, opening a channel, a payout profile).
func (w *authzWorld) fresh(r role) *principal {
	switch r {
	case viewer:
		return w.principal(accounts.RoleViewer, "")
	case owner, other:
		return w.principal(accounts.RoleCreator, fmt.Sprintf("fresh%d", w.n+1))
	case finance:
		return w.principal(accounts.RoleFinance, "")
	case admin:
		return w.principal(accounts.RoleAdmin, "")
	}
	return nil
}

// video inserts a video of p with a 720p rendition and a thumbnail, both
// stored on the fs driver, and returns its ids.
func (w *authzWorld) video(p *principal, visibility, status, title, desc string) (int64, string) {
	w.t.Helper()
	id, pub := w.ts.seedVideo(seedVideo{Channel: p.channel, Creator: p.user.ID, Title: title, Description: desc,
		Visibility: visibility, Status: status, Renditions: []int{720}})
	w.put("videos/"+pub+"/720p.mp4", "mp4 bytes of "+pub)
	w.put("videos/"+pub+"/thumb.jpg", "jpeg bytes of "+pub)
	return id, pub
}

// freshVideo is a new public video of creator A, for rows that change or delete it.
func (w *authzWorld) freshVideo(visibility string) string {
	_, pub := w.video(w.who[owner], visibility, "ready", fmt.Sprintf("Scratch video %d", w.uniq()), "")
	return pub
}

// comment posts body on the video as p and returns the comment id.
func (w *authzWorld) comment(p *principal, videoPub, body string) int64 {
	w.t.Helper()
	u := p.user
	c, err := w.ts.deps.Community.PostComment(context.Background(), &u, videoPub, body, nil)
	if err != nil {
		w.t.Fatal(err)
	}
	return c.ID
}

// upload starts a tus session of 1000 bytes for p.
func (w *authzWorld) upload(p *principal, title string) string {
	w.t.Helper()
	s, err := w.ts.deps.Uploads.Create(context.Background(), p.user.ID, 1000, map[string]string{"title": title, "filename": title + ".mp4"})
	if err != nil {
		w.t.Fatal(err)
	}
	return s.ID
}

// newPeriod creates a revenue period and takes it to state (open,
// calculated or approved); key "" picks an unused month before 2025.
func (w *authzWorld) newPeriod(key, state string) string {
	w.t.Helper()
	if key == "" {
		key = revenue.PeriodOf(w.nextMonth)
		w.nextMonth = w.nextMonth.AddDate(0, 1, 0)
	}
	ctx := context.Background()
	svc := w.ts.deps.Revenue
	by := revenue.Actor{ID: w.who[finance].user.ID, Name: "finance"}
	amt, zero := int64(1_000_000), int64(0)
	if _, err := svc.CreatePeriod(ctx, by, revenue.NewPeriod{Period: key, Revenue: &amt, Currency: "USD", Threshold: &zero}); err != nil {
		w.t.Fatal(err)
	}
	if w.pubAID != 0 { // views in the month, so the period has something payable
		w.sql(`INSERT INTO video_views_daily (video_id, creator_id, day, views) VALUES ($1, $2, $3::date + 1, 10)
			ON CONFLICT DO NOTHING`, w.pubAID, w.who[owner].user.ID, key+"-01")
	}
	if state == "calculated" || state == "approved" {
		if _, err := svc.Calculate(ctx, by, key); err != nil {
			w.t.Fatal(err)
		}
	}
	if state == "approved" {
		if _, err := svc.Approve(ctx, by, key); err != nil {
			w.t.Fatal(err)
		}
	}
	return key
}

// authzReq is one request of a cell.
type authzReq struct {
	method, path string
	body         any // as ts.do takes it
	headers      []string
}

// sessionOfA starts a new session of creator A and returns its public id.
func (w *authzWorld) sessionOfA() string {
	w.t.Helper()
	ctx := context.Background()
	if _, _, err := w.ts.deps.Accounts.StartSession(ctx, w.who[owner].user.ID); err != nil {
		w.t.Fatal(err)
	}
	return strconv.Itoa(w.ts.count(`SELECT max(id) FROM sessions WHERE user_id = $1`, w.who[owner].user.ID))
}

// tokenOfA issues a new token of creator A and returns its public id.
func (w *authzWorld) tokenOfA() string {
	w.t.Helper()
	if _, err := w.ts.deps.Accounts.IssueToken(context.Background(), w.who[owner].user.ID, "spare"); err != nil {
		w.t.Fatal(err)
	}
	return strconv.Itoa(w.ts.count(`SELECT max(id) FROM api_tokens WHERE user_id = $1`, w.who[owner].user.ID))
}

// authzRow is one row of the matrix: a request per role and the status
// each role must get.
type authzRow struct {
	route string // "METHOD /registered/path" as gin lists it
	what  string // what the row aims at, for messages
	fresh bool   // each role acts as a new principal of its kind
	req   func(r role) authzReq
	want  [nRoles]int
	// byCookie is the status when an API row is sent with the session
	// cookie instead of the bearer token, if it differs (0: as want).
	byCookie [nRoles]int
	check    func(t *testing.T, r role, res response) // extra assertions on the answer
}

// same is the request for every role.
func same(method, path string, body any, headers ...string) func(role) authzReq {
	return func(role) authzReq { return authzReq{method, path, body, headers} }
}

// each builds a new request per role (a fresh resource, a unique value).
func each(f func(r role) authzReq) func(role) authzReq { return f }

func st(a, v, o, x, f, m int) [nRoles]int { return [nRoles]int{a, v, o, x, f, m} }

func all(code int) [nRoles]int { return st(code, code, code, code, code, code) }

// signedIn: anonymous gets first, every signed-in role gets code.
func signedIn(first, code int) [nRoles]int { return st(first, code, code, code, code, code) }

// ownerOrAdmin is the visibility of a private resource of A: 404 for
// everyone but its owner and admins.
func ownerOrAdmin(first, ok int) [nRoles]int { return st(first, 404, ok, 404, 404, ok) }

// financeOnly is a finance route: 403 for everyone signed in but finance and admin.
func financeOnly(first, ok int) [nRoles]int { return st(first, 403, 403, 403, ok, ok) }

// tusHdr is the tus protocol header plus extra pairs.
func tusHdr(extra ...string) []string {
	return append([]string{"Tus-Resumable", uploads.TusVersion}, extra...)
}

// thumbnailForm is a multipart form with a PNG under "thumbnail".
func thumbnailForm(t *testing.T) ([]byte, string) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, err := mw.CreateFormFile("thumbnail", "thumb.png")
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(pngBytes(t, 32, 18))
	mw.Close()
	return buf.Bytes(), mw.FormDataContentType()
}

// authzRows is the matrix.
func authzRows(w *authzWorld) []authzRow {
	t := w.t
	A := w.who[owner]
	png := pngBytes(t, 32, 18)
	thumbForm, thumbCT := thumbnailForm(t)
	notVideo, notVideoCT := multipartBody(t, map[string]string{"title": "Not a video"}, []byte("this is plain text, not a video"), "x.mp4")
	form := func(kv ...string) string {
		v := url.Values{}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v.Encode()
	}
	email := func(r role) string { return fmt.Sprintf("signup-%s-%d@example.com", r, w.uniq()) }
	creds := func(r role) string { // each role logs in as itself; anonymous as a spare account
		p := w.who[r]
		if p == nil {
			p = w.spare
		}
		return p.user.Email
	}
	vid := func(id string) string { return "/api/v1/videos/" + id }
	cmt := func(id int64) string { return "/api/v1/comments/" + strconv.FormatInt(id, 10) }
	pcmt := func(id int64) string { return "/comments/" + strconv.FormatInt(id, 10) }
	rev := func(rest string) string { return "/api/v1/revenue/periods" + rest }
	media := func(key string) string { return "/media/" + key }
	// freshComment is a comment by A on B's public video: A is its author,
	// B the video's creator.
	freshComment := func() int64 { return w.comment(A, w.pubB, fmt.Sprintf("comment %d", w.uniq())) }

	return []authzRow{
		// ---- Operations and static files: public.
		{route: "GET /healthz", req: same("GET", "/healthz", nil), want: all(200)},
		{route: "GET /readyz", req: same("GET", "/readyz", nil), want: all(200)},
		{route: "GET /metrics", req: same("GET", "/metrics", nil), want: all(401)}, // the metrics token only (TestMetricsBehindTokenAndMethodsBounded)
		{route: "GET /static/*filepath", req: same("GET", "/static/css/app.css", nil), want: all(200)},
		{route: "HEAD /static/*filepath", req: same("HEAD", "/static/css/app.css", nil), want: all(200)},
		{route: "GET /favicon.ico", req: same("GET", "/favicon.ico", nil), want: all(301)},
		{route: "GET /api/v1/openapi.json", req: same("GET", "/api/v1/openapi.json", nil), want: all(200)},

		// ---- Accounts.
		{route: "GET /", req: same("GET", "/", nil), want: all(200), check: noneOf("UNLTITLE-A")},
		{route: "GET /signup", req: same("GET", "/signup", nil), want: all(200)},
		{route: "GET /login", req: same("GET", "/login", nil), want: all(200)},
		{route: "POST /signup", fresh: true, req: each(func(r role) authzReq {
			return authzReq{"POST", "/signup", form("email", email(r), "password", authzPassword, "display_name", "New"), nil}
		}), want: all(303)},
		{route: "POST /login", fresh: true, req: each(func(r role) authzReq {
			p := w.who[r]
			if p == nil {
				p = w.spare
			}
			return authzReq{"POST", "/login", form("email", p.user.Email, "password", authzPassword), nil}
		}), want: all(303)},
		{route: "POST /logout", fresh: true, req: same("POST", "/logout", ""), want: all(303)},
		{route: "POST /api/v1/auth/signup", req: each(func(r role) authzReq {
			return authzReq{"POST", "/api/v1/auth/signup", map[string]string{"email": email(r), "password": authzPassword}, nil}
		}), want: all(201)},
		{route: "POST /api/v1/auth/tokens", req: each(func(r role) authzReq {
			return authzReq{"POST", "/api/v1/auth/tokens", map[string]string{"email": creds(r), "password": authzPassword, "name": "t"}, nil}
		}), want: all(201)},
		{route: "DELETE /api/v1/auth/tokens/current", fresh: true, req: same("DELETE", "/api/v1/auth/tokens/current", nil), want: signedIn(401, 204),
			byCookie: signedIn(0, 400)}, // a session has no token to revoke
		{route: "GET /api/v1/me", req: same("GET", "/api/v1/me", nil), want: signedIn(401, 200)},
		{route: "PATCH /api/v1/me", req: same("PATCH", "/api/v1/me", map[string]string{"language": ""}), want: signedIn(401, 200)},
		{route: "POST /language", req: same("POST", "/language", form("lang", "en", "next", "/")), want: all(303)},
		{route: "GET /settings", req: same("GET", "/settings", nil), want: signedIn(toLogin, 200)},
		{route: "POST /settings", req: same("POST", "/settings", form("language", "")), want: signedIn(toLogin, 303)},

		// ---- The account's sessions, tokens and password: one's own only.
		// The :id rows aim at a new session or token of A; to everyone else
		// (admins too) it does not exist.
		{route: "GET /api/v1/me/sessions", req: same("GET", "/api/v1/me/sessions", nil), want: signedIn(401, 200)},
		{route: "GET /api/v1/me/tokens", req: same("GET", "/api/v1/me/tokens", nil), want: signedIn(401, 200)},
		{route: "DELETE /api/v1/me/sessions/:id", what: "a session of A", req: each(func(role) authzReq {
			return authzReq{"DELETE", "/api/v1/me/sessions/" + w.sessionOfA(), nil, nil}
		}), want: st(401, 404, 204, 404, 404, 404)},
		{route: "DELETE /api/v1/me/tokens/:id", what: "a token of A", req: each(func(role) authzReq {
			return authzReq{"DELETE", "/api/v1/me/tokens/" + w.tokenOfA(), nil, nil}
		}), want: st(401, 404, 204, 404, 404, 404)},
		{route: "DELETE /api/v1/me/sessions", fresh: true, req: same("DELETE", "/api/v1/me/sessions", nil), want: signedIn(401, 200)},
		{route: "DELETE /api/v1/me/tokens", fresh: true, req: same("DELETE", "/api/v1/me/tokens", nil), want: signedIn(401, 200)},
		{route: "POST /api/v1/me/password", fresh: true, req: same("POST", "/api/v1/me/password",
			map[string]string{"current_password": authzPassword, "new_password": authzPassword}), want: signedIn(401, 200)},
		{route: "GET /settings/security", req: same("GET", "/settings/security", nil), want: signedIn(toLogin, 200)},
		{route: "POST /settings/security/sessions/:id/revoke", what: "a session of A", req: each(func(role) authzReq {
			return authzReq{"POST", "/settings/security/sessions/" + w.sessionOfA() + "/revoke", "", nil}
		}), want: st(toLogin, 404, 303, 404, 404, 404)},
		{route: "POST /settings/security/tokens/:id/revoke", what: "a token of A", req: each(func(role) authzReq {
			return authzReq{"POST", "/settings/security/tokens/" + w.tokenOfA() + "/revoke", "", nil}
		}), want: st(toLogin, 404, 303, 404, 404, 404)},
		{route: "POST /settings/security/sessions/revoke-others", fresh: true, req: same("POST", "/settings/security/sessions/revoke-others", ""), want: signedIn(toLogin, 303)},
		{route: "POST /settings/security/tokens/revoke-all", fresh: true, req: same("POST", "/settings/security/tokens/revoke-all", ""), want: signedIn(toLogin, 303)},
		{route: "POST /settings/security/password", fresh: true, req: same("POST", "/settings/security/password",
			form("current_password", authzPassword, "new_password", authzPassword)), want: signedIn(toLogin, 303)},

		// ---- Channels and the studio.
		// A viewer opening a channel becomes a creator; finance and admins
		// may open one and keep their role; a creator already has one (409).
		{route: "POST /api/v1/channels", fresh: true, req: each(func(r role) authzReq {
			return authzReq{"POST", "/api/v1/channels", map[string]string{"name": "New", "handle": fmt.Sprintf("newch%d", w.uniq())}, nil}
		}), want: st(401, 201, 409, 409, 201, 201)},
		{route: "GET /api/v1/me/channel", req: same("GET", "/api/v1/me/channel", nil), want: st(401, 404, 200, 200, 404, 404)},
		{route: "GET /api/v1/me/videos", req: same("GET", "/api/v1/me/videos", nil), want: signedIn(401, 200)},
		{route: "GET /channels/new", req: same("GET", "/channels/new", nil), want: st(toLogin, 200, 303, 303, 200, 200)},
		{route: "POST /channels/new", fresh: true, req: each(func(r role) authzReq {
			return authzReq{"POST", "/channels/new", form("name", "New", "handle", fmt.Sprintf("newpg%d", w.uniq())), nil}
		}), want: st(toLogin, 303, 409, 409, 303, 303)},
		{route: "GET /studio", req: same("GET", "/studio", nil), want: signedIn(toLogin, 200)},
		{route: "GET /upload", req: same("GET", "/upload", nil), want: st(toLogin, 303, 200, 200, 303, 303)}, // the admin has no channel

		// ---- Videos: reading.
		{route: "GET /api/v1/videos/:id", what: "public", req: same("GET", vid(w.pubA), nil), want: all(200)},
		{route: "GET /api/v1/videos/:id", what: "unlisted", req: same("GET", vid(w.unlA), nil), want: all(200)},
		{route: "GET /api/v1/videos/:id", what: "private", req: same("GET", vid(w.privA), nil), want: ownerOrAdmin(404, 200)},
		{route: "GET /api/v1/videos/:id", what: "processing", req: same("GET", vid(w.procA), nil), want: ownerOrAdmin(404, 200)},
		{route: "GET /api/v1/videos/:id", what: "B's private", req: same("GET", vid(w.privB), nil), want: st(404, 404, 404, 200, 404, 200)},
		{route: "GET /watch/:id", what: "public", req: same("GET", "/watch/"+w.pubA, nil), want: all(200), check: noneOf("UNLTITLE-A")},
		{route: "GET /watch/:id", what: "private", req: same("GET", "/watch/"+w.privA, nil), want: ownerOrAdmin(404, 200)},
		{route: "GET /v/:id", req: same("GET", "/v/"+w.pubA, nil), want: all(301)},

		// ---- Videos: media on the fs driver.
		{route: "GET /media/*key", what: "public rendition", req: same("GET", media("videos/"+w.pubA+"/720p.mp4"), nil), want: all(200)},
		{route: "GET /media/*key", what: "public thumbnail", req: same("GET", media("videos/"+w.pubA+"/thumb.jpg"), nil), want: all(200)},
		{route: "GET /media/*key", what: "public video's original", req: same("GET", media(videos.OriginalKey(w.pubA)), nil), want: st(404, 404, 200, 404, 404, 404)},
		{route: "GET /media/*key", what: "private rendition", req: same("GET", media("videos/"+w.privA+"/720p.mp4"), nil), want: ownerOrAdmin(404, 200)},
		{route: "GET /media/*key", what: "private thumbnail", req: same("GET", media("videos/"+w.privA+"/thumb.jpg"), nil), want: ownerOrAdmin(404, 200)},
		{route: "GET /media/*key", what: "private original", req: same("GET", media(videos.OriginalKey(w.privA)), nil), want: st(404, 404, 200, 404, 404, 404)},
		{route: "GET /media/*key", what: "processing rendition", req: same("GET", media("videos/"+w.procA+"/720p.mp4"), nil), want: ownerOrAdmin(404, 200)},
		{route: "GET /media/*key", what: "upload session object", req: same("GET", media("originals/whatever"), nil), want: all(404)},
		// A path through a public video is cleaned, then authorised as the
		// key it names: B's private video is B's and the admin's only.
		{route: "GET /media/*key", what: "path traversal to B's private video", req: same("GET", "/media/videos/"+w.pubA+"/..%2F"+w.privB+"%2F720p.mp4", nil),
			want: st(404, 404, 404, 200, 404, 200)},
		{route: "GET /media/*key", what: "path traversal out of videos/", req: same("GET", "/media/videos/"+w.pubA+"/..%2F..%2Foriginals%2Fx", nil), want: all(404)},
		{route: "GET /media/*key", what: "encoded dot segments", req: same("GET", "/media/videos/%2E%2E/%2E%2E/%2E%2E/etc/passwd", nil), want: all(404)},

		// ---- Videos: changing (IDOR on A's videos).
		{route: "PATCH /api/v1/videos/:id", what: "public", req: each(func(role) authzReq {
			return authzReq{"PATCH", vid(w.freshVideo("public")), map[string]string{"description": "changed"}, nil}
		}), want: st(401, 403, 200, 403, 403, 403)},
		{route: "PATCH /api/v1/videos/:id", what: "private", req: same("PATCH", vid(w.privA), map[string]string{"description": "PRIVDESC-A"}),
			want: st(401, 404, 200, 404, 404, 403)},
		{route: "PUT /api/v1/videos/:id/thumbnail", what: "public", req: each(func(role) authzReq {
			return authzReq{"PUT", vid(w.freshVideo("public")) + "/thumbnail", png, []string{"Content-Type", "image/png"}}
		}), want: st(401, 403, 200, 403, 403, 403)},
		{route: "PUT /api/v1/videos/:id/thumbnail", what: "private", req: each(func(role) authzReq {
			return authzReq{"PUT", vid(w.freshVideo("private")) + "/thumbnail", png, []string{"Content-Type", "image/png"}}
		}), want: st(401, 404, 200, 404, 404, 403)},
		// Admins may take any video down (but not edit it).
		{route: "DELETE /api/v1/videos/:id", what: "public", req: each(func(role) authzReq {
			return authzReq{"DELETE", vid(w.freshVideo("public")), nil, nil}
		}), want: st(401, 403, 204, 403, 403, 204)},
		{route: "DELETE /api/v1/videos/:id", what: "private", req: each(func(role) authzReq {
			return authzReq{"DELETE", vid(w.freshVideo("private")), nil, nil}
		}), want: st(401, 404, 204, 404, 404, 204)},
		// A simple upload: a user without a channel is refused (403); with
		// one, authorization passes and the file is refused as not a video.
		{route: "POST /api/v1/videos", req: same("POST", "/api/v1/videos", notVideo, "Content-Type", notVideoCT),
			want: st(401, 403, 415, 415, 403, 403)},
		{route: "GET /studio/videos/:id/edit", what: "public", req: same("GET", "/studio/videos/"+w.pubA+"/edit", nil),
			want: st(toLogin, 403, 200, 403, 403, 403)},
		{route: "GET /studio/videos/:id/edit", what: "private", req: same("GET", "/studio/videos/"+w.privA+"/edit", nil),
			want: st(toLogin, 404, 200, 404, 404, 403)},
		{route: "POST /studio/videos/:id/edit", what: "public", req: each(func(role) authzReq {
			return authzReq{"POST", "/studio/videos/" + w.freshVideo("public") + "/edit", form("title", "Renamed", "description", "", "visibility", "public"), nil}
		}), want: st(toLogin, 403, 303, 403, 403, 403)},
		{route: "POST /studio/videos/:id/edit", what: "private", req: each(func(role) authzReq {
			return authzReq{"POST", "/studio/videos/" + w.freshVideo("private") + "/edit", form("title", "Renamed", "description", "", "visibility", "private"), nil}
		}), want: st(toLogin, 404, 303, 404, 404, 403)},
		{route: "POST /studio/videos/:id/thumbnail", req: each(func(role) authzReq {
			return authzReq{"POST", "/studio/videos/" + w.freshVideo("public") + "/thumbnail", thumbForm, []string{"Content-Type", thumbCT}}
		}), want: st(toLogin, 403, 303, 403, 403, 403)},
		{route: "POST /studio/videos/:id/delete", what: "public", req: each(func(role) authzReq {
			return authzReq{"POST", "/studio/videos/" + w.freshVideo("public") + "/delete", "", nil}
		}), want: st(toLogin, 403, 303, 403, 403, 303)},
		{route: "POST /studio/videos/:id/delete", what: "private", req: each(func(role) authzReq {
			return authzReq{"POST", "/studio/videos/" + w.freshVideo("private") + "/delete", "", nil}
		}), want: st(toLogin, 404, 303, 404, 404, 303)},

		// ---- Lists and search show public videos only.
		{route: "GET /api/v1/videos", req: same("GET", "/api/v1/videos", nil), want: all(200), check: noneOf("UNLTITLE-A", "PRIVTITLE-A", "PROCTITLE-A")},
		{route: "GET /api/v1/search", req: same("GET", "/api/v1/search?q=PRIVTITLE", nil), want: all(200), check: noneOf("PRIVTITLE-A", "PRIVTITLE-B")},
		{route: "GET /search", req: same("GET", "/search?q=UNLTITLE", nil), want: all(200), check: noneOf("UNLTITLE-A")},
		{route: "GET /c/:handle", req: same("GET", "/c/alpha", nil), want: all(200), check: noneOf("UNLTITLE-A", "PRIVTITLE-A", "PROCTITLE-A")},
		{route: "GET /api/v1/channels/:handle", req: same("GET", "/api/v1/channels/alpha", nil), want: all(200), check: noneOf("UNLTITLE-A", "PRIVTITLE-A", "PROCTITLE-A")},
		{route: "GET /liked", req: same("GET", "/liked", nil), want: signedIn(toLogin, 200)},
		{route: "GET /feed/subscriptions", req: same("GET", "/feed/subscriptions", nil), want: signedIn(toLogin, 200)},
		{route: "GET /api/v1/me/liked", req: same("GET", "/api/v1/me/liked", nil), want: signedIn(401, 200)},
		{route: "GET /api/v1/me/feed", req: same("GET", "/api/v1/me/feed", nil), want: signedIn(401, 200)},

		// ---- Comments, likes, subscriptions.
		{route: "GET /api/v1/videos/:id/comments", what: "public", req: same("GET", vid(w.pubA)+"/comments", nil), want: all(200)},
		{route: "GET /api/v1/videos/:id/comments", what: "private", req: same("GET", vid(w.privA)+"/comments", nil), want: ownerOrAdmin(404, 200)},
		{route: "GET /api/v1/comments/:id/replies", what: "on a public video", req: same("GET", cmt(w.cmtBonPubA)+"/replies", nil), want: all(200)},
		{route: "GET /api/v1/comments/:id/replies", what: "on a private video", req: same("GET", cmt(w.cmtAonPrivA)+"/replies", nil), want: ownerOrAdmin(404, 200)},
		{route: "POST /api/v1/videos/:id/comments", what: "public", req: same("POST", vid(w.pubA)+"/comments", map[string]string{"body": "nice"}), want: signedIn(401, 201)},
		{route: "POST /api/v1/videos/:id/comments", what: "private", req: same("POST", vid(w.privA)+"/comments", map[string]string{"body": "nice"}), want: ownerOrAdmin(401, 201)},
		// A reply must hang under a comment of the same video: a private
		// video's comment id used as parent on a public video is not found.
		{route: "POST /api/v1/videos/:id/comments", what: "reply to a private video's comment", req: same("POST", vid(w.pubA)+"/comments",
			map[string]any{"body": "reply", "parent_id": w.cmtAonPrivA}), want: signedIn(401, 404)},
		{route: "GET /watch/:id", what: "thread of a private video's comment", req: same("GET", "/watch/"+w.pubA+"?thread="+strconv.FormatInt(w.cmtAonPrivA, 10), nil), want: all(200)},
		{route: "POST /watch/:id/comments", what: "public", req: same("POST", "/watch/"+w.pubA+"/comments", form("body", "nice")), want: signedIn(toLogin, 303)},
		{route: "POST /watch/:id/comments", what: "private", req: same("POST", "/watch/"+w.privA+"/comments", form("body", "nice")), want: ownerOrAdmin(toLogin, 303)},
		// Someone else's comment: its author edits; the author, the video's
		// creator and admins delete; everyone else is refused.
		{route: "PATCH /api/v1/comments/:id", what: "on a public video", req: each(func(role) authzReq {
			return authzReq{"PATCH", cmt(freshComment()), map[string]string{"body": "edited"}, nil}
		}), want: st(401, 403, 200, 403, 403, 403)},
		{route: "PATCH /api/v1/comments/:id", what: "on a private video", req: same("PATCH", cmt(w.cmtAonPrivA), map[string]string{"body": "PRIVCOMMENT-A"}),
			want: st(401, 404, 200, 404, 404, 403)},
		{route: "DELETE /api/v1/comments/:id", what: "on a public video", req: each(func(role) authzReq {
			return authzReq{"DELETE", cmt(freshComment()), nil, nil}
		}), want: st(401, 403, 204, 204, 403, 204)},
		{route: "DELETE /api/v1/comments/:id", what: "on a private video", req: each(func(role) authzReq {
			return authzReq{"DELETE", cmt(w.comment(A, w.privA, "private scratch")), nil, nil}
		}), want: ownerOrAdmin(401, 204)},
		{route: "POST /comments/:id/edit", req: each(func(role) authzReq {
			return authzReq{"POST", pcmt(freshComment()) + "/edit", form("body", "edited"), nil}
		}), want: st(toLogin, 403, 303, 403, 403, 403)},
		{route: "POST /comments/:id/delete", req: each(func(role) authzReq {
			return authzReq{"POST", pcmt(freshComment()) + "/delete", "", nil}
		}), want: st(toLogin, 403, 303, 303, 403, 303)},
		{route: "PUT /api/v1/videos/:id/comment-settings", what: "public", req: same("PUT", vid(w.pubA)+"/comment-settings", map[string]bool{"enabled": true}),
			want: st(401, 403, 200, 403, 403, 200)},
		{route: "PUT /api/v1/videos/:id/comment-settings", what: "private", req: same("PUT", vid(w.privA)+"/comment-settings", map[string]bool{"enabled": true}),
			want: ownerOrAdmin(401, 200)},
		{route: "POST /watch/:id/comment-settings", req: same("POST", "/watch/"+w.pubA+"/comment-settings", form("enabled", "true")),
			want: st(toLogin, 403, 303, 403, 403, 303)},
		{route: "PUT /api/v1/videos/:id/like", what: "public", req: same("PUT", vid(w.pubA)+"/like", map[string]string{"value": "like"}), want: signedIn(401, 200)},
		{route: "PUT /api/v1/videos/:id/like", what: "private", req: same("PUT", vid(w.privA)+"/like", map[string]string{"value": "like"}), want: ownerOrAdmin(401, 200)},
		{route: "POST /watch/:id/like", what: "public", req: same("POST", "/watch/"+w.pubA+"/like", form("value", "like")), want: signedIn(toLogin, 303)},
		{route: "POST /watch/:id/like", what: "private", req: same("POST", "/watch/"+w.privA+"/like", form("value", "like")), want: ownerOrAdmin(toLogin, 303)},
		// Subscribing to one's own channel is refused as bad input.
		{route: "PUT /api/v1/channels/:handle/subscription", req: same("PUT", "/api/v1/channels/"+A.handle+"/subscription", nil), want: st(401, 200, 400, 200, 200, 200)},
		{route: "DELETE /api/v1/channels/:handle/subscription", fresh: true, req: same("DELETE", "/api/v1/channels/"+A.handle+"/subscription", nil), want: signedIn(401, 200)},
		{route: "POST /c/:handle/subscribe", req: same("POST", "/c/alpha/subscribe", form("action", "subscribe")), want: st(toLogin, 303, 400, 303, 303, 303)},

		// ---- View counting: public videos for all, private ones for owner and admins.
		{route: "GET /api/v1/videos/:id/play", what: "public", req: same("GET", vid(w.pubA)+"/play", nil), want: all(200)},
		{route: "GET /api/v1/videos/:id/play", what: "private", req: same("GET", vid(w.privA)+"/play", nil), want: ownerOrAdmin(404, 200)},
		{route: "POST /api/v1/videos/:id/views", what: "public", req: same("POST", vid(w.pubA)+"/views", map[string]string{"play_token": "forged"}), want: all(200)},
		{route: "POST /api/v1/videos/:id/views", what: "private", req: same("POST", vid(w.privA)+"/views", map[string]string{"play_token": "forged"}), want: ownerOrAdmin(404, 200)},
		{route: "GET /api/v1/videos/:id/views", what: "public", req: same("GET", vid(w.pubA)+"/views", nil), want: all(200)},
		{route: "GET /api/v1/videos/:id/views", what: "private", req: same("GET", vid(w.privA)+"/views", nil), want: ownerOrAdmin(404, 200)},

		// ---- Resumable uploads: creators (and admins) only; another
		// creator's session is not found.
		{route: "OPTIONS /api/v1/uploads", req: same("OPTIONS", "/api/v1/uploads", nil), want: all(204)},
		{route: "OPTIONS /api/v1/uploads/:id", req: same("OPTIONS", "/api/v1/uploads/"+w.uploadA, nil), want: all(204)},
		// Uploading needs a channel, whatever the role (the simple upload's
		// rule): the viewer, finance and the admin have none and are refused
		// before any byte is sent. A session answers only its owner: 404 to
		// everyone else.
		{route: "POST /api/v1/uploads", req: same("POST", "/api/v1/uploads", nil, tusHdr("Upload-Length", "1000")...), want: st(401, 403, 201, 201, 403, 403),
			check: func(t *testing.T, r role, res response) {
				if (r == viewer || r == finance || r == admin) && errCode(t, res) != "no_channel" {
					t.Errorf("%v without a channel: %s, want no_channel", r, res.Body)
				}
			}},
		{route: "HEAD /api/v1/uploads/:id", req: same("HEAD", "/api/v1/uploads/"+w.uploadA, nil, tusHdr()...), want: st(401, 404, 200, 404, 404, 404)},
		{route: "PATCH /api/v1/uploads/:id", req: each(func(role) authzReq {
			return authzReq{"PATCH", "/api/v1/uploads/" + w.upload(A, "scratch"), []byte("0123456789"), tusHdr("Upload-Offset", "0", "Content-Type", "application/offset+octet-stream")}
		}), want: st(401, 404, 204, 404, 404, 404)},
		{route: "DELETE /api/v1/uploads/:id", req: each(func(role) authzReq {
			return authzReq{"DELETE", "/api/v1/uploads/" + w.upload(A, "scratch"), nil, tusHdr()}
		}), want: st(401, 404, 204, 404, 404, 404)},

		// ---- Revenue: finance and admins only.
		{route: "GET /api/v1/revenue/periods", req: same("GET", rev(""), nil), want: financeOnly(401, 200)},
		{route: "POST /api/v1/revenue/periods", req: each(func(role) authzReq {
			return authzReq{"POST", rev(""), map[string]any{"period": revenue.PeriodOf(w.skipMonth()), "revenue_minor": 100, "currency": "USD"}, nil}
		}), want: financeOnly(401, 201)},
		{route: "GET /api/v1/revenue/periods/:period", req: same("GET", rev("/"+w.period), nil), want: financeOnly(401, 200)},
		{route: "POST /api/v1/revenue/periods/:period/calculate", req: each(func(role) authzReq {
			return authzReq{"POST", rev("/" + w.newPeriod("", "open") + "/calculate"), nil, nil}
		}), want: financeOnly(401, 200)},
		{route: "POST /api/v1/revenue/periods/:period/approve", req: each(func(role) authzReq {
			return authzReq{"POST", rev("/" + w.newPeriod("", "calculated") + "/approve"), nil, nil}
		}), want: financeOnly(401, 200)},
		{route: "POST /api/v1/revenue/periods/:period/mark-paid", req: each(func(role) authzReq {
			return authzReq{"POST", rev("/" + w.newPeriod("", "approved") + "/mark-paid"), map[string]any{"reference": "bank-1"}, nil}
		}), want: financeOnly(401, 200)},
		{route: "POST /api/v1/revenue/periods/:period/adjustments", req: each(func(role) authzReq {
			return authzReq{"POST", rev("/" + w.newPeriod("", "approved") + "/adjustments"),
				map[string]any{"creator_id": A.user.ID, "amount_minor": 100, "reason": "late correction"}, nil}
		}), want: financeOnly(401, 201)},
		{route: "GET /api/v1/revenue/periods/:period/adjustments", req: same("GET", rev("/"+w.period+"/adjustments"), nil), want: financeOnly(401, 200)},
		{route: "GET /api/v1/revenue/periods/:period/payouts", req: same("GET", rev("/"+w.period+"/payouts"), nil), want: financeOnly(401, 200),
			check: func(t *testing.T, r role, res response) {
				if res.StatusCode == 200 && !bytes.Contains(res.Body, []byte("LEGALNAME-B")) {
					t.Errorf("finance payouts list shows no payout profile: %s", res.Body)
				}
			}},
		{route: "GET /api/v1/revenue/periods/:period/payouts.csv", req: same("GET", rev("/"+w.period+"/payouts.csv"), nil), want: financeOnly(401, 200)},
		{route: "GET /api/v1/revenue/periods/:period/audit", req: same("GET", rev("/"+w.period+"/audit"), nil), want: financeOnly(401, 200)},
		{route: "GET /finance", req: same("GET", "/finance", nil), want: financeOnly(toLogin, 200)},
		{route: "POST /finance/periods", req: each(func(role) authzReq {
			return authzReq{"POST", "/finance/periods", form("period", revenue.PeriodOf(w.skipMonth()), "revenue", "10.00", "currency", "USD"), nil}
		}), want: financeOnly(toLogin, 303)},
		{route: "GET /finance/periods/:period", req: same("GET", "/finance/periods/"+w.period, nil), want: financeOnly(toLogin, 200)},
		{route: "POST /finance/periods/:period/:action", req: each(func(role) authzReq {
			return authzReq{"POST", "/finance/periods/" + w.newPeriod("", "open") + "/calculate", "", nil}
		}), want: financeOnly(toLogin, 303)},

		// ---- A creator's own earnings and payout profile.
		{route: "GET /api/v1/me/earnings", req: same("GET", "/api/v1/me/earnings", nil), want: signedIn(401, 200), check: w.ownEarningsOnly},
		{route: "GET /earnings", req: same("GET", "/earnings", nil), want: signedIn(toLogin, 200)},
		{route: "GET /api/v1/me/payout-profile", req: same("GET", "/api/v1/me/payout-profile", nil), want: st(401, 403, 200, 200, 403, 404)},
		{route: "PUT /api/v1/me/payout-profile", fresh: true, req: same("PUT", "/api/v1/me/payout-profile",
			map[string]string{"legal_name": "Fresh Creator", "country": "US", "method_ref": "acct-1234"}), want: st(401, 403, 200, 200, 403, 200)},
		{route: "POST /earnings/payout-profile", fresh: true, req: same("POST", "/earnings/payout-profile",
			form("legal_name", "Fresh Creator", "country", "US", "method_ref", "acct-1234")), want: st(toLogin, 403, 303, 303, 403, 303)},
	}
}

// skipMonth reserves an unused month for a period a request creates.
func (w *authzWorld) skipMonth() time.Time {
	m := w.nextMonth
	w.nextMonth = w.nextMonth.AddDate(0, 1, 0)
	return m
}

// noneOf checks that a list answer holds none of the strings.
func noneOf(s ...string) func(*testing.T, role, response) {
	return func(t *testing.T, r role, res response) {
		for _, x := range s {
			if bytes.Contains(res.Body, []byte(x)) {
				t.Errorf("%s: the answer lists %q, which is not public", r, x)
			}
		}
	}
}

// ownEarningsOnly checks a creator's earnings hold their own payouts only.
func (w *authzWorld) ownEarningsOnly(t *testing.T, r role, res response) {
	if res.StatusCode != 200 {
		return
	}
	var e struct {
		Earnings struct {
			Payouts []struct {
				Line struct {
					CreatorID int64 `json:"creator_id"`
				} `json:"line"`
				Period string `json:"period"`
			} `json:"payouts"`
			Profile *struct {
				LegalName string `json:"legal_name"`
			} `json:"payout_profile"`
		} `json:"earnings"`
	}
	res.JSON(t, &e)
	me := w.who[r].user.ID
	for _, p := range e.Earnings.Payouts {
		if p.Line.CreatorID != me {
			t.Errorf("%s sees a payout of creator %d: %s", r, p.Line.CreatorID, res.Body)
		}
	}
	switch r {
	case owner, other:
		if len(e.Earnings.Payouts) == 0 {
			t.Errorf("%s sees none of their own payouts: %s", r, res.Body)
		}
		if e.Earnings.Profile == nil {
			t.Errorf("%s does not see their own payout profile: %s", r, res.Body)
		}
	}
}

// send runs one cell with p's bearer token, or with p's session cookie
// and, for state-changing methods, a same-origin Origin header (as a
// browser sends them: page forms, and the pages' scripts calling the API).
func (w *authzWorld) send(p *principal, q authzReq, cookie bool) response {
	h := append([]string(nil), q.headers...)
	if p != nil {
		if cookie {
			h = append(h, "Cookie", sessionCookie+"="+p.session)
		} else {
			h = append(h, bearer(p.token)...)
		}
	}
	switch q.method {
	case "GET", "HEAD", "OPTIONS":
	default:
		if cookie || p == nil && !strings.HasPrefix(q.path, "/api/") {
			h = append(h, "Origin", w.ts.http.URL)
		}
	}
	return w.ts.do(q.method, q.path, q.body, h...)
}

// leaks returns the secrets in the answer that role r may not see.
func (w *authzWorld) leaks(r role, res response) []string {
	var hdr strings.Builder
	for k, vs := range res.Header {
		hdr.WriteString(k + ": " + strings.Join(vs, ", ") + "\n")
	}
	var out []string
	for s, allowed := range w.secrets {
		ok := false
		for _, a := range allowed {
			ok = ok || a == r
		}
		if !ok && (bytes.Contains(res.Body, []byte(s)) || strings.Contains(hdr.String(), s)) {
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}

func TestAuthorizationMatrix(t *testing.T) {
	start := time.Now()
	w := newAuthzWorld(t)
	rows := authzRows(w)

	// Every registered route has at least one row, and every row names a
	// registered route.
	registered := map[string]bool{}
	for _, r := range w.ts.srv.engine.Routes() {
		registered[r.Method+" "+r.Path] = true
	}
	covered := map[string]bool{}
	for _, row := range rows {
		if !registered[row.route] {
			t.Errorf("row for %q: no such route is registered", row.route)
		}
		covered[row.route] = true
	}
	var missing []string
	for r := range registered {
		if !covered[r] {
			missing = append(missing, r)
		}
	}
	sort.Strings(missing)
	for _, r := range missing {
		t.Errorf("route %s has no row in the authorization matrix (authz_test.go): say who may call it", r)
	}

	cells, cookieCells := 0, 0
	for _, row := range rows {
		api := strings.HasPrefix(row.route[strings.IndexByte(row.route, ' ')+1:], "/api/")
		for r := anon; r < nRoles; r++ {
			// API rows run twice for signed-in roles: with the bearer token
			// and with the session cookie; pages with the cookie only.
			vias := []bool{!api}
			if api && r != anon {
				vias = append(vias, true)
			}
			for _, cookie := range vias {
				p := w.who[r]
				if row.fresh && r != anon {
					p = w.fresh(r)
				}
				q := row.req(r)
				res := w.send(p, q, cookie)
				cells++
				want := row.want[r]
				via := "token"
				if cookie {
					via = "cookie"
					if api {
						cookieCells++
						if row.byCookie[r] != 0 {
							want = row.byCookie[r]
						}
					}
				}
				if r == anon {
					via = "nothing"
				}
				name := fmt.Sprintf("%s %s [%s] as %s (by %s)", q.method, q.path, row.what, r, via)
				switch {
				case want == toLogin:
					if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/login?next=") {
						t.Errorf("%s: status %d Location %q, want a 303 to /login?next=…; body %.300s", name, res.StatusCode, res.Header.Get("Location"), res.Body)
					}
				case res.StatusCode != want:
					t.Errorf("%s: status %d, want %d; body %.300s", name, res.StatusCode, want, res.Body)
				}
				if l := w.leaks(r, res); len(l) > 0 {
					t.Errorf("%s: the answer (status %d) leaks %v", name, res.StatusCode, l)
				}
				if api && q.method != "HEAD" && (res.StatusCode == http.StatusForbidden || res.StatusCode == http.StatusNotFound || res.StatusCode == http.StatusUnauthorized) {
					var e apiError
					if err := json.Unmarshal(res.Body, &e); err != nil || e.Error.Code == "" || e.Error.Message == "" {
						t.Errorf("%s: a refused API request answers %q, not a JSON error", name, res.Body)
					}
				}
				if row.check != nil {
					row.check(t, r, res)
				}
			}
		}
	}
	t.Logf("authorization matrix: %d routes, %d rows × %d roles; %d requests (%d of them API calls by session cookie) in %s",
		len(registered), len(rows), nRoles, cells, cookieCells, time.Since(start).Round(time.Millisecond))
}

// TestAuthorizationPathVariants sends protected routes under spellings a
// router might treat differently (trailing or doubled slashes, dot
// segments, encoded slashes, letter case): none may answer with content to
// someone the route refuses.
func TestAuthorizationPathVariants(t *testing.T) {
	w := newAuthzWorld(t)
	v := w.who[viewer]
	variants := []string{
		"/finance/", "//finance", "/finance/.", "/x/../finance", "/FINANCE", "/finance%2F",
		"/finance/periods/" + w.period + "/", "/static/../finance",
		"/api/v1/revenue/periods/", "/api/v1//revenue/periods", "/api/v1/revenue/./periods",
		"/api/v1/revenue%2Fperiods", "/API/V1/REVENUE/PERIODS", "/api/v1/x/../revenue/periods",
		"/api/v1/revenue/periods/" + w.period + "/payouts.csv/", "/api/v1/revenue/periods/" + w.period + "/payouts%2Ecsv",
		"/api/v1/me/payout-profile/", "/studio/videos/" + w.privA + "/edit/",
		"/api/v1/videos/" + w.privA + "/", "/watch/" + w.privA + "/", "/media/videos/" + w.privA + "/720p.mp4/",
		"/media//videos/" + w.privA + "/720p.mp4", "/media/videos/" + w.privA + "%2F720p.mp4",
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, path := range variants {
		for _, r := range []role{anon, viewer} {
			// Follow redirects by hand, keeping the credentials, so a
			// redirect to the canonical route is followed to its answer.
			loc, status := path, 0
			var body []byte
			for hop := 0; hop < 5; hop++ {
				req, err := http.NewRequest("GET", w.ts.http.URL+loc, nil)
				if err != nil {
					t.Fatal(err)
				}
				req.URL.Opaque = "//" + req.URL.Host + loc // send the path as written
				if r == viewer {
					req.Header.Set("Authorization", "Bearer "+v.token)
				}
				res, err := client.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				body = readAll(res)
				status = res.StatusCode
				next := res.Header.Get("Location")
				if status < 300 || status > 399 || next == "" || strings.HasPrefix(next, "/login") {
					break
				}
				if u, err := url.Parse(next); err == nil && u.Host != "" {
					if u.Host != req.URL.Host {
						t.Errorf("GET %s as %s: redirected off the site to %s", path, r, next)
						break
					}
					next = u.RequestURI()
				}
				loc = next
			}
			if status >= 200 && status < 300 {
				t.Errorf("GET %s as %s: %d with %.200s; the route refuses %s", path, r, status, body, r)
			}
			if l := w.leaks(r, response{Response: &http.Response{Header: http.Header{}}, Body: body}); len(l) > 0 {
				t.Errorf("GET %s as %s leaks %v", path, r, l)
			}
		}
	}
}

func readAll(res *http.Response) []byte {
	defer res.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(res.Body)
	return b.Bytes()
}
