package i18n

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	msgtemplate "github.com/nicksnyder/go-i18n/v2/i18n/template"
	"golang.org/x/text/message"

	"github.com/ucc-video/ucc/internal/errs"
)

// Localizer speaks one language: its messages and its formats. It holds no
// per-request state, so one serves every reader of its language.
type Localizer struct {
	lang      string
	cat       *Catalog
	loc       *goi18n.Localizer
	printer   *message.Printer
	parser    msgtemplate.Parser
	onMissing func(lang, key string)
}

// Lang is the language's code ("ko"), as <html lang> takes it.
func (l *Localizer) Lang() string { return l.lang }

// Has reports whether the language's catalog holds key.
func (l *Localizer) Has(key string) bool {
	_, ok := l.cat.files[l.lang][key]
	return ok
}

// T is the message key, filled in with params given as name, value pairs:
// T("watch.more_from", "Channel", name). Numbers are written grouped
// (1,234), errors as their localized message.
func (l *Localizer) T(key string, params ...any) string {
	return l.localize(key, nil, "", params)
}

// N is the plural message key for the count n, whose {{.Count}} is n
// written in full and grouped ("1,234 payments").
func (l *Localizer) N(key string, n int64, params ...any) string {
	return l.localize(key, n, l.Number(n), params)
}

// C is the plural message key for the count n, whose {{.Count}} is n
// written short ("1.2K views", "조회수 1.2만회").
func (l *Localizer) C(key string, n int64, params ...any) string {
	return l.localize(key, n, l.Compact(n), params)
}

func (l *Localizer) localize(key string, plural any, count string, params []any) string {
	data := make(map[string]any, len(params)/2+1)
	if plural != nil {
		data["Count"] = count
	}
	for i := 0; i+1 < len(params); i += 2 {
		name, _ := params[i].(string)
		data[name] = l.value(params[i+1])
	}
	if !l.Has(key) {
		l.missing(key)
	}
	s, err := l.loc.Localize(&goi18n.LocalizeConfig{MessageID: key, TemplateData: data, PluralCount: plural, TemplateParser: l.parser})
	var nf *goi18n.MessageNotFoundErr
	if err != nil && !errors.As(err, &nf) {
		l.missing(key)
	}
	if s == "" && err != nil {
		return key
	}
	return s
}

func (l *Localizer) missing(key string) {
	if l.onMissing != nil {
		l.onMissing(l.lang, key)
	}
}

// value is how a parameter is written into a message.
func (l *Localizer) value(v any) any {
	switch x := v.(type) {
	case errs.Param:
		return l.value(x.Value)
	case int:
		return l.Number(int64(x))
	case int64:
		return l.Number(x)
	case int32:
		return l.Number(int64(x))
	case time.Duration:
		return l.Span(x)
	case time.Time:
		return l.Date(x)
	case error:
		return l.Error(x)
	case fmt.Stringer:
		return x.String()
	}
	return v
}

// Error is err's message in the language: an *errs.Error's catalog message
// for its key, filled in with its parameters; the English message where
// the catalog has none (or err is no *errs.Error).
func (l *Localizer) Error(err error) string {
	var e *errs.Error
	if !errors.As(err, &e) {
		return err.Error()
	}
	return l.ErrorMessage(e.Key(), e.Params(), e.Message)
}

// ErrorMessage is the message of the error key (a code, or code.variant)
// with params, or english where the language's catalog has none.
func (l *Localizer) ErrorMessage(key string, params map[string]any, english string) string {
	if l.lang == Source {
		return english
	}
	id := ErrorPrefix + key
	if !l.Has(id) {
		l.missing(id)
		return english
	}
	data := make(map[string]any, len(params))
	for k, v := range params {
		data[k] = l.value(v)
	}
	s, err := l.loc.Localize(&goi18n.LocalizeConfig{MessageID: id, TemplateData: data, TemplateParser: l.parser})
	if err != nil {
		l.missing(id)
		return english
	}
	return s
}

// Script is the messages a page's JavaScript needs, by key: each of keys
// is a message's key, or a prefix ending in "." for all messages under it.
// A message is a string, or for one with plural forms an object of them by
// CLDR category ("one", "other"), for Intl.PluralRules to pick from.
// Parameters are written {Name}, for the script to fill in; a message
// using more of the template language than parameters is left out (and
// reported missing).
func (l *Localizer) Script(keys ...string) map[string]any {
	out := map[string]any{}
	for _, lang := range []string{Source, l.lang} { // the source language fills what a catalog lacks
		for id, m := range l.cat.files[lang] {
			if !slices.ContainsFunc(keys, func(k string) bool { return id == k || strings.HasSuffix(k, ".") && strings.HasPrefix(id, k) }) {
				continue
			}
			if checkScriptMessage(m) != nil {
				l.missing(id)
				continue
			}
			forms := map[string]string{}
			for name, s := range map[string]string{"zero": m.Zero, "one": m.One, "two": m.Two, "few": m.Few, "many": m.Many} {
				if s != "" {
					forms[name] = scriptParam.ReplaceAllString(s, "{$1}")
				}
			}
			other := scriptParam.ReplaceAllString(m.Other, "{$1}")
			if len(forms) == 0 {
				out[id] = other
				continue
			}
			forms["other"] = other
			out[id] = forms
		}
	}
	return out
}
