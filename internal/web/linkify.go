package web

import (
	"net/url"
	"regexp"
	"strings"
)

// textPart is a piece of user text: plain text, or a link whose URL is a
// checked http(s) URL. Templates print both through html/template, so user
// text is always escaped and never becomes markup.
type textPart struct {
	Text string
	URL  string
}

var linkPattern = regexp.MustCompile(`(?i)\bhttps?://[^\s<>"'` + "`" + `]+`)

// linkify splits s into text and links. Only http and https URLs with a host
// become links; everything else (javascript:, data:, ...) stays text.
func linkify(s string) []textPart {
	var parts []textPart
	last := 0
	for _, m := range linkPattern.FindAllStringIndex(s, 200) {
		raw := trimURLTail(s[m[0]:m[1]])
		end := m[0] + len(raw)
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			continue
		}
		if m[0] > last {
			parts = append(parts, textPart{Text: s[last:m[0]]})
		}
		parts = append(parts, textPart{Text: raw, URL: u.String()})
		last = end
	}
	if last < len(s) {
		parts = append(parts, textPart{Text: s[last:]})
	}
	return parts
}

// trimURLTail drops sentence punctuation after a URL, and a closing
// parenthesis that has no opening one inside the URL.
func trimURLTail(u string) string {
	for len(u) > 0 {
		c := u[len(u)-1]
		switch {
		case strings.ContainsRune(".,;:!?'\"", rune(c)):
			u = u[:len(u)-1]
		case c == ')' && strings.Count(u, "(") < strings.Count(u, ")"):
			u = u[:len(u)-1]
		default:
			return u
		}
	}
	return u
}
