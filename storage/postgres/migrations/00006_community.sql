-- +goose Up
-- Community: comments (one level of replies), likes/dislikes, subscriptions
-- and full-text search. Counters on videos (likes, dislikes, comment_count)
-- and channels (subscriber_count) are kept in the same transaction as the
-- row that changes them.

CREATE TABLE comments (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    video_id    bigint NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
    user_id     bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- parent_id is always a top-level comment: replies are one level deep.
    parent_id   bigint REFERENCES comments (id) ON DELETE CASCADE,
    body        text NOT NULL CHECK (char_length(body) <= 10000),
    reply_count integer NOT NULL DEFAULT 0 CHECK (reply_count >= 0),
    created_at  timestamptz NOT NULL DEFAULT now(),
    edited_at   timestamptz,
    -- A deleted top-level comment that still has replies stays as a
    -- "comment deleted" placeholder with an empty body.
    deleted_at  timestamptz
);
CREATE INDEX comments_video_newest_idx ON comments (video_id, id DESC) WHERE parent_id IS NULL;
CREATE INDEX comments_video_top_idx ON comments (video_id, reply_count DESC, id DESC) WHERE parent_id IS NULL;
CREATE INDEX comments_parent_idx ON comments (parent_id, id) WHERE parent_id IS NOT NULL;
CREATE INDEX comments_user_idx ON comments (user_id);

CREATE TABLE video_reactions (
    user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    video_id   bigint NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
    value      smallint NOT NULL CHECK (value IN (-1, 1)), -- 1 like, -1 dislike
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, video_id)
);
CREATE INDEX video_reactions_liked_idx ON video_reactions (user_id, created_at DESC, video_id DESC) WHERE value = 1;
CREATE INDEX video_reactions_video_idx ON video_reactions (video_id);

CREATE TABLE subscriptions (
    user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    channel_id bigint NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, channel_id)
);
CREATE INDEX subscriptions_channel_idx ON subscriptions (channel_id);

ALTER TABLE channels ADD COLUMN subscriber_count bigint NOT NULL DEFAULT 0 CHECK (subscriber_count >= 0);

-- Full-text search: videos by title (weight A) and description (C) with
-- English stemming; channels by name and handle with the 'simple' config.
ALTER TABLE videos ADD COLUMN search tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('english', title), 'A') || setweight(to_tsvector('english', description), 'C')
) STORED;
CREATE INDEX videos_search_idx ON videos USING gin (search);
ALTER TABLE channels ADD COLUMN search tsvector GENERATED ALWAYS AS (
    to_tsvector('simple', name || ' ' || handle)
) STORED;
CREATE INDEX channels_search_idx ON channels USING gin (search);
CREATE INDEX videos_channel_published_idx ON videos (channel_id, published_at DESC, id DESC) WHERE status = 'ready' AND visibility = 'public';

-- +goose Down
DROP INDEX videos_channel_published_idx;
ALTER TABLE channels DROP COLUMN search;
ALTER TABLE videos DROP COLUMN search;
ALTER TABLE channels DROP COLUMN subscriber_count;
DROP TABLE subscriptions;
DROP TABLE video_reactions;
DROP TABLE comments;
