package community

import (
	"strings"
	"unicode/utf8"
)

// Korean search. Korean writes particles (조사) onto the word they follow
// (기타를, 기타로) and builds compounds (통기타, 기타연주), so a word is not
// a token the way an English word is. The index keeps every Hangul run of
// a text as its syllable bigrams, in order (통기타 연주 → 통기 기타 | 연주),
// plus a mark on the bigram each run starts with; a Hangul query word
// matches where its bigrams stand next to each other, which finds it
// inside compounds. A query word ending in a particle also matches without
// it. storage/postgres writes the index and the queries (tsvector,
// tsquery) from these terms.

// HangulTerm is one Hangul word of a query.
type HangulTerm struct {
	// Forms are the spellings that count as the word, each at least one
	// syllable: the word as typed, and without its particle when it ends
	// in one (기타를 → 기타를, 기타).
	Forms []string
	// Exclude is a word written with a leading "-": videos with it are left out.
	Exclude bool
}

// SearchTerms splits a normalized query into the part the other-language
// (English and 'simple') indexes read, in web-search syntax, and its Hangul
// words. A word mixing Hangul and other letters ("K팝") is split between
// the two.
func SearchTerms(q string) (other string, hangul []HangulTerm) {
	var rest []string
	for _, w := range strings.Fields(q) {
		exclude := strings.HasPrefix(w, "-")
		body := strings.TrimPrefix(w, "-")
		var latin strings.Builder
		for _, run := range splitHangul(body) {
			if !run.hangul {
				latin.WriteString(run.text)
				continue
			}
			latin.WriteByte(' ')
			hangul = append(hangul, HangulTerm{Forms: hangulForms(run.text), Exclude: exclude})
		}
		if l := strings.TrimSpace(latin.String()); l != "" && l != "-" {
			if exclude {
				l = "-" + l
			}
			rest = append(rest, l)
		}
	}
	return strings.Join(rest, " "), hangul
}

// IsHangul reports whether r is a Hangul syllable (가 to 힣).
func IsHangul(r rune) bool { return r >= 0xAC00 && r <= 0xD7A3 }

type textRun struct {
	text   string
	hangul bool
}

// splitHangul cuts s into runs of Hangul syllables and runs of anything else.
func splitHangul(s string) []textRun {
	var out []textRun
	for _, r := range s {
		h := IsHangul(r)
		if n := len(out); n > 0 && out[n-1].hangul == h {
			out[n-1].text += string(r)
			continue
		}
		out = append(out, textRun{text: string(r), hangul: h})
	}
	return out
}

// particles are the endings taken off a query word, longest first. Those
// marked short may leave a single syllable (책을 → 책); the others need two
// left, so that 하나 stays 하나 rather than becoming 하.
var particles = []struct {
	text  string
	short bool
}{
	{"에서부터", false}, {"으로부터", false}, {"에게서", false}, {"한테서", false}, {"이라고", false},
	{"에서는", false}, {"에서도", false}, {"으로는", false}, {"으로도", false}, {"에게는", false},
	{"까지", false}, {"부터", false}, {"에서", true}, {"에게", true}, {"한테", true}, {"으로", true},
	{"처럼", false}, {"보다", false}, {"마저", false}, {"조차", false}, {"이나", false}, {"이랑", false},
	{"하고", false}, {"이요", false},
	{"을", true}, {"를", true}, {"은", true}, {"는", true}, {"이", true}, {"가", true}, {"의", true},
	{"에", true}, {"로", true}, {"와", true}, {"과", true}, {"도", true}, {"만", true},
	{"나", false}, {"랑", false}, {"께", false},
}

// hangulForms are the spellings a Hangul query word matches.
func hangulForms(w string) []string {
	forms := []string{w}
	n := utf8.RuneCountInString(w)
	for _, p := range particles {
		stem, ok := strings.CutSuffix(w, p.text)
		if !ok {
			continue
		}
		if left := n - utf8.RuneCountInString(p.text); left >= 2 || (p.short && left == 1) {
			forms = append(forms, stem)
		}
		break
	}
	return forms
}
