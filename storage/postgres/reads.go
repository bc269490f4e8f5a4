package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/ucc-video/ucc/internal/community"
	"github.com/ucc-video/ucc/internal/videos"
)

// Queries a visitor drives (lists and search) run under a statement
// timeout, so that no request can keep a connection of the pool busy for
// longer than the store's timeout, however slow its query or whatever lock
// it waits for. The timeout is PostgreSQL's own statement_timeout, set with
// SET LOCAL in a read-only transaction opened in the same round trip as
// the BEGIN: the server stops the query (its planning and lock waits
// included), not just the client waiting for it, and the connection goes
// back to the pool with its default.

// WithQueryTimeout returns the store running visitor-driven list and search
// queries under a statement timeout of d (0: none). A query stopped by it
// fails with community.ErrQueryTimeout.
func (s *Community) WithQueryTimeout(d time.Duration) *Community {
	c := *s
	c.timeout = d
	return &c
}

// listVideos runs a query of videoCols under the store's statement timeout.
func (s *Community) listVideos(ctx context.Context, sql string, args ...any) ([]videos.Video, error) {
	if s.timeout <= 0 || community.IsSharedLoad(ctx) {
		return collectVideos(s.db.Pool.Query(ctx, sql, args...))
	}
	var vs []videos.Video
	err := s.timed(ctx, func(tx pgx.Tx) error {
		var err error
		vs, err = collectVideos(tx.Query(ctx, sql, args...))
		return err
	})
	return vs, err
}

// timed runs fn in a read-only transaction under the store's statement
// timeout; a statement it stops is community.ErrQueryTimeout.
func (s *Community) timed(ctx context.Context, fn func(pgx.Tx) error) error {
	begin := fmt.Sprintf("BEGIN READ ONLY; SET LOCAL statement_timeout = %d", max(1, s.timeout.Milliseconds()))
	err := pgx.BeginTxFunc(ctx, s.db.Pool, pgx.TxOptions{BeginQuery: begin}, fn)
	if err != nil && ctx.Err() == nil && isQueryCanceled(err) {
		return fmt.Errorf("%w (after %s)", community.ErrQueryTimeout, s.timeout)
	}
	return mapErr(err)
}

// isQueryCanceled reports whether err is PostgreSQL's query_canceled
// (57014), which a statement timeout raises.
func isQueryCanceled(err error) bool {
	var pg *pgconn.PgError
	return errors.As(err, &pg) && pg.Code == "57014"
}
