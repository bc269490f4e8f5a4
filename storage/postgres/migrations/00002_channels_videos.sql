-- +goose Up
-- Channels and videos: the shared core every feature builds on.
CREATE TABLE channels (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    owner_id    bigint NOT NULL UNIQUE REFERENCES users (id) ON DELETE CASCADE,
    handle      text NOT NULL CHECK (handle ~ '^[a-z0-9][a-z0-9_-]{2,29}$'),
    name        text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    description text NOT NULL DEFAULT '' CHECK (char_length(description) <= 5000),
    avatar_key  text,
    banner_key  text,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX channels_handle_key ON channels (handle);

CREATE TABLE videos (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- public_id is the id in URLs and the API: random, so unlisted videos cannot be enumerated.
    public_id        text NOT NULL UNIQUE CHECK (public_id ~ '^[A-Za-z0-9_-]{11}$'),
    channel_id       bigint NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    creator_id       bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title            text NOT NULL CHECK (char_length(title) BETWEEN 1 AND 200),
    description      text NOT NULL DEFAULT '' CHECK (char_length(description) <= 10000),
    visibility       text NOT NULL DEFAULT 'public' CHECK (visibility IN ('public', 'unlisted', 'private')),
    status           text NOT NULL DEFAULT 'uploading' CHECK (status IN ('uploading', 'processing', 'ready', 'failed')),
    failure_reason   text NOT NULL DEFAULT '',
    progress         smallint NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
    duration_seconds double precision NOT NULL DEFAULT 0,
    width            integer NOT NULL DEFAULT 0,
    height           integer NOT NULL DEFAULT 0,
    original_key     text,
    original_size    bigint NOT NULL DEFAULT 0,
    thumbnail_key    text,
    comments_enabled boolean NOT NULL DEFAULT true,
    -- Counters kept by their features: views by the view flusher (lifetime
    -- counted views in PostgreSQL; pending ones live in Redis), likes and
    -- dislikes and comment_count by the community feature.
    views            bigint NOT NULL DEFAULT 0,
    likes            bigint NOT NULL DEFAULT 0,
    dislikes         bigint NOT NULL DEFAULT 0,
    comment_count    bigint NOT NULL DEFAULT 0,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    published_at     timestamptz
);
CREATE INDEX videos_channel_idx ON videos (channel_id, created_at DESC);
CREATE INDEX videos_creator_idx ON videos (creator_id);
CREATE INDEX videos_public_recent_idx ON videos (published_at DESC, id DESC) WHERE status = 'ready' AND visibility = 'public';

CREATE TABLE renditions (
    video_id   bigint NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
    height     integer NOT NULL,
    width      integer NOT NULL,
    object_key text NOT NULL,
    size_bytes bigint NOT NULL DEFAULT 0,
    bitrate    integer NOT NULL DEFAULT 0,
    PRIMARY KEY (video_id, height)
);

-- +goose Down
DROP TABLE renditions;
DROP TABLE videos;
DROP TABLE channels;
