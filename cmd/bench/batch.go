package main

import (
	"context"
	"fmt"
	"time"

	"github.com/ucc-video/ucc/internal/revenue"
	"github.com/ucc-video/ucc/storage/postgres"
)

// timePairs times UCC's fn and the baseline's Runs times each, alternating
// which goes first (as the HTTP rows do), calling the untimed prepare
// functions (which may be nil) before each.
func (b *bench) timePairs(ctx context.Context, what string, basePrep, base, uccPrep, ucc func(context.Context) error) (uccS, baseS samples, err error) {
	one := func(name string, prep, fn func(context.Context) error, i int) (float64, error) {
		if prep != nil {
			if err := prep(ctx); err != nil {
				return 0, fmt.Errorf("%s, preparing run %d: %w", name, i+1, err)
			}
		}
		t0 := time.Now()
		if err := fn(ctx); err != nil {
			return 0, fmt.Errorf("%s, run %d: %w", name, i+1, err)
		}
		d := time.Since(t0)
		b.verbosef("  %s run %d: %s", name, i+1, d.Round(time.Millisecond))
		return d.Seconds(), nil
	}
	for i := range b.opts.Size.Runs {
		order := []bool{true, false} // UCC first
		if i%2 == 1 {
			order = []bool{false, true}
		}
		for _, isUCC := range order {
			if isUCC {
				v, err := one(what, uccPrep, ucc, i)
				if err != nil {
					return nil, nil, err
				}
				uccS = append(uccS, v)
			} else {
				v, err := one(what+" baseline", basePrep, base, i)
				if err != nil {
					return nil, nil, err
				}
				baseS = append(baseS, v)
			}
		}
	}
	return uccS, baseS, nil
}

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

func (b *bench) revenueRow(ctx context.Context) (row, error) {
	sz := b.opts.Size
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
	var total int
	if err := b.db.Pool.QueryRow(ctx, `SELECT count(*) FROM video_views_daily`).Scan(&total); err != nil {
		return row{}, err
	}
	// UCC: revenue.Service.Calculate in-process, as `ucc revenue calculate`
	// and the River revenue job call it.
	svc := revenue.NewService(postgres.NewRevenue(&postgres.DB{Pool: b.db.Pool}), time.Now)
	key := period.Format("2006-01")
	amount := int64(100_000_000_00) // 100,000,000.00 USD of net ad revenue
	if _, err := svc.CreatePeriod(ctx, revenue.Actor{Name: "bench"}, revenue.NewPeriod{Period: key, Revenue: &amount, Currency: "USD"}); err != nil {
		return row{}, fmt.Errorf("create period %s: %w", key, err)
	}
	var groups int
	var p revenue.Period
	groupBy := func(ctx context.Context) error {
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
	}
	calculate := func(ctx context.Context) error {
		var err error
		p, err = svc.Calculate(ctx, revenue.Actor{Name: "bench"}, key)
		if err == nil && groups > 0 && p.CreatorCount != groups {
			err = fmt.Errorf("the calculation saw %d creators, the GROUP BY %d", p.CreatorCount, groups)
		}
		return err
	}
	ucc, base, err := b.timePairs(ctx, "revenue calculation", nil, groupBy, nil, calculate)
	if err != nil {
		return row{}, err
	}
	return row{
		Figures: []figure{{Name: "seconds", Unit: unitSeconds, UCC: ucc, Base: base}},
		Notes: []string{
			fmt.Sprintf("period %s, %s daily buckets in it (%s buckets in the table); %d of %d creators eligible (threshold %s lifetime views), pool %d of %d minor units",
				key, thousands(sz.RevenueDays*b.cat.Videos), thousands(total), p.EligibleCount, p.CreatorCount, thousands(int(p.Threshold)), p.Pool, p.Revenue),
			"the calculation is revenue.Service.Calculate in-process (the code `ucc revenue calculate` runs): its set-based query, the largest-remainder allocation and the draft payout rows written in one transaction; recalculating a draft period replaces its rows",
			fmt.Sprintf("the baseline is `SELECT creator_id, sum(views) FROM video_views_daily WHERE day in the period GROUP BY creator_id`, read to the end (%d groups)", groups),
		},
	}, nil
}
