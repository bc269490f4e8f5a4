package views

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"testing"
	"time"
)

// FuzzPlayToken throws arbitrary strings at the play token verifier and
// checks that it never panics, that only a token this key issued for this
// very video and viewer verifies, and that genuine tokens round-trip.
func FuzzPlayToken(f *testing.F) {
	key := []byte("0123456789abcdef0123456789abcdef")
	s := NewSigner(key)
	other := NewSigner([]byte("another secret, 32 characters..."))
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, seed := range []struct {
		tok    string
		vid    int64
		viewer string
		ageMS  int64
	}{
		{s.Issue(42, "u:7", t0), 42, "u:7", 31_000},
		{s.Issue(42, "u:7", t0), 43, "u:7", 31_000},
		{s.Issue(1, "a:abcdefghijklmnopqrstuvwx", t0), 1, "a:abcdefghijklmnopqrstuvwx", 3_600_000},
		{s.Issue(1<<62, "", t0), 1 << 62, "", 0},
		{other.Issue(42, "u:7", t0), 42, "u:7", 31_000},
		{"", 0, "", 0},
		{"AQ", 1, "u:1", 1},
		{"not a token!", 42, "u:7", 60_000},
		{base64.RawURLEncoding.EncodeToString(bytes.Repeat([]byte{0xff}, 40)), -1, "u:-1", -5},
		{"AYCAgICAgICAgIABAAAAAAAAAAAAAAAAAAAAAAA", 0, "u:0", 0},
	} {
		f.Add(seed.tok, seed.vid, seed.viewer, seed.ageMS)
	}
	minAge, maxAge := 30*time.Second, 2*time.Hour
	f.Fuzz(func(t *testing.T, tok string, vid int64, viewer string, ageMS int64) {
		now := t0.Add(time.Duration(ageMS) * time.Millisecond)
		id, err := s.Verify(tok, vid, viewer, now, minAge, maxAge)
		if err == nil {
			// Only what Issue produced for (vid, viewer) may verify: decode
			// the fields and re-issue them canonically.
			b, derr := base64.RawURLEncoding.DecodeString(tok)
			if derr != nil {
				t.Fatalf("verified a token that is not base64url: %q", tok)
			}
			rest := b[1:]
			gotVid, n := binary.Uvarint(rest)
			rest = rest[n:]
			ms, _ := binary.Uvarint(rest)
			if int64(gotVid) != vid {
				t.Fatalf("token for video %d verified for video %d", gotVid, vid)
			}
			want := s.Issue(vid, viewer, time.UnixMilli(int64(ms)))
			wb, _ := base64.RawURLEncoding.DecodeString(want)
			if !bytes.Equal(id, wb[len(wb)-macLen:]) {
				t.Fatalf("verified token %q does not carry the MAC of %q", tok, want)
			}
			age := now.Sub(time.UnixMilli(int64(ms)))
			if age < minAge || age > maxAge {
				t.Fatalf("token of age %s verified outside [%s, %s]", age, minAge, maxAge)
			}
		} else if id != nil {
			t.Fatalf("failed verification returned an id")
		}
		if _, err := other.Verify(tok, vid, viewer, now, minAge, maxAge); err == nil && id != nil {
			t.Fatalf("token %q verifies under two keys", tok)
		}

		// Genuine tokens round-trip, and only for their own video and viewer.
		issued := t0.Add(-time.Duration(ageMS%int64(time.Hour/time.Millisecond)) * time.Millisecond)
		if vid < 0 {
			return // public ids map to positive internal ids only
		}
		g := s.Issue(vid, viewer, issued)
		if len(g) > 64 {
			t.Fatalf("issued token is %d characters, longer than Verify accepts", len(g))
		}
		at := issued.Add(time.Minute)
		if _, err := s.Verify(g, vid, viewer, at, minAge, maxAge); err != nil {
			t.Fatalf("genuine token refused: %v", err)
		}
		if _, err := s.Verify(g, vid+1, viewer, at, minAge, maxAge); err == nil {
			t.Fatalf("token for video %d verified for video %d", vid, vid+1)
		}
		if _, err := s.Verify(g, vid, viewer+"x", at, minAge, maxAge); err == nil {
			t.Fatalf("token for viewer %q verified for another viewer", viewer)
		}
		if _, err := other.Verify(g, vid, viewer, at, minAge, maxAge); err == nil {
			t.Fatal("token verified under another key")
		}
	})
}

// FuzzAnonymousID checks the signed anonymous viewer id: no panic, only
// ids this key signed verify, and the random part comes back unchanged.
func FuzzAnonymousID(f *testing.F) {
	s := NewSigner([]byte("0123456789abcdef0123456789abcdef"))
	f.Add(s.NewAnonymousID())
	f.Add(NewSigner([]byte("another secret, 32 characters...")).NewAnonymousID())
	f.Add("")
	f.Add(".")
	f.Add("abcdefghijklmnopqrstuvwx.")
	f.Fuzz(func(t *testing.T, signed string) {
		r := s.VerifyAnonymousID(signed)
		if r == "" {
			return
		}
		if signed != r+"."+s.anonSig(r) {
			t.Fatalf("VerifyAnonymousID(%q) accepted a value it did not sign", signed)
		}
	})
}
