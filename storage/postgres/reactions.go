package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/ucc-video/ucc/internal/community"
)

// React sets userID's reaction to videoID. The video row is locked first,
// so concurrent reactions to one video are serialised and the counters move
// by exactly the change between the old and the new reaction.
func (s *Community) React(ctx context.Context, userID, videoID int64, r community.Reaction) (community.ReactionState, error) {
	st := community.ReactionState{Value: r.String()}
	err := s.db.InTx(ctx, func(tx pgx.Tx) error {
		var id int64
		if err := tx.QueryRow(ctx, `SELECT id FROM videos WHERE id = $1 FOR UPDATE`, videoID).Scan(&id); err != nil {
			return err
		}
		var old community.Reaction
		err := tx.QueryRow(ctx, `SELECT value FROM video_reactions WHERE user_id = $1 AND video_id = $2`, userID, videoID).Scan(&old)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		if r == community.ReactionNone {
			_, err = tx.Exec(ctx, `DELETE FROM video_reactions WHERE user_id = $1 AND video_id = $2`, userID, videoID)
		} else if old != r {
			_, err = tx.Exec(ctx, `INSERT INTO video_reactions (user_id, video_id, value) VALUES ($1, $2, $3)
				ON CONFLICT (user_id, video_id) DO UPDATE SET value = EXCLUDED.value, created_at = now()`, userID, videoID, r)
		}
		if err != nil {
			return err
		}
		dl, dd := 0, 0
		if old == community.ReactionLike {
			dl--
		} else if old == community.ReactionDislike {
			dd--
		}
		if r == community.ReactionLike {
			dl++
		} else if r == community.ReactionDislike {
			dd++
		}
		return tx.QueryRow(ctx, `UPDATE videos SET likes = likes + $2, dislikes = dislikes + $3 WHERE id = $1
			RETURNING likes, dislikes`, videoID, dl, dd).Scan(&st.Likes, &st.Dislikes)
	})
	return st, mapErr(err)
}

// ReactionOf returns userID's reaction to videoID (none when there is none).
func (s *Community) ReactionOf(ctx context.Context, userID, videoID int64) (community.Reaction, error) {
	var r community.Reaction
	err := s.db.Pool.QueryRow(ctx, `SELECT value FROM video_reactions WHERE user_id = $1 AND video_id = $2`, userID, videoID).Scan(&r)
	if errors.Is(err, pgx.ErrNoRows) {
		return community.ReactionNone, nil
	}
	return r, mapErr(err)
}
