package uploads

import (
	"errors"
	"math/big"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/ucc-video/ucc/internal/errs"
)

// FuzzUploadMetadata feeds arbitrary Upload-Metadata headers to the parser
// and the metadata cleaner: no panic, refusals are ErrInvalid, accepted
// metadata round-trips through FormatMetadata, and what is kept is valid,
// bounded text whose file name can never name a path.
func FuzzUploadMetadata(f *testing.F) {
	for _, s := range []string{
		"title TXkgY2xpcA==, description ,private,filename Y2xpcC5tcDQ",
		"filename Li4vLi4vZXRjL3Bhc3N3ZA==",          // ../../etc/passwd
		"filename Li5cLi5cd2luZG93c1xzeXN0ZW0zMg==",  // ..\..\windows\system32
		"name L2V0Yy9zaGFkb3c=",                      // /etc/shadow
		"title PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==", // <script>alert(1)</script>
		"title /w==",            // invalid UTF-8
		"title AA==",            // NUL
		"filename YQBiLm1wNA==", // "a\x00b.mp4": a NUL inside a file name
		"filename Li4=",         // ".."
		"filename Li4ubXA0",     // "...mp4"
		"visibility cHJpdmF0ZQ==,title eA",
		"visibility ZnJpZW5kcw==",
		"", ",", "a", "a b c", "a eA==,a eA==", "tïtle eA==", strings.Repeat("k eA==,", 3000),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		m, err := ParseMetadata(h)
		if err != nil {
			if !errors.Is(err, errs.ErrInvalid) {
				t.Fatalf("ParseMetadata(%q) = %v, want ErrInvalid", h, err)
			}
			return
		}
		for k, v := range m {
			if k == "" || !validKey(k) || !utf8.ValidString(v) {
				t.Fatalf("ParseMetadata(%q) kept key %q value %q", h, k, v)
			}
		}
		back, err := ParseMetadata(FormatMetadata(m))
		if err != nil || len(back) != len(m) {
			t.Fatalf("round trip of %v: %v %v", m, back, err)
		}
		for k, v := range m {
			if back[k] != v {
				t.Fatalf("round trip changed %q: %q -> %q", k, v, back[k])
			}
		}
		clean, err := cleanMetadata(m)
		if err != nil {
			if !errors.Is(err, errs.ErrInvalid) {
				t.Fatalf("cleanMetadata(%v) = %v, want ErrInvalid", m, err)
			}
			return
		}
		title := clean["title"]
		if n := utf8.RuneCountInString(title); n < 1 || n > 200 || !utf8.ValidString(title) || strings.ContainsRune(title, 0) {
			t.Fatalf("cleanMetadata kept title %q", title)
		}
		if d := clean["description"]; !utf8.ValidString(d) || strings.ContainsRune(d, 0) || utf8.RuneCountInString(d) > 10000 {
			t.Fatalf("cleanMetadata kept description %q", d)
		}
		if fn, ok := clean["filename"]; ok && (strings.ContainsAny(fn, "/\\\x00") || fn == "..") {
			t.Fatalf("cleanMetadata kept a file name that is a path: %q", fn)
		}
	})
}

// FuzzTusSizes checks the Upload-Length and Upload-Offset parsers (digits
// only, never negative, refusals are ErrInvalid) and the PATCH bounds check
// against exact big-integer arithmetic, so that no header value can make
// an upload grow past its declared length.
func FuzzTusSizes(f *testing.F) {
	f.Add("1048576", "0", int64(1024), int64(1048576), int64(0))
	f.Add("+5", "-0", int64(-1), int64(10), int64(0))
	f.Add("9223372036854775807", "1", int64(9223372036854775807), int64(10<<20), int64(1))
	f.Add("9223372036854775808", " 1", int64(1), int64(10), int64(10))
	f.Add("00000000000000000001", "1e3", int64(0), int64(1), int64(1))
	f.Add("", "0x10", int64(5), int64(5), int64(0))
	f.Fuzz(func(t *testing.T, lengthH, offsetH string, n, sessLen, sessOff int64) {
		for name, parse := range map[string]func(string) (int64, error){"Upload-Length": ParseLength, "Upload-Offset": ParseOffset} {
			h := lengthH
			if name == "Upload-Offset" {
				h = offsetH
			}
			v, err := parse(h)
			if err != nil {
				if !errors.Is(err, errs.ErrInvalid) {
					t.Fatalf("%s %q: %v, want ErrInvalid", name, h, err)
				}
				continue
			}
			if v < 0 || strings.Trim(h, "0123456789") != "" {
				t.Fatalf("%s %q accepted as %d", name, h, v)
			}
			if want, perr := strconv.ParseUint(h, 10, 63); perr != nil || int64(want) != v {
				t.Fatalf("%s %q parsed as %d", name, h, v)
			}
		}
		// A stored session always has 0 <= offset <= length.
		if sessLen < 0 {
			sessLen = -(sessLen + 1)
		}
		if sessOff < 0 {
			sessOff = -(sessOff + 1)
		}
		if sessOff > sessLen {
			sessOff, sessLen = sessLen, sessOff
		}
		sess := Session{Length: sessLen, Offset: sessOff}
		offset, err := ParseOffset(offsetH)
		if err != nil {
			offset = sessOff
		}
		err = checkWrite(sess, offset, n)
		end := new(big.Int).Add(big.NewInt(offset), big.NewInt(n))
		fits := offset == sessOff && n >= 0 && end.Cmp(big.NewInt(sessLen)) <= 0
		if (err == nil) != fits {
			t.Fatalf("checkWrite(length %d, offset %d; PATCH at %d of %d bytes) = %v, want ok=%v", sessLen, sessOff, offset, n, err, fits)
		}
	})
}
