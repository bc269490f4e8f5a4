package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ucc-video/ucc/internal/accounts"
	"github.com/ucc-video/ucc/internal/errs"
)

const (
	sessionCookie = "ucc_session"
	ctxUser       = "ucc.user"
	ctxAuthVia    = "ucc.auth"
	ctxSession    = "ucc.session"
)

// recoverer turns a panic into a 500 answer without leaking a stack trace to
// the client; the stack goes to the log.
func (s *Server) recoverer() gin.HandlerFunc {
	return gin.CustomRecoveryWithWriter(nil, func(c *gin.Context, rec any) {
		if err, ok := rec.(error); ok && errors.Is(err, http.ErrAbortHandler) {
			panic(rec)
		}
		s.fail(c, fmt.Errorf("panic: %v", rec))
	})
}

// requestLog writes one slog line per request and records metrics.
func (s *Server) requestLog() gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		d := time.Since(start)
		route := c.FullPath()
		if route == "" {
			route = "unmatched"
		}
		status := c.Writer.Status()
		s.metrics.observe(c.Request.Method, route, status, d)
		attrs := []any{"method", c.Request.Method, "route", route, "path", c.Request.URL.Path,
			"status", status, "duration_ms", float64(d.Microseconds()) / 1000, "bytes", c.Writer.Size(), "ip", c.ClientIP()}
		if u := currentUser(c); u != nil {
			attrs = append(attrs, "user_id", u.ID)
		}
		s.log.InfoContext(c, "request", attrs...)
	}
}

// securityHeaders sets CSP and friends on every answer.
func (s *Server) securityHeaders() gin.HandlerFunc {
	media := strings.Join(append([]string{"'self'", "blob:"}, s.cfg.MediaOrigins...), " ")
	img := strings.Join(append([]string{"'self'", "data:"}, s.cfg.MediaOrigins...), " ")
	csp := "default-src 'self'; script-src 'self'; style-src 'self'; img-src " + img +
		"; media-src " + media + "; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
	return func(c *gin.Context) {
		h := c.Writer.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		if s.cfg.CookieSecure {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		c.Next()
	}
}

// authenticate loads the user from a bearer token or the session cookie.
// A bad bearer token is refused; a stale cookie is dropped.
func (s *Server) authenticate() gin.HandlerFunc {
	return func(c *gin.Context) {
		if h := c.GetHeader("Authorization"); h != "" {
			if s.operator(c) {
				c.Next() // the metrics token (GET /metrics, /readyz): no user
				return
			}
			tok, ok := strings.CutPrefix(h, "Bearer ")
			if !ok {
				s.fail(c, errs.NewVariant(errs.ErrUnauthorized, "invalid_token", "header", "the Authorization header must be \"Bearer <token>\""))
				return
			}
			u, err := s.deps.Accounts.TokenUser(c, strings.TrimSpace(tok))
			if err != nil {
				if errors.Is(err, errs.ErrNotFound) || errors.Is(err, errs.ErrUnauthorized) {
					err = errs.New(errs.ErrUnauthorized, "invalid_token", "the API token is invalid or revoked")
				}
				s.fail(c, err)
				return
			}
			c.Set(ctxUser, &u)
			c.Set(ctxAuthVia, "token")
			s.noteSignedIn(c, u.ID)
			c.Next()
			return
		}
		if tok, err := c.Cookie(sessionCookie); err == nil && tok != "" {
			u, err := s.deps.Accounts.SessionUser(c, tok)
			switch {
			case err == nil:
				c.Set(ctxUser, &u)
				c.Set(ctxAuthVia, "session")
				c.Set(ctxSession, tok)
				s.noteSignedIn(c, u.ID)
			case errors.Is(err, errs.ErrNotFound) || errors.Is(err, errs.ErrUnauthorized):
				s.clearSessionCookie(c)
			default:
				// The session store is down: go on anonymous so public pages
				// still render; actions needing a user will say why.
				s.log.WarnContext(c, "session lookup failed", "err", err)
			}
		}
		c.Next()
	}
}

// noteSignedIn tells view counting which network a signed-in user is on, so
// that their own plays from there while signed out, or on a second account,
// are not counted (views.Service.SignedIn: one Redis write per user and
// network every few minutes at most).
func (s *Server) noteSignedIn(c *gin.Context, userID int64) {
	if s.deps.Views != nil {
		s.deps.Views.SignedIn(c, userID, c.ClientIP())
	}
}

// currentUser returns the signed-in user or nil.
func currentUser(c *gin.Context) *accounts.User {
	if v, ok := c.Get(ctxUser); ok {
		return v.(*accounts.User)
	}
	return nil
}

// requireUser stops anonymous requests: 401 for the API, a redirect to the
// log-in page for pages.
func (s *Server) requireUser(c *gin.Context) {
	if currentUser(c) != nil {
		return
	}
	if wantsJSON(c) {
		s.fail(c, errs.NewVariant(errs.ErrUnauthorized, "unauthorized", "api", "sign in first (session cookie or bearer token)"))
		return
	}
	c.Redirect(http.StatusSeeOther, "/login?next="+url.QueryEscape(c.Request.URL.RequestURI()))
	c.Abort()
}

// requireRole lets through only users with one of roles (after requireUser).
func (s *Server) requireRole(roles ...accounts.Role) gin.HandlerFunc {
	return func(c *gin.Context) {
		u := currentUser(c)
		if u == nil {
			s.requireUser(c)
			return
		}
		for _, r := range roles {
			if u.Role == r {
				return
			}
		}
		s.fail(c, errs.NewVariant(errs.ErrForbidden, "forbidden", "role", "your account's role may not do this"))
	}
}

// csrfToken is the per-session token pages embed in forms, for browsers
// that send neither Origin nor Sec-Fetch-Site.
func (s *Server) csrfToken(c *gin.Context) string {
	tok, _ := c.Get(ctxSession)
	t, _ := tok.(string)
	if t == "" {
		return ""
	}
	m := hmac.New(sha256.New, s.cfg.SecretKey)
	m.Write([]byte("csrf:" + t))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// csrfProtect refuses cross-origin state-changing browser requests
// (net/http's CrossOriginProtection: Sec-Fetch-Site, then Origin vs Host),
// and, for a cookie-authenticated request that carries neither header,
// demands the session's CSRF token. Bearer-token requests carry no ambient
// authority and pass.
func (s *Server) csrfProtect() gin.HandlerFunc {
	return func(c *gin.Context) {
		switch c.Request.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			c.Next()
			return
		}
		if via, _ := c.Get(ctxAuthVia); via == "token" {
			c.Next()
			return
		}
		if err := s.csrf.Check(c.Request); err != nil {
			s.fail(c, errs.New(errs.ErrForbidden, "csrf", "cross-site request refused; reload the page and try again"))
			return
		}
		if via, _ := c.Get(ctxAuthVia); via == "session" && c.GetHeader("Sec-Fetch-Site") == "" && c.GetHeader("Origin") == "" {
			got := c.GetHeader("X-CSRF-Token")
			if got == "" && strings.HasPrefix(c.ContentType(), "application/x-www-form-urlencoded") {
				got = c.PostForm("csrf_token")
			}
			if !hmac.Equal([]byte(got), []byte(s.csrfToken(c))) {
				s.fail(c, errs.NewVariant(errs.ErrForbidden, "csrf", "token", "missing or wrong CSRF token; reload the page and try again"))
				return
			}
		}
		c.Next()
	}
}

func (s *Server) setSessionCookie(c *gin.Context, tok string, expires time.Time) {
	http.SetCookie(c.Writer, &http.Cookie{Name: sessionCookie, Value: tok, Path: "/", Expires: expires,
		MaxAge: int(expires.Sub(s.now()).Seconds()), HttpOnly: true, Secure: s.cfg.CookieSecure, SameSite: http.SameSiteLaxMode})
}

func (s *Server) clearSessionCookie(c *gin.Context) {
	http.SetCookie(c.Writer, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: s.cfg.CookieSecure, SameSite: http.SameSiteLaxMode})
}
