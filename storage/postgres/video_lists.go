package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ucc-video/ucc/internal/community"
	"github.com/ucc-video/ucc/internal/videos"
)

// Community implements community.Store: video lists, search, comments,
// reactions and subscriptions.
type Community struct {
	db      *DB
	timeout time.Duration // statement timeout of visitor-driven reads (reads.go)
}

// NewCommunity returns the PostgreSQL community store.
func NewCommunity(db *DB) *Community { return &Community{db: db} }

var _ community.Store = (*Community)(nil)

// listedVideo is the condition every public list applies: only public,
// ready, published videos are ever listed.
const listedVideo = ` v.status = 'ready' AND v.visibility = 'public' AND v.published_at IS NOT NULL `

// collectVideos scans rows of videoCols.
func collectVideos(rows pgx.Rows, err error) ([]videos.Video, error) {
	return collect(rows, err, scanVideo)
}

// keyset returns the (time, id) bound of a keyset cursor, or +infinity for the first page.
func keyset(c community.Cursor) (time.Time, int64) {
	if c.AfterID == 0 && c.AfterAt.IsZero() {
		return time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), 1<<63 - 1
	}
	return c.AfterAt, c.AfterID
}

// RecentVideos lists public videos, newest published first.
func (s *Community) RecentVideos(ctx context.Context, after community.Cursor, limit int) ([]videos.Video, error) {
	at, id := keyset(after)
	return s.listVideos(ctx, `SELECT `+videoCols+videoFrom+`
		WHERE`+listedVideo+`AND (v.published_at, v.id) < ($1, $2)
		ORDER BY v.published_at DESC, v.id DESC LIMIT $3`, at, id, limit)
}

// TrendingVideos ranks public videos by counted views on days >= since.
// Only videos with views in the window are listed.
func (s *Community) TrendingVideos(ctx context.Context, since time.Time, offset, limit int) ([]videos.Video, error) {
	return s.listVideos(ctx, `WITH t AS (
			SELECT video_id, sum(views) AS n FROM video_views_daily WHERE day >= $1::date GROUP BY video_id
		)
		SELECT `+videoCols+videoFrom+` JOIN t ON t.video_id = v.id
		WHERE`+listedVideo+`AND t.n > 0
		ORDER BY t.n DESC, v.published_at DESC, v.id DESC OFFSET $2 LIMIT $3`, since, offset, limit)
}

// ChannelVideos lists a channel's public videos, newest (keyset) or most viewed (offset).
func (s *Community) ChannelVideos(ctx context.Context, channelID int64, sort community.Sort, after community.Cursor, limit int) ([]videos.Video, error) {
	if sort == community.SortPopular {
		return s.listVideos(ctx, `SELECT `+videoCols+videoFrom+`
			WHERE v.channel_id = $1 AND`+listedVideo+`
			ORDER BY v.views DESC, v.published_at DESC, v.id DESC OFFSET $2 LIMIT $3`, channelID, after.Offset, limit)
	}
	at, id := keyset(after)
	return s.listVideos(ctx, `SELECT `+videoCols+videoFrom+`
		WHERE v.channel_id = $1 AND`+listedVideo+`AND (v.published_at, v.id) < ($2, $3)
		ORDER BY v.published_at DESC, v.id DESC LIMIT $4`, channelID, at, id, limit)
}

// FeedVideos lists public videos of channels userID subscribes to, newest first.
func (s *Community) FeedVideos(ctx context.Context, userID int64, after community.Cursor, limit int) ([]videos.Video, error) {
	at, id := keyset(after)
	return s.listVideos(ctx, `SELECT `+videoCols+videoFrom+`
		JOIN subscriptions s ON s.channel_id = v.channel_id AND s.user_id = $1
		WHERE`+listedVideo+`AND (v.published_at, v.id) < ($2, $3)
		ORDER BY v.published_at DESC, v.id DESC LIMIT $4`, userID, at, id, limit)
}

// LikedVideos lists public videos userID liked, most recently liked first.
func (s *Community) LikedVideos(ctx context.Context, userID int64, after community.Cursor, limit int) ([]videos.Video, []time.Time, error) {
	at, id := keyset(after)
	rows, err := s.db.Pool.Query(ctx, `SELECT `+videoCols+`, r.created_at`+videoFrom+`
		JOIN video_reactions r ON r.video_id = v.id AND r.user_id = $1 AND r.value = 1
		WHERE`+listedVideo+`AND (r.created_at, r.video_id) < ($2, $3)
		ORDER BY r.created_at DESC, r.video_id DESC LIMIT $4`, userID, at, id, limit)
	if err != nil {
		return nil, nil, mapErr(err)
	}
	defer rows.Close()
	var vs []videos.Video
	var ats []time.Time
	for rows.Next() {
		var v videos.Video
		var likedAt time.Time
		if err := rows.Scan(&v.ID, &v.PublicID, &v.Title, &v.Description, &v.Visibility, &v.Status, &v.FailureReason,
			&v.Progress, &v.DurationSeconds, &v.Width, &v.Height, &v.Views, &v.Likes, &v.Dislikes, &v.CommentCount,
			&v.CommentsEnabled, &v.CreatorID, &v.ThumbnailKey, &v.OriginalKey, &v.OriginalSize,
			&v.CreatedAt, &v.PublishedAt, &v.Channel.ID, &v.Channel.Handle, &v.Channel.Name, &likedAt); err != nil {
			return nil, nil, mapErr(err)
		}
		vs = append(vs, v)
		ats = append(ats, likedAt)
	}
	return vs, ats, mapErr(rows.Err())
}
