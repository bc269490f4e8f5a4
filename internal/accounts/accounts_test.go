package accounts

import (
	"errors"
	"strings"
	"testing"

	"github.com/ucc-video/ucc/internal/errs"
)

func TestPasswordHashRoundTrip(t *testing.T) {
	h, err := HashPassword("correct horse", FastPasswordParams())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=1024,t=1,p=1$") {
		t.Fatalf("hash format: %s", h)
	}
	h2, _ := HashPassword("correct horse", FastPasswordParams())
	if h == h2 {
		t.Fatal("same salt twice")
	}
	for pw, want := range map[string]bool{"correct horse": true, "correct horsE": false, "": false} {
		if ok, err := VerifyPassword(pw, h); err != nil || ok != want {
			t.Errorf("Verify(%q) = %v, %v; want %v", pw, ok, err, want)
		}
	}
	if _, err := VerifyPassword("x", "$bcrypt$nope"); err == nil {
		t.Fatal("unknown format accepted")
	}
}

func TestValidation(t *testing.T) {
	for in, want := range map[string]string{" Ann@Example.COM ": "ann@example.com", "a@b.co": "a@b.co"} {
		if got, err := NormalizeEmail(in); err != nil || got != want {
			t.Errorf("NormalizeEmail(%q) = %q, %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "ann", "ann@", "Ann <ann@example.com>", "ann@localhost", strings.Repeat("a", 250) + "@x.io"} {
		if _, err := NormalizeEmail(bad); !errors.Is(err, errs.ErrInvalid) {
			t.Errorf("NormalizeEmail(%q) accepted", bad)
		}
	}
	if err := ValidatePassword("1234567"); !errors.Is(err, errs.ErrInvalid) {
		t.Error("7-character password accepted")
	}
	if err := ValidatePassword("long enough passphrase"); err != nil {
		t.Error(err)
	}
	if _, err := ParseRole("root"); !errors.Is(err, errs.ErrInvalid) {
		t.Error("role root accepted")
	}
}
