package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/ucc-video/ucc/internal/videos"
)

const channelCols = `id, owner_id, handle, name, description, coalesce(avatar_key, ''), coalesce(banner_key, ''), created_at`

func scanChannel(row pgx.Row) (videos.Channel, error) {
	var c videos.Channel
	err := row.Scan(&c.ID, &c.OwnerID, &c.Handle, &c.Name, &c.Description, &c.AvatarKey, &c.BannerKey, &c.CreatedAt)
	return c, mapErr(err)
}

// CreateChannel inserts ownerID's channel and makes a viewer a creator in
// the same transaction (finance staff and admins keep their role).
func (s *Videos) CreateChannel(ctx context.Context, ownerID int64, in videos.NewChannel) (videos.Channel, error) {
	var ch videos.Channel
	err := s.db.InTx(ctx, func(tx pgx.Tx) error {
		var err error
		ch, err = scanChannel(tx.QueryRow(ctx, `
			INSERT INTO channels (owner_id, handle, name, description) VALUES ($1, $2, $3, $4)
			RETURNING `+channelCols, ownerID, in.Handle, in.Name, in.Description))
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE users SET role = 'creator' WHERE id = $1 AND role = 'viewer'`, ownerID)
		return mapErr(err)
	})
	return ch, err
}

// ChannelByOwner returns the channel of a user.
func (s *Videos) ChannelByOwner(ctx context.Context, ownerID int64) (videos.Channel, error) {
	return scanChannel(s.db.Pool.QueryRow(ctx, `SELECT `+channelCols+` FROM channels WHERE owner_id = $1`, ownerID))
}
