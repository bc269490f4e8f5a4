package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/net/html"

	"github.com/ucc-video/ucc/internal/errs"
	"github.com/ucc-video/ucc/internal/views"
	"github.com/ucc-video/ucc/static"
	"github.com/ucc-video/ucc/templates"
)

// FuzzViewReportBody feeds arbitrary bodies to the view report's body
// handling (the route's body rule from the route table, then the handler's
// decoding): it never panics, refuses with a person-readable ErrInvalid or
// ErrTooLarge (never anything that would be a 500), and what it accepts is
// a trimmed, non-empty, valid UTF-8 token without NUL from a body within
// the 4 KiB cap.
func FuzzViewReportBody(f *testing.F) {
	gin.SetMode(gin.ReleaseMode)
	s := &Server{log: slog.New(slog.NewTextHandler(io.Discard, nil)), now: time.Now,
		deps: Deps{Registry: prometheus.NewRegistry(), Static: static.FS}}
	var guard gin.HandlerFunc
	for _, r := range s.routeTable() {
		if r.method == http.MethodPost && r.path == "/api/v1/videos/:id/views" {
			guard = s.guard(r.body)
		}
	}
	if guard == nil {
		f.Fatal("the route table has no view report route")
	}
	signer := views.NewSigner([]byte("0123456789abcdef0123456789abcdef"))
	tok := signer.Issue(7, "u:1", time.Unix(1_700_000_000, 0))
	for _, s := range []string{`{"play_token":"` + tok + `"}`, `{"play_token":"  ` + tok + ` "}`, `{}`, `{"play_token":""}`, `{"play_token":5}`,
		`{"play_token":"a"} {"b":1}`, `[]`, `null`, `"x"`, ``, `{"play_token":"\u0000"}`, `{"play_token":"\ud800"}`, "{\"play_token\":\"\xff\"}",
		`{"play_token":"x","play_token":"y"}`, `{"PLAY_TOKEN":"x"}`, `{"play_token":"` + strings.Repeat("A", 5000) + `"}`, strings.Repeat("[", 10000)} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		w := httptest.NewRecorder()
		c, _ := gin.CreateTestContext(w)
		c.Request = httptest.NewRequest(http.MethodPost, "/api/v1/videos/abcdefghijk/views", bytes.NewReader(body))
		c.Request.Header.Set("Content-Type", "application/json")
		if guard(c); c.IsAborted() {
			var e apiError
			if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e.Error.Code == "" || e.Error.Message == "" || (w.Code != 400 && w.Code != 413) {
				t.Fatalf("body %q: refused with %d %s, not a person-readable 400/413", body, w.Code, w.Body.Bytes())
			}
			return
		}
		token, err := readViewReport(c)
		if err != nil {
			var e *errs.Error
			if !errors.As(err, &e) || e.Message == "" || !(errors.Is(err, errs.ErrInvalid) || errors.Is(err, errs.ErrTooLarge)) {
				t.Fatalf("body %q: error %v is not a person-readable 400/413", body, err)
			}
			if status, _, _, unexpected := classify(err); unexpected || (status != 400 && status != 413) {
				t.Fatalf("body %q: maps to %d", body, status)
			}
			return
		}
		if len(body) > 4<<10 {
			t.Fatalf("accepted a %d-byte body", len(body))
		}
		if token == "" || token != strings.TrimSpace(token) || !utf8.ValidString(token) || strings.IndexByte(token, 0) >= 0 {
			t.Fatalf("body %q gave token %q", body, token)
		}
		// The token goes on to the verifier, which must not panic either
		// (FuzzPlayToken checks what it accepts).
		_, _ = signer.Verify(token, 7, "u:1", time.Unix(1_700_000_060, 0), 30*time.Second, time.Hour)
	})
}

// FuzzLinkify checks that linkify loses no text, links only http(s) URLs
// with a host, and that the real "community/text" template renders any
// input as text whose visible content is exactly the input, with no markup,
// event handler or script URL of its own.
func FuzzLinkify(f *testing.F) {
	r, err := newRenderer(templates.FS, time.Now)
	if err != nil {
		f.Fatal(err)
	}
	tmpl := r.pages["watch"]
	for _, s := range []string{"see https://example.com/a_(b) and http://x.example.", "javascript:alert(1)", "JaVaScRiPt:alert(1) http://ok.example/\"onmouseover=alert(1)",
		"<script>alert(1)</script> https://a.example/?q=<b>", "http://", "https://[::1]:80/x", "http://a.example/" + strings.Repeat("(", 50),
		"data:text/html,<script>alert(1)</script>", "https://e.example/\u202e", "ftp://x.example", "http://a b", "https://x.example/%zz",
		strings.Repeat("http://a.example ", 300), "&amp; &lt; &#106;avascript:", "http://x.example/'\"`<>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		parts := linkify(s)
		var all strings.Builder
		links := 0
		for _, p := range parts {
			all.WriteString(p.Text)
			if p.URL == "" {
				continue
			}
			links++
			low := strings.ToLower(p.URL)
			if !strings.HasPrefix(low, "http://") && !strings.HasPrefix(low, "https://") {
				t.Fatalf("linkify(%q) made a link to %q", s, p.URL)
			}
			if !strings.HasPrefix(strings.ToLower(p.Text), "http") {
				t.Fatalf("linkify(%q) link text %q", s, p.Text)
			}
		}
		if all.String() != s {
			t.Fatalf("linkify(%q) lost text: %q", s, all.String())
		}
		var out bytes.Buffer
		if err := tmpl.ExecuteTemplate(&out, "community/text", s); err != nil {
			t.Fatalf("render %q: %v", s, err)
		}
		if problems := unsafeMarkup(out.Bytes()); len(problems) > 0 {
			t.Fatalf("render %q: %v\n%s", s, problems, out.Bytes())
		}
		// The visible text is the input exactly (for text an HTML parser
		// keeps as is: valid UTF-8 without NUL or carriage returns), and
		// the only elements are the links.
		z := html.NewTokenizer(bytes.NewReader(out.Bytes()))
		var text strings.Builder
		anchors := 0
		for {
			tt := z.Next()
			if tt == html.ErrorToken {
				if z.Err() != io.EOF {
					t.Fatal(z.Err())
				}
				break
			}
			tok := z.Token()
			switch tt {
			case html.TextToken:
				text.WriteString(tok.Data)
			case html.StartTagToken:
				if tok.Data != "a" {
					t.Fatalf("render %q made a <%s> element", s, tok.Data)
				}
				anchors++
			}
		}
		if anchors != links {
			t.Fatalf("render %q: %d links, %d <a> elements", s, links, anchors)
		}
		if utf8.ValidString(s) && !strings.ContainsAny(s, "\x00\r") && text.String() != s {
			t.Fatalf("render %q shows %q", s, text.String())
		}
	})
}
