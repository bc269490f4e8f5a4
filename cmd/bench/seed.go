package main

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ucc-video/ucc/internal/accounts"
	"github.com/ucc-video/ucc/internal/community"
	"github.com/ucc-video/ucc/internal/testenv"
)

// searchWords are the words video titles are made of; the search row asks
// for them in turn. Each appears in about 1/len(searchWords) of the titles.
var searchWords = []string{"guitar", "cooking", "travel", "physics", "chess", "garden",
	"running", "painting", "history", "coding", "piano", "football"}

// koreanWords are the Korean words of the titles, one beside each of
// searchWords: a title about guitar ends "· 기타를 배우는 법" or
// "· 통기타 연주" (the word inside a compound), so the Korean search row
// finds words with particles and inside compounds.
var koreanWords = []string{"기타", "요리", "여행", "물리", "체스", "정원",
	"달리기", "그림", "역사", "코딩", "피아노", "축구"}

// catalogue is what seedCatalogue wrote.
type catalogue struct {
	FirstCreator int64 // users.id of creator 1; creators are contiguous
	Creators     int
	FirstVideo   int64 // videos.id of video 1; videos are contiguous
	Videos       int
	WatchVideo   string   // public id of the video with the comments
	WatchVideoID int64    // its internal id
	PublicIDs    []string // public ids of the first videos (for views and play)
	ViewerTokens []string // API tokens of the viewer accounts
	ViewerIDs    []int64
	CreatorToken string    // API token of creator 1 (uploads)
	PeriodStart  time.Time // first day of the revenue buckets
}

// trendingDays is how many recent days of buckets every video gets: the
// community feature's trending window (community.TrendingDays).
const trendingDays = community.TrendingDays

// publicIDSQL is the public id of video number g (1-based): "b" and ten hex
// digits, which the schema's CHECK accepts.
const publicIDSQL = `'b' || lpad(to_hex(g), 10, '0')`

func publicID(g int) string { return fmt.Sprintf("b%010x", g) }

// seedCatalogue writes creators (one channel each), ready public videos
// with two renditions each, and viewer accounts with API tokens, all with
// set-based INSERT ... SELECT over generate_series on the server.
func seedCatalogue(ctx context.Context, pool *pgxpool.Pool, sz sizes) (catalogue, error) {
	cat := catalogue{Creators: sz.Creators, Videos: sz.Videos}
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `
			WITH ins AS (
				INSERT INTO users (email, display_name, password_hash, role)
				SELECT 'creator' || g || '@bench.example', 'Creator ' || g, '!', 'creator'
				FROM generate_series(1, $1::int) g
				RETURNING id)
			SELECT min(id) FROM ins`, sz.Creators).Scan(&cat.FirstCreator); err != nil {
			return fmt.Errorf("creators: %w", err)
		}
		if _, err := tx.Exec(ctx, `
			INSERT INTO channels (owner_id, handle, name, description)
			SELECT $1::bigint + g - 1, 'bench' || g, 'Bench channel ' || g, 'A channel seeded by the benchmark.'
			FROM generate_series(1, $2::int) g`, cat.FirstCreator, sz.Creators); err != nil {
			return fmt.Errorf("channels: %w", err)
		}
		var firstChannel int64
		if err := tx.QueryRow(ctx, `SELECT min(id) FROM channels`).Scan(&firstChannel); err != nil {
			return err
		}
		// Video g belongs to creator ((g-1) mod C)+1. Titles combine two
		// search words; published over the last 30 days.
		if err := tx.QueryRow(ctx, `
			WITH w AS (SELECT $4::text[] AS words),
			ins AS (
				INSERT INTO videos (public_id, channel_id, creator_id, title, description, visibility, status,
					progress, duration_seconds, width, height, original_key, original_size, thumbnail_key, views,
					created_at, updated_at, published_at)
				SELECT `+publicIDSQL+`,
					$1::bigint + (g - 1) % $3::int, $2::bigint + (g - 1) % $3::int,
					initcap(w.words[1 + g % cardinality(w.words)]) || ' and ' || w.words[1 + (g / 7) % cardinality(w.words)] || ' #' || g
						|| ' · ' || CASE WHEN (g / cardinality(w.words)) % 2 = 0 THEN ($6::text[])[1 + g % cardinality(w.words)] || '를 배우는 법'
							ELSE '통' || ($6::text[])[1 + g % cardinality(w.words)] || ' 연주' END,
					'Seeded video ' || g || ' about ' || w.words[1 + g % cardinality(w.words)] || '.',
					'public', 'ready', 100, 120 + g % 600, 1280, 720,
					'videos/' || `+publicIDSQL+` || '/original', 50000000, 'videos/' || `+publicIDSQL+` || '/thumb.jpg', (g::bigint * 7919) % 100000,
					now() - make_interval(days => g % 30, secs => g % 86400), now(),
					now() - make_interval(days => g % 30, secs => g % 86400)
				FROM generate_series(1, $5::int) g, w
				RETURNING id)
			SELECT min(id) FROM ins`, firstChannel, cat.FirstCreator, sz.Creators, searchWords, sz.Videos, koreanWords).Scan(&cat.FirstVideo); err != nil {
			return fmt.Errorf("videos: %w", err)
		}
		// Recent daily buckets: every video was watched on each of the last
		// trendingDays days (an active catalogue; trending reads these).
		if _, err := tx.Exec(ctx, `
			INSERT INTO video_views_daily (video_id, creator_id, day, views)
			SELECT v.id, v.creator_id, current_date - d, 1 + (v.id * 13 + d * 7) % 50
			FROM videos v, generate_series(1, $1::int) d`, trendingDays); err != nil {
			return fmt.Errorf("recent buckets: %w", err)
		}
		if _, err := tx.Exec(ctx, `
			UPDATE videos v SET views = v.views + s.total
			FROM (SELECT video_id, sum(views) AS total FROM video_views_daily GROUP BY video_id) s
			WHERE v.id = s.video_id`); err != nil {
			return fmt.Errorf("lifetime views: %w", err)
		}
		if _, err := tx.Exec(ctx, `
			INSERT INTO renditions (video_id, height, width, object_key, size_bytes, bitrate)
			SELECT v.id, r.h, r.w, 'videos/' || v.public_id || '/r' || r.h || '.mp4', r.h * 20000, r.h * 3000
			FROM videos v, (VALUES (360, 640), (720, 1280)) AS r(h, w)`); err != nil {
			return fmt.Errorf("renditions: %w", err)
		}
		// Viewer accounts with API tokens, inserted by hash like IssueToken does.
		var firstViewer int64
		if err := tx.QueryRow(ctx, `
			WITH ins AS (
				INSERT INTO users (email, display_name, password_hash, role)
				SELECT 'viewer' || g || '@bench.example', 'Viewer ' || g, '!', 'viewer'
				FROM generate_series(1, $1::int) g
				RETURNING id)
			SELECT min(id) FROM ins`, sz.Viewers).Scan(&firstViewer); err != nil {
			return fmt.Errorf("viewers: %w", err)
		}
		suffix := testenv.RandomHex(8)
		rows := make([][]any, sz.Viewers)
		for i := range sz.Viewers {
			tok := fmt.Sprintf("ucc_bench%d_%s", i+1, suffix)
			id := firstViewer + int64(i)
			cat.ViewerTokens = append(cat.ViewerTokens, tok)
			cat.ViewerIDs = append(cat.ViewerIDs, id)
			rows[i] = []any{accounts.HashSecret(tok), id, "bench"}
		}
		cat.CreatorToken = "ucc_benchcreator_" + suffix
		rows = append(rows, []any{accounts.HashSecret(cat.CreatorToken), cat.FirstCreator, "bench"})
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"api_tokens"}, []string{"token_hash", "user_id", "name"}, pgx.CopyFromRows(rows)); err != nil {
			return fmt.Errorf("api tokens: %w", err)
		}
		return nil
	})
	if err != nil {
		return cat, err
	}
	for g := 1; g <= min(sz.Videos, 100_000); g++ {
		cat.PublicIDs = append(cat.PublicIDs, publicID(g))
	}
	cat.WatchVideo = publicID(1)
	cat.WatchVideoID = cat.FirstVideo
	for _, t := range []string{"users", "channels", "videos", "renditions", "api_tokens", "video_views_daily"} {
		// What autovacuum would have done by now: the seeding's own
		// updates leave dead row versions behind.
		if _, err := pool.Exec(ctx, "VACUUM ANALYZE "+t); err != nil {
			return cat, err
		}
	}
	return cat, nil
}

// revenuePeriod is the calendar month (UTC) the revenue row calculates:
// the latest month of at least days days that ended before last month, so
// that it is closed and lies apart from today's buckets of the flush row.
func revenuePeriod(now time.Time, days int) time.Time {
	m := time.Date(now.UTC().Year(), now.UTC().Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -2, 0)
	for m.AddDate(0, 1, 0).Sub(m) < time.Duration(days)*24*time.Hour {
		m = m.AddDate(0, -1, 0)
	}
	return m
}

// seedBuckets writes days daily view buckets for every seeded video, from
// the first day of period on, and raises each video's lifetime views by what
// its buckets add, so that lifetime totals and buckets agree.
func seedBuckets(ctx context.Context, pool *pgxpool.Pool, cat catalogue, period time.Time, days int) error {
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `
			INSERT INTO video_views_daily (video_id, creator_id, day, views)
			SELECT v.id, v.creator_id, $1::date + d, 1 + (v.id * 31 + d * 17) % 200
			FROM videos v, generate_series(0, $2::int - 1) d
			WHERE v.id BETWEEN $3::bigint AND $3::bigint + $4::int - 1`,
			period, days, cat.FirstVideo, cat.Videos); err != nil {
			return fmt.Errorf("daily buckets: %w", err)
		}
		if _, err := tx.Exec(ctx, `
			UPDATE videos v SET views = v.views + s.total
			FROM (SELECT video_id, sum(views) AS total FROM video_views_daily
				WHERE day >= $1::date AND day < $1::date + $2::int GROUP BY video_id) s
			WHERE v.id = s.video_id`, period, days); err != nil {
			return fmt.Errorf("lifetime views: %w", err)
		}
		// History: one creator in ten got two million views on their first
		// video the day before the period, so they pass the default
		// one-million lifetime threshold.
		if _, err := tx.Exec(ctx, `
			INSERT INTO video_views_daily (video_id, creator_id, day, views)
			SELECT min(id), creator_id, $1::date - 1, 2000000
			FROM videos WHERE id BETWEEN $2::bigint AND $2::bigint + $3::int - 1
			GROUP BY creator_id HAVING creator_id % 10 = 0`, period, cat.FirstVideo, cat.Videos); err != nil {
			return fmt.Errorf("history buckets: %w", err)
		}
		if _, err := tx.Exec(ctx, `
			UPDATE videos SET views = views + 2000000
			WHERE id IN (SELECT video_id FROM video_views_daily WHERE day = $1::date - 1)`, period); err != nil {
			return fmt.Errorf("lifetime views: %w", err)
		}
		return nil
	})
}

// seedComments writes n comments on video vid from the viewer accounts:
// half top-level, the rest replies (five each, to every other of the newest
// top-level comments), with reply and comment counters set as the
// community code keeps them.
func seedComments(ctx context.Context, pool *pgxpool.Pool, cat catalogue, n int) error {
	top := n / 2
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `
			INSERT INTO comments (video_id, user_id, body, created_at)
			SELECT $1, $2::bigint + g % $3::int, 'Top comment ' || g || ': great video, thanks for the explanation of the tricky part.',
				now() - make_interval(mins => $4::int - g)
			FROM generate_series(1, $4::int) g ORDER BY g`,
			cat.WatchVideoID, cat.ViewerIDs[0], len(cat.ViewerIDs), top); err != nil {
			return fmt.Errorf("comments: %w", err)
		}
		if _, err := tx.Exec(ctx, `
			WITH p AS (
				SELECT id, row_number() OVER (ORDER BY id DESC) AS rn FROM comments WHERE video_id = $1 AND parent_id IS NULL),
			r AS (
				SELECT p.id AS parent, g, row_number() OVER (ORDER BY p.id DESC, g) AS k
				FROM p, generate_series(1, 5) g WHERE p.rn % 2 = 0)
			INSERT INTO comments (video_id, user_id, parent_id, body)
			SELECT $1, $2::bigint + k % $3::int, parent, 'Reply ' || g || ': agreed.'
			FROM r WHERE k <= $4::int ORDER BY parent, g`,
			cat.WatchVideoID, cat.ViewerIDs[0], len(cat.ViewerIDs), n-top); err != nil {
			return fmt.Errorf("replies: %w", err)
		}
		if _, err := tx.Exec(ctx, `
			UPDATE comments c SET reply_count = (SELECT count(*) FROM comments r WHERE r.parent_id = c.id)
			WHERE c.video_id = $1 AND c.parent_id IS NULL`, cat.WatchVideoID); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE videos SET comment_count = (SELECT count(*) FROM comments WHERE video_id = $1) WHERE id = $1`, cat.WatchVideoID)
		return err
	})
}
