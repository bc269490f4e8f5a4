package i18n

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
)

// The catalog checks: every message the code uses is in both catalogs,
// every catalog message is used, and every error the Go source can give
// has its Korean message.

// repoRoot is the repository, from this package's directory.
const repoRoot = "../.."

func load(t *testing.T) *Catalog {
	t.Helper()
	c, err := Load(Options{Default: Korean})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestCatalogsHoldTheSameKeys: each language has every message of the
// others (errors aside: English errors are the Go source's), with the plural
// forms its language needs.
func TestCatalogsHoldTheSameKeys(t *testing.T) {
	c := load(t)
	ui := func(lang string) []string {
		var out []string
		for _, k := range c.Keys(lang) {
			if !strings.HasPrefix(k, ErrorPrefix) {
				out = append(out, k)
			}
		}
		return out
	}
	en, ko := ui(English), ui(Korean)
	for _, k := range en {
		if !slices.Contains(ko, k) {
			t.Errorf("ko.toml lacks %q", k)
		}
	}
	for _, k := range ko {
		if !slices.Contains(en, k) {
			t.Errorf("ko.toml has %q, which en.toml (the source) does not", k)
		}
	}
	for _, k := range en {
		e, kk := c.files[English][k], c.files[Korean][k]
		if kk == nil {
			continue
		}
		if (e.One != "") != (e.Other != "" && e.One != "") || e.Other == "" {
			t.Errorf("en.toml %q: a message needs other (and one with it when plural)", k)
		}
		if e.One != "" && kk.Other == "" {
			t.Errorf("ko.toml %q: a plural message needs other (Korean has no other form)", k)
		}
		if kk.One != "" || kk.Few != "" || kk.Many != "" || kk.Two != "" || kk.Zero != "" {
			t.Errorf("ko.toml %q: Korean has only the plural form other", k)
		}
		if p, q := params(e.Other+e.One), params(kk.Other); !slices.Equal(p, q) {
			t.Errorf("%q: en.toml uses the parameters %v, ko.toml %v", k, p, q)
		}
	}
}

// params lists the {{.Name}} parameters of a message, sorted and unique.
func params(s string) []string {
	var out []string
	for _, m := range scriptParam.FindAllStringSubmatch(s, -1) {
		if !slices.Contains(out, m[1]) {
			out = append(out, m[1])
		}
	}
	sort.Strings(out)
	return out
}

// keyUse finds a catalog key as the code writes it: a quoted string in a
// template, a Go file or a script.
var keyUse = regexp.MustCompile(`"([a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+)"`)

// usedKeys collects the quoted dotted strings of the repository's
// templates, Go code and scripts (tests aside), and the script prefixes
// (strings ending in ".") templates hand to "script".
func usedKeys(t *testing.T) (keys map[string][]string, prefixes []string) {
	t.Helper()
	keys = map[string][]string{}
	err := filepath.WalkDir(repoRoot, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); n == "node_modules" || n == "testdata" || (strings.HasPrefix(n, ".") && path != repoRoot) {
				return filepath.SkipDir
			}
			return nil
		}
		ext := filepath.Ext(path)
		if (ext != ".go" && ext != ".html" && ext != ".js") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(repoRoot, path)
		for _, m := range keyUse.FindAllStringSubmatch(string(b), -1) {
			keys[m[1]] = append(keys[m[1]], rel)
		}
		for _, m := range regexp.MustCompile(`script [^}]*"(js\.[a-z_]+\.)"`).FindAllStringSubmatch(string(b), -1) {
			prefixes = append(prefixes, m[1])
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return keys, prefixes
}

// TestEveryMessageIsUsed: a catalog message nothing uses is dead text to
// translate; a message for a script must also be read by a script.
func TestEveryMessageIsUsed(t *testing.T) {
	c := load(t)
	keys, prefixes := usedKeys(t)
	for _, k := range c.Keys(English) {
		if strings.HasPrefix(k, ScriptPrefix) {
			if !slices.ContainsFunc(prefixes, func(p string) bool { return strings.HasPrefix(k, p) }) {
				t.Errorf("%q: no page hands its prefix to the scripts", k)
			}
			if !slices.ContainsFunc(keys[k], func(f string) bool { return strings.HasSuffix(f, ".js") }) {
				t.Errorf("%q: no script in static/js reads it", k)
			}
			continue
		}
		if len(keys[k]) == 0 {
			t.Errorf("%q is in the catalogs but no template or code uses it", k)
		}
	}
}

// templateKey is a catalog key as a template calls it.
var templateKey = regexp.MustCompile(`\b(?:t|tn|tc|thtml) "([^"]+)"`)

// TestTemplatesUseKnownKeys: every key a template asks for is in both
// catalogs.
func TestTemplatesUseKnownKeys(t *testing.T) {
	c := load(t)
	files, _ := filepath.Glob(filepath.Join(repoRoot, "templates", "*", "*.html"))
	more, _ := filepath.Glob(filepath.Join(repoRoot, "templates", "*.html"))
	n := 0
	for _, f := range append(files, more...) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range templateKey.FindAllStringSubmatch(string(b), -1) {
			n++
			for _, lang := range Languages() {
				if !c.Localizer(lang).Has(m[1]) {
					t.Errorf("%s asks for %q, which %s.toml lacks", f, m[1], lang)
				}
			}
		}
	}
	if n < 100 {
		t.Fatalf("found only %d catalog keys in the templates: is the pattern right?", n)
	}
}

// TestEveryErrorHasItsKoreanMessage: every error the Go source can give
// (errs.New and friends, by code and variant) has a Korean message taking
// only the parameters the error names; one key has one English message
// (else it needs a variant); and the catalog has no error nothing gives.
func TestEveryErrorHasItsKoreanMessage(t *testing.T) {
	c := load(t)
	msgs, problems := sourceErrors(t, repoRoot)
	for _, p := range problems {
		t.Error(p)
	}
	if len(msgs) < 150 {
		t.Fatalf("found only %d error messages in the source: is the scan right?", len(msgs))
	}
	english := map[string]errorMessage{}
	ko := c.Localizer(Korean)
	for _, m := range msgs {
		if prev, ok := english[m.key]; ok && prev.format != m.format {
			t.Errorf("%s and %s give the key %q two messages (%q, %q): give one a variant (errs.NewVariant)", prev.at, m.at, m.key, prev.format, m.format)
		}
		english[m.key] = m
		msg, ok := c.files[Korean][ErrorPrefix+m.key]
		if !ok {
			t.Errorf("%s: ko.toml has no [err] %q (English: %q)", m.at, m.key, m.format)
			continue
		}
		for _, p := range params(msg.Other) {
			if !slices.Contains(m.params, p) {
				t.Errorf("ko.toml [err] %q uses {{.%s}}, but %s names only %v", m.key, p, m.at, m.params)
			}
		}
		data := map[string]any{}
		for _, p := range m.params {
			data[p] = "x"
		}
		if got := ko.ErrorMessage(m.key, data, "ENGLISH"); got == "ENGLISH" {
			t.Errorf("ko.toml [err] %q does not render", m.key)
		}
	}
	for _, k := range c.Keys(Korean) {
		if key, ok := strings.CutPrefix(k, ErrorPrefix); ok {
			if _, used := english[key]; !used {
				t.Errorf("ko.toml has [err] %q, which no error in the source gives", key)
			}
		}
	}
}
