package main

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// timeRuns times fn Runs times, calling prepare (untimed) before each run.
func (b *bench) timeRuns(ctx context.Context, what string, prepare, fn func(context.Context) error) (samples, error) {
	var s samples
	for i := range b.opts.Size.Runs {
		if prepare != nil {
			if err := prepare(ctx); err != nil {
				return nil, fmt.Errorf("%s, preparing run %d: %w", what, i+1, err)
			}
		}
		t0 := time.Now()
		if err := fn(ctx); err != nil {
			return nil, fmt.Errorf("%s, run %d: %w", what, i+1, err)
		}
		d := time.Since(t0)
		b.verbosef("  %s run %d: %s", what, i+1, d.Round(time.Millisecond))
		s = append(s, d.Seconds())
	}
	return s, nil
}

// revenueCalc runs UCC's revenue calculation for the period starting at
// period; nil while the revenue feature has not landed.
var revenueCalc func(ctx context.Context, b *bench, period time.Time) error

func (b *bench) revenueRow(ctx context.Context) (row, error) {
	sz := b.opts.Size
	if revenueCalc == nil {
		return row{}, notAvailable("the revenue feature has not landed")
	}
	period := revenuePeriod(time.Now(), sz.RevenueDays)
	t0 := time.Now()
	if err := seedBuckets(ctx, b.db.Pool, b.cat, period, sz.RevenueDays); err != nil {
		return row{}, err
	}
	if _, err := b.db.Pool.Exec(ctx, "VACUUM ANALYZE video_views_daily"); err != nil {
		return row{}, err
	}
	if _, err := b.db.Pool.Exec(ctx, "VACUUM ANALYZE videos"); err != nil {
		return row{}, err
	}
	b.logf("  seeded %d daily buckets for %s in %s", sz.RevenueDays*b.cat.Videos, period.Format("2006-01"), time.Since(t0).Round(100*time.Millisecond))

	end := period.AddDate(0, 1, 0)
	var groups int
	base, err := b.timeRuns(ctx, "GROUP BY baseline", nil, func(ctx context.Context) error {
		rows, err := b.db.Pool.Query(ctx, `
			SELECT creator_id, sum(views) FROM video_views_daily
			WHERE day >= $1 AND day < $2 GROUP BY creator_id`, period, end)
		if err != nil {
			return err
		}
		n := 0
		for rows.Next() {
			n++
		}
		groups = n
		rows.Close()
		return rows.Err()
	})
	if err != nil {
		return row{}, err
	}
	ucc, err := b.timeRuns(ctx, "revenue calculation", nil, func(ctx context.Context) error {
		return revenueCalc(ctx, b, period)
	})
	if err != nil {
		return row{}, err
	}
	return row{
		Figures: []figure{{Name: "seconds", Unit: unitSeconds, UCC: ucc, Base: base}},
		Notes: []string{fmt.Sprintf("period %s, %d daily buckets; the baseline sums them per creator (%d groups) and reads the result",
			period.Format("2006-01"), sz.RevenueDays*b.cat.Videos, groups)},
	}, nil
}

var _ = pgx.Identifier{}
