package web

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ucc-video/ucc/internal/accounts"
	"github.com/ucc-video/ucc/internal/errs"
	"github.com/ucc-video/ucc/internal/i18n"
)

// The language of an answer is, in order: the signed-in user's saved
// choice, the language cookie the footer's switcher sets, the best match of
// Accept-Language among the languages UCC speaks, and Config.Language.
// Every answer that may differ by language says so (Vary), so a cache
// never hands a Korean page to an English reader or back.

// langCookie holds the language a reader chose with the switcher.
const langCookie = "ucc_lang"

// langCookieAge is how long the switcher's choice is remembered.
const langCookieAge = 365 * 24 * time.Hour

// language is the request's language code.
func (s *Server) language(c *gin.Context) string {
	if u := currentUser(c); u != nil && i18n.Supported(u.Language) {
		return u.Language
	}
	if v, err := c.Cookie(langCookie); err == nil && i18n.Supported(v) {
		return v
	}
	if l := s.cat.Negotiate(c.GetHeader("Accept-Language")); l != "" {
		return l
	}
	return s.cat.Default()
}

// loc is the request's localizer.
func (s *Server) loc(c *gin.Context) *i18n.Localizer { return s.cat.Localizer(s.language(c)) }

// t is the catalog message key in the request's language (see i18n.Localizer.T).
func (s *Server) t(c *gin.Context, key string, params ...any) string {
	return s.loc(c).T(key, params...)
}

// varyByLanguage marks every answer but static files and media as
// depending on the language headers.
func (s *Server) varyByLanguage() gin.HandlerFunc {
	return func(c *gin.Context) {
		p := c.Request.URL.Path
		if !strings.HasPrefix(p, "/static/") && !strings.HasPrefix(p, "/media/") {
			c.Writer.Header().Add("Vary", "Accept-Language, Cookie")
		}
		c.Next()
	}
}

// languageSubmit is the footer's switcher (a plain form: it works without
// JavaScript): it remembers the choice in a cookie and, for a signed-in
// user, as their saved preference, then goes back to the page.
func (s *Server) languageSubmit(c *gin.Context) {
	lang := c.PostForm("lang")
	if _, err := accounts.ParseLanguage(lang); err != nil || lang == "" {
		if err == nil {
			err = accounts.ErrNoLanguage
		}
		s.fail(c, err)
		return
	}
	if u := currentUser(c); u != nil {
		if _, err := s.deps.Accounts.SetLanguage(c, u.ID, lang); err != nil {
			s.fail(c, err)
			return
		}
		u.Language = lang
	}
	s.setLanguageCookie(c, lang)
	c.Redirect(http.StatusSeeOther, safeNext(c.PostForm("next")))
}

func (s *Server) setLanguageCookie(c *gin.Context, lang string) {
	http.SetCookie(c.Writer, &http.Cookie{Name: langCookie, Value: lang, Path: "/", MaxAge: int(langCookieAge / time.Second),
		HttpOnly: true, Secure: s.cfg.CookieSecure, SameSite: http.SameSiteLaxMode})
}

// errorText is the message of err (classified as code with the English
// message english) in the request's language.
func (s *Server) errorText(c *gin.Context, err error, code, english string) string {
	l := s.loc(c)
	var e *errs.Error
	if errors.As(err, &e) && e.Code == code {
		return l.Error(e)
	}
	return l.ErrorMessage(code, nil, english)
}

// settingsData is what templates/pages/settings.html receives.
type settingsData struct {
	Language  string   // the saved choice ("" for none)
	Languages []string // the choices
}

// settingsPage shows the account's settings: the language of UCC's pages
// and messages.
func (s *Server) settingsPage(c *gin.Context) {
	s.html(c, http.StatusOK, "settings", s.t(c, "settings.title"), settingsData{Language: currentUser(c).Language, Languages: i18n.Languages()})
}

// settingsSubmit saves the settings form.
func (s *Server) settingsSubmit(c *gin.Context) {
	u, err := s.deps.Accounts.SetLanguage(c, currentUser(c).ID, c.PostForm("language"))
	if err != nil {
		s.formFailed(c, "settings", s.t(c, "settings.title"), settingsData{Language: currentUser(c).Language, Languages: i18n.Languages()}, err)
		return
	}
	c.Set(ctxUser, &u) // the notice is in the language just chosen
	if u.Language != "" {
		s.setLanguageCookie(c, u.Language)
	} else {
		http.SetCookie(c.Writer, &http.Cookie{Name: langCookie, Value: "", Path: "/", MaxAge: -1,
			HttpOnly: true, Secure: s.cfg.CookieSecure, SameSite: http.SameSiteLaxMode})
	}
	s.redirectFlash(c, "/settings", flash{Kind: flashNotice, Message: s.t(c, "settings.saved")})
}
