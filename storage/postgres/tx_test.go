package postgres_test

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/ucc-video/ucc/internal/errs"
	"github.com/ucc-video/ucc/storage/postgres/pgtest"
)

// TestInTxConnectionLost: a transaction whose connection the server ends
// (a restart, a failover, a cut) fails as "unavailable", whether the break
// hits a statement inside it or its commit. Begin and commit errors came
// back raw ("conn closed"), so the pages answered 500 instead of 503.
func TestInTxConnectionLost(t *testing.T) {
	db := pgtest.DB(t)
	ctx := context.Background()
	for name, fn := range map[string]func(pgx.Tx) error{
		"statement": func(tx pgx.Tx) error {
			_, err := tx.Exec(ctx, `SELECT pg_terminate_backend(pg_backend_pid())`)
			return err
		},
		"commit": func(tx pgx.Tx) error {
			var pid int
			if err := tx.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&pid); err != nil {
				return err
			}
			// Another connection ends this one; fn itself succeeds, so
			// only the commit can notice.
			_, err := db.Pool.Exec(ctx, `SELECT pg_terminate_backend($1)`, pid)
			return err
		},
	} {
		t.Run(name, func(t *testing.T) {
			err := db.InTx(ctx, fn)
			if !errors.Is(err, errs.ErrUnavailable) {
				t.Fatalf("InTx on a connection the server ended = %v, want ErrUnavailable", err)
			}
		})
	}
	if err := db.InTx(ctx, func(tx pgx.Tx) error { return errs.ErrConflict }); !errors.Is(err, errs.ErrConflict) || errors.Is(err, errs.ErrUnavailable) {
		t.Fatalf("fn's own error = %v, want it kept as ErrConflict", err)
	}
}
