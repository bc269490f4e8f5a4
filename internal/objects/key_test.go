package objects

import (
	"errors"
	"strings"
	"testing"
)

func TestValidateKey(t *testing.T) {
	tests := []struct {
		key string
		ok  bool
	}{
		{"videos/7f3a/original", true},
		{"a", true},
		{"a..b/c", true},
		{"..a/.b", true},
		{"vidéos/ü", true},
		{strings.Repeat("a", MaxKeyLen), true},
		{"", false},
		{"/abs", false},
		{"..", false},
		{"../x", false},
		{"a/../b", false},
		{"a/..", false},
		{".", false},
		{"./a", false},
		{"a/./b", false},
		{"a//b", false},
		{"a/", false},
		{`a\b`, false},
		{`..\x`, false},
		{"a\x00b", false},
		{"a\nb", false},
		{"a\x7fb", false},
		{"a\xffb", false},
		{strings.Repeat("a", MaxKeyLen+1), false},
	}
	for _, tt := range tests {
		err := ValidateKey(tt.key)
		if tt.ok && err != nil {
			t.Errorf("ValidateKey(%q) = %v, want nil", tt.key, err)
		}
		if !tt.ok && !errors.Is(err, ErrInvalidKey) {
			t.Errorf("ValidateKey(%q) = %v, want ErrInvalidKey", tt.key, err)
		}
	}
}

func TestValidatePrefix(t *testing.T) {
	tests := []struct {
		prefix string
		ok     bool
	}{
		{"", true},
		{"videos/", true},
		{"videos/ab", true},
		{"v", true},
		{".", true},
		{"..", true},
		{"a/..b", true},
		{"/", false},
		{"/a", false},
		{"../", false},
		{"a/../", false},
		{"a//", false},
		{"./", false},
		{`a\`, false},
		{"a\x00", false},
		{"\xff", false},
		{strings.Repeat("a", MaxKeyLen+1), false},
	}
	for _, tt := range tests {
		err := ValidatePrefix(tt.prefix)
		if tt.ok && err != nil {
			t.Errorf("ValidatePrefix(%q) = %v, want nil", tt.prefix, err)
		}
		if !tt.ok && !errors.Is(err, ErrInvalidKey) {
			t.Errorf("ValidatePrefix(%q) = %v, want ErrInvalidKey", tt.prefix, err)
		}
	}
}
