package community

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/ucc-video/ucc/internal/errs"
)

// FuzzCursor feeds arbitrary strings to ParseCursor: it never panics, refuses
// with ErrInvalid (never another kind), and whatever it accepts encodes back
// to a cursor that parses to the same position, with a time PostgreSQL can
// store.
func FuzzCursor(f *testing.F) {
	for _, c := range []Cursor{
		{Offset: 24},
		{Offset: 10000},
		{AfterAt: time.Date(2025, 3, 1, 12, 0, 0, 123000, time.UTC), AfterID: 42},
		{AfterAt: time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC), AfterID: 1},
	} {
		f.Add(c.String())
	}
	for _, raw := range []string{"", "o:-1", "o:10001", "k:1:2:3", "k:-9223372036854775808:1", "k:9223372036854775807:9223372036854775807",
		"k:abc:1", "x", "o:", ":", "k::", "o:00000000000000000000000000000000000000000000000000000000000001"} {
		f.Add(b64(raw))
	}
	f.Add("!!!")
	f.Add(strings.Repeat("A", 200))
	minT, maxT := time.Date(-4713, 11, 24, 0, 0, 0, 0, time.UTC), time.Date(294276, 12, 31, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCursor(s)
		if err != nil {
			if !errors.Is(err, errs.ErrInvalid) {
				t.Fatalf("ParseCursor(%q) = %v, want an ErrInvalid error", s, err)
			}
			return
		}
		if c.Offset < 0 || c.Offset > 10000 || c.AfterID < 0 {
			t.Fatalf("ParseCursor(%q) accepted out-of-range %+v", s, c)
		}
		if !c.AfterAt.IsZero() && (c.AfterAt.Before(minT) || c.AfterAt.After(maxT)) {
			t.Fatalf("ParseCursor(%q) accepted time %v that PostgreSQL cannot store", s, c.AfterAt)
		}
		again, err := ParseCursor(c.String())
		if err != nil {
			t.Fatalf("cursor %+v encodes to %q, which does not parse: %v", c, c.String(), err)
		}
		if again.Offset != c.Offset || again.AfterID != c.AfterID || !again.AfterAt.Equal(c.AfterAt) {
			t.Fatalf("round trip changed %+v into %+v", c, again)
		}
	})
}

// FuzzNormalizeQuery checks that any input becomes a safe, bounded search
// query: valid UTF-8, no control characters, single spaces, trimmed, at
// most MaxQueryRunes runes, and stable when normalised again.
func FuzzNormalizeQuery(f *testing.F) {
	for _, s := range []string{"cats", "  two   words ", "\x00\x01drop table", "a\xffb", "\"quoted phrase\" -not OR x",
		"'; DROP TABLE videos; --", "<script>alert(1)</script>", "日本語 の 検索", strings.Repeat("é", 300), "\u2028\u2029\t\r\n",
		"!@#$%^&*()", "\\", "&|!:*", "a:*", "(a | b) & !c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		q := NormalizeQuery(in)
		if !utf8.ValidString(q) {
			t.Fatalf("NormalizeQuery(%q) = %q, not valid UTF-8", in, q)
		}
		if n := utf8.RuneCountInString(q); n > MaxQueryRunes {
			t.Fatalf("NormalizeQuery(%q) has %d runes", in, n)
		}
		if q != strings.TrimSpace(q) || strings.Contains(q, "  ") {
			t.Fatalf("NormalizeQuery(%q) = %q: untrimmed or double spaces", in, q)
		}
		for _, r := range q {
			if unicode.IsControl(r) || (unicode.IsSpace(r) && r != ' ') {
				t.Fatalf("NormalizeQuery(%q) = %q keeps %U", in, q, r)
			}
		}
		if again := NormalizeQuery(q); again != q {
			t.Fatalf("NormalizeQuery is not idempotent: %q -> %q -> %q", in, q, again)
		}
	})
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
