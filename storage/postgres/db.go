// Package postgres is UCC's PostgreSQL adapter: a pgx v5 pool, embedded
// goose migrations (plus River's own), and one file of hand-written SQL per
// aggregate implementing the domain Store interfaces.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ucc-video/ucc/internal/errs"
)

// DefaultConnectTimeout bounds opening a connection when the database URL
// sets no connect_timeout.
const DefaultConnectTimeout = 5 * time.Second

// DB wraps the connection pool shared by every store in this package.
type DB struct {
	Pool *pgxpool.Pool
}

// Open connects a pool to url and checks that the server answers.
func Open(ctx context.Context, url string, maxConns int32) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: parse URL: %w", err)
	}
	if maxConns > 0 {
		cfg.MaxConns = maxConns
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		// Without it a new connection to a server that accepts but never
		// answers (hung, or packets dropped) waits forever, and so does the
		// request; connect_timeout in the URL overrides this.
		cfg.ConnConfig.ConnectTimeout = DefaultConnectTimeout
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: cannot reach %s:%d: %w", cfg.ConnConfig.Host, cfg.ConnConfig.Port, err)
	}
	return &DB{Pool: pool}, nil
}

// Close closes the pool.
func (db *DB) Close() { db.Pool.Close() }

// Ping checks the database answers (used by /readyz).
func (db *DB) Ping(ctx context.Context) error { return db.Pool.Ping(ctx) }

// OwnsTables reports whether the pool's role is a superuser or owns the
// ledger's tables: the role migrations run as, which serve should not use.
func (db *DB) OwnsTables(ctx context.Context) (bool, error) {
	var owns bool
	err := db.Pool.QueryRow(ctx, `SELECT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
		OR EXISTS (SELECT 1 FROM pg_tables WHERE tablename = 'ledger_entries' AND tableowner = current_user)`).Scan(&owns)
	return owns, err
}

// InTx runs fn in a transaction, committing when it returns nil. Failing
// to begin or to commit (the connection cut under it) comes back mapped like
// any query's error, so a lost database is "unavailable", never a bare
// driver error; fn's own errors keep their kinds.
func (db *DB) InTx(ctx context.Context, fn func(pgx.Tx) error) error {
	return mapErr(pgx.BeginFunc(ctx, db.Pool, fn))
}

// collect scans every row of a query (rows and err as Query returns them)
// with scan, mapping driver errors.
func collect[T any](rows pgx.Rows, err error, scan func(pgx.Row) (T, error)) ([]T, error) {
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, mapErr(rows.Err())
}

// mapErr turns driver errors into the domain's error kinds.
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("%w", errs.ErrNotFound)
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) || pgconn.SafeToRetry(err) || pgconn.Timeout(err) || connLost(err) {
		return fmt.Errorf("%w: database: %w", errs.ErrUnavailable, err)
	}
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		switch pg.Code {
		case "23505": // unique_violation
			return fmt.Errorf("%w: %s", errs.ErrConflict, pg.ConstraintName)
		case "23503": // foreign_key_violation
			return fmt.Errorf("%w: %s", errs.ErrNotFound, pg.ConstraintName)
		case "23514", "22001", "22P02", "22021": // check violation, string too long, invalid text, invalid byte sequence (NUL)
			return fmt.Errorf("%w: %s", errs.ErrInvalid, pg.Message)
		case "57P01", "57P02", "57P03": // admin_shutdown, crash_shutdown, cannot_connect_now: the server is going or not there yet
			return fmt.Errorf("%w: database: %w", errs.ErrUnavailable, err)
		}
	}
	return err
}

// connLost reports whether err means the connection to the server broke
// (reset, closed, cut off mid-answer): the database is unreachable, not
// the request wrong.
func connLost(err error) bool {
	var ne net.Error
	return errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || errors.Is(err, pgconn.ErrConnClosed) ||
		errors.Is(err, net.ErrClosed) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.As(err, &ne)
}

// CreateDatabaseIfMissing connects to the server's "postgres" database and
// creates the database named in url when it does not exist yet.
func CreateDatabaseIfMissing(ctx context.Context, url string) (created bool, err error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return false, fmt.Errorf("postgres: parse URL: %w", err)
	}
	name := cfg.Database
	if name == "" || name == "postgres" {
		return false, nil
	}
	cfg.Database = "postgres"
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return false, fmt.Errorf("postgres: cannot reach %s:%d: %w", cfg.Host, cfg.Port, err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return false, err
	}
	if exists {
		return false, nil
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		var pg *pgconn.PgError
		if errors.As(err, &pg) && pg.Code == "42P04" { // duplicate_database: created concurrently
			return false, nil
		}
		return false, err
	}
	return true, nil
}
