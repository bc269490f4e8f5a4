package postgres_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/ucc-video/ucc/internal/accounts"
	"github.com/ucc-video/ucc/internal/errs"
	"github.com/ucc-video/ucc/internal/uploads"
	"github.com/ucc-video/ucc/storage/postgres"
	"github.com/ucc-video/ucc/storage/postgres/pgtest"
)

func TestUploadsStore(t *testing.T) {
	ctx := context.Background()
	db := pgtest.DB(t)
	users := postgres.NewUsers(db)
	u := accounts.User{Email: "c@example.com", DisplayName: "C", Role: accounts.RoleCreator}
	if err := users.CreateUser(ctx, &u, "h"); err != nil {
		t.Fatal(err)
	}
	s := postgres.NewUploads(db)
	now := time.Now().UTC().Truncate(time.Microsecond)
	sess := uploads.Session{ID: "abcdefghijklmnopqrstuvwx", CreatorID: u.ID, Length: 100, PartSize: 10,
		Metadata: map[string]string{"title": "T"}, ObjectKey: "originals/x", MultipartID: "mp", Parts: []uploads.Part{},
		CreatedAt: now, ExpiresAt: now.Add(24 * time.Hour)}
	if used, ok, err := s.Create(ctx, sess, 150, 0); err != nil || !ok || used != 0 {
		t.Fatalf("Create = %d %v %v", used, ok, err)
	}
	over := sess
	over.ID = "zzzzzzzzzzzzzzzzzzzzzzzz"
	if used, ok, err := s.Create(ctx, over, 150, 0); err != nil || ok || used != 100 {
		t.Fatalf("Create over quota = %d %v %v", used, ok, err)
	}
	if _, err := s.Get(ctx, over.ID); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("an over-quota session was stored: %v", err)
	}
	if _, ok, err := s.Create(ctx, over, 0, 0); err != nil || !ok {
		t.Fatalf("quota 0 is unlimited: %v %v", ok, err)
	}

	// Part numbers are handed out once each, even to concurrent callers.
	seen := map[int]bool{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			n, err := s.NextPartNumber(ctx, sess.ID)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if seen[n] {
				t.Errorf("part number %d handed out twice", n)
			}
			seen[n] = true
		})
	}
	wg.Wait()

	// Of two writers at the same offset, exactly one advances it.
	var wins, conflicts int
	for i := range 2 {
		wg.Go(func() {
			p := uploads.Part{Number: i + 1, Size: 10, ETag: "e"}
			err := s.Advance(ctx, sess.ID, 0, uploads.Advance{Part: &p, NewOffset: 10})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
			case errors.Is(err, errs.ErrConflict):
				conflicts++
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if wins != 1 || conflicts != 1 {
		t.Fatalf("wins %d conflicts %d", wins, conflicts)
	}
	if err := s.Advance(ctx, sess.ID, 10, uploads.Advance{NewOffset: 13, TailKey: "uploads/x/tail-1", TailSize: 3}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, sess.ID)
	if err != nil || got.Offset != 13 || len(got.Parts) != 1 || got.Parts[0].Size != 10 || got.TailKey != "uploads/x/tail-1" ||
		got.TailSize != 3 || got.Metadata["title"] != "T" || !got.ExpiresAt.Equal(sess.ExpiresAt) {
		t.Fatalf("Get = %+v %v", got, err)
	}
	if err := s.Advance(ctx, sess.ID, 13, uploads.Advance{NewOffset: 101}); !errors.Is(err, errs.ErrInvalid) {
		t.Fatalf("offset past the length: %v", err)
	}

	// The finishing lease.
	if ok, err := s.ClaimFinish(ctx, sess.ID, now, now.Add(72*time.Hour)); err != nil || !ok {
		t.Fatalf("claim: %v %v", ok, err)
	}
	if ok, _ := s.ClaimFinish(ctx, sess.ID, now.Add(time.Second), now.Add(time.Minute)); ok {
		t.Fatal("claimed twice")
	}
	if exp, err := s.Expired(ctx, now.Add(48*time.Hour), 10); err != nil || len(exp) != 1 || exp[0].ID != over.ID {
		t.Fatalf("Expired must skip a session being finished: %v %v", exp, err)
	}
	if exp, _ := s.Expired(ctx, now.Add(73*time.Hour), 10); len(exp) != 2 {
		t.Fatalf("Expired after the lease ended: %d", len(exp))
	}
	if err := s.ReleaseFinish(ctx, sess.ID); err != nil {
		t.Fatal(err)
	}
	if exp, _ := s.Expired(ctx, now.Add(48*time.Hour), 10); len(exp) != 2 {
		t.Fatalf("Expired after release: %d", len(exp))
	}
	if exp, _ := s.Expired(ctx, now, 10); len(exp) != 0 {
		t.Fatalf("Expired before expiry: %d", len(exp))
	}
	if err := s.Delete(ctx, sess.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, sess.ID); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("after Delete: %v", err)
	}
}
