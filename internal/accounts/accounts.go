// Package accounts holds users, roles, passwords, browser sessions and API
// tokens.
package accounts

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/ucc-video/ucc/internal/errs"
	"github.com/ucc-video/ucc/internal/i18n"
)

// Role decides what a user may do.
type Role string

// The roles. A viewer becomes a creator by opening a channel; finance and
// admin are granted by an operator (`ucc users create`).
const (
	RoleViewer  Role = "viewer"
	RoleCreator Role = "creator"
	RoleFinance Role = "finance"
	RoleAdmin   Role = "admin"
)

// ParseRole validates a role name.
func ParseRole(s string) (Role, error) {
	switch r := Role(s); r {
	case RoleViewer, RoleCreator, RoleFinance, RoleAdmin:
		return r, nil
	}
	return "", errs.Invalid("invalid_role", "role must be viewer, creator, finance or admin")
}

// ParseLanguage checks a language a user chooses: one UCC speaks, or ""
// for none (the browser's own then decides).
func ParseLanguage(lang string) (string, error) {
	if lang == "" || i18n.Supported(lang) {
		return lang, nil
	}
	return "", errs.Invalid("invalid_language", "language %q is not one UCC speaks; choose one of %s",
		errs.P("Language", lang), errs.P("Choices", strings.Join(i18n.Languages(), ", ")))
}

// ErrNoLanguage refuses a language switch that names no language.
var ErrNoLanguage = errs.NewVariant(errs.ErrInvalid, "invalid_language", "missing", "choose a language: %s",
	errs.P("Choices", strings.Join(i18n.Languages(), ", ")))

// SetLanguage saves the language user id chose for UCC's pages and
// messages ("" forgets the choice) and returns the user.
func (s *Service) SetLanguage(ctx context.Context, id int64, lang string) (User, error) {
	lang, err := ParseLanguage(lang)
	if err != nil {
		return User{}, err
	}
	if err := s.store.SetLanguage(ctx, id, lang); err != nil {
		return User{}, err
	}
	return s.store.UserByID(ctx, id)
}

// User is a person with an account.
type User struct {
	ID          int64  `json:"id"`
	Email       string `json:"email"`
	DisplayName string `json:"display_name"`
	Role        Role   `json:"role"`
	// Language is the language the user chose for UCC's pages and
	// messages ("ko", "en"), or "" while they have chosen none.
	Language  string    `json:"language"`
	CreatedAt time.Time `json:"created_at"`
}

// IsFinance reports whether u may run revenue periods.
func (u *User) IsFinance() bool { return u != nil && (u.Role == RoleFinance || u.Role == RoleAdmin) }

// IsAdmin reports whether u is an administrator.
func (u *User) IsAdmin() bool { return u != nil && u.Role == RoleAdmin }

// Store persists users, sessions and tokens. Secrets are stored only as
// SHA-256 hashes.
type Store interface {
	// CreateUser inserts u (setting ID and CreatedAt); a taken email is errs.ErrConflict.
	CreateUser(ctx context.Context, u *User, passwordHash string) error
	// UserByEmail returns the user and their password hash; errs.ErrNotFound when absent.
	UserByEmail(ctx context.Context, email string) (User, string, error)
	// UserByID returns a user; errs.ErrNotFound when absent.
	UserByID(ctx context.Context, id int64) (User, error)
	// SetRole changes a user's role.
	SetRole(ctx context.Context, id int64, role Role) error
	// SetLanguage saves the language a user chose ("" forgets it).
	SetLanguage(ctx context.Context, id int64, lang string) error
	// SetPassword replaces a user's password hash and, in the same
	// transaction, ends every session and token of the user but the
	// session keepSession and the token keepToken (nil: none); it answers
	// how many it ended.
	SetPassword(ctx context.Context, id int64, passwordHash string, keepSession, keepToken []byte) (Revoked, error)
	// CreateSession stores a browser session opened from userAgent.
	CreateSession(ctx context.Context, hash []byte, userID int64, expires time.Time, userAgent string) error
	// SessionUser returns the user of an unexpired session and records its
	// use (at most once a minute).
	SessionUser(ctx context.Context, hash []byte, now time.Time) (User, error)
	// Sessions lists a user's unexpired sessions, newest first, with ids
	// below before (0: from the newest), at most limit; current marks the
	// one whose hash is current.
	Sessions(ctx context.Context, userID int64, current []byte, now time.Time, before int64, limit int) ([]Session, error)
	// DeleteSessionByID ends the user's session id; errs.ErrNotFound when
	// the user has no such session.
	DeleteSessionByID(ctx context.Context, userID, id int64) error
	// DeleteSessions ends every session of the user but keep (nil: all).
	DeleteSessions(ctx context.Context, userID int64, keep []byte) (int64, error)
	// DeleteSession ends a session; a missing one is not an error.
	DeleteSession(ctx context.Context, hash []byte) error
	// DeleteExpiredSessions removes sessions that expired before now.
	DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error)
	// CreateToken stores an API token issued to userAgent.
	CreateToken(ctx context.Context, hash []byte, userID int64, name, userAgent string) error
	// Tokens lists a user's tokens like Sessions.
	Tokens(ctx context.Context, userID int64, current []byte, before int64, limit int) ([]Token, error)
	// DeleteTokenByID revokes the user's token id; errs.ErrNotFound when
	// the user has no such token.
	DeleteTokenByID(ctx context.Context, userID, id int64) error
	// DeleteTokens revokes every token of the user but keep (nil: all).
	DeleteTokens(ctx context.Context, userID int64, keep []byte) (int64, error)
	// TokenUser returns the user of an unrevoked token and marks it used.
	TokenUser(ctx context.Context, hash []byte, now time.Time) (User, error)
	// DeleteToken revokes a token; a missing one is not an error.
	DeleteToken(ctx context.Context, hash []byte) error
}

// Limiter counts attempts in fixed windows; Redis implements it. Every
// method is one atomic step, so parallel requests cannot all read a count
// below the limit before any of them adds to it.
type Limiter interface {
	// Hit adds one event to key, starting a window of length window if none is open.
	Hit(ctx context.Context, key string, window time.Duration) (int64, error)
	// Reserve counts one attempt on key unless limit attempts are already
	// counted in its open window (a window of length window starts with
	// the first); refused, it answers how long until the window closes.
	Reserve(ctx context.Context, key string, limit int64, window time.Duration) (ok bool, retry time.Duration, err error)
	// Backoff counts one attempt on key like Reserve, but past free
	// attempts in the window it refuses nothing outright: each further
	// attempt waits for the key's slot, which then stays taken for a delay
	// that doubles with every attempt beyond free, from base up to most.
	Backoff(ctx context.Context, key string, free int64, window, base, most time.Duration) (ok bool, retry time.Duration, err error)
	// Release takes back one attempt Reserve or Backoff counted on key.
	Release(ctx context.Context, key string) error
	// Reset forgets key.
	Reset(ctx context.Context, key string) error
}

// Config tunes the service.
type Config struct {
	SessionTTL time.Duration // browser sessions last this long
	// LoginLimit is the failed log-ins allowed per account from one client
	// network (an IPv4 address, an IPv6 /64) per LoginWindow; a network
	// gets LoginNetworkFactor times as many over all accounts, and an
	// account LoginAccountFactor times as many over all networks before
	// every further attempt on it is slowed down (login.go).
	LoginLimit  int
	LoginWindow time.Duration
	// HashConcurrency bounds the password hashes (argon2id, each
	// PasswordParams.Memory KiB) running at once in the process; 0 is
	// twice GOMAXPROCS, at most 16. A log-in that finds no free slot within HashWait
	// (0: 2 s) is answered 503 with Retry-After.
	HashConcurrency int
	HashWait        time.Duration
	SignupLimit     int           // sign-up attempts allowed per client IP per SignupWindow (0: no limit)
	SignupWindow    time.Duration // default one hour
	PasswordParams  PasswordParams
}

// DefaultConfig is what `ucc serve` uses unless told otherwise.
func DefaultConfig() Config {
	return Config{SessionTTL: 30 * 24 * time.Hour, LoginLimit: 10, LoginWindow: 15 * time.Minute,
		SignupLimit: 10, SignupWindow: time.Hour, PasswordParams: DefaultPasswordParams()}
}

// Service implements sign-up, log-in, sessions and tokens.
type Service struct {
	store   Store
	limiter Limiter
	cfg     Config
	now     func() time.Time
	// dummyHash is checked against when an email has no account, so the
	// answer takes as long as for a real one.
	dummyHash func() string
	hashes    *hashGate
}

// NewService returns a Service. now is injected so tests need no sleeps.
func NewService(store Store, limiter Limiter, cfg Config, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	dummy := sync.OnceValue(func() string {
		h, _ := HashPassword("not a real password", cfg.PasswordParams)
		return h
	})
	return &Service{store: store, limiter: limiter, cfg: cfg, now: now, dummyHash: dummy,
		hashes: newHashGate(cfg.HashConcurrency, cfg.HashWait)}
}

// NormalizeEmail trims and lower-cases an email and checks its form.
func NormalizeEmail(s string) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || len(s) > 254 || !strings.Contains(s[strings.IndexByte(s, '@'):], ".") {
		return "", errs.Invalid("invalid_email", "enter a valid email address, like name@example.com")
	}
	return s, nil
}

// ValidatePassword checks length rules (NIST 800-63B: at least 8, long passphrases allowed).
func ValidatePassword(p string) error {
	n := utf8.RuneCountInString(p)
	switch {
	case !utf8.ValidString(p):
		return errs.Invalid("invalid_password", "password contains invalid characters")
	case n < 8:
		return errs.Invalid("password_too_short", "password must be at least 8 characters long")
	case len(p) > 1024:
		return errs.Invalid("password_too_long", "password must be at most 1024 bytes long")
	}
	return nil
}

func validateDisplayName(s string) (string, error) {
	s = strings.TrimSpace(s)
	n := utf8.RuneCountInString(s)
	if !utf8.ValidString(s) || n < 1 || n > 80 || strings.ContainsAny(s, "\x00\r\n") {
		return "", errs.Invalid("invalid_display_name", "display name must be 1 to 80 characters on one line")
	}
	return s, nil
}

// Signup creates an account with role viewer (or role, for operators).
func (s *Service) Signup(ctx context.Context, email, password, displayName string, role Role) (User, error) {
	email, err := NormalizeEmail(email)
	if err != nil {
		return User{}, err
	}
	if displayName == "" {
		displayName = email[:strings.IndexByte(email, '@')]
	}
	displayName, err = validateDisplayName(displayName)
	if err != nil {
		return User{}, err
	}
	if err := ValidatePassword(password); err != nil {
		return User{}, err
	}
	if role == "" {
		role = RoleViewer
	}
	hash, err := s.hashPassword(ctx, password)
	if err != nil {
		return User{}, err
	}
	u := User{Email: email, DisplayName: displayName, Role: role}
	if err := s.store.CreateUser(ctx, &u, hash); err != nil {
		if errors.Is(err, errs.ErrConflict) {
			return User{}, errs.New(errs.ErrConflict, "email_taken", "an account with this email already exists; log in instead")
		}
		return User{}, err
	}
	return u, nil
}

// SignupFrom is the self-service sign-up of a visitor at clientIP: a viewer
// account, with at most Config.SignupLimit attempts per IP per
// SignupWindow. Only attempts with well-formed input count, so typing
// mistakes do not use up the allowance; attempts on a taken email do, which
// also bounds probing for accounts.
func (s *Service) SignupFrom(ctx context.Context, clientIP, email, password, displayName string) (User, error) {
	if s.cfg.SignupLimit > 0 {
		norm, err := NormalizeEmail(email)
		if err != nil {
			return User{}, err
		}
		dn := displayName
		if dn == "" {
			dn = norm[:strings.IndexByte(norm, '@')]
		}
		if _, err := validateDisplayName(dn); err != nil {
			return User{}, err
		}
		if err := ValidatePassword(password); err != nil {
			return User{}, err
		}
		window := s.cfg.SignupWindow
		if window <= 0 {
			window = time.Hour
		}
		n, err := s.limiter.Hit(ctx, "signup-ip:"+clientIP, window)
		if err != nil {
			return User{}, fmt.Errorf("sign-up limiter: %w", err)
		}
		if n > int64(s.cfg.SignupLimit) {
			return User{}, errs.New(errs.ErrRateLimited, "signup_rate_limited",
				"too many sign-ups from your network; try again in an hour")
		}
	}
	return s.Signup(ctx, email, password, displayName, RoleViewer)
}

// newSecret returns a random URL-safe secret with a prefix and its SHA-256.
func newSecret(prefix string) (string, []byte) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	tok := prefix + base64.RawURLEncoding.EncodeToString(b)
	return tok, HashSecret(tok)
}

// HashSecret is the SHA-256 under which session ids and tokens are stored.
func HashSecret(tok string) []byte {
	h := sha256.Sum256([]byte(tok))
	return h[:]
}

// StartSession creates a browser session for userID and returns its cookie
// value. Callers rotate: they end the previous session first.
func (s *Service) StartSession(ctx context.Context, userID int64) (string, time.Time, error) {
	return s.StartSessionFrom(ctx, userID, "")
}

// StartSessionFrom is StartSession for a browser that sent userAgent (kept,
// cleaned and cut to MaxUserAgentBytes, for the owner's list of sessions).
func (s *Service) StartSessionFrom(ctx context.Context, userID int64, userAgent string) (string, time.Time, error) {
	tok, hash := newSecret("s_")
	exp := s.now().Add(s.cfg.SessionTTL)
	if err := s.store.CreateSession(ctx, hash, userID, exp, CleanUserAgent(userAgent)); err != nil {
		return "", time.Time{}, err
	}
	return tok, exp, nil
}

// SessionUser returns the user behind a session cookie value.
func (s *Service) SessionUser(ctx context.Context, tok string) (User, error) {
	if tok == "" || len(tok) > 200 {
		return User{}, errs.ErrUnauthorized
	}
	return s.store.SessionUser(ctx, HashSecret(tok), s.now())
}

// EndSession deletes a session.
func (s *Service) EndSession(ctx context.Context, tok string) error {
	return s.store.DeleteSession(ctx, HashSecret(tok))
}

// MaxTokenNameRunes is the longest API token label.
const MaxTokenNameRunes = 100

// IssueToken creates an API bearer token for userID; name is a label of at
// most MaxTokenNameRunes characters on one line.
func (s *Service) IssueToken(ctx context.Context, userID int64, name string) (string, error) {
	return s.IssueTokenFrom(ctx, userID, name, "")
}

// IssueTokenFrom is IssueToken for a client that sent userAgent.
func (s *Service) IssueTokenFrom(ctx context.Context, userID int64, name, userAgent string) (string, error) {
	name = strings.TrimSpace(name)
	if !utf8.ValidString(name) || utf8.RuneCountInString(name) > MaxTokenNameRunes || strings.IndexFunc(name, unicode.IsControl) >= 0 {
		return "", errs.Invalid("invalid_token_name", "the token name must be at most 100 characters on one line")
	}
	tok, hash := newSecret("ucc_")
	if err := s.store.CreateToken(ctx, hash, userID, name, CleanUserAgent(userAgent)); err != nil {
		return "", err
	}
	return tok, nil
}

// TokenUser returns the user behind a bearer token.
func (s *Service) TokenUser(ctx context.Context, tok string) (User, error) {
	if !strings.HasPrefix(tok, "ucc_") || len(tok) > 200 {
		return User{}, errs.ErrUnauthorized
	}
	return s.store.TokenUser(ctx, HashSecret(tok), s.now())
}

// RevokeToken revokes a bearer token.
func (s *Service) RevokeToken(ctx context.Context, tok string) error {
	return s.store.DeleteToken(ctx, HashSecret(tok))
}

// User returns a user by id.
func (s *Service) User(ctx context.Context, id int64) (User, error) { return s.store.UserByID(ctx, id) }

// SetRole changes a user's role.
func (s *Service) SetRole(ctx context.Context, id int64, role Role) error {
	return s.store.SetRole(ctx, id, role)
}
