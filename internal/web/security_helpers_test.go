package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/ucc-video/ucc/internal/accounts"
	"github.com/ucc-video/ucc/internal/community"
)

// session starts a browser session for the user and returns the Cookie
// header value and the session's CSRF token.
func (ts *testServer) session(userID int64) (cookie, csrf string) {
	ts.t.Helper()
	tok, _, err := ts.deps.Accounts.StartSession(context.Background(), userID)
	if err != nil {
		ts.t.Fatal(err)
	}
	cookie = sessionCookie + "=" + tok
	page := ts.do("GET", "/", nil, "Cookie", cookie)
	m := regexp.MustCompile(`name="csrf-token" content="([^"]+)"`).FindSubmatch(page.Body)
	if m == nil {
		ts.t.Fatalf("no CSRF token on the home page: %s", page.Body)
	}
	return cookie, string(m[1])
}

// fixture holds ids of existing things, to fill route parameters.
type fixture struct {
	videoPub  string // a public video
	commentID int64
	handle    string
	channelID int64
	uploadID  string
	period    string
}

// routePath fills the parameters of a gin route pattern with fixture values.
func routePath(pattern string, fx fixture) string {
	parts := strings.Split(pattern, "/")
	for i, p := range parts {
		if p == "" || (p[0] != ':' && p[0] != '*') {
			continue
		}
		prev := ""
		if i > 0 {
			prev = parts[i-1]
		}
		var v string
		switch p {
		case ":id":
			switch prev {
			case "comments":
				v = fmt.Sprint(fx.commentID)
			case "uploads":
				v = fx.uploadID
			default: // videos, watch, v, studio/videos
				v = fx.videoPub
			}
		case ":handle":
			v = fx.handle
		case ":period":
			v = fx.period
		case ":action":
			v = "calculate"
		case "*key":
			v = "videos/" + fx.videoPub + "/thumb.jpg"
		case "*filepath":
			v = "css/app.css"
		default:
			panic("routePath: unknown parameter " + p + " in " + pattern)
		}
		if p[0] == '*' {
			parts[i] = v
		} else {
			parts[i] = url.PathEscape(v)
		}
	}
	return strings.Join(parts, "/")
}

// stateChanging reports whether method changes state (CSRF applies).
func stateChanging(method string) bool {
	return method != http.MethodGet && method != http.MethodHead && method != http.MethodOptions
}

// seedWorld makes a creator with a channel, a public ready video with a
// comment, a tus upload in progress and a revenue period, for route filling.
func (f *testServer) seedWorld() (fx fixture, creatorTok string, creatorID int64) {
	f.t.Helper()
	creatorTok, creatorID = f.user("world-creator@example.com", accounts.RoleCreator)
	fx.handle = "worldchan"
	fx.channelID = f.seedChannel(creatorID, fx.handle, "World channel", "")
	_, fx.videoPub = f.seedVideo(seedVideo{Channel: fx.channelID, Creator: creatorID, Title: "World video", Renditions: []int{360}})
	r := f.do("POST", "/api/v1/videos/"+fx.videoPub+"/comments", map[string]any{"body": "first"}, bearer(creatorTok)...)
	wantStatus(f.t, r, http.StatusCreated)
	var cm struct{ Comment community.Comment }
	r.JSON(f.t, &cm)
	fx.commentID = cm.Comment.ID
	r = f.do("POST", "/api/v1/uploads", nil, append(bearer(creatorTok), "Tus-Resumable", "1.0.0", "Upload-Length", "100")...)
	wantStatus(f.t, r, http.StatusCreated)
	fx.uploadID = strings.TrimPrefix(r.Header.Get("Location"), "/api/v1/uploads/")
	fx.period = "2026-01"
	return fx, creatorTok, creatorID
}
