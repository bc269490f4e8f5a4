package web

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/ucc-video/ucc/internal/accounts"
)

// ginParam is a gin path parameter (":id"); the document writes "{id}".
var ginParam = regexp.MustCompile(`:([A-Za-z_][A-Za-z0-9_]*)`)

// TestOpenAPIDocumentsEveryRoute walks gin's route list: every /api/v1
// route (method and path) is an operation of openapi.yaml, and every
// operation of the document is a registered route.
func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	ts := newTestServer(t)
	k := apiContract(t)
	routes := map[string]bool{}
	for _, r := range ts.srv.engine.Routes() {
		if strings.HasPrefix(r.Path, "/api/v1/") {
			if strings.Contains(r.Path, "*") {
				t.Errorf("route %s %s: a catch-all cannot be an OpenAPI path", r.Method, r.Path)
			}
			routes[r.Method+" "+ginParam.ReplaceAllString(r.Path, "{$1}")] = true
		}
	}
	documented := map[string]bool{}
	for path, item := range k.doc.Paths.Map() {
		for method := range item.Operations() {
			documented[method+" "+path] = true
		}
	}
	for _, m := range diff(routes, documented) {
		t.Errorf("route %s is not in internal/web/openapi.yaml: document it (request, answers, security)", m)
	}
	for _, m := range diff(documented, routes) {
		t.Errorf("openapi.yaml documents %s, but no such route is registered (routes.go)", m)
	}
	if len(routes) < 50 {
		t.Fatalf("only %d /api/v1 routes found: %v", len(routes), routes)
	}
	if !t.Failed() {
		t.Logf("%d /api/v1 routes (method and path), all documented", len(routes))
	}
}

// diff lists the keys of a that b lacks, sorted.
func diff(a, b map[string]bool) []string {
	var out []string
	for k := range a {
		if !b[k] {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// TestOpenAPIServed: GET /api/v1/openapi.json answers the document as
// JSON (the same content as openapi.yaml), cacheable, and 304 for a
// matching If-None-Match.
func TestOpenAPIServed(t *testing.T) {
	ts := newTestServer(t)
	r := ts.do("GET", "/api/v1/openapi.json", nil)
	wantStatus(t, r, http.StatusOK)
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	if cc := r.Header.Get("Cache-Control"); !strings.Contains(cc, "max-age=") {
		t.Errorf("Cache-Control %q: want a max-age", cc)
	}
	var served, source any
	r.JSON(t, &served)
	if err := yaml.Unmarshal(openAPIYAML, &source); err != nil {
		t.Fatal(err)
	}
	sj, _ := json.Marshal(served)
	yj, _ := json.Marshal(source)
	if string(sj) != string(yj) {
		t.Errorf("the served document differs from openapi.yaml")
	}
	if v, _ := served.(map[string]any)["openapi"].(string); !strings.HasPrefix(v, "3.1.") {
		t.Errorf("openapi %q, want 3.1.x", v)
	}
	etag := r.Header.Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}
	again := ts.do("GET", "/api/v1/openapi.json", nil, "If-None-Match", etag)
	wantStatus(t, again, http.StatusNotModified)
	if len(again.Body) != 0 {
		t.Errorf("304 with a body: %q", again.Body)
	}
	wantStatus(t, ts.do("GET", "/api/v1/openapi.json", nil, "If-None-Match", `"other"`), http.StatusOK)
}

// TestContractValidatesRigAnswers: answers through the rig are validated
// (the count moves with each /api/v1 answer a test receives).
func TestContractValidatesRigAnswers(t *testing.T) {
	ts := newTestServer(t)
	k := apiContract(t)
	tok, _ := ts.user("counted@example.com", accounts.RoleViewer)
	before := k.validated.Load()
	wantStatus(t, ts.do("GET", "/api/v1/me", nil, bearer(tok)...), http.StatusOK)
	wantStatus(t, ts.do("GET", "/api/v1/me", nil), http.StatusUnauthorized)
	wantStatus(t, ts.do("GET", "/api/v1/videos?limit=2", nil), http.StatusOK)
	wantStatus(t, ts.do("GET", "/login", nil), http.StatusOK)
	// Tests run in parallel, so the count may move more, never less.
	if got := k.validated.Load() - before; got < 3 {
		t.Errorf("%d answers validated, want at least 3", got)
	}
}

// TestContractCatchesWrongAnswers feeds the rig's validator answers that
// break the document, and requests it refuses answered with success; each
// must be reported. A correct exchange is the control.
func TestContractCatchesWrongAnswers(t *testing.T) {
	k := &contract{doc: apiContract(t).doc, router: apiContract(t).router} // counts of its own
	user := `{"id": 1, "email": "a@example.com", "display_name": "A", "role": "viewer", "language": "", "created_at": "2026-12-01T10:00:00Z"}`
	video := `{"id": "abcdefghijk", "title": "T", "description": "", "visibility": "public", "status": "ready", "failure_reason": "",
		"progress": 100, "duration_seconds": 3.5, "width": 640, "height": 360, "views": 0, "likes": 0, "dislikes": 0,
		"comment_count": 0, "comments_enabled": true, "creator_id": 1, "channel": {"id": 1, "handle": "ann", "name": "Ann"},
		"thumbnail_url": "", "renditions": [], "created_at": "2026-12-01T10:00:00Z", "published_at": null}`
	channel := `{"id": 1, "owner_id": 1, "handle": "ann", "name": "Ann", "description": "", "created_at": "2026-12-01T10:00:00Z"}`
	cases := []struct {
		name, method, path, reqBody string
		status                      int
		header                      []string
		body                        string
		wantErr                     string // "" for the control
	}{
		{"control: the user", "GET", "/api/v1/me", "", 200, nil, `{"user": ` + user + `}`, ""},
		{"control: an error", "GET", "/api/v1/me", "", 401, nil, `{"error": {"code": "unauthorized", "message": "sign in first"}}`, ""},
		{"control: a channel with its Location", "POST", "/api/v1/channels", `{"name": "Ann", "handle": "ann"}`, 201,
			[]string{"Location", "/api/v1/channels/ann"}, `{"channel": ` + channel + `}`, ""},
		{"a field of the wrong type", "GET", "/api/v1/me", "", 200, nil, `{"user": {"id": "one"}}`, "does not match"},
		{"the old bare video", "GET", "/api/v1/videos/abcdefghijk", "", 200, []string{"Cache-Control", "no-store"}, video, "does not match"},
		{"a field the document does not know", "GET", "/api/v1/videos/abcdefghijk", "", 200, []string{"Cache-Control", "no-store"},
			`{"video": ` + strings.Replace(video, `"title"`, `"secret": 1, "title"`, 1) + `}`, "does not match"},
		{"an error outside the envelope", "GET", "/api/v1/me", "", 401, nil, `{"message": "sign in first"}`, "does not match"},
		{"a created channel without Location", "POST", "/api/v1/channels", `{"name": "Ann", "handle": "ann"}`, 201, nil,
			`{"channel": ` + channel + `}`, "Location"},
		{"an extra field in a channel", "POST", "/api/v1/channels", `{"name": "Ann", "handle": "ann"}`, 201,
			[]string{"Location", "/api/v1/channels/ann"}, `{"channel": ` + strings.Replace(channel, `"name"`, `"subscribed": true, "name"`, 1) + `}`, "does not match"},
		{"a body on a 204", "DELETE", "/api/v1/videos/abcdefghijk", "", 204, nil, `{"deleted": true}`, "does not match"},
		{"a refused request answered with success", "PUT", "/api/v1/videos/abcdefghijk/like", `{"value": "love"}`, 200, nil,
			`{"value": "like", "likes": 1, "dislikes": 0}`, "refuses the request"},
		{"an anonymous request to a signed-in route answered with success", "GET", "/api/v1/me/feed", "", 200, nil,
			`{"videos": [], "next_cursor": ""}`, "refuses the request"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Body != nil {
					_, _ = r.Body.Read(make([]byte, 1<<10)) // the handler reads its body
					_, _ = r.Body.Read(make([]byte, 1))
				}
				for i := 0; i+1 < len(c.header); i += 2 {
					w.Header().Set(c.header[i], c.header[i+1])
				}
				if c.body != "" {
					w.Header().Set("Content-Type", "application/json; charset=utf-8")
				}
				w.WriteHeader(c.status)
				_, _ = w.Write([]byte(c.body))
			})
			var got []error
			v := k.handler(h, func(err error) { got = append(got, err) })
			var req *http.Request
			if c.reqBody != "" {
				req = httptest.NewRequest(c.method, c.path, strings.NewReader(c.reqBody))
				req.Header.Set("Content-Type", "application/json")
			} else {
				req = httptest.NewRequest(c.method, c.path, nil)
			}
			if c.path != "/api/v1/me/feed" {
				req.Header.Set("Authorization", "Bearer ucc_test")
			}
			v.ServeHTTP(httptest.NewRecorder(), req)
			switch {
			case c.wantErr == "" && len(got) > 0:
				t.Errorf("a correct exchange was reported: %v", got)
			case c.wantErr != "" && len(got) == 0:
				t.Errorf("not reported")
			case c.wantErr != "" && !strings.Contains(got[0].Error(), c.wantErr):
				t.Errorf("reported as %v, want %q in it", got[0], c.wantErr)
			}
		})
	}
}

// BenchmarkContractCheck is what validating one answer costs the handler
// tests: a page of 24 videos (GET /api/v1/videos) checked against the
// document.
func BenchmarkContractCheck(b *testing.B) {
	k := &contract{doc: apiContract(b).doc, router: apiContract(b).router}
	video := `{"id": "abcdefghijk", "title": "T", "description": "", "visibility": "public", "status": "ready", "failure_reason": "",
		"progress": 100, "duration_seconds": 3.5, "width": 640, "height": 360, "views": 0, "likes": 0, "dislikes": 0,
		"comment_count": 0, "comments_enabled": true, "creator_id": 1, "channel": {"id": 1, "handle": "ann", "name": "Ann"},
		"thumbnail_url": "", "renditions": [{"height": 360, "width": 640, "url": "/media/videos/x/r360.mp4", "size_bytes": 1, "bitrate": 1}],
		"created_at": "2026-12-01T10:00:00Z", "published_at": "2026-12-01T10:00:00Z"}`
	body := []byte(`{"videos": [` + strings.TrimSuffix(strings.Repeat(video+",", 24), ",") + `], "next_cursor": ""}`)
	req := httptest.NewRequest("GET", "/api/v1/videos?limit=24", nil)
	x := exchange{req: req, status: http.StatusOK, header: http.Header{"Content-Type": {"application/json; charset=utf-8"}}, body: body}
	b.ReportAllocs()
	for b.Loop() {
		if err := k.check(x); err != nil {
			b.Fatal(err)
		}
	}
}
