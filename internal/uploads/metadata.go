package uploads

import (
	"encoding/base64"
	"path"
	"slices"
	"strconv"
	"strings"
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
		return nil, errs.Invalid("invalid_metadata", "Upload-Metadata is longer than %d bytes", maxMetadataLen)
	}
	for pair := range strings.SplitSeq(h, ",") {
		pair = strings.TrimSpace(pair)
		key, val, _ := strings.Cut(pair, " ")
		if key == "" || !validKey(key) {
			return nil, errs.Invalid("invalid_metadata", "Upload-Metadata has a bad key %q", key)
		}
		if _, dup := out[key]; dup {
			return nil, errs.Invalid("invalid_metadata", "Upload-Metadata repeats the key %q", key)
		}
		val = strings.TrimSpace(val)
		b, err := base64.StdEncoding.DecodeString(val)
		if err != nil {
			if b, err = base64.RawStdEncoding.DecodeString(val); err != nil {
				return nil, errs.Invalid("invalid_metadata", "Upload-Metadata value of %q is not base64", key)
			}
		}
		if !utf8.Valid(b) {
			return nil, errs.Invalid("invalid_metadata", "Upload-Metadata value of %q is not UTF-8 text", key)
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
	name = path.Base(strings.ReplaceAll(name, "\\", "/"))
	if name == "." || name == "/" {
		return ""
	}
	name = strings.TrimSuffix(name, path.Ext(name))
	name = strings.TrimSpace(name)
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
