package uploads

import (
	"encoding/base64"
	"path"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/ucc-video/ucc/internal/errs"
)

// ParseMetadata decodes a tus Upload-Metadata header: comma-separated pairs
// of a key and a base64 value ("title dGl0bGU=,private"). Keys are unique
// and hold no spaces or commas; a key alone has the empty value.
func ParseMetadata(h string) (map[string]string, error) {
	out := map[string]string{}
	if strings.TrimSpace(h) == "" {
		return out, nil
	}
	if len(h) > maxMetadataLen {
		return nil, errs.InvalidVariant("invalid_metadata", "too_long", "Upload-Metadata is longer than %d bytes", errs.P("Max", maxMetadataLen))
	}
	for pair := range strings.SplitSeq(h, ",") {
		pair = strings.TrimSpace(pair)
		key, val, _ := strings.Cut(pair, " ")
		if key == "" || !validKey(key) {
			return nil, errs.InvalidVariant("invalid_metadata", "bad_key", "Upload-Metadata has a bad key %q", errs.P("Key", key))
		}
		if _, dup := out[key]; dup {
			return nil, errs.InvalidVariant("invalid_metadata", "repeated", "Upload-Metadata repeats the key %q", errs.P("Key", key))
		}
		val = strings.TrimSpace(val)
		b, err := base64.StdEncoding.DecodeString(val)
		if err != nil {
			if b, err = base64.RawStdEncoding.DecodeString(val); err != nil {
				return nil, errs.InvalidVariant("invalid_metadata", "base64", "Upload-Metadata value of %q is not base64", errs.P("Key", key))
			}
		}
		if !utf8.Valid(b) {
			return nil, errs.InvalidVariant("invalid_metadata", "utf8", "Upload-Metadata value of %q is not UTF-8 text", errs.P("Key", key))
		}
		out[key] = string(b)
	}
	return out, nil
}

func validKey(k string) bool {
	for _, r := range k {
		if r <= ' ' || r == ',' || r > '~' {
			return false
		}
	}
	return true
}

// FormatMetadata encodes metadata as an Upload-Metadata header, keys sorted.
func FormatMetadata(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+" "+base64.StdEncoding.EncodeToString([]byte(m[k])))
	}
	return strings.Join(parts, ",")
}

// titleFromFilename turns "my_holiday-clip.mp4" into "my_holiday-clip".
func titleFromFilename(name string) string {
	// A file name is shown, never used as a path: control characters (NUL,
	// newlines, escapes) and invalid UTF-8 go before it is cut to its base.
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == utf8.RuneError {
			return -1
		}
		return r
	}, name)
	name = path.Base(strings.ReplaceAll(name, "\\", "/"))
	if name == "." || name == ".." || name == "/" {
		return ""
	}
	name = strings.TrimSuffix(name, path.Ext(name))
	name = strings.TrimSpace(name)
	if name == "." || name == ".." {
		return ""
	}
	if utf8.RuneCountInString(name) > 200 {
		name = string([]rune(name)[:200])
	}
	return name
}

// maxNumberDigits is the longest decimal number a tus size header may hold
// (int64 has 19 digits).
const maxNumberDigits = 19

// parseSize reads a tus byte count: ASCII digits only (no sign, no spaces),
// fitting in an int64.
func parseSize(h string) (int64, bool) {
	if h == "" || len(h) > maxNumberDigits {
		return 0, false
	}
	for i := 0; i < len(h); i++ {
		if h[i] < '0' || h[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(h, 10, 64)
	return n, err == nil
}

// ParseLength reads the Upload-Length header: the whole file's size in bytes.
func ParseLength(h string) (int64, error) {
	n, ok := parseSize(h)
	if !ok {
		return 0, errs.Invalid("invalid_length", "send the file size in bytes in the Upload-Length header")
	}
	return n, nil
}

// ParseOffset reads the Upload-Offset header: where a PATCH's bytes start.
func ParseOffset(h string) (int64, error) {
	n, ok := parseSize(h)
	if !ok {
		return 0, errs.Invalid("invalid_offset", "send the byte offset this chunk starts at in the Upload-Offset header")
	}
	return n, nil
}
