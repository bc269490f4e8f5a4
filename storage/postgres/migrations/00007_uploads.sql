-- +goose Up
-- Resumable (tus) upload sessions. Bytes live in object storage: full parts
-- in a multipart upload (parts lists them with their ETags), and a tail below
-- the part size as a temporary object (tail_key). upload_offset is advanced
-- only in the statement that records a stored part or tail, with a
-- compare-and-set on the old offset, so two concurrent PATCHes cannot both
-- append.
CREATE TABLE upload_sessions (
    id               text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9_-]{16,64}$'),
    creator_id       bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    upload_length    bigint NOT NULL CHECK (upload_length > 0),
    upload_offset    bigint NOT NULL DEFAULT 0,
    part_size        bigint NOT NULL CHECK (part_size > 0),
    metadata         jsonb NOT NULL DEFAULT '{}',
    object_key       text NOT NULL,
    multipart_id     text NOT NULL,
    parts            jsonb NOT NULL DEFAULT '[]',
    next_part        integer NOT NULL DEFAULT 0,
    tail_key         text NOT NULL DEFAULT '',
    tail_size        bigint NOT NULL DEFAULT 0 CHECK (tail_size >= 0),
    finishing_until  timestamptz,
    created_at       timestamptz NOT NULL,
    expires_at       timestamptz NOT NULL,
    CHECK (upload_offset BETWEEN 0 AND upload_length)
);
CREATE INDEX upload_sessions_creator_idx ON upload_sessions (creator_id);
CREATE INDEX upload_sessions_expires_idx ON upload_sessions (expires_at);

-- +goose Down
DROP TABLE upload_sessions;
