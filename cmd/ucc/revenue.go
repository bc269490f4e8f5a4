package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/ucc-video/ucc/internal/revenue"
	"github.com/ucc-video/ucc/internal/views"
	"github.com/ucc-video/ucc/storage/postgres"
	uccredis "github.com/ucc-video/ucc/storage/redis"
)

const revenueUsage = `Usage:
  ucc revenue calculate --period YYYY-MM [--enqueue]   calculate (or recalculate) a period's draft, here or as a River job
  ucc revenue verify                       recompute the ledger invariants; exit 1 if one fails
  ucc revenue report --period YYYY-MM [--format csv|json]   print a period's payout report`

func runRevenue(ctx context.Context, args []string, e env) error {
	stdout, stderr := e.stdout, e.stderr
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintln(stdout, revenueUsage)
		if len(args) == 0 {
			return usageError{"expected calculate, verify or report"}
		}
		return nil
	}
	action := args[0]
	fs := newFlagSet("revenue "+action, "revenue "+action+" [flags]", stdout)
	period := fs.String("period", "", "the month, YYYY-MM (calculate, report)")
	format := fs.String("format", "csv", "report format: csv or json")
	enqueue := fs.Bool("enqueue", false, "calculate: queue a River job for the workers of `ucc serve` instead of running here")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	switch action {
	case "calculate", "report":
		if *period == "" {
			return usageError{"--period is required, e.g. --period 2026-10"}
		}
	case "verify":
	default:
		return usageError{fmt.Sprintf("unknown action %q: use calculate, verify or report", action)}
	}
	if action == "report" && *format != "csv" && *format != "json" {
		return usageError{"--format must be csv or json"}
	}
	cfg, db, err := e.openDB(ctx, 4)
	if err != nil {
		return err
	}
	defer db.Close()
	store := postgres.NewRevenue(db)
	svc := revenue.NewService(store, time.Now)
	operator := revenue.Actor{Name: "operator (CLI)"}

	switch action {
	case "calculate":
		if *enqueue {
			if _, err := svc.Period(ctx, *period); err != nil {
				return err
			}
			client, err := river.NewClient(riverpgxv5.New(db.Pool), &river.Config{})
			if err != nil {
				return err
			}
			res, err := client.Insert(ctx, revenue.CalculateArgs{Period: *period}, nil)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "queued job %d (revenue.calculate %s)%s\n", res.Job.ID, *period, map[bool]string{true: "; one was already queued", false: ""}[res.UniqueSkippedAsDuplicate])
			return nil
		}
		if hold := cfg.Faults.RevenueHold; hold > 0 { // fault injection (tests only)
			store.HoldCalculations(hold, func() {
				fmt.Fprintln(stderr, "holding the calculation transaction open (UCC_TEST_REVENUE_HOLD)")
			})
		}
		// Views dated in the period that are still in Redis must reach
		// PostgreSQL first: the calculation refuses until they have.
		rdb, err := uccredis.Open(ctx, cfg.RedisURL)
		if err != nil {
			return fmt.Errorf("UCC_REDIS_URL: %w (the calculation checks that no views of the period are still waiting in Redis)", err)
		}
		defer rdb.Close()
		vstore := postgres.NewViews(db)
		svc.CheckPending(views.NewService(views.Config{Secret: cfg.SecretKey, FlushEvery: cfg.ViewFlushEvery}, vstore,
			uccredis.NewViewCounter(rdb, cfg.RedisPrefix, 5*time.Second), vstore, nil, time.Now))
		p, err := svc.Calculate(ctx, operator, *period)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, "calculated "+revenue.CalculationSummary(p))
		return nil
	case "report":
		p, lines, err := svc.AllPayouts(ctx, *period)
		if err != nil {
			return err
		}
		if *format == "json" {
			return revenue.WriteJSON(stdout, p, lines)
		}
		return revenue.WriteCSV(stdout, p, lines)
	}
	probs, err := svc.Verify(ctx)
	if err != nil {
		return err
	}
	if len(probs) > 0 {
		for _, p := range probs {
			fmt.Fprintln(stderr, "FAIL", p.String())
		}
		return errors.New(fmt.Sprint(len(probs), " invariant(s) failed"))
	}
	fmt.Fprintln(stdout, "ok: every ledger transaction balances, payouts sum to E, E + platform = R, creator balances match")
	return nil
}
