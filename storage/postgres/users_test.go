package postgres_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ucc-video/ucc/internal/accounts"
	"github.com/ucc-video/ucc/internal/errs"
	"github.com/ucc-video/ucc/storage/postgres"
	"github.com/ucc-video/ucc/storage/postgres/pgtest"
)

func TestUsersStore(t *testing.T) {
	ctx := context.Background()
	s := postgres.NewUsers(pgtest.DB(t))
	u := accounts.User{Email: "a@example.com", DisplayName: "A", Role: accounts.RoleViewer}
	if err := s.CreateUser(ctx, &u, "hash"); err != nil {
		t.Fatal(err)
	}
	if u.ID == 0 {
		t.Fatal("no id")
	}
	dup := accounts.User{Email: "a@example.com", DisplayName: "B", Role: accounts.RoleViewer}
	if err := s.CreateUser(ctx, &dup, "h"); !errors.Is(err, errs.ErrConflict) {
		t.Fatalf("duplicate email: got %v, want ErrConflict", err)
	}
	got, hash, err := s.UserByEmail(ctx, "a@example.com")
	if err != nil || got.ID != u.ID || hash != "hash" {
		t.Fatalf("UserByEmail = %+v %q %v", got, hash, err)
	}
	if _, err := s.UserByID(ctx, 999999); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("missing user: %v", err)
	}
	now := time.Now()
	if err := s.CreateSession(ctx, []byte("h1"), u.ID, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got, err := s.SessionUser(ctx, []byte("h1"), now); err != nil || got.ID != u.ID {
		t.Fatalf("SessionUser = %v %v", got, err)
	}
	if _, err := s.SessionUser(ctx, []byte("h1"), now.Add(2*time.Hour)); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("expired session accepted: %v", err)
	}
	if err := s.SetPassword(ctx, u.ID, "new"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SessionUser(ctx, []byte("h1"), now); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("session survived a password change: %v", err)
	}
	if err := s.CreateToken(ctx, []byte("t1"), u.ID, "cli"); err != nil {
		t.Fatal(err)
	}
	if got, err := s.TokenUser(ctx, []byte("t1"), now); err != nil || got.ID != u.ID {
		t.Fatalf("TokenUser = %v %v", got, err)
	}
	if err := s.DeleteToken(ctx, []byte("t1")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.TokenUser(ctx, []byte("t1"), now); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("revoked token accepted: %v", err)
	}
	if err := s.SetRole(ctx, u.ID, accounts.RoleFinance); err != nil {
		t.Fatal(err)
	}
	if err := s.SetRole(ctx, 424242, accounts.RoleFinance); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("SetRole on missing user: %v", err)
	}
}

func TestMigrationStatus(t *testing.T) {
	db := pgtest.DB(t)
	st, err := postgres.Status(context.Background(), db.Pool)
	if err != nil {
		t.Fatal(err)
	}
	var ucc, river int
	for _, m := range st {
		if !m.Applied {
			t.Errorf("migration %s %d not applied", m.Source, m.Version)
		}
		if m.Source == "ucc" {
			ucc++
		} else {
			river++
		}
	}
	if ucc == 0 || river == 0 {
		t.Fatalf("status lists %d ucc and %d river migrations", ucc, river)
	}
}
