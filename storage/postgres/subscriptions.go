package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/ucc-video/ucc/internal/community"
)

const communityChannelCols = `c.id, c.owner_id, c.handle, c.name, c.description, coalesce(c.avatar_key, ''),
	coalesce(c.banner_key, ''), c.created_at, c.subscriber_count,
	(SELECT count(*) FROM videos v WHERE v.channel_id = c.id AND` + listedVideo + `)`

func scanCommunityChannel(row pgx.Row) (community.ChannelInfo, error) {
	var ch community.ChannelInfo
	err := row.Scan(&ch.ID, &ch.OwnerID, &ch.Handle, &ch.Name, &ch.Description, &ch.AvatarKey,
		&ch.BannerKey, &ch.CreatedAt, &ch.SubscriberCount, &ch.VideoCount)
	return ch, mapErr(err)
}

// ChannelByHandle returns a channel with its counts.
func (s *Community) ChannelByHandle(ctx context.Context, handle string) (community.ChannelInfo, error) {
	return scanCommunityChannel(s.db.Pool.QueryRow(ctx, `SELECT `+communityChannelCols+` FROM channels c WHERE c.handle = $1`, handle))
}

// ChannelByID returns a channel with its counts.
func (s *Community) ChannelByID(ctx context.Context, id int64) (community.ChannelInfo, error) {
	return scanCommunityChannel(s.db.Pool.QueryRow(ctx, `SELECT `+communityChannelCols+` FROM channels c WHERE c.id = $1`, id))
}

// Subscribe adds or removes a subscription and moves the channel's count by
// exactly the rows changed, in one statement, so concurrent and repeated
// calls keep it right.
func (s *Community) Subscribe(ctx context.Context, userID, channelID int64, on bool) (community.SubscriptionState, error) {
	st := community.SubscriptionState{ChannelID: channelID, Subscribed: on}
	var q string
	if on {
		q = `WITH ins AS (
				INSERT INTO subscriptions (user_id, channel_id) VALUES ($1, $2)
				ON CONFLICT DO NOTHING RETURNING 1
			)
			UPDATE channels SET subscriber_count = subscriber_count + (SELECT count(*) FROM ins)
			WHERE id = $2 RETURNING subscriber_count`
	} else {
		q = `WITH del AS (
				DELETE FROM subscriptions WHERE user_id = $1 AND channel_id = $2 RETURNING 1
			)
			UPDATE channels SET subscriber_count = subscriber_count - (SELECT count(*) FROM del)
			WHERE id = $2 RETURNING subscriber_count`
	}
	err := s.db.Pool.QueryRow(ctx, q, userID, channelID).Scan(&st.SubscriberCount)
	return st, mapErr(err)
}

// Subscribed reports whether userID subscribes to channelID.
func (s *Community) Subscribed(ctx context.Context, userID, channelID int64) (bool, error) {
	var ok bool
	err := s.db.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM subscriptions WHERE user_id = $1 AND channel_id = $2)`, userID, channelID).Scan(&ok)
	return ok, mapErr(err)
}
