package objects

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/ucc-video/ucc/internal/errs"
)

// MaxKeyLen is the longest key, in bytes, that ValidateKey accepts.
const MaxKeyLen = 1024

// DefaultContentType is the content type reported for objects stored without one.
const DefaultContentType = "application/octet-stream"

// ErrSizeMismatch is returned by Put when the stream is shorter or longer than the declared size.
var ErrSizeMismatch = fmt.Errorf("objects: stream length does not match declared size: %w", errs.ErrInvalid)

// ValidateKey reports whether key is a safe object key: non-empty, at most
// MaxKeyLen bytes of valid UTF-8, "/"-separated segments that are neither
// empty nor "." or "..", and no leading "/", backslash or control character
// (NUL included). The error wraps ErrInvalidKey.
func ValidateKey(key string) error {
	if key == "" {
		return fmt.Errorf("%w: empty key", ErrInvalidKey)
	}
	if err := checkChars(key); err != nil {
		return err
	}
	if strings.HasPrefix(key, "/") {
		return fmt.Errorf("%w: %q starts with \"/\"", ErrInvalidKey, key)
	}
	for seg := range strings.SplitSeq(key, "/") {
		if err := checkSegment(key, seg); err != nil {
			return err
		}
	}
	return nil
}

// ValidatePrefix reports whether prefix could start a valid key, so that List
// can use it safely. The empty prefix (everything) is valid; the part after
// the last "/" may be incomplete (e.g. "videos/ab" or "videos/"). The error
// wraps ErrInvalidKey.
func ValidatePrefix(prefix string) error {
	if prefix == "" {
		return nil
	}
	if err := checkChars(prefix); err != nil {
		return err
	}
	if strings.HasPrefix(prefix, "/") {
		return fmt.Errorf("%w: prefix %q starts with \"/\"", ErrInvalidKey, prefix)
	}
	if i := strings.LastIndexByte(prefix, '/'); i >= 0 {
		for seg := range strings.SplitSeq(prefix[:i], "/") {
			if err := checkSegment(prefix, seg); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkChars rejects over-long strings, invalid UTF-8, backslashes and control characters.
func checkChars(s string) error {
	if len(s) > MaxKeyLen {
		return fmt.Errorf("%w: %d bytes, the limit is %d", ErrInvalidKey, len(s), MaxKeyLen)
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("%w: %q is not valid UTF-8", ErrInvalidKey, s)
	}
	for _, r := range s {
		switch {
		case r == '\\':
			return fmt.Errorf("%w: %q contains a backslash", ErrInvalidKey, s)
		case r < 0x20 || r == 0x7f:
			return fmt.Errorf("%w: %q contains a control character", ErrInvalidKey, s)
		}
	}
	return nil
}

// checkSegment rejects empty, "." and ".." path segments.
func checkSegment(key, seg string) error {
	switch seg {
	case "":
		return fmt.Errorf("%w: %q has an empty path segment", ErrInvalidKey, key)
	case ".", "..":
		return fmt.Errorf("%w: %q has a %q path segment", ErrInvalidKey, key, seg)
	}
	return nil
}
