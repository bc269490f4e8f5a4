-- +goose Up
-- One row per applied view flush: the flusher records the flush id in the
-- same transaction that adds its counts, so a flush interrupted by a crash
-- is applied exactly once when the flusher finds it again.
CREATE TABLE view_flushes (
    flush_id   text PRIMARY KEY CHECK (char_length(flush_id) BETWEEN 1 AND 100),
    videos     integer NOT NULL DEFAULT 0,
    views      bigint NOT NULL DEFAULT 0,
    applied_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX view_flushes_applied_at_idx ON view_flushes (applied_at);

-- The flusher updates videos.views every few seconds: leave room in each
-- page so those updates can be HOT (no index writes). Applies to new pages.
ALTER TABLE videos SET (fillfactor = 90);

-- +goose Down
ALTER TABLE videos RESET (fillfactor);
DROP TABLE view_flushes;
