-- +goose Up
-- What a period's calculation read: a fingerprint of the daily view
-- buckets before the period's end, one row per calculation and one at
-- approval (append-only, so an approved period's inputs stay on record).
-- Approval refuses when the buckets no longer match the latest
-- calculation's fingerprint; its row records the last late-view row that
-- existed then, so verify knows which late views came after it.
CREATE TABLE revenue_inputs (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    period_id     bigint NOT NULL REFERENCES revenue_periods (id),
    stage         text   NOT NULL CHECK (stage IN ('calculate', 'approve')),
    late_views_seen bigint NOT NULL DEFAULT 0,
    fingerprint   text   NOT NULL,
    bucket_rows   bigint NOT NULL,
    bucket_views  bigint NOT NULL,
    calculated_at timestamptz NOT NULL
);
CREATE INDEX revenue_inputs_period_idx ON revenue_inputs (period_id, id);
CREATE TRIGGER revenue_inputs_append_only BEFORE UPDATE OR DELETE ON revenue_inputs
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER revenue_inputs_no_truncate BEFORE TRUNCATE ON revenue_inputs
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only();

-- Views dated before the end of the last approved period that the view
-- flusher applied after that approval (a stopped worker, an outage): they
-- are in the buckets but in no frozen payout. Each flush that brings some
-- writes its rows here and an audit entry on the period, in its own
-- transaction; `ucc revenue verify` reconciles lines + late views with the
-- buckets. Paying them is an adjustment, never a silent change.
CREATE TABLE revenue_late_views (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    video_id    bigint NOT NULL,
    creator_id  bigint NOT NULL,
    day         date   NOT NULL,
    views       bigint NOT NULL,
    flush_id    text   NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX revenue_late_views_day_idx ON revenue_late_views (day);
CREATE TRIGGER revenue_late_views_append_only BEFORE UPDATE OR DELETE ON revenue_late_views
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER revenue_late_views_no_truncate BEFORE TRUNCATE ON revenue_late_views
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only();

-- +goose Down
DROP TABLE revenue_late_views;
DROP TABLE revenue_inputs;
