-- +goose Up
-- Daily counted views per video: written by the view flusher, read by
-- trending, analytics and the revenue job. creator_id is copied in and there
-- is no foreign key, so a deleted video's history still pays and reconciles.
CREATE TABLE video_views_daily (
    video_id   bigint NOT NULL,
    creator_id bigint NOT NULL,
    day        date   NOT NULL,
    views      bigint NOT NULL CHECK (views >= 0),
    PRIMARY KEY (video_id, day)
);
CREATE INDEX video_views_daily_creator_day_idx ON video_views_daily (creator_id, day);
CREATE INDEX video_views_daily_day_idx ON video_views_daily (day);

-- +goose Down
DROP TABLE video_views_daily;
