package main

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// flushHooks drive the view-counting feature's flusher: fill puts n pending
// views over the given videos into Redis (in the key format the views code
// uses), flush moves every pending view to PostgreSQL once. Nil while the
// feature has not landed.
type flushHooks struct {
	fill  func(ctx context.Context, b *bench, videoIDs []int64, n int) error
	flush func(ctx context.Context, b *bench) error
	how   string // how the flush is invoked, for the notes
}

var viewFlush *flushHooks

func (b *bench) flushRow(ctx context.Context) (row, error) {
	if viewFlush == nil {
		return row{}, notAvailable("the view-counting feature (storage/redis/views.go, the flusher) has not landed")
	}
	sz := b.opts.Size
	nVideos := min(sz.FlushVideos, b.cat.Videos)
	ids := make([]int64, nVideos)
	for i := range ids {
		ids[i] = b.cat.FirstVideo + int64(i)
	}
	today := time.Now().UTC().Truncate(24 * time.Hour)

	// Baseline: COPY the same views, one row each, into a table with
	// video_views_daily's columns and no index.
	if _, err := b.db.Pool.Exec(ctx, `CREATE TABLE bench_copy_views (LIKE video_views_daily INCLUDING DEFAULTS)`); err != nil {
		return row{}, err
	}
	defer b.db.Pool.Exec(context.Background(), `DROP TABLE IF EXISTS bench_copy_views`)
	creatorOf := func(i int) int64 { return b.cat.FirstCreator + int64(i%b.cat.Creators) }
	base, err := b.timeRuns(ctx, "COPY baseline",
		func(ctx context.Context) error {
			_, err := b.db.Pool.Exec(ctx, `TRUNCATE bench_copy_views`)
			return err
		},
		func(ctx context.Context) error {
			n, err := b.db.Pool.CopyFrom(ctx, pgx.Identifier{"bench_copy_views"}, []string{"video_id", "creator_id", "day", "views"},
				pgx.CopyFromFunc(func() func() ([]any, error) {
					i := 0
					return func() ([]any, error) {
						if i == sz.FlushViews {
							return nil, nil
						}
						v := i % nVideos
						i++
						return []any{ids[v], creatorOf(v), today, int64(1)}, nil
					}
				}()))
			if err == nil && n != int64(sz.FlushViews) {
				err = fmt.Errorf("copied %d rows, want %d", n, sz.FlushViews)
			}
			return err
		})
	if err != nil {
		return row{}, err
	}

	// UCC: fill the pending hash (untimed), then time one flush.
	var before int64
	ucc, err := b.timeRuns(ctx, "flush",
		func(ctx context.Context) error {
			if err := b.db.Pool.QueryRow(ctx, `SELECT coalesce(sum(views), 0) FROM videos`).Scan(&before); err != nil {
				return err
			}
			return viewFlush.fill(ctx, b, ids, sz.FlushViews)
		},
		func(ctx context.Context) error {
			if err := viewFlush.flush(ctx, b); err != nil {
				return err
			}
			var after int64
			if err := b.db.Pool.QueryRow(ctx, `SELECT coalesce(sum(views), 0) FROM videos`).Scan(&after); err != nil {
				return err
			}
			if after-before != int64(sz.FlushViews) {
				return fmt.Errorf("the flush added %d lifetime views, want %d", after-before, sz.FlushViews)
			}
			return nil
		})
	if err != nil {
		return row{}, err
	}
	return row{
		Figures: []figure{{Name: "seconds", Unit: unitSeconds, UCC: ucc, Base: base}},
		Notes: []string{
			fmt.Sprintf("%s pending views spread evenly over %s videos, written to Redis untimed before each run; %s; the check after each run is that videos.views grew by exactly the pending count",
				thousands(sz.FlushViews), thousands(nVideos), viewFlush.how),
			fmt.Sprintf("the baseline COPYs the same %s views as one row each (video_id, creator_id, day, views) into an unindexed table shaped like video_views_daily", thousands(sz.FlushViews)),
		},
	}, nil
}
