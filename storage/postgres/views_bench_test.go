package postgres_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ucc-video/ucc/internal/views"
	"github.com/ucc-video/ucc/storage/postgres"
	"github.com/ucc-video/ucc/storage/postgres/pgtest"
)

const benchVideos = 100_000

// flushFixture makes benchVideos videos and a batch of 1,000,000 views
// spread over them (10 each) on one day.
func flushFixture(b *testing.B) (*postgres.DB, views.Batch) {
	db := pgtest.DB(b)
	ctx := context.Background()
	if _, err := db.Pool.Exec(ctx, `
		WITH u AS (INSERT INTO users (email, display_name, password_hash) VALUES ('c@example.com', 'C', 'x') RETURNING id),
		c AS (INSERT INTO channels (owner_id, handle, name) SELECT id, 'bench', 'B' FROM u RETURNING id, owner_id)
		INSERT INTO videos (public_id, channel_id, creator_id, title, status)
		SELECT lpad(to_hex(g), 11, '0'), c.id, c.owner_id, 'B', 'ready' FROM c, generate_series(1, $1) g`, benchVideos); err != nil {
		b.Fatal(err)
	}
	rows, err := db.Pool.Query(ctx, `SELECT id FROM videos`)
	if err != nil {
		b.Fatal(err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		b.Fatal(err)
	}
	day := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	var batch views.Batch
	for _, id := range ids {
		batch.Totals = append(batch.Totals, views.Delta{VideoID: id, Views: 10})
		batch.Daily = append(batch.Daily, views.DayDelta{VideoID: id, Day: day, Views: 10})
	}
	return db, batch
}

// BenchmarkFlush1M applies 1,000,000 pending views over 100,000 videos
// (totals and daily buckets, one transaction, set-based SQL).
func BenchmarkFlush1M(b *testing.B) {
	db, batch := flushFixture(b)
	store := postgres.NewViews(db)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if ok, err := store.Apply(context.Background(), fmt.Sprintf("bench-%d", i), batch); err != nil || !ok {
			b.Fatal(ok, err)
		}
	}
	b.ReportMetric(float64(batch.Views()), "views/op")
}

// BenchmarkCopy100kRows is the floor: a plain COPY of the same 100,000
// (video, day, views) rows into a table, nothing else.
func BenchmarkCopy100kRows(b *testing.B) {
	db, batch := flushFixture(b)
	ctx := context.Background()
	if _, err := db.Pool.Exec(ctx, `CREATE UNLOGGED TABLE copy_bench (video_id bigint, day date, views bigint)`); err != nil {
		b.Fatal(err)
	}
	rows := make([][]any, len(batch.Daily))
	for i, d := range batch.Daily {
		rows[i] = []any{d.VideoID, d.Day, d.Views}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := db.Pool.CopyFrom(ctx, pgx.Identifier{"copy_bench"}, []string{"video_id", "day", "views"}, pgx.CopyFromRows(rows)); err != nil {
			b.Fatal(err)
		}
	}
}
