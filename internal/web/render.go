package web

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ucc-video/ucc/internal/i18n"
	"github.com/ucc-video/ucc/internal/videos"
)

// renderer holds one template set per language and page: the layout and
// partials plus that page's file (templates/pages/NAME.html defines
// "content"), with the template functions speaking that language.
type renderer struct {
	pages map[string]map[string]*template.Template // language → page → template
}

// templateFuncs are the helpers every template may call, in l's language;
// now is the clock "timeago" measures from.
//
//	t "key" ["Name" value]...      the catalog message key, with its parameters
//	tn "key" n ["Name" value]...   the plural message for n, {{.Count}} n in full (1,234)
//	tc "key" n ["Name" value]...   the plural message for n, {{.Count}} n short (1.2K, 1.2만)
//	thtml "key" ...                t for a catalog message holding markup (parameters are escaped)
//	count n, number n              n short / in full
//	date t, shortDate t, timeago t, isoTime t
//	duration seconds, size bytes, money "12.34" "USD"
//	script "js.prefix"             the messages for the page's JavaScript (see layout's i18n block)
func templateFuncs(l *i18n.Localizer, now func() time.Time) template.FuncMap {
	return template.FuncMap{
		"t":  l.T,
		"tn": func(key string, n any, params ...any) string { return l.N(key, toInt64(n), params...) },
		"tc": func(key string, n any, params ...any) string { return l.C(key, toInt64(n), params...) },
		"thtml": func(key string, params ...any) template.HTML {
			esc := make([]any, len(params))
			for i, p := range params {
				if i%2 == 1 {
					p = template.HTMLEscapeString(fmt.Sprint(p))
				}
				esc[i] = p
			}
			return template.HTML(l.T(key, esc...)) // the catalog is UCC's own text; parameters are escaped
		},
		"count":      func(n any) string { return l.Compact(toInt64(n)) },
		"number":     func(n any) string { return l.Number(toInt64(n)) },
		"timeago":    func(t time.Time) string { return l.Ago(now().Sub(t)) },
		"duration":   l.Clock,
		"size":       func(n any) string { return l.Size(toInt64(n)) },
		"money":      l.Money,
		"date":       l.Date,
		"shortDate":  l.ShortDate,
		"script":     l.Script,
		"status":     func(v any) string { s := fmt.Sprint(v); return wordOf(l, statusKey(s), s) },
		"visibility": func(v any) string { s := fmt.Sprint(v); return wordOf(l, visibilityKey(s), s) },
		"action":     func(v any) string { s := fmt.Sprint(v); return wordOf(l, auditActionKey(s), s) },
		"failure":    func(reason string) string { return l.Error(videos.Failure(reason)) },
		"add":        func(a, b int) int { return a + b },
		"isoTime":    func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"linkify":    linkify,
	}
}

// toInt64 is a template's integer argument (int, int64, ...) as an int64.
func toInt64(n any) int64 {
	switch x := n.(type) {
	case int:
		return int64(x)
	case int32:
		return int64(x)
	case int64:
		return x
	case float64:
		return int64(x)
	}
	return 0
}

// wordOf is the catalog's word for a stored value (key), or the value
// itself when it has none (key "").
func wordOf(l *i18n.Localizer, key, value string) string {
	if key == "" {
		return value
	}
	return l.T(key)
}

// statusKey is the catalog key of a status word: a video's, a revenue
// period's or a payout line's.
func statusKey(s string) string {
	switch s {
	case "uploading":
		return "status.uploading"
	case "processing":
		return "status.processing"
	case "ready":
		return "status.ready"
	case "failed":
		return "status.failed"
	case "open":
		return "status.open"
	case "calculated":
		return "status.calculated"
	case "approved":
		return "status.approved"
	case "paid":
		return "status.paid"
	case "unpaid":
		return "status.unpaid"
	case "pending":
		return "status.pending"
	case "carried_over":
		return "status.carried_over"
	case "ineligible":
		return "status.ineligible"
	case "nothing_due":
		return "status.nothing_due"
	}
	return ""
}

// visibilityKey is the catalog key of a video's visibility.
func visibilityKey(s string) string {
	switch s {
	case "public":
		return "visibility.public"
	case "unlisted":
		return "visibility.unlisted"
	case "private":
		return "visibility.private"
	}
	return ""
}

// auditActionKey is the catalog key of a finance audit log action.
func auditActionKey(s string) string {
	switch s {
	case "create":
		return "audit.create"
	case "calculate":
		return "audit.calculate"
	case "approve":
		return "audit.approve"
	case "mark_paid":
		return "audit.mark_paid"
	case "adjust":
		return "audit.adjust"
	case "late_views":
		return "audit.late_views"
	}
	return ""
}

func newRenderer(fsys fs.FS, cat *i18n.Catalog, now func() time.Time) (*renderer, error) {
	r := &renderer{pages: map[string]map[string]*template.Template{}}
	for _, lang := range i18n.Languages() {
		pages, err := parsePages(fsys, templateFuncs(cat.Localizer(lang), now))
		if err != nil {
			return nil, err
		}
		r.pages[lang] = pages
	}
	return r, nil
}

// parsePages parses every page with the layout and partials and funcs.
func parsePages(fsys fs.FS, funcs template.FuncMap) (map[string]*template.Template, error) {
	base := template.New("").Funcs(funcs)
	var err error
	if base, err = base.ParseFS(fsys, "layout.html"); err != nil {
		return nil, fmt.Errorf("templates: %w", err)
	}
	if parts, _ := fs.Glob(fsys, "partials/*.html"); len(parts) > 0 {
		if base, err = base.ParseFS(fsys, "partials/*.html"); err != nil {
			return nil, fmt.Errorf("templates: %w", err)
		}
	}
	files, err := fs.Glob(fsys, "pages/*.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, f := range files {
		t, err := template.Must(base.Clone()).ParseFS(fsys, f)
		if err != nil {
			return nil, fmt.Errorf("templates: %s: %w", f, err)
		}
		pages[strings.TrimSuffix(path.Base(f), ".html")] = t
	}
	return pages, nil
}

// Page is what every page template receives as ".".
type Page struct {
	Title       string
	Description string // meta description / Open Graph
	User        *userView
	CSRF        string
	Path        string
	BaseURL     string
	Data        any
	OG          map[string]string // extra Open Graph properties (og:image, og:video, ...)
	// Flash is the message about the person's last form: set by a handler
	// that shows a form again with its error, else taken from the flash
	// cookie a form's redirect set.
	Flash *flash
	// Lang is the page's language code (<html lang>); Here is the page's
	// URL, where the language switcher comes back to.
	Lang, Here string
}

type userView struct {
	ID          int64
	DisplayName string
	Role        string
	IsCreator   bool
	IsFinance   bool
}

// html renders page with data, buffered so a template error never sends half a page.
func (s *Server) html(c *gin.Context, status int, page, title string, data any) {
	s.htmlPage(c, status, page, Page{Title: title, Data: data})
}

// htmlPage renders a page with full control over the Page fields.
func (s *Server) htmlPage(c *gin.Context, status int, page string, p Page) {
	lang := s.language(c)
	t, ok := s.render.pages[lang][page]
	if !ok {
		s.log.ErrorContext(c, "missing template", "page", page)
		c.String(http.StatusInternalServerError, "internal error")
		return
	}
	if u := currentUser(c); u != nil {
		p.User = &userView{ID: u.ID, DisplayName: u.DisplayName, Role: string(u.Role),
			IsCreator: u.Role == "creator" || u.Role == "admin", IsFinance: u.IsFinance()}
	}
	if p.Flash == nil {
		p.Flash = s.takeFlash(c)
	}
	p.CSRF = s.csrfToken(c)
	p.Path = c.Request.URL.Path
	p.Lang, p.Here = lang, c.Request.URL.RequestURI()
	p.BaseURL = s.cfg.BaseURL
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
		s.log.ErrorContext(c, "template failed", "page", page, "err", err)
		c.String(http.StatusInternalServerError, "internal error")
		return
	}
	c.Header("Cache-Control", "no-store")
	c.Header("Content-Language", lang)
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
}
