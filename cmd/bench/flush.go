package main

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

func (b *bench) flushRow(ctx context.Context) (row, error) {
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
	truncate := func(ctx context.Context) error {
		_, err := b.db.Pool.Exec(ctx, `TRUNCATE bench_copy_views`)
		return err
	}
	copyRows := func(ctx context.Context) error {
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
	}

	// UCC: drain what earlier rows left pending and fill the pending hash
	// (untimed), then time one flush round.
	flusher := b.flusher()
	var before int64
	hot0, upd0 := videoUpdates(ctx, b)
	fill := func(ctx context.Context) error {
		if _, err := flusher.Flush(ctx); err != nil {
			return fmt.Errorf("drain: %w", err)
		}
		if err := b.db.Pool.QueryRow(ctx, `SELECT coalesce(sum(views), 0) FROM videos`).Scan(&before); err != nil {
			return err
		}
		return fillPending(ctx, b.rdb, b.prefix, ids, sz.FlushViews, time.Now())
	}
	flush := func(ctx context.Context) error {
		st, err := flusher.Flush(ctx)
		if err != nil {
			return err
		}
		if st.Busy {
			return fmt.Errorf("another flusher holds the lock")
		}
		var after int64
		if err := b.db.Pool.QueryRow(ctx, `SELECT coalesce(sum(views), 0) FROM videos`).Scan(&after); err != nil {
			return err
		}
		if after-before != int64(sz.FlushViews) {
			return fmt.Errorf("the flush added %d lifetime views, want %d", after-before, sz.FlushViews)
		}
		return nil
	}
	ucc, base, err := b.timePairs(ctx, "flush", truncate, copyRows, fill, flush)
	if err != nil {
		return row{}, err
	}
	// PostgreSQL publishes a backend's table statistics up to ten seconds
	// after its transaction: wait (at most 12 s) until the flushes' updates
	// show.
	var hot, upd int64
	for deadline := time.Now().Add(12 * time.Second); ; {
		h, u := videoUpdates(ctx, b)
		hot, upd = h-hot0, u-upd0
		if upd >= int64(sz.Runs*nVideos) || time.Now().After(deadline) || ctx.Err() != nil {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	hotNote := "HOT share of the videos row updates unknown (statistics not published)"
	if upd >= int64(sz.Runs*nVideos) {
		hotNote = fmt.Sprintf("%.0f%% of the flushes' %s videos row updates were HOT (pg_stat_user_tables); the others write a new entry in every index on videos", 100*float64(hot)/float64(upd), thousands(int(upd)))
	}
	return row{
		Figures: []figure{{Name: "seconds", Unit: unitSeconds, UCC: ucc, Base: base}},
		Notes: []string{
			fmt.Sprintf("%s pending views spread evenly over %s videos, written to Redis untimed before each run; %s; the check after each run is that videos.views grew by exactly the pending count",
				thousands(sz.FlushViews), thousands(nVideos), "the flush is one round of views.Flusher.Flush called in-process (the code `ucc serve --role worker` runs every UCC_VIEW_FLUSH_INTERVAL) with the storage/redis and storage/postgres adapters on a pool of 8 connections"),
			hotNote,
			fmt.Sprintf("the baseline COPYs the same %s views as one row each (video_id, creator_id, day, views) into an unindexed table shaped like video_views_daily", thousands(sz.FlushViews)),
		},
	}, nil
}

// videoUpdates reads the HOT and total update counters of the videos table.
func videoUpdates(ctx context.Context, b *bench) (hot, total int64) {
	_ = b.db.Pool.QueryRow(ctx, `SELECT n_tup_hot_upd, n_tup_upd FROM pg_stat_user_tables WHERE relname = 'videos'`).Scan(&hot, &total)
	return hot, total
}
