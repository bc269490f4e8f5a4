// Package pgtest gives each test its own fresh, migrated PostgreSQL database,
// cloned from a template database built once per migration set.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ucc-video/ucc/internal/testenv"
	"github.com/ucc-video/ucc/storage/postgres"
)

const lockKey = 0x75636302

// URL creates a fresh migrated database for t, dropped when t ends, and
// returns its connection URL.
func URL(t testing.TB) string {
	t.Helper()
	admin := testenv.PostgresURL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		testenv.Missing(t, "PostgreSQL: %v", err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, lockKey); err != nil {
		t.Fatalf("pgtest: lock: %v", err)
	}
	defer conn.Exec(context.Background(), `SELECT pg_advisory_unlock($1)`, lockKey) //nolint:errcheck

	tmpl := "ucc_tmpl_" + postgres.MigrationsDigest()
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, tmpl).Scan(&exists); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	if !exists {
		building := tmpl + "_build"
		if _, err := conn.Exec(ctx, `DROP DATABASE IF EXISTS `+building+` WITH (FORCE)`); err != nil {
			t.Fatalf("pgtest: %v", err)
		}
		if _, err := conn.Exec(ctx, `CREATE DATABASE `+building); err != nil {
			t.Fatalf("pgtest: create template: %v", err)
		}
		pool, err := pgxpool.New(ctx, withDB(t, admin, building))
		if err != nil {
			t.Fatalf("pgtest: %v", err)
		}
		err = postgres.Migrate(ctx, pool, slog.New(slog.NewTextHandler(io.Discard, nil)))
		pool.Close()
		if err != nil {
			t.Fatalf("pgtest: migrate template: %v", err)
		}
		if _, err := conn.Exec(ctx, `ALTER DATABASE `+building+` RENAME TO `+tmpl); err != nil {
			t.Fatalf("pgtest: %v", err)
		}
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "ucc_test_" + hex.EncodeToString(b)
	if _, err := conn.Exec(ctx, `CREATE DATABASE `+name+` TEMPLATE `+tmpl); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), admin)
		if err != nil {
			return
		}
		defer c.Close(context.Background())
		_, _ = c.Exec(context.Background(), `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`)
	})
	return withDB(t, admin, name)
}

// DB returns a *postgres.DB on a fresh migrated database, closed when t
// ends, connected as the owner of the tables (the migrations' role).
func DB(t testing.TB) *postgres.DB {
	t.Helper()
	return open(t, URL(t))
}

// AppDB is DB connected as the runtime role ucc_app, as `ucc serve` runs:
// rows may be read and written, tables not altered or truncated.
func AppDB(t testing.TB) *postgres.DB {
	t.Helper()
	return open(t, AsApp(t, URL(t)))
}

// AsApp is the database URL u with the runtime role ucc_app as its user
// (trust authentication, as the test server's).
func AsApp(t testing.TB, u string) string {
	t.Helper()
	p, err := url.Parse(u)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	p.User = url.User(postgres.RuntimeRole)
	return p.String()
}

func open(t testing.TB, u string) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(context.Background(), u, 10)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(db.Close)
	return db
}

func withDB(t testing.TB, raw, db string) string {
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	u.Path = "/" + db
	return fmt.Sprint(u)
}
