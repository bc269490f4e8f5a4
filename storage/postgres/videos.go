package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/ucc-video/ucc/internal/videos"
)

// Videos implements videos.Store.
type Videos struct {
	db   *DB
	jobs *jobSlot // enqueues transcoding jobs in the video's transaction
}

// NewVideos returns the PostgreSQL videos store.
func NewVideos(db *DB) *Videos { return &Videos{db: db, jobs: &jobSlot{}} }

var _ videos.Store = (*Videos)(nil)

// videoCols selects a video with its channel; scanVideo reads them in order.
const videoCols = `v.id, v.public_id, v.title, v.description, v.visibility, v.status, v.failure_reason,
	v.progress, v.duration_seconds, v.width, v.height, v.views, v.likes, v.dislikes, v.comment_count,
	v.comments_enabled, v.creator_id, coalesce(v.thumbnail_key, ''), coalesce(v.original_key, ''), v.original_size,
	v.created_at, v.published_at, c.id, c.handle, c.name`

// videoFrom is the FROM clause matching videoCols.
const videoFrom = ` FROM videos v JOIN channels c ON c.id = v.channel_id `

func scanVideo(row pgx.Row) (videos.Video, error) {
	var v videos.Video
	err := row.Scan(&v.ID, &v.PublicID, &v.Title, &v.Description, &v.Visibility, &v.Status, &v.FailureReason,
		&v.Progress, &v.DurationSeconds, &v.Width, &v.Height, &v.Views, &v.Likes, &v.Dislikes, &v.CommentCount,
		&v.CommentsEnabled, &v.CreatorID, &v.ThumbnailKey, &v.OriginalKey, &v.OriginalSize,
		&v.CreatedAt, &v.PublishedAt, &v.Channel.ID, &v.Channel.Handle, &v.Channel.Name)
	return v, mapErr(err)
}

// VideoByPublicID returns a video with its channel and renditions.
func (s *Videos) VideoByPublicID(ctx context.Context, publicID string) (videos.Video, error) {
	v, err := scanVideo(s.db.Pool.QueryRow(ctx, `SELECT `+videoCols+videoFrom+`WHERE v.public_id = $1`, publicID))
	if err != nil {
		return v, err
	}
	rows, err := s.db.Pool.Query(ctx, `SELECT height, width, object_key, size_bytes FROM renditions WHERE video_id = $1 ORDER BY height`, v.ID)
	if err != nil {
		return v, mapErr(err)
	}
	defer rows.Close()
	v.Renditions = []videos.Rendition{}
	for rows.Next() {
		var r videos.Rendition
		if err := rows.Scan(&r.Height, &r.Width, &r.Key, &r.Size); err != nil {
			return v, err
		}
		v.Renditions = append(v.Renditions, r)
	}
	return v, mapErr(rows.Err())
}
