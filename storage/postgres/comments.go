package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ucc-video/ucc/internal/community"
	"github.com/ucc-video/ucc/internal/errs"
)

// commentCols selects a comment with its author and video; scanComment reads them.
const commentCols = `m.id, m.video_id, v.public_id, m.parent_id, m.user_id, u.display_name, m.body, m.reply_count,
	m.created_at, m.edited_at, m.deleted_at IS NOT NULL, v.creator_id`

const commentFrom = ` FROM comments m JOIN users u ON u.id = m.user_id JOIN videos v ON v.id = m.video_id `

func scanComment(row pgx.Row) (community.Comment, error) {
	var c community.Comment
	err := row.Scan(&c.ID, &c.VideoID, &c.VideoPubID, &c.ParentID, &c.Author.ID, &c.Author.Name, &c.Body, &c.ReplyCount,
		&c.CreatedAt, &c.EditedAt, &c.Deleted, &c.CreatorID)
	return c, mapErr(err)
}

func collectComments(rows pgx.Rows, err error) ([]community.Comment, error) {
	return collect(rows, err, scanComment)
}

// Comments lists top-level comments of videoID (one query) and the first
// `replies` replies of each (one more query), never one query per comment.
func (s *Community) Comments(ctx context.Context, videoID int64, sort community.Sort, after community.Cursor, limit, replies int) ([]community.Comment, error) {
	var top []community.Comment
	var err error
	if sort == community.SortTop {
		top, err = collectComments(s.db.Pool.Query(ctx, `SELECT `+commentCols+commentFrom+`
			WHERE m.video_id = $1 AND m.parent_id IS NULL
			ORDER BY m.reply_count DESC, m.id DESC OFFSET $2 LIMIT $3`, videoID, after.Offset, limit))
	} else {
		afterID := after.AfterID
		if afterID == 0 {
			afterID = 1<<63 - 1
		}
		top, err = collectComments(s.db.Pool.Query(ctx, `SELECT `+commentCols+commentFrom+`
			WHERE m.video_id = $1 AND m.parent_id IS NULL AND m.id < $2
			ORDER BY m.id DESC LIMIT $3`, videoID, afterID, limit))
	}
	if err != nil || len(top) == 0 || replies <= 0 {
		return top, err
	}
	ids := make([]int64, 0, len(top))
	at := make(map[int64]int, len(top))
	for i, c := range top {
		if c.ReplyCount > 0 {
			ids = append(ids, c.ID)
			at[c.ID] = i
		}
	}
	if len(ids) == 0 {
		return top, nil
	}
	rs, err := collectComments(s.db.Pool.Query(ctx, `SELECT `+commentCols+`
		FROM unnest($1::bigint[]) AS p(id)
		CROSS JOIN LATERAL (
			SELECT * FROM comments r WHERE r.parent_id = p.id ORDER BY r.id LIMIT $2
		) m
		JOIN users u ON u.id = m.user_id JOIN videos v ON v.id = m.video_id
		ORDER BY m.parent_id, m.id`, ids, replies))
	if err != nil {
		return nil, err
	}
	for _, r := range rs {
		i := at[*r.ParentID]
		top[i].Replies = append(top[i].Replies, r)
	}
	return top, nil
}

// Replies lists replies to parentID, oldest first, with id > afterID.
func (s *Community) Replies(ctx context.Context, parentID int64, afterID int64, limit int) ([]community.Comment, error) {
	return collectComments(s.db.Pool.Query(ctx, `SELECT `+commentCols+commentFrom+`
		WHERE m.parent_id = $1 AND m.id > $2 ORDER BY m.id LIMIT $3`, parentID, afterID, limit))
}

// Comment returns one comment.
func (s *Community) Comment(ctx context.Context, id int64) (community.Comment, error) {
	return scanComment(s.db.Pool.QueryRow(ctx, `SELECT `+commentCols+commentFrom+` WHERE m.id = $1`, id))
}

// AddComment inserts a comment. The video's comment_count is bumped only if
// comments are enabled, in the same transaction, which also locks the video
// row so a concurrent "comments off" is honoured.
func (s *Community) AddComment(ctx context.Context, videoID, userID int64, parentID *int64, body string, at time.Time) (community.Comment, error) {
	var c community.Comment
	err := s.db.InTx(ctx, func(tx pgx.Tx) error {
		var enabled bool
		if err := tx.QueryRow(ctx, `SELECT comments_enabled FROM videos WHERE id = $1 FOR UPDATE`, videoID).Scan(&enabled); err != nil {
			return err
		}
		if !enabled {
			return errs.ErrForbidden
		}
		var parent *int64
		if parentID != nil {
			var top int64
			// A reply to a reply attaches to its top-level comment.
			if err := tx.QueryRow(ctx, `SELECT coalesce(parent_id, id) FROM comments
				WHERE id = $1 AND video_id = $2 AND deleted_at IS NULL`, *parentID, videoID).Scan(&top); err != nil {
				return err
			}
			tag, err := tx.Exec(ctx, `UPDATE comments SET reply_count = reply_count + 1 WHERE id = $1 AND deleted_at IS NULL`, top)
			if err != nil {
				return err
			}
			if tag.RowsAffected() == 0 {
				return pgx.ErrNoRows
			}
			parent = &top
		}
		var id int64
		if err := tx.QueryRow(ctx, `INSERT INTO comments (video_id, user_id, parent_id, body, created_at)
			VALUES ($1, $2, $3, $4, $5) RETURNING id`, videoID, userID, parent, body, at).Scan(&id); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE videos SET comment_count = comment_count + 1 WHERE id = $1`, videoID); err != nil {
			return err
		}
		var err error
		c, err = scanComment(tx.QueryRow(ctx, `SELECT `+commentCols+commentFrom+` WHERE m.id = $1`, id))
		return err
	})
	return c, mapErr(err)
}

// EditComment replaces a live comment's body.
func (s *Community) EditComment(ctx context.Context, id int64, body string, at time.Time) (community.Comment, error) {
	var c community.Comment
	err := s.db.InTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE comments SET body = $2, edited_at = $3 WHERE id = $1 AND deleted_at IS NULL`, id, body, at)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return pgx.ErrNoRows
		}
		c, err = scanComment(tx.QueryRow(ctx, `SELECT `+commentCols+commentFrom+` WHERE m.id = $1`, id))
		return err
	})
	return c, mapErr(err)
}

// DeleteComment deletes a comment in one transaction:
//   - a top-level comment with replies becomes a "comment deleted" placeholder;
//   - otherwise the row goes; a reply also lowers its parent's reply_count, and
//     a placeholder parent left without replies goes too;
//   - the video's comment_count drops by one (placeholders are not counted).
func (s *Community) DeleteComment(ctx context.Context, id int64, at time.Time) error {
	return mapErr(s.db.InTx(ctx, func(tx pgx.Tx) error {
		var videoID int64
		var parentID *int64
		var replies int
		// Lock the video first (same order as AddComment and React).
		if err := tx.QueryRow(ctx, `SELECT v.id FROM videos v JOIN comments m ON m.video_id = v.id
			WHERE m.id = $1 FOR UPDATE OF v`, id).Scan(&videoID); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `SELECT parent_id, reply_count FROM comments WHERE id = $1 AND deleted_at IS NULL FOR UPDATE`,
			id).Scan(&parentID, &replies); err != nil {
			return err
		}
		var err error
		switch {
		case parentID == nil && replies > 0:
			_, err = tx.Exec(ctx, `UPDATE comments SET body = '', deleted_at = $2 WHERE id = $1`, id, at)
		default:
			_, err = tx.Exec(ctx, `DELETE FROM comments WHERE id = $1`, id)
			if err == nil && parentID != nil {
				_, err = tx.Exec(ctx, `UPDATE comments SET reply_count = reply_count - 1 WHERE id = $1`, *parentID)
				if err == nil {
					_, err = tx.Exec(ctx, `DELETE FROM comments WHERE id = $1 AND deleted_at IS NOT NULL AND reply_count = 0`, *parentID)
				}
			}
		}
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE videos SET comment_count = comment_count - 1 WHERE id = $1`, videoID)
		return err
	}))
}

// SetCommentsEnabled turns comments on or off for a video.
func (s *Community) SetCommentsEnabled(ctx context.Context, videoID int64, on bool) error {
	tag, err := s.db.Pool.Exec(ctx, `UPDATE videos SET comments_enabled = $2, updated_at = now() WHERE id = $1`, videoID, on)
	if err != nil {
		return mapErr(err)
	}
	if tag.RowsAffected() == 0 {
		return errs.ErrNotFound
	}
	return nil
}
