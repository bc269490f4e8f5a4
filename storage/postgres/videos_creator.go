package postgres

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"

	"github.com/ucc-video/ucc/internal/errs"
	"github.com/ucc-video/ucc/internal/videos"
)

// riverInserter enqueues River jobs inside a transaction.
type riverInserter interface {
	InsertTx(ctx context.Context, tx pgx.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
}

// jobSlot holds the River client the store enqueues with.
type jobSlot struct {
	mu sync.Mutex
	c  riverInserter
}

// SetJobs makes the store enqueue jobs through c (e.g. the process's River
// client). Without it the store creates an insert-only River client on the
// same pool, which is all InsertTx needs.
func (s *Videos) SetJobs(c *river.Client[pgx.Tx]) {
	s.jobs.mu.Lock()
	defer s.jobs.mu.Unlock()
	s.jobs.c = c
}

func (s *Videos) inserter() (riverInserter, error) {
	s.jobs.mu.Lock()
	defer s.jobs.mu.Unlock()
	if s.jobs.c == nil {
		c, err := river.NewClient(riverpgxv5.New(s.db.Pool), &river.Config{})
		if err != nil {
			return nil, fmt.Errorf("insert-only river client: %w", err)
		}
		s.jobs.c = c
	}
	return s.jobs.c, nil
}

// storageUsedSQL is the bytes creator $1 stores: the originals and the
// renditions made from them (thumbnails are small and capped apart).
const storageUsedSQL = `SELECT ((SELECT coalesce(sum(original_size), 0) FROM videos WHERE creator_id = $1)
	+ (SELECT coalesce(sum(r.size_bytes), 0) FROM renditions r JOIN videos v ON v.id = r.video_id WHERE v.creator_id = $1))::bigint`

// StorageUsed sums the originals and renditions of the creator's videos.
func (s *Videos) StorageUsed(ctx context.Context, creatorID int64) (int64, error) {
	var n int64
	err := s.db.Pool.QueryRow(ctx, storageUsedSQL, creatorID).Scan(&n)
	return n, mapErr(err)
}

// CreateVideo inserts a processing video and its transcoding job in one
// transaction, checking the quota under a lock on the creator's row so
// concurrent uploads cannot overshoot it together.
func (s *Videos) CreateVideo(ctx context.Context, nv videos.NewVideo, quota int64) (videos.Video, error) {
	jobs, err := s.inserter()
	if err != nil {
		return videos.Video{}, err
	}
	var v videos.Video
	err = s.db.InTx(ctx, func(tx pgx.Tx) error {
		if quota > 0 {
			var used int64
			if _, err := tx.Exec(ctx, `SELECT 1 FROM users WHERE id = $1 FOR UPDATE`, nv.CreatorID); err != nil {
				return mapErr(err)
			}
			if err := tx.QueryRow(ctx, storageUsedSQL, nv.CreatorID).Scan(&used); err != nil {
				return mapErr(err)
			}
			if used+nv.OriginalSize > quota {
				return videos.ErrQuota
			}
		}
		var id int64
		err := tx.QueryRow(ctx, `
			INSERT INTO videos (public_id, channel_id, creator_id, title, description, visibility, status,
				original_key, original_size, duration_seconds, width, height)
			VALUES ($1, $2, $3, $4, $5, $6, 'processing', $7, $8, $9, $10, $11)
			RETURNING id`,
			nv.PublicID, nv.ChannelID, nv.CreatorID, nv.Title, nv.Description, nv.Visibility,
			nv.OriginalKey, nv.OriginalSize, nv.Duration, nv.Width, nv.Height).Scan(&id)
		if err != nil {
			return mapErr(err)
		}
		if _, err := jobs.InsertTx(ctx, tx, videos.TranscodeArgs{VideoID: id}, nil); err != nil {
			return fmt.Errorf("enqueue transcode: %w", err)
		}
		v, err = scanVideo(tx.QueryRow(ctx, `SELECT `+videoCols+videoFrom+`WHERE v.id = $1`, id))
		v.Renditions = []videos.Rendition{}
		return err
	})
	return v, err
}

// VideoByID returns a video by internal id with its renditions.
func (s *Videos) VideoByID(ctx context.Context, id int64) (videos.Video, error) {
	v, err := scanVideo(s.db.Pool.QueryRow(ctx, `SELECT `+videoCols+videoFrom+`WHERE v.id = $1`, id))
	if err != nil {
		return v, err
	}
	vs := []videos.Video{v}
	err = s.fillRenditions(ctx, vs)
	return vs[0], err
}

// VideosByCreator lists a creator's videos, newest first, with renditions.
func (s *Videos) VideosByCreator(ctx context.Context, creatorID int64) ([]videos.Video, error) {
	rows, err := s.db.Pool.Query(ctx, `SELECT `+videoCols+videoFrom+`WHERE v.creator_id = $1 ORDER BY v.created_at DESC, v.id DESC`, creatorID)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	vs := []videos.Video{}
	for rows.Next() {
		v, err := scanVideo(rows)
		if err != nil {
			return nil, err
		}
		vs = append(vs, v)
	}
	if err := rows.Err(); err != nil {
		return nil, mapErr(err)
	}
	return vs, s.fillRenditions(ctx, vs)
}

// fillRenditions loads the renditions of vs in one query.
func (s *Videos) fillRenditions(ctx context.Context, vs []videos.Video) error {
	idx := make(map[int64]int, len(vs))
	ids := make([]int64, len(vs))
	for i := range vs {
		vs[i].Renditions = []videos.Rendition{}
		idx[vs[i].ID] = i
		ids[i] = vs[i].ID
	}
	if len(ids) == 0 {
		return nil
	}
	rows, err := s.db.Pool.Query(ctx, `SELECT video_id, height, width, object_key, size_bytes, bitrate
		FROM renditions WHERE video_id = ANY($1) ORDER BY video_id, height`, ids)
	if err != nil {
		return mapErr(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var r videos.Rendition
		if err := rows.Scan(&id, &r.Height, &r.Width, &r.Key, &r.Size, &r.Bitrate); err != nil {
			return err
		}
		i := idx[id]
		vs[i].Renditions = append(vs[i].Renditions, r)
	}
	return mapErr(rows.Err())
}

// UpdateVideo writes the editable fields.
func (s *Videos) UpdateVideo(ctx context.Context, v videos.Video) error {
	return s.exec1(ctx, `UPDATE videos SET title = $2, description = $3, visibility = $4, comments_enabled = $5,
		updated_at = now() WHERE id = $1`, v.ID, v.Title, v.Description, v.Visibility, v.CommentsEnabled)
}

// SetThumbnail sets the thumbnail key.
func (s *Videos) SetThumbnail(ctx context.Context, id int64, key string) error {
	return s.exec1(ctx, `UPDATE videos SET thumbnail_key = $2, updated_at = now() WHERE id = $1`, id, key)
}

// SetProgress records the progress of a processing video.
func (s *Videos) SetProgress(ctx context.Context, id int64, pct int) error {
	_, err := s.db.Pool.Exec(ctx, `UPDATE videos SET progress = $2 WHERE id = $1 AND status = 'processing'`, id, max(0, min(pct, 100)))
	return mapErr(err)
}

// SetProbed records duration and display dimensions.
func (s *Videos) SetProbed(ctx context.Context, id int64, duration float64, width, height int) error {
	_, err := s.db.Pool.Exec(ctx, `UPDATE videos SET duration_seconds = $2, width = $3, height = $4 WHERE id = $1`, id, duration, width, height)
	return mapErr(err)
}

// FinishProcessing replaces the renditions and marks the video ready, in
// one transaction; ErrNotFound when the video is no longer processing.
func (s *Videos) FinishProcessing(ctx context.Context, id int64, rs []videos.Rendition, thumbKey string, now time.Time) error {
	return s.db.InTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE videos SET status = 'ready', progress = 100, failure_reason = '',
			thumbnail_key = coalesce(thumbnail_key, $2), published_at = coalesce(published_at, $3), updated_at = $3
			WHERE id = $1 AND status = 'processing'`, id, thumbKey, now)
		if err != nil {
			return mapErr(err)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("video %d is no longer processing: %w", id, errs.ErrNotFound)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM renditions WHERE video_id = $1`, id); err != nil {
			return mapErr(err)
		}
		hs, ws, keys, sizes, brs := make([]int, len(rs)), make([]int, len(rs)), make([]string, len(rs)), make([]int64, len(rs)), make([]int, len(rs))
		for i, r := range rs {
			hs[i], ws[i], keys[i], sizes[i], brs[i] = r.Height, r.Width, r.Key, r.Size, r.Bitrate
		}
		_, err = tx.Exec(ctx, `INSERT INTO renditions (video_id, height, width, object_key, size_bytes, bitrate)
			SELECT $1, h, w, k, s, b FROM unnest($2::int[], $3::int[], $4::text[], $5::bigint[], $6::int[]) AS t(h, w, k, s, b)`,
			id, hs, ws, keys, sizes, brs)
		return mapErr(err)
	})
}

// MarkFailed sets a processing video failed with reason.
func (s *Videos) MarkFailed(ctx context.Context, id int64, reason string) error {
	_, err := s.db.Pool.Exec(ctx, `UPDATE videos SET status = 'failed', failure_reason = $2, updated_at = now()
		WHERE id = $1 AND status = 'processing'`, id, reason)
	return mapErr(err)
}

// MarkDeleting hides a video that is being deleted.
func (s *Videos) MarkDeleting(ctx context.Context, id int64) error {
	return s.exec1(ctx, `UPDATE videos SET visibility = 'private', status = 'failed', failure_reason = 'deleted',
		updated_at = now() WHERE id = $1`, id)
}

// DeleteVideo removes the video row; renditions cascade, daily view buckets stay.
func (s *Videos) DeleteVideo(ctx context.Context, id int64) error {
	_, err := s.db.Pool.Exec(ctx, `DELETE FROM videos WHERE id = $1`, id)
	return mapErr(err)
}

// KnownPublicIDs returns which of ids exist as videos.
func (s *Videos) KnownPublicIDs(ctx context.Context, ids []string) (map[string]bool, error) {
	rows, err := s.db.Pool.Query(ctx, `SELECT public_id FROM videos WHERE public_id = ANY($1)`, ids)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	known := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		known[id] = true
	}
	return known, mapErr(rows.Err())
}

// exec1 runs a statement that must change exactly one row (else ErrNotFound).
func (s *Videos) exec1(ctx context.Context, sql string, args ...any) error {
	tag, err := s.db.Pool.Exec(ctx, sql, args...)
	if err != nil {
		return mapErr(err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("%w", errs.ErrNotFound)
	}
	return nil
}

// TranscodesAhead counts the running transcoding jobs (River's table) of
// the creator of video videoID with a lower job id than jobID, so the
// oldest jobs of a creator run and the newer ones wait.
func (s *Videos) TranscodesAhead(ctx context.Context, videoID, jobID int64) (int, error) {
	var n int
	err := s.db.Pool.QueryRow(ctx, `
		SELECT count(*) FROM river_job j
		JOIN videos v ON v.id = (j.args->>'video_id')::bigint
		WHERE j.kind = $3 AND j.state = 'running' AND j.id < $2
		  AND v.creator_id = (SELECT creator_id FROM videos WHERE id = $1)`,
		videoID, jobID, videos.TranscodeArgs{}.Kind()).Scan(&n)
	return n, mapErr(err)
}
