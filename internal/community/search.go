package community

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode"

	"github.com/ucc-video/ucc/internal/videos"
)

// Full-text search over public videos.

// NormalizeQuery makes any input a safe search query: invalid UTF-8 and
// control characters are dropped, whitespace collapsed, and the result cut
// to MaxQueryRunes runes.
func NormalizeQuery(q string) string {
	q = strings.ToValidUTF8(q, " ")
	q = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.IsSpace(r) {
			return ' '
		}
		return r
	}, q)
	q = strings.Join(strings.Fields(q), " ")
	if r := []rune(q); len(r) > MaxQueryRunes {
		q = strings.TrimSpace(string(r[:MaxQueryRunes]))
	}
	return q
}

// Search ranks public videos whose title, description or channel matches q
// (web-search syntax: words, "phrases", -exclusions, or). Empty and junk
// queries give an empty page; a query of exclusions alone is refused
// (ErrOnlyExclusions); a search the database stopped at its statement
// timeout, or one that waited too long for a free slot, says it took too
// long.
func (s *Service) Search(ctx context.Context, q string, cur Cursor, limit int) (VideoPage, error) {
	limit = ClampLimit(limit)
	q = NormalizeQuery(q)
	if q == "" {
		return VideoPage{Videos: []videos.Video{}}, nil
	}
	release, err := s.heavySlot(ctx)
	if err != nil {
		return VideoPage{}, searchErr(err)
	}
	vs, err := s.store.SearchVideos(ctx, q, cur.Offset, limit+1)
	release()
	if err != nil {
		return VideoPage{}, searchErr(err)
	}
	return s.offsetPage(ctx, vs, cur.Offset, limit)
}

// searchErr words a list timeout as a search's.
func searchErr(err error) error {
	if errors.Is(err, ErrQueryTimeout) {
		return fmt.Errorf("%w: %w", errSearchTimeout, err)
	}
	return err
}
