package postgres_test

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/ucc-video/ucc/storage/postgres/pgtest"
)

// TestRuntimeRoleCannotTamperWithTheLedger: ucc serve's role (ucc_app)
// reads and writes rows but cannot truncate or alter the tables of money
// and its history (no DISABLE TRIGGER on the ledger's guards), nor write
// the migrations' bookkeeping; and TRUNCATE of those tables is refused by
// a statement trigger even to their owner. Before, serve connected as the
// owner (a superuser by default), which could do all of it.
func TestRuntimeRoleCannotTamperWithTheLedger(t *testing.T) {
	ownerURL := pgtest.URL(t)
	ctx := context.Background()
	owner := pgxConnect(t, ownerURL)
	app := pgxConnect(t, pgtest.AsApp(t, ownerURL))
	code := func(err error) string {
		var pg *pgconn.PgError
		if errors.As(err, &pg) {
			return pg.Code
		}
		return ""
	}
	money := []string{"ledger_transactions", "ledger_entries", "revenue_periods", "revenue_payouts", "revenue_adjustments",
		"revenue_audit", "revenue_inputs", "revenue_late_views"}
	for _, table := range money {
		for _, sql := range []string{"TRUNCATE " + table + " CASCADE", "ALTER TABLE " + table + " DISABLE TRIGGER ALL",
			"ALTER TABLE " + table + " DISABLE TRIGGER USER", "DROP TABLE " + table + " CASCADE"} {
			if _, err := app.Exec(ctx, sql); code(err) != "42501" { // insufficient_privilege / must be owner
				t.Errorf("ucc_app: %s: %v, want a privilege error", sql, err)
			}
		}
		_, err := owner.Exec(ctx, "TRUNCATE "+table+" CASCADE")
		if code(err) != "P0001" {
			t.Errorf("owner: TRUNCATE %s: %v, want refused by its guard", table, err)
		}
	}
	for _, sql := range []string{`INSERT INTO goose_db_version (version_id, is_applied) VALUES (99999, true)`,
		`DELETE FROM river_migration`, `CREATE TABLE sneaky (id int)`, `ALTER ROLE ucc_app SUPERUSER`} {
		if _, err := app.Exec(ctx, sql); code(err) != "42501" {
			t.Errorf("ucc_app: %s: %v, want a privilege error", sql, err)
		}
	}
	// What serve does, it may: write users, read the ledger, take a job id.
	if _, err := app.Exec(ctx, `INSERT INTO users (email, display_name, password_hash, role) VALUES ('r@example.com', 'R', 'x', 'viewer')`); err != nil {
		t.Fatalf("ucc_app cannot insert a user: %v", err)
	}
	var n int
	if err := app.QueryRow(ctx, `SELECT count(*) FROM ledger_entries`).Scan(&n); err != nil {
		t.Fatalf("ucc_app cannot read the ledger: %v", err)
	}
}

// pgxConnect opens one connection to url, closed when t ends.
func pgxConnect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	c, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatalf("connect %s: %v", url, err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}
