package accounts

import (
	"context"
	"errors"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/ucc-video/ucc/internal/errs"
)

// Session is a browser session as its owner sees it in their list.
type Session struct {
	ID         int64      `json:"id"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	ExpiresAt  time.Time  `json:"expires_at"`
	UserAgent  string     `json:"user_agent"`
	// Device is a short label made from UserAgent ("Firefox · Linux"), ""
	// when it names nothing known.
	Device string `json:"device"`
	// Current is the session the list was asked for with.
	Current bool `json:"current"`
}

// Token is an API token as its owner sees it in their list (never the
// secret itself).
type Token struct {
	ID         int64      `json:"id"`
	Name       string     `json:"name"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	UserAgent  string     `json:"user_agent"`
	Device     string     `json:"device"`
	Current    bool       `json:"current"`
}

// Revoked counts what a password change or a revoke-all ended.
type Revoked struct {
	Sessions int64 `json:"revoked_sessions"`
	Tokens   int64 `json:"revoked_tokens"`
}

// Credential is what a request signed in with: its session cookie or its
// bearer token (one of them, or neither).
type Credential struct {
	Session, Token string
}

func (c Credential) sessionHash() []byte {
	if c.Session == "" {
		return nil
	}
	return HashSecret(c.Session)
}

func (c Credential) tokenHash() []byte {
	if c.Token == "" {
		return nil
	}
	return HashSecret(c.Token)
}

// ListPage is how many sessions or tokens one page of a list holds.
const ListPage = 50

// Sessions lists the user's unexpired sessions, newest first, from below
// the id before (0: the newest); next is the cursor of the following page
// (0: none). The one cur signed in with is marked current.
func (s *Service) Sessions(ctx context.Context, userID int64, cur Credential, before int64) (list []Session, next int64, err error) {
	list, err = s.store.Sessions(ctx, userID, cur.sessionHash(), s.now(), before, ListPage+1)
	if err != nil {
		return nil, 0, err
	}
	for i := range list {
		list[i].Device = Device(list[i].UserAgent)
	}
	if len(list) > ListPage {
		list = list[:ListPage]
		next = list[ListPage-1].ID
	}
	return list, next, nil
}

// Tokens lists the user's API tokens like Sessions.
func (s *Service) Tokens(ctx context.Context, userID int64, cur Credential, before int64) (list []Token, next int64, err error) {
	list, err = s.store.Tokens(ctx, userID, cur.tokenHash(), before, ListPage+1)
	if err != nil {
		return nil, 0, err
	}
	for i := range list {
		list[i].Device = Device(list[i].UserAgent)
	}
	if len(list) > ListPage {
		list = list[:ListPage]
		next = list[ListPage-1].ID
	}
	return list, next, nil
}

var (
	errNoSession = errs.NewVariant(errs.ErrNotFound, "not_found", "session", "you have no session with this id")
	errNoToken   = errs.NewVariant(errs.ErrNotFound, "not_found", "token", "you have no API token with this id")
)

// RevokeSession ends the user's session id (the current one too, if asked).
func (s *Service) RevokeSession(ctx context.Context, userID, id int64) error {
	return revoked(s.store.DeleteSessionByID(ctx, userID, id), errNoSession)
}

// RevokeOtherSessions ends every session of the user but the one cur
// signed in with (all of them when cur has no session).
func (s *Service) RevokeOtherSessions(ctx context.Context, userID int64, cur Credential) (int64, error) {
	return s.store.DeleteSessions(ctx, userID, cur.sessionHash())
}

// RevokeTokenID revokes the user's token id.
func (s *Service) RevokeTokenID(ctx context.Context, userID, id int64) error {
	return revoked(s.store.DeleteTokenByID(ctx, userID, id), errNoToken)
}

// revoked is a deletion's error for the owner: none of theirs with that id
// is notFound.
func revoked(err, notFound error) error {
	if errors.Is(err, errs.ErrNotFound) {
		return notFound
	}
	return err
}

// RevokeOtherTokens revokes every token of the user but the one cur
// signed in with (all of them when cur has no token).
func (s *Service) RevokeOtherTokens(ctx context.Context, userID int64, cur Credential) (int64, error) {
	return s.store.DeleteTokens(ctx, userID, cur.tokenHash())
}

var errWrongPassword = errs.New(errs.ErrInvalid, "wrong_current_password", "the current password is wrong")

// ChangePassword sets u's password to newPassword once current is right
// (checked like a log-in from clientIP: counted and rate limited). Every
// other session and token of u ends; the credential cur the request came
// with stays.
func (s *Service) ChangePassword(ctx context.Context, u User, current, newPassword, clientIP string, cur Credential) (Revoked, error) {
	if err := ValidatePassword(newPassword); err != nil {
		return Revoked{}, err
	}
	if _, err := s.Authenticate(ctx, u.Email, current, clientIP); err != nil {
		if errors.Is(err, errs.ErrUnauthorized) {
			return Revoked{}, errWrongPassword
		}
		return Revoked{}, err
	}
	hash, err := s.hashPassword(ctx, newPassword)
	if err != nil {
		return Revoked{}, err
	}
	return s.store.SetPassword(ctx, u.ID, hash, cur.sessionHash(), cur.tokenHash())
}

// MaxUserAgentBytes is the most of a User-Agent kept with a session or token.
const MaxUserAgentBytes = 512

// CleanUserAgent makes a User-Agent header fit to store and show: valid
// UTF-8, no control characters, at most MaxUserAgentBytes.
func CleanUserAgent(ua string) string {
	ua = strings.ToValidUTF8(ua, "")
	ua = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, ua)
	ua = strings.TrimSpace(ua)
	for len(ua) > MaxUserAgentBytes {
		_, n := utf8.DecodeLastRuneInString(ua)
		ua = ua[:len(ua)-n]
	}
	return ua
}

// Device is a short, language-neutral label of the browser and system a
// User-Agent names ("Firefox · Linux", "Safari · iOS", "curl"); "" when it
// names nothing known.
func Device(ua string) string {
	var browser, os string
	for _, b := range []struct{ marker, name string }{
		{"Edg/", "Edge"}, {"EdgA/", "Edge"}, {"EdgiOS/", "Edge"}, {"OPR/", "Opera"}, {"SamsungBrowser/", "Samsung Internet"},
		{"Whale/", "Whale"}, {"NAVER(", "NAVER"}, {"KAKAOTALK", "KakaoTalk"}, {"FxiOS/", "Firefox"}, {"Firefox/", "Firefox"},
		{"CriOS/", "Chrome"}, {"Chromium/", "Chromium"}, {"Chrome/", "Chrome"}, {"Version/", "Safari"},
		{"curl/", "curl"}, {"Wget/", "Wget"}, {"Go-http-client/", "Go"}, {"python-requests/", "Python"},
		{"okhttp/", "okhttp"}, {"axios/", "axios"}, {"node-fetch", "Node.js"},
	} {
		if strings.Contains(ua, b.marker) {
			browser = b.name
			break
		}
	}
	for _, o := range []struct{ marker, name string }{
		{"Windows", "Windows"}, {"Android", "Android"}, {"iPhone", "iOS"}, {"iPad", "iPadOS"},
		{"CrOS", "ChromeOS"}, {"Mac OS X", "macOS"}, {"Macintosh", "macOS"}, {"Linux", "Linux"},
	} {
		if strings.Contains(ua, o.marker) {
			os = o.name
			break
		}
	}
	switch {
	case browser != "" && os != "":
		return browser + " · " + os
	case browser != "":
		return browser
	}
	return os
}
