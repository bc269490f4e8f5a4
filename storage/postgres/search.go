package postgres

import (
	"context"
	"strings"
	"unicode/utf8"

	"github.com/ucc-video/ucc/internal/community"
	"github.com/ucc-video/ucc/internal/videos"
)

// SearchVideos ranks public videos matching q. The query's Hangul words
// (community.SearchTerms) match the Korean vectors of migration 00009; the
// rest is parsed with websearch_to_tsquery, which never fails on syntax:
// junk becomes an empty query that matches nothing. Videos match on their
// own text (English stemming and Korean bigrams) or their channel's name
// and handle ('simple', Korean bigrams); a channel match ranks like a
// title word. Each shape of query has its own statement, so that every
// condition can use its GIN index.
func (s *Community) SearchVideos(ctx context.Context, q string, offset, limit int) ([]videos.Video, error) {
	other, hangul := community.SearchTerms(q)
	ko, start := hangulQueries(hangul)
	if len(hangul) > 0 && start == "" && strings.TrimSpace(other) == "" {
		return nil, community.ErrOnlyExclusions
	}
	if len(hangul) == 0 || start == "" {
		// Without a Hangul word to look for, the other words must hold one:
		// a query of exclusions alone (-cats, "cats or -dogs", "the -cats"
		// once stop words go) matches nearly every video and can use no
		// index, so each such search would rank the whole table.
		if err := s.lookingFor(ctx, other); err != nil {
			return nil, err
		}
	}
	switch {
	case len(hangul) == 0:
		return s.listVideos(ctx, `WITH q AS (
				SELECT websearch_to_tsquery('english', $1) AS en, websearch_to_tsquery('simple', $1) AS si
			), ch AS (
				SELECT c.id FROM channels c, q WHERE c.search @@ q.si
			)
			SELECT `+videoCols+videoFrom+`, q
			WHERE`+listedVideo+`AND (v.search @@ q.en OR v.channel_id IN (SELECT id FROM ch))
			ORDER BY ts_rank(v.search, q.en) + CASE WHEN v.channel_id IN (SELECT id FROM ch) THEN 0.5 ELSE 0 END DESC,
				v.views DESC, v.id DESC
			OFFSET $2 LIMIT $3`, other, offset, limit)
	case strings.TrimSpace(other) == "":
		return s.listVideos(ctx, `WITH q AS (
				SELECT $1::tsquery AS ko, $2::tsquery AS start
			), ch AS (
				SELECT c.id FROM channels c, q WHERE c.search_ko @@ q.ko
			)
			SELECT `+videoCols+videoFrom+`, q
			WHERE`+listedVideo+`AND (v.search_ko @@ q.ko OR v.channel_id IN (SELECT id FROM ch))
			ORDER BY ts_rank(v.search_ko, q.ko) + 0.5 * ts_rank(v.search_ko, q.start)
				+ CASE WHEN v.channel_id IN (SELECT id FROM ch) THEN 0.5 ELSE 0 END DESC,
				v.views DESC, v.id DESC
			OFFSET $3 LIMIT $4`, ko, start, offset, limit)
	}
	return s.listVideos(ctx, `WITH q AS (
			SELECT websearch_to_tsquery('english', $1) AS en, websearch_to_tsquery('simple', $1) AS si,
				$2::tsquery AS ko, nullif($3, '')::tsquery AS start
		), ch AS (
			SELECT c.id FROM channels c, q WHERE c.search @@ q.si AND c.search_ko @@ q.ko
		)
		SELECT `+videoCols+videoFrom+`, q
		WHERE`+listedVideo+`AND ((v.search @@ q.en AND v.search_ko @@ q.ko) OR v.channel_id IN (SELECT id FROM ch))
		ORDER BY ts_rank(v.search, q.en) + ts_rank(v.search_ko, q.ko) + 0.5 * coalesce(ts_rank(v.search_ko, q.start), 0)
			+ CASE WHEN v.channel_id IN (SELECT id FROM ch) THEN 0.5 ELSE 0 END DESC,
			v.views DESC, v.id DESC
		OFFSET $4 LIMIT $5`, other, ko, start, offset, limit)
}

// lookingFor returns community.ErrOnlyExclusions when the websearch query
// q holds nothing to look for, only exclusions: PostgreSQL's querytree of
// such a query is "T" (no indexable part). An empty query (only stop words
// or punctuation) matches nothing and is not refused.
func (s *Community) lookingFor(ctx context.Context, q string) error {
	var none bool
	if err := s.db.Pool.QueryRow(ctx, `SELECT querytree(websearch_to_tsquery('english', $1)) = 'T'
		OR querytree(websearch_to_tsquery('simple', $1)) = 'T'`, q).Scan(&none); err != nil {
		return mapErr(err)
	}
	if none {
		return community.ErrOnlyExclusions
	}
	return nil
}

// hangulQueries writes the tsquery of Hangul query words for the vectors
// of ucc_hangul_index: a word of several syllables is its bigrams next to
// each other (기타 <-> 타를), one syllable a prefix of any bigram (책:*);
// a word's forms are alternatives, words all must match, excluded ones must
// not. start is the words' run-start marks, for the ranking: "" when every
// word is excluded (then ko holds only exclusions, which need other terms
// beside them).
func hangulQueries(terms []community.HangulTerm) (ko, start string) {
	var all, starts []string
	positive := false
	for _, t := range terms {
		var forms []string
		for _, f := range t.Forms {
			forms = append(forms, phrase(f))
			if !t.Exclude {
				starts = append(starts, mark(f))
			}
		}
		q := "(" + strings.Join(forms, " | ") + ")"
		if t.Exclude {
			q = "!" + q
		} else {
			positive = true
		}
		all = append(all, q)
	}
	if !positive {
		return strings.Join(all, " & "), ""
	}
	return strings.Join(all, " & "), strings.Join(starts, " | ")
}

// phrase is the tsquery of one Hangul form (syllables only, so no quoting
// beyond the lexeme's own quotes is needed).
func phrase(form string) string {
	rs := []rune(form)
	if len(rs) == 1 {
		return "'" + form + "':*"
	}
	grams := make([]string, 0, len(rs)-1)
	for i := 0; i+1 < len(rs); i++ {
		grams = append(grams, "'"+string(rs[i:i+2])+"'")
	}
	return strings.Join(grams, " <-> ")
}

// mark is the run-start mark of a form: its first bigram (or syllable) after "_".
func mark(form string) string {
	if utf8.RuneCountInString(form) == 1 {
		return "'_" + form + "':*"
	}
	return "'_" + string([]rune(form)[:2]) + "'"
}
