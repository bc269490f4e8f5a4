package postgres_test

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/ucc-video/ucc/internal/revenue"
	"github.com/ucc-video/ucc/storage/postgres"
	"github.com/ucc-video/ucc/storage/postgres/pgtest"
)

func benchEnv(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// BenchmarkRevenue times a full calculation (the set-based query, the
// allocation and writing every payout row in one transaction) against a
// single SELECT ... GROUP BY scan of the same buckets, on the same data.
// `make bench` runs it at 100,000 creators, 1,000,000 videos and 30 days of
// buckets (30M rows); UCC_BENCH_CREATORS, UCC_BENCH_VIDEOS and
// UCC_BENCH_DAYS scale it down.
func BenchmarkRevenue(b *testing.B) {
	ctx := context.Background()
	creators := benchEnv("UCC_BENCH_CREATORS", 100_000)
	videos := benchEnv("UCC_BENCH_VIDEOS", 1_000_000)
	days := benchEnv("UCC_BENCH_DAYS", 30)
	db := pgtest.DB(b)
	start := time.Now()
	// Every video has a bucket on each of the days; views vary per video and day.
	if _, err := db.Pool.Exec(ctx, `
		INSERT INTO video_views_daily (video_id, creator_id, day, views)
		SELECT v, v % $2 + 1, date '2026-10-01' + d, (v * 7919 + d * 104729) % 1000
		FROM generate_series(1, $1::bigint) v, generate_series(0, $3 - 1) d`, videos, creators, days); err != nil {
		b.Fatal(err)
	}
	if _, err := db.Pool.Exec(ctx, `ANALYZE video_views_daily`); err != nil {
		b.Fatal(err)
	}
	b.Logf("seeded %d buckets (%d creators, %d videos, %d days) in %s", videos*days, creators, videos, days, time.Since(start).Round(time.Millisecond))
	svc := revenue.NewService(postgres.NewRevenue(db), func() time.Time { return time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC) })
	rev, thr := int64(1_000_000_000), int64(5000)
	if _, err := svc.CreatePeriod(ctx, revenue.Actor{Name: "bench"}, revenue.NewPeriod{Period: "2026-10", Revenue: &rev, Currency: "USD", Threshold: &thr}); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	b.Run("calculate", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			p, err := svc.Calculate(ctx, revenue.Actor{Name: "bench"}, "2026-10")
			if err != nil {
				b.Fatal(err)
			}
			if p.CreatorCount != creators {
				b.Fatalf("%d creators, want %d", p.CreatorCount, creators)
			}
		}
	})
	b.Run("group_by_scan", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			rows, err := db.Pool.Query(ctx, `SELECT creator_id, sum(views) FROM video_views_daily
				WHERE day >= '2026-10-01' AND day < '2026-11-01' GROUP BY creator_id`)
			if err != nil {
				b.Fatal(err)
			}
			n := 0
			for rows.Next() {
				n++
			}
			if rows.Err() != nil || n != creators {
				b.Fatalf("%d rows, %v", n, rows.Err())
			}
		}
	})
}
