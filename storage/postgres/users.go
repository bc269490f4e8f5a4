package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

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

// SetPassword replaces a user's password hash and ends their sessions.
func (s *Users) SetPassword(ctx context.Context, id int64, passwordHash string) error {
	return s.db.InTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE users SET password_hash = $2 WHERE id = $1`, id, passwordHash)
		if err != nil {
			return mapErr(err)
		}
		if tag.RowsAffected() == 0 {
			return mapErr(pgx.ErrNoRows)
		}
		_, err = tx.Exec(ctx, `DELETE FROM sessions WHERE user_id = $1`, id)
		return err
	})
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
func (s *Users) CreateSession(ctx context.Context, hash []byte, userID int64, expires time.Time) error {
	_, err := s.db.Pool.Exec(ctx, `INSERT INTO sessions (token_hash, user_id, expires_at) VALUES ($1, $2, $3)`, hash, userID, expires)
	return mapErr(err)
}

// SessionUser returns the user of an unexpired session.
func (s *Users) SessionUser(ctx context.Context, hash []byte, now time.Time) (accounts.User, error) {
	return scanUser(s.db.Pool.QueryRow(ctx, `
		SELECT `+userCols+` FROM sessions s JOIN users u ON u.id = s.user_id
		WHERE s.token_hash = $1 AND s.expires_at > $2`, hash, now))
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
func (s *Users) CreateToken(ctx context.Context, hash []byte, userID int64, name string) error {
	_, err := s.db.Pool.Exec(ctx, `INSERT INTO api_tokens (token_hash, user_id, name) VALUES ($1, $2, $3)`, hash, userID, name)
	return mapErr(err)
}

// TokenUser returns the user of a token and records its use (at most once a minute).
func (s *Users) TokenUser(ctx context.Context, hash []byte, now time.Time) (accounts.User, error) {
	u, err := scanUser(s.db.Pool.QueryRow(ctx, `
		SELECT `+userCols+` FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1`, hash))
	if err != nil {
		return u, err
	}
	_, _ = s.db.Pool.Exec(ctx, `UPDATE api_tokens SET last_used_at = $2
		WHERE token_hash = $1 AND (last_used_at IS NULL OR last_used_at < $2 - interval '1 minute')`, hash, now)
	return u, nil
}

// DeleteToken revokes a token.
func (s *Users) DeleteToken(ctx context.Context, hash []byte) error {
	_, err := s.db.Pool.Exec(ctx, `DELETE FROM api_tokens WHERE token_hash = $1`, hash)
	return err
}
