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
	if err := s.CreateSession(ctx, []byte("h1"), u.ID, now.Add(time.Hour), ""); err != nil {
		t.Fatal(err)
	}
	if got, err := s.SessionUser(ctx, []byte("h1"), now); err != nil || got.ID != u.ID {
		t.Fatalf("SessionUser = %v %v", got, err)
	}
	if _, err := s.SessionUser(ctx, []byte("h1"), now.Add(2*time.Hour)); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("expired session accepted: %v", err)
	}
	if _, err := s.SetPassword(ctx, u.ID, "new", nil, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SessionUser(ctx, []byte("h1"), now); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("session survived a password change: %v", err)
	}
	if err := s.CreateToken(ctx, []byte("t1"), u.ID, "cli", ""); err != nil {
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

// TestUsersSessionsAndTokensList: the owner's lists (newest first, paged
// by id, the current one marked, expired sessions left out, another user's
// never shown), revoking one by id (only one's own), revoking all but the
// current one, and a password change that keeps exactly the given session
// and token.
func TestUsersSessionsAndTokensList(t *testing.T) {
	ctx := context.Background()
	s := postgres.NewUsers(pgtest.DB(t))
	u := accounts.User{Email: "own@example.com", DisplayName: "Own", Role: accounts.RoleViewer}
	other := accounts.User{Email: "oth@example.com", DisplayName: "Oth", Role: accounts.RoleViewer}
	for _, x := range []*accounts.User{&u, &other} {
		if err := s.CreateUser(ctx, x, "hash"); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now()
	for _, h := range []string{"s1", "s2", "s3"} {
		if err := s.CreateSession(ctx, []byte(h), u.ID, now.Add(time.Hour), "UA "+h); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateToken(ctx, []byte("t"+h[1:]), u.ID, "tok"+h[1:], "UA t"); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.CreateSession(ctx, []byte("old"), u.ID, now.Add(-time.Minute), ""); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateSession(ctx, []byte("x1"), other.ID, now.Add(time.Hour), ""); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateToken(ctx, []byte("tx"), other.ID, "theirs", ""); err != nil {
		t.Fatal(err)
	}
	// Using a session records when.
	if _, err := s.SessionUser(ctx, []byte("s2"), now); err != nil {
		t.Fatal(err)
	}
	list, err := s.Sessions(ctx, u.ID, []byte("s2"), now, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 3 || list[0].UserAgent != "UA s3" || list[2].UserAgent != "UA s1" {
		t.Fatalf("sessions %+v; want s3, s2, s1 (no expired one, no other user's)", list)
	}
	if !list[1].Current || list[0].Current || list[1].LastUsedAt == nil || list[0].LastUsedAt != nil {
		t.Fatalf("current mark or last use wrong: %+v", list)
	}
	page, err := s.Sessions(ctx, u.ID, nil, now, list[0].ID, 1)
	if err != nil || len(page) != 1 || page[0].ID != list[1].ID {
		t.Fatalf("page after %d: %+v %v", list[0].ID, page, err)
	}
	toks, err := s.Tokens(ctx, u.ID, []byte("t1"), 0, 10)
	if err != nil || len(toks) != 3 || !toks[2].Current || toks[0].Name != "tok3" || toks[0].UserAgent != "UA t" {
		t.Fatalf("tokens %+v %v", toks, err)
	}
	// One by id: only the owner's.
	theirs, _ := s.Sessions(ctx, other.ID, nil, now, 0, 10)
	if err := s.DeleteSessionByID(ctx, u.ID, theirs[0].ID); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("deleting another user's session: %v", err)
	}
	if err := s.DeleteSessionByID(ctx, u.ID, list[0].ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SessionUser(ctx, []byte("s3"), now); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("revoked session still works: %v", err)
	}
	theirTok, _ := s.Tokens(ctx, other.ID, nil, 0, 10)
	if err := s.DeleteTokenByID(ctx, u.ID, theirTok[0].ID); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("deleting another user's token: %v", err)
	}
	// A password change keeps s2 and t1, ends the rest of this user's only.
	r, err := s.SetPassword(ctx, u.ID, "new", []byte("s2"), []byte("t1"))
	if err != nil || r.Sessions != 2 || r.Tokens != 2 { // s1 and the expired one; t2, t3
		t.Fatalf("SetPassword = %+v %v", r, err)
	}
	for _, h := range []string{"s2", "x1"} {
		if _, err := s.SessionUser(ctx, []byte(h), now); err != nil {
			t.Fatalf("session %s ended: %v", h, err)
		}
	}
	if _, err := s.SessionUser(ctx, []byte("s1"), now); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("session s1 survived the password change: %v", err)
	}
	for h, want := range map[string]bool{"t1": true, "t2": false, "tx": true} {
		if _, err := s.TokenUser(ctx, []byte(h), now); (err == nil) != want {
			t.Fatalf("token %s after the password change: %v", h, err)
		}
	}
	// Revoke all but the current one; nil keeps none.
	if n, err := s.DeleteSessions(ctx, u.ID, nil); err != nil || n != 1 {
		t.Fatalf("DeleteSessions = %d %v", n, err)
	}
	if n, err := s.DeleteTokens(ctx, u.ID, []byte("t1")); err != nil || n != 0 {
		t.Fatalf("DeleteTokens keeping t1 = %d %v", n, err)
	}
	if n, err := s.DeleteTokens(ctx, u.ID, nil); err != nil || n != 1 {
		t.Fatalf("DeleteTokens = %d %v", n, err)
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
