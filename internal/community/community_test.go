package community

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ucc-video/ucc/internal/errs"
)

func TestCursorRoundTrip(t *testing.T) {
	at := time.Date(2025, 3, 1, 12, 30, 0, 123456000, time.UTC)
	for _, c := range []Cursor{{}, {Offset: 48}, {AfterAt: at, AfterID: 42}, {AfterID: 7}} {
		got, err := ParseCursor(c.String())
		if err != nil {
			t.Fatalf("%+v: %v", c, err)
		}
		if got.Offset != c.Offset || got.AfterID != c.AfterID || !got.AfterAt.Equal(c.AfterAt) {
			t.Fatalf("round trip %+v -> %q -> %+v", c, c.String(), got)
		}
	}
	for _, bad := range []string{"!!", "bzpx", "eDox", "bzotMQ", "bzo5OTk5OTk5", "azox", strings.Repeat("a", 200)} {
		if _, err := ParseCursor(bad); !errors.Is(err, errs.ErrInvalid) {
			t.Errorf("ParseCursor(%q) = %v, want invalid", bad, err)
		}
	}
}

func TestValidateComment(t *testing.T) {
	if got, err := ValidateComment("  hi\r\nthere\x00 "); err != nil || got != "hi\nthere" {
		t.Fatalf("got %q, %v", got, err)
	}
	for _, bad := range []string{"", " \n\t ", "\xff", strings.Repeat("a", MaxCommentRunes+1)} {
		if _, err := ValidateComment(bad); !errors.Is(err, errs.ErrInvalid) {
			t.Errorf("ValidateComment(%.20q) = %v, want invalid", bad, err)
		}
	}
	if _, err := ValidateComment(strings.Repeat("€", MaxCommentRunes)); err != nil {
		t.Fatalf("10,000 multi-byte characters refused: %v", err)
	}
}

func TestNormalizeQuery(t *testing.T) {
	cases := map[string]string{
		"  cats\t and\n dogs ": "cats and dogs",
		"\x00\xff":             "",
		"a\x00b":               "a b",
	}
	for in, want := range cases {
		if got := NormalizeQuery(in); got != want {
			t.Errorf("NormalizeQuery(%q) = %q, want %q", in, got, want)
		}
	}
	if n := len([]rune(NormalizeQuery(strings.Repeat("ü", 5000)))); n != MaxQueryRunes {
		t.Fatalf("long query cut to %d runes", n)
	}
}

func TestParseReactionAndLimits(t *testing.T) {
	for s, want := range map[string]Reaction{"like": ReactionLike, "dislike": ReactionDislike, "none": ReactionNone} {
		if r, err := ParseReaction(s); err != nil || r != want || r.String() != s {
			t.Errorf("ParseReaction(%q) = %v, %v", s, r, err)
		}
	}
	if _, err := ParseReaction("love"); !errors.Is(err, errs.ErrInvalid) {
		t.Fatal("love accepted")
	}
	if ClampLimit(0) != DefaultLimit || ClampLimit(1000) != MaxLimit || ClampLimit(5) != 5 {
		t.Fatal("ClampLimit")
	}
}
