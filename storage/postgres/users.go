package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/ucc-video/ucc/internal/accounts"
)

// Users implements accounts.Store.
type Users struct{ db *DB }

// NewUsers returns the PostgreSQL accounts store.
func NewUsers(db *DB) *Users { return &Users{db: db} }

var _ accounts.Store = (*Users)(nil)

const userCols = `u.id, u.email, u.display_name, u.role, coalesce(u.language, ''), u.created_at`

func scanUser(row pgx.Row, extra ...any) (accounts.User, error) {
	var u accounts.User
	dest := append([]any{&u.ID, &u.Email, &u.DisplayName, &u.Role, &u.Language, &u.CreatedAt}, extra...)
	return u, mapErr(row.Scan(dest...))
}

// CreateUser inserts a user.
func (s *Users) CreateUser(ctx context.Context, u *accounts.User, passwordHash string) error {
	return mapErr(s.db.Pool.QueryRow(ctx, `
		INSERT INTO users (email, display_name, password_hash, role)
		VALUES ($1, $2, $3, $4)
		RETURNING id, created_at`, u.Email, u.DisplayName, passwordHash, u.Role).Scan(&u.ID, &u.CreatedAt))
}

// UserByEmail returns a user and their password hash.
func (s *Users) UserByEmail(ctx context.Context, email string) (accounts.User, string, error) {
	var hash string
	u, err := scanUser(s.db.Pool.QueryRow(ctx, `SELECT `+userCols+`, u.password_hash FROM users u WHERE u.email = $1`, email), &hash)
	return u, hash, err
}

// UserByID returns a user.
func (s *Users) UserByID(ctx context.Context, id int64) (accounts.User, error) {
	return scanUser(s.db.Pool.QueryRow(ctx, `SELECT `+userCols+` FROM users u WHERE u.id = $1`, id))
}

// SetRole changes a user's role.
func (s *Users) SetRole(ctx context.Context, id int64, role accounts.Role) error {
	return s.exec1(ctx, `UPDATE users SET role = $2 WHERE id = $1`, id, role)
}

// SetLanguage saves the language a user chose ("" is none: NULL).
func (s *Users) SetLanguage(ctx context.Context, id int64, lang string) error {
	return s.exec1(ctx, `UPDATE users SET language = nullif($2, '') WHERE id = $1`, id, lang)
}

// SetPassword replaces a user's password hash and ends their other
// sessions and tokens (all but keepSession and keepToken) in one transaction.
func (s *Users) SetPassword(ctx context.Context, id int64, passwordHash string, keepSession, keepToken []byte) (accounts.Revoked, error) {
	var r accounts.Revoked
	err := s.db.InTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE users SET password_hash = $2 WHERE id = $1`, id, passwordHash)
		if err != nil {
			return mapErr(err)
		}
		if tag.RowsAffected() == 0 {
			return mapErr(pgx.ErrNoRows)
		}
		if r.Sessions, err = deleteAllBut(ctx, tx, "sessions", id, keepSession); err != nil {
			return err
		}
		r.Tokens, err = deleteAllBut(ctx, tx, "api_tokens", id, keepToken)
		return err
	})
	return r, err
}

// deleteAllBut deletes a user's rows of table (sessions or api_tokens) but
// the one with hash keep (nil: none kept).
func deleteAllBut(ctx context.Context, q interface {
	Exec(context.Context, string, ...any) (pgconn.CommandTag, error)
}, table string, userID int64, keep []byte) (int64, error) {
	tag, err := q.Exec(ctx, `DELETE FROM `+table+` WHERE user_id = $1 AND ($2::bytea IS NULL OR token_hash <> $2)`, userID, keep)
	return tag.RowsAffected(), mapErr(err)
}

func (s *Users) exec1(ctx context.Context, sql string, args ...any) error {
	tag, err := s.db.Pool.Exec(ctx, sql, args...)
	if err != nil {
		return mapErr(err)
	}
	if tag.RowsAffected() == 0 {
		return mapErr(pgx.ErrNoRows)
	}
	return nil
}

// CreateSession stores a session.
func (s *Users) CreateSession(ctx context.Context, hash []byte, userID int64, expires time.Time, userAgent string) error {
	_, err := s.db.Pool.Exec(ctx, `INSERT INTO sessions (token_hash, user_id, expires_at, user_agent) VALUES ($1, $2, $3, $4)`,
		hash, userID, expires, userAgent)
	return mapErr(err)
}

// SessionUser returns the user of an unexpired session and records its use
// (at most once a minute, so most requests only read).
func (s *Users) SessionUser(ctx context.Context, hash []byte, now time.Time) (accounts.User, error) {
	var last *time.Time
	u, err := scanUser(s.db.Pool.QueryRow(ctx, `
		SELECT `+userCols+`, s.last_used_at FROM sessions s JOIN users u ON u.id = s.user_id
		WHERE s.token_hash = $1 AND s.expires_at > $2`, hash, now), &last)
	if err != nil {
		return u, err
	}
	if last == nil || now.Sub(*last) >= time.Minute {
		_, _ = s.db.Pool.Exec(ctx, `UPDATE sessions SET last_used_at = $2 WHERE token_hash = $1`, hash, now)
	}
	return u, nil
}

// Sessions lists a user's unexpired sessions, newest first.
func (s *Users) Sessions(ctx context.Context, userID int64, current []byte, now time.Time, before int64, limit int) ([]accounts.Session, error) {
	rows, err := s.db.Pool.Query(ctx, `
		SELECT id, created_at, last_used_at, expires_at, user_agent, token_hash = coalesce($3::bytea, ''::bytea)
		FROM sessions WHERE user_id = $1 AND expires_at > $2 AND ($4::bigint = 0 OR id < $4)
		ORDER BY id DESC LIMIT $5`, userID, now, current, before, limit)
	if err != nil {
		return nil, mapErr(err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (accounts.Session, error) {
		var x accounts.Session
		err := r.Scan(&x.ID, &x.CreatedAt, &x.LastUsedAt, &x.ExpiresAt, &x.UserAgent, &x.Current)
		return x, err
	})
	return list, mapErr(err)
}

// DeleteSessionByID ends one of the user's sessions.
func (s *Users) DeleteSessionByID(ctx context.Context, userID, id int64) error {
	return s.exec1(ctx, `DELETE FROM sessions WHERE user_id = $1 AND id = $2`, userID, id)
}

// DeleteSessions ends the user's sessions but keep.
func (s *Users) DeleteSessions(ctx context.Context, userID int64, keep []byte) (int64, error) {
	return deleteAllBut(ctx, s.db.Pool, "sessions", userID, keep)
}

// DeleteSession ends a session.
func (s *Users) DeleteSession(ctx context.Context, hash []byte) error {
	_, err := s.db.Pool.Exec(ctx, `DELETE FROM sessions WHERE token_hash = $1`, hash)
	return mapErr(err)
}

// DeleteExpiredSessions removes sessions that expired before now.
func (s *Users) DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error) {
	tag, err := s.db.Pool.Exec(ctx, `DELETE FROM sessions WHERE expires_at < $1`, now)
	return tag.RowsAffected(), mapErr(err)
}

// CreateToken stores an API token.
func (s *Users) CreateToken(ctx context.Context, hash []byte, userID int64, name, userAgent string) error {
	_, err := s.db.Pool.Exec(ctx, `INSERT INTO api_tokens (token_hash, user_id, name, user_agent) VALUES ($1, $2, $3, $4)`,
		hash, userID, name, userAgent)
	return mapErr(err)
}

// Tokens lists a user's API tokens, newest first.
func (s *Users) Tokens(ctx context.Context, userID int64, current []byte, before int64, limit int) ([]accounts.Token, error) {
	rows, err := s.db.Pool.Query(ctx, `
		SELECT id, name, created_at, last_used_at, user_agent, token_hash = coalesce($2::bytea, ''::bytea)
		FROM api_tokens WHERE user_id = $1 AND ($3::bigint = 0 OR id < $3)
		ORDER BY id DESC LIMIT $4`, userID, current, before, limit)
	if err != nil {
		return nil, mapErr(err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (accounts.Token, error) {
		var x accounts.Token
		err := r.Scan(&x.ID, &x.Name, &x.CreatedAt, &x.LastUsedAt, &x.UserAgent, &x.Current)
		return x, err
	})
	return list, mapErr(err)
}

// DeleteTokenByID revokes one of the user's tokens.
func (s *Users) DeleteTokenByID(ctx context.Context, userID, id int64) error {
	return s.exec1(ctx, `DELETE FROM api_tokens WHERE user_id = $1 AND id = $2`, userID, id)
}

// DeleteTokens revokes the user's tokens but keep.
func (s *Users) DeleteTokens(ctx context.Context, userID int64, keep []byte) (int64, error) {
	return deleteAllBut(ctx, s.db.Pool, "api_tokens", userID, keep)
}

// TokenUser returns the user of a token and records its use (at most once a minute).
func (s *Users) TokenUser(ctx context.Context, hash []byte, now time.Time) (accounts.User, error) {
	u, err := scanUser(s.db.Pool.QueryRow(ctx, `
		SELECT `+userCols+` FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1`, hash))
	if err != nil {
		return u, err
	}
	_, _ = s.db.Pool.Exec(ctx, `UPDATE api_tokens SET last_used_at = $2
		WHERE token_hash = $1 AND (last_used_at IS NULL OR last_used_at < $2::timestamptz - interval '1 minute')`, hash, now)
	return u, nil
}

// DeleteToken revokes a token.
func (s *Users) DeleteToken(ctx context.Context, hash []byte) error {
	_, err := s.db.Pool.Exec(ctx, `DELETE FROM api_tokens WHERE token_hash = $1`, hash)
	return err
}
