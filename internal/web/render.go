package web

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"math"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

// renderer holds one template set per page: the layout and partials plus
// that page's file (templates/pages/NAME.html defines "title" and "content").
type renderer struct {
	pages map[string]*template.Template
}

// templateFuncs are the helpers every template may call; now is the clock
// "timeago" measures from.
func templateFuncs(now func() time.Time) template.FuncMap {
	return template.FuncMap{
		"timeago":  func(t time.Time) string { return timeAgo(now().Sub(t)) },
		"duration": formatDuration,
		"count":    formatCount,
		"plural": func(n int64, one, many string) string {
			if n == 1 {
				return one
			}
			return many
		},
		"add":     func(a, b int) int { return a + b },
		"isoTime": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"date":    func(t time.Time) string { return t.UTC().Format("Jan 2, 2006") },
		"linkify": linkify,
	}
}

func newRenderer(fsys fs.FS, now func() time.Time) (*renderer, error) {
	base := template.New("").Funcs(templateFuncs(now))
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
	r := &renderer{pages: map[string]*template.Template{}}
	for _, f := range files {
		t, err := template.Must(base.Clone()).ParseFS(fsys, f)
		if err != nil {
			return nil, fmt.Errorf("templates: %s: %w", f, err)
		}
		r.pages[strings.TrimSuffix(path.Base(f), ".html")] = t
	}
	return r, nil
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
	t, ok := s.render.pages[page]
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
	p.BaseURL = s.cfg.BaseURL
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
		s.log.ErrorContext(c, "template failed", "page", page, "err", err)
		c.String(http.StatusInternalServerError, "internal error")
		return
	}
	c.Header("Cache-Control", "no-store")
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
}

// timeAgo renders an age d as "3 days ago".
func timeAgo(d time.Duration) string {
	unit := func(n int64, name string) string {
		if n == 1 {
			return "1 " + name + " ago"
		}
		return fmt.Sprintf("%d %ss ago", n, name)
	}
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return unit(int64(d/time.Minute), "minute")
	case d < 24*time.Hour:
		return unit(int64(d/time.Hour), "hour")
	case d < 30*24*time.Hour:
		return unit(int64(d/(24*time.Hour)), "day")
	case d < 365*24*time.Hour:
		return unit(int64(d/(30*24*time.Hour)), "month")
	}
	return unit(int64(d/(365*24*time.Hour)), "year")
}

// formatDuration renders seconds as m:ss or h:mm:ss.
func formatDuration(sec float64) string {
	s := int64(math.Round(sec))
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

// formatCount renders 1234567 as "1.2M".
func formatCount(n int64) string {
	switch {
	case n < 1000:
		return fmt.Sprint(n)
	case n < 10_000:
		return trimZero(fmt.Sprintf("%.1f", float64(n)/1000)) + "K"
	case n < 1_000_000:
		return fmt.Sprintf("%dK", n/1000)
	case n < 10_000_000:
		return trimZero(fmt.Sprintf("%.1f", float64(n)/1e6)) + "M"
	case n < 1_000_000_000:
		return fmt.Sprintf("%dM", n/1_000_000)
	}
	return trimZero(fmt.Sprintf("%.1f", float64(n)/1e9)) + "B"
}

func trimZero(s string) string { return strings.TrimSuffix(s, ".0") }
