package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/ucc-video/ucc/internal/accounts"
	"github.com/ucc-video/ucc/internal/errs"
)

type credentials struct {
	Email       string `json:"email"`
	Password    string `json:"password"`
	DisplayName string `json:"display_name"`
	Name        string `json:"name"` // token label
}

func (s *Server) apiSignup(c *gin.Context) {
	var in credentials
	if err := bindJSON(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	u, err := s.deps.Accounts.SignupFrom(c, c.ClientIP(), in.Email, in.Password, in.DisplayName)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, gin.H{"user": u})
}

func (s *Server) apiCreateToken(c *gin.Context) {
	var in credentials
	if err := bindJSON(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	u, err := s.deps.Accounts.Authenticate(c, in.Email, in.Password, c.ClientIP())
	if err != nil {
		s.fail(c, err)
		return
	}
	tok, err := s.deps.Accounts.IssueTokenFrom(c, u.ID, in.Name, c.GetHeader("User-Agent"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, gin.H{"token": tok, "user": u})
}

func (s *Server) apiRevokeToken(c *gin.Context) {
	if via, _ := c.Get(ctxAuthVia); via != "token" {
		s.fail(c, errs.Invalid("no_token", "this request is not authenticated by a bearer token"))
		return
	}
	tok := strings.TrimSpace(strings.TrimPrefix(c.GetHeader("Authorization"), "Bearer "))
	if err := s.deps.Accounts.RevokeToken(c, tok); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (s *Server) apiMe(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"user": currentUser(c)})
}

// mePatch is what PATCH /api/v1/me may change; an absent field stays.
type mePatch struct {
	// Language is "ko", "en", or "" to forget the choice.
	Language *string `json:"language"`
}

// apiPatchMe changes the user's own settings: their language.
func (s *Server) apiPatchMe(c *gin.Context) {
	var in mePatch
	if err := bindJSON(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	u := *currentUser(c)
	if in.Language != nil {
		var err error
		if u, err = s.deps.Accounts.SetLanguage(c, u.ID, *in.Language); err != nil {
			s.fail(c, err)
			return
		}
		c.Set(ctxUser, &u) // the answer's own messages follow the new choice
	}
	c.JSON(http.StatusOK, gin.H{"user": u})
}

// authForm is what the sign-up and log-in forms hold.
type authForm struct {
	Email       string
	DisplayName string
	Next        string
}

func (s *Server) signupPage(c *gin.Context) {
	s.html(c, http.StatusOK, "signup", s.t(c, "signup.title"), authForm{Next: safeNext(c.Query("next"))})
}

func (s *Server) loginPage(c *gin.Context) {
	s.html(c, http.StatusOK, "login", s.t(c, "login.title"), authForm{Next: safeNext(c.Query("next"))})
}

func (s *Server) signupSubmit(c *gin.Context) {
	f := authForm{Email: c.PostForm("email"), DisplayName: c.PostForm("display_name"), Next: safeNext(c.PostForm("next"))}
	u, err := s.deps.Accounts.SignupFrom(c, c.ClientIP(), f.Email, c.PostForm("password"), f.DisplayName)
	if err != nil {
		s.formFailed(c, "signup", s.t(c, "signup.title"), f, err)
		return
	}
	s.startSession(c, u, f.Next)
}

func (s *Server) loginSubmit(c *gin.Context) {
	f := authForm{Email: c.PostForm("email"), Next: safeNext(c.PostForm("next"))}
	u, err := s.deps.Accounts.Authenticate(c, f.Email, c.PostForm("password"), c.ClientIP())
	if err != nil {
		s.formFailed(c, "login", s.t(c, "login.title"), f, err)
		return
	}
	s.startSession(c, u, f.Next)
}

// startSession rotates the session: the old one (if any) ends, a new one starts.
func (s *Server) startSession(c *gin.Context, u accounts.User, next string) {
	if old, err := c.Cookie(sessionCookie); err == nil && old != "" {
		_ = s.deps.Accounts.EndSession(c, old)
	}
	tok, exp, err := s.deps.Accounts.StartSessionFrom(c, u.ID, c.GetHeader("User-Agent"))
	if err != nil {
		s.fail(c, err)
		return
	}
	s.setSessionCookie(c, tok, exp)
	c.Redirect(http.StatusSeeOther, next)
}

func (s *Server) logout(c *gin.Context) {
	if tok, err := c.Cookie(sessionCookie); err == nil && tok != "" {
		if err := s.deps.Accounts.EndSession(c, tok); err != nil && !errors.Is(err, errs.ErrNotFound) {
			s.fail(c, err)
			return
		}
	}
	s.clearSessionCookie(c)
	c.Redirect(http.StatusSeeOther, "/")
}

// safeNext keeps redirects on this site: only local absolute paths pass.
// Browsers drop tabs and line breaks from URLs and read "\\" as "/", so
// "/\t/evil.example" would leave the site: any control character fails.
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") ||
		strings.IndexFunc(next, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0 {
		return "/"
	}
	return next
}
