// Package i18n is UCC's localisation: the message catalogs of the languages
// the site speaks (Korean and English), choosing one from what a reader
// asks for, and writing numbers, counts, dates, durations, sizes and money
// the way that language's readers expect.
//
// The catalogs are TOML files embedded from locales/ (one per language,
// read by github.com/nicksnyder/go-i18n/v2, whose plural forms are CLDR's).
// A key names where the string is used: "watch.add_comment",
// "count.views". Error messages are under "err." followed by the error's
// code (errs.Error.Key): the English text of an error is the Go source's,
// so only the other languages' catalogs hold err. keys.
//
// The package knows nothing of HTTP: internal/web picks a language per
// request and hands the Localizer to its templates and error writer.
package i18n

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"path"
	"regexp"
	"slices"
	"strings"

	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	msgtemplate "github.com/nicksnyder/go-i18n/v2/i18n/template"
	"github.com/pelletier/go-toml/v2"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

//go:embed locales/*.toml
var locales embed.FS

// Language codes UCC speaks.
const (
	Korean  = "ko"
	English = "en"
)

// Source is the language the catalogs are written from: a key missing in
// another language falls back to it, and error messages in it are the Go
// source's own.
const Source = English

// Languages are the languages UCC speaks, each the code of a catalog file
// and of <html lang>.
func Languages() []string { return []string{Korean, English} }

// Supported reports whether lang is one of Languages.
func Supported(lang string) bool { return slices.Contains(Languages(), lang) }

// ErrorPrefix starts the catalog key of an error message: "err." + the
// error's errs.Error.Key.
const ErrorPrefix = "err."

// ScriptPrefix starts the keys of the messages the pages' JavaScript reads
// (Localizer.Script).
const ScriptPrefix = "js."

// Options configure a Catalog.
type Options struct {
	// Default is the language of a reader who asks for none UCC speaks
	// (UCC_DEFAULT_LANGUAGE).
	Default string
	// OnMissing, if set, is told about every message a Localizer was asked
	// for that its language's catalog lacks (the source language's text
	// or the key itself is used instead).
	OnMissing func(lang, key string)
}

// Catalog holds every language's messages and the localizers over them.
type Catalog struct {
	def     string
	matcher language.Matcher
	tags    []language.Tag // in the order of Languages
	files   map[string]map[string]*goi18n.Message
	locs    map[string]*Localizer
}

// Load reads the embedded catalogs.
func Load(opts Options) (*Catalog, error) {
	if opts.Default == "" {
		opts.Default = Korean
	}
	if !Supported(opts.Default) {
		return nil, fmt.Errorf("i18n: default language %q is not one of %s", opts.Default, strings.Join(Languages(), ", "))
	}
	bundle := goi18n.NewBundle(language.MustParse(Source))
	bundle.RegisterUnmarshalFunc("toml", toml.Unmarshal)
	c := &Catalog{def: opts.Default, files: map[string]map[string]*goi18n.Message{}, locs: map[string]*Localizer{}}
	for _, lang := range Languages() {
		name := path.Join("locales", lang+".toml")
		buf, err := fs.ReadFile(locales, name)
		if err != nil {
			return nil, fmt.Errorf("i18n: %w", err)
		}
		f, err := bundle.ParseMessageFileBytes(buf, name)
		if err != nil {
			return nil, fmt.Errorf("i18n: %s: %w", name, err)
		}
		msgs := map[string]*goi18n.Message{}
		for _, m := range f.Messages {
			if lang == Source && strings.HasPrefix(m.ID, ErrorPrefix) {
				return nil, fmt.Errorf("i18n: %s: %s: English error messages are the Go source's, not the catalog's", name, m.ID)
			}
			if strings.HasPrefix(m.ID, ScriptPrefix) {
				if err := checkScriptMessage(m); err != nil {
					return nil, fmt.Errorf("i18n: %s: %s: %w", name, m.ID, err)
				}
			}
			msgs[m.ID] = m
		}
		c.files[lang] = msgs
		c.tags = append(c.tags, language.MustParse(lang))
	}
	c.matcher = language.NewMatcher(c.tags)
	parser := &msgtemplate.TextParser{Option: "missingkey=error"}
	for i, lang := range Languages() {
		c.locs[lang] = &Localizer{lang: lang, cat: c, loc: goi18n.NewLocalizer(bundle, lang),
			printer: message.NewPrinter(c.tags[i]), parser: parser, onMissing: opts.OnMissing}
	}
	return c, nil
}

// Default is the language of readers who ask for none UCC speaks.
func (c *Catalog) Default() string { return c.def }

// Negotiate picks the language UCC speaks that best fits an Accept-Language
// header ("ko-KR,ko;q=0.9,en;q=0.8"), or "" when it names none of them
// (or none at all).
func (c *Catalog) Negotiate(acceptLanguage string) string {
	tags, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err != nil || len(tags) == 0 {
		return ""
	}
	_, i, conf := c.matcher.Match(tags...)
	if conf == language.No {
		return ""
	}
	return Languages()[i]
}

// Localizer returns lang's localizer; a language UCC does not speak gets
// the default language's.
func (c *Catalog) Localizer(lang string) *Localizer {
	if l, ok := c.locs[lang]; ok {
		return l
	}
	return c.locs[c.def]
}

// Keys lists the keys lang's catalog holds, sorted.
func (c *Catalog) Keys(lang string) []string {
	return slices.Sorted(maps.Keys(c.files[lang]))
}

// scriptParam is a parameter in a message for JavaScript: {{.Name}}.
var scriptParam = regexp.MustCompile(`\{\{\s*\.([A-Za-z][A-Za-z0-9]*)\s*\}\}`)

// checkScriptMessage refuses a JavaScript message using more of the
// template language than {{.Name}} parameters, which the script fills in.
func checkScriptMessage(m *goi18n.Message) error {
	for _, s := range []string{m.Zero, m.One, m.Two, m.Few, m.Many, m.Other} {
		if strings.Contains(scriptParam.ReplaceAllString(s, ""), "{{") {
			return errors.New("a message for JavaScript may only use {{.Name}} parameters")
		}
	}
	return nil
}
