package web

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/ucc-video/ucc/internal/accounts"
	"github.com/ucc-video/ucc/internal/errs"
)

// The account's sessions and tokens (docs/api-accounts.md): list them,
// revoke one or all, change the password (which ends all the others).

// credential is what the request signed in with: its session cookie or its
// bearer token.
func credential(c *gin.Context) accounts.Credential {
	switch via, _ := c.Get(ctxAuthVia); via {
	case "token":
		return accounts.Credential{Token: strings.TrimSpace(strings.TrimPrefix(c.GetHeader("Authorization"), "Bearer "))}
	case "session":
		tok, _ := c.Get(ctxSession)
		s, _ := tok.(string)
		return accounts.Credential{Session: s}
	}
	return accounts.Credential{}
}

var errBadListID = errs.New(errs.ErrNotFound, "not_found", "there is nothing at this address")

// pathID reads the :id of a session or token route; a malformed one is the
// ordinary 404.
func pathID(c *gin.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, errBadListID
	}
	return id, nil
}

var errBadCursor = errs.Invalid("invalid_cursor", "the cursor is not valid; start again without it")

// listCursor reads ?cursor= of the session and token lists ("" is the start).
func listCursor(c *gin.Context) (int64, error) {
	v := c.Query("cursor")
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return 0, errBadCursor
	}
	return n, nil
}

func cursorText(n int64) string {
	if n == 0 {
		return ""
	}
	return strconv.FormatInt(n, 10)
}

func (s *Server) apiSessions(c *gin.Context) {
	credentialPage(s, c, "sessions", s.deps.Accounts.Sessions)
}

func (s *Server) apiTokens(c *gin.Context) {
	credentialPage(s, c, "tokens", s.deps.Accounts.Tokens)
}

// credentialPage answers one page of the signed-in user's sessions or
// tokens under name, with the cursor of the next page; an empty list is
// [], never null.
func credentialPage[T any](s *Server, c *gin.Context, name string,
	list func(ctx context.Context, userID int64, cur accounts.Credential, before int64) ([]T, int64, error)) {
	before, err := listCursor(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	page, next, err := list(c, currentUser(c).ID, credential(c), before)
	if err != nil {
		s.fail(c, err)
		return
	}
	if page == nil {
		page = []T{}
	}
	c.JSON(http.StatusOK, gin.H{name: page, "next_cursor": cursorText(next)})
}

func (s *Server) apiRevokeSession(c *gin.Context) { s.revokeOne(c, s.deps.Accounts.RevokeSession) }

func (s *Server) apiRevokeTokenID(c *gin.Context) { s.revokeOne(c, s.deps.Accounts.RevokeTokenID) }

func (s *Server) apiRevokeSessions(c *gin.Context) {
	s.revokeOthers(c, "revoked_sessions", s.deps.Accounts.RevokeOtherSessions)
}

func (s *Server) apiRevokeTokens(c *gin.Context) {
	s.revokeOthers(c, "revoked_tokens", s.deps.Accounts.RevokeOtherTokens)
}

// revokeOne ends the signed-in user's session or token named by the path:
// 204, or the error (404 when it is not theirs).
func (s *Server) revokeOne(c *gin.Context, revoke func(ctx context.Context, userID, id int64) error) {
	id, err := pathID(c)
	if err == nil {
		err = revoke(c, currentUser(c).ID, id)
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// revokeOthers ends all the user's sessions or tokens but the credential
// of this request, answering how many under name.
func (s *Server) revokeOthers(c *gin.Context, name string, revoke func(ctx context.Context, userID int64, cur accounts.Credential) (int64, error)) {
	n, err := revoke(c, currentUser(c).ID, credential(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{name: n})
}

// passwordChange is the body of POST /api/v1/me/password.
type passwordChange struct {
	CurrentPassword string `json:"current_password"`
	NewPassword     string `json:"new_password"`
}

func (s *Server) apiChangePassword(c *gin.Context) {
	var in passwordChange
	if err := bindJSON(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	r, err := s.deps.Accounts.ChangePassword(c, *currentUser(c), in.CurrentPassword, in.NewPassword, c.ClientIP(), credential(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, r)
}

// securityData is what templates/pages/settings_security.html receives.
type securityData struct {
	Sessions []accounts.Session
	Tokens   []accounts.Token
	// More say a list holds more than one page shows (the API pages on).
	MoreSessions, MoreTokens bool
}

func (s *Server) securityData(c *gin.Context) (securityData, error) {
	u, cur := currentUser(c), credential(c)
	var d securityData
	var next int64
	var err error
	if d.Sessions, next, err = s.deps.Accounts.Sessions(c, u.ID, cur, 0); err != nil {
		return d, err
	}
	d.MoreSessions = next != 0
	if d.Tokens, next, err = s.deps.Accounts.Tokens(c, u.ID, cur, 0); err != nil {
		return d, err
	}
	d.MoreTokens = next != 0
	return d, nil
}

// securityPage lists the account's sessions and tokens, with a revoke
// button on each, and the password form.
func (s *Server) securityPage(c *gin.Context) {
	d, err := s.securityData(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.html(c, http.StatusOK, "settings_security", s.t(c, "security.title"), d)
}

const securityPath = "/settings/security"

func (s *Server) securityDone(c *gin.Context, key string, params ...any) {
	s.redirectFlash(c, securityPath, flash{Kind: flashNotice, Message: s.t(c, key, params...)})
}

// securityRevokeSession ends one session; ending the current one signs
// the browser out.
func (s *Server) securityRevokeSession(c *gin.Context) {
	id, err := pathID(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	current := false
	if list, _, err := s.deps.Accounts.Sessions(c, currentUser(c).ID, credential(c), id+1); err == nil && len(list) > 0 && list[0].ID == id {
		current = list[0].Current
	}
	if err := s.deps.Accounts.RevokeSession(c, currentUser(c).ID, id); err != nil {
		s.fail(c, err)
		return
	}
	if current {
		s.clearSessionCookie(c)
		c.Redirect(http.StatusSeeOther, "/")
		return
	}
	s.securityDone(c, "security.session_revoked")
}

func (s *Server) securityRevokeOtherSessions(c *gin.Context) {
	n, err := s.deps.Accounts.RevokeOtherSessions(c, currentUser(c).ID, credential(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	s.redirectFlash(c, securityPath, flash{Kind: flashNotice, Message: s.loc(c).N("security.sessions_revoked", n)})
}

func (s *Server) securityRevokeToken(c *gin.Context) {
	id, err := pathID(c)
	if err == nil {
		err = s.deps.Accounts.RevokeTokenID(c, currentUser(c).ID, id)
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	s.securityDone(c, "security.token_revoked")
}

func (s *Server) securityRevokeTokens(c *gin.Context) {
	n, err := s.deps.Accounts.RevokeOtherTokens(c, currentUser(c).ID, credential(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	s.redirectFlash(c, securityPath, flash{Kind: flashNotice, Message: s.loc(c).N("security.tokens_revoked", n)})
}

func (s *Server) securityPassword(c *gin.Context) {
	r, err := s.deps.Accounts.ChangePassword(c, *currentUser(c), c.PostForm("current_password"), c.PostForm("new_password"),
		c.ClientIP(), credential(c))
	if err != nil {
		d, derr := s.securityData(c)
		if derr != nil {
			s.fail(c, derr)
			return
		}
		s.formFailed(c, "settings_security", s.t(c, "security.title"), d, err)
		return
	}
	l := s.loc(c)
	s.securityDone(c, "security.password_changed", "Sessions", l.N("security.n_sessions", r.Sessions), "Tokens", l.N("security.n_tokens", r.Tokens))
}
