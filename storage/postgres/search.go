package postgres

import (
	"context"

	"github.com/ucc-video/ucc/internal/videos"
)

// SearchVideos ranks public videos matching q. q is parsed with
// websearch_to_tsquery, which never fails on syntax: junk becomes an empty
// query that matches nothing. Videos match on their own text (English
// stemming) or their channel's name and handle ('simple'); a channel match
// ranks like a title word.
func (s *Community) SearchVideos(ctx context.Context, q string, offset, limit int) ([]videos.Video, error) {
	return collectVideos(s.db.Pool.Query(ctx, `WITH q AS (
			SELECT websearch_to_tsquery('english', $1) AS en, websearch_to_tsquery('simple', $1) AS si
		), ch AS (
			SELECT c.id FROM channels c, q WHERE c.search @@ q.si
		)
		SELECT `+videoCols+videoFrom+`, q
		WHERE`+listedVideo+`AND (v.search @@ q.en OR v.channel_id IN (SELECT id FROM ch))
		ORDER BY ts_rank(v.search, q.en) + CASE WHEN v.channel_id IN (SELECT id FROM ch) THEN 0.5 ELSE 0 END DESC,
			v.views DESC, v.id DESC
		OFFSET $2 LIMIT $3`, q, offset, limit))
}
