// Package web is UCC's HTTP layer: gin routes, middleware, handlers and page
// rendering. Handlers parse input, call a domain service and render a
// template or JSON; they run no SQL and no Redis commands.
package web

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/ucc-video/ucc/internal/accounts"
	"github.com/ucc-video/ucc/internal/community"
	"github.com/ucc-video/ucc/internal/i18n"
	"github.com/ucc-video/ucc/internal/revenue"
	"github.com/ucc-video/ucc/internal/uploads"
	"github.com/ucc-video/ucc/internal/videos"
	"github.com/ucc-video/ucc/internal/views"
)

// Config holds the settings the web layer needs.
type Config struct {
	BaseURL        string         // public URL, e.g. https://video.example.com
	SecretKey      []byte         // signs CSRF tokens and viewer cookies
	CookieSecure   bool           // mark cookies Secure (TLS)
	TrustedProxies []netip.Prefix // proxies whose X-Forwarded-For is believed
	MediaOrigins   []string       // extra origins media may load from (the S3 endpoint)
	// BodyReadTimeout bounds how long a request body outside the upload
	// routes may take to arrive (default DefaultBodyReadTimeout).
	BodyReadTimeout time.Duration
	// RequestTimeout bounds a request's work outside streaming routes
	// (default RequestTimeout).
	RequestTimeout time.Duration
	Version        string
	// Language is the language of readers who chose none and whose browser
	// asks for none UCC speaks (UCC_DEFAULT_LANGUAGE; default Korean).
	Language string
	// SearchRateLimit and ListRateLimit are the searches and video list
	// pages one client network may ask for per minute (0: no limit).
	SearchRateLimit, ListRateLimit int
	// MetricsToken lets GET /metrics on this listener answer a caller that
	// sends it as a bearer token, and /readyz show the checks' errors;
	// "" serves no metrics here (UCC_METRICS_TOKEN).
	MetricsToken string
}

// ReadyCheck is one dependency /readyz asks.
type ReadyCheck struct {
	Name  string
	Check func(context.Context) error
}

// Deps are what the handlers call. Every field is required: New names the
// first one missing.
type Deps struct {
	Log         *slog.Logger
	Now         func() time.Time // the clock pages and cookies read
	Accounts    *accounts.Service
	Videos      *videos.Service
	Community   *community.Service // lists, search, comments, likes, subscriptions
	Uploads     *uploads.Service   // resumable (tus) uploads
	Views       *views.Service     // view counting
	Revenue     *revenue.Service   // revenue sharing
	Registry    *prometheus.Registry
	ReadyChecks []ReadyCheck   // what /readyz asks (at least one)
	Requests    RequestLimiter // per-network request limits (storage/redis.RequestLimiter)
	Templates   fs.FS
	Static      fs.FS
}

// missing names the first required field of d that is not set ("" when all are).
func (d Deps) missing() string {
	for _, f := range []struct {
		name  string
		unset bool
	}{
		{"Log", d.Log == nil}, {"Now", d.Now == nil}, {"Accounts", d.Accounts == nil}, {"Videos", d.Videos == nil},
		{"Community", d.Community == nil}, {"Uploads", d.Uploads == nil}, {"Views", d.Views == nil},
		{"Revenue", d.Revenue == nil}, {"Registry", d.Registry == nil}, {"ReadyChecks", len(d.ReadyChecks) == 0},
		{"Requests", d.Requests == nil}, {"Templates", d.Templates == nil}, {"Static", d.Static == nil},
	} {
		if f.unset {
			return f.name
		}
	}
	return ""
}

// Server is the HTTP handler of UCC.
type Server struct {
	cfg     Config
	deps    Deps
	log     *slog.Logger
	render  *renderer
	cat     *i18n.Catalog
	engine  *gin.Engine
	metrics *httpMetrics
	csrf    *http.CrossOriginProtection
	now     func() time.Time
	// authn and csrfCheck are the authentication and CSRF middleware every
	// route runs after its body rule.
	authn, csrfCheck gin.HandlerFunc
}

// New builds the server and its routes, or says which dependency is missing.
func New(cfg Config, deps Deps) (*Server, error) {
	if name := deps.missing(); name != "" {
		return nil, fmt.Errorf("web: Deps.%s is required", name)
	}
	cat, err := i18n.Load(i18n.Options{Default: cfg.Language, OnMissing: func(lang, key string) {
		deps.Log.Warn("message missing from the catalog", "lang", lang, "key", key)
	}})
	if err != nil {
		return nil, err
	}
	r, err := newRenderer(deps.Templates, cat, deps.Now)
	if err != nil {
		return nil, err
	}
	if _, err := openAPIDoc(); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, deps: deps, log: deps.Log, render: r, cat: cat, now: deps.Now}
	s.metrics = newHTTPMetrics(deps.Registry)
	s.csrf = http.NewCrossOriginProtection()
	if u, err := url.Parse(cfg.BaseURL); err == nil && u.Host != "" {
		_ = s.csrf.AddTrustedOrigin(u.Scheme + "://" + u.Host)
	}
	e := gin.New()
	e.ContextWithFallback = true
	e.RemoveExtraSlash = true
	proxies := make([]string, 0, len(cfg.TrustedProxies))
	for _, p := range cfg.TrustedProxies {
		proxies = append(proxies, p.String())
	}
	if err := e.SetTrustedProxies(proxies); err != nil {
		return nil, err
	}
	if len(proxies) == 0 {
		e.ForwardedByClientIP = false
	}
	s.engine = e
	s.routes()
	return s, nil
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.engine.ServeHTTP(w, r) }
