package revenue

import (
	"context"
	"fmt"
)

// Problem is one failed invariant.
type Problem struct {
	Period string `json:"period,omitempty"`
	What   string `json:"what"`
}

// String describes the problem in one line, naming its period.
func (p Problem) String() string {
	if p.Period == "" {
		return p.What
	}
	return p.Period + ": " + p.What
}

// Verify recomputes the invariants and returns every one that fails:
//   - each ledger transaction's debits equal its credits;
//   - for each calculated period: the payouts recompute from their stored
//     inputs to the same amounts, they sum to E, E + platform = R, and V, V_e
//     and the eligible count match the lines;
//   - for each approved period: the ledger's allocation debits R and credits
//     platform_share R − E and creators E;
//   - each creator's ledger balance equals allocations + adjustments −
//     payments.
func (s *Service) Verify(ctx context.Context) ([]Problem, error) {
	facts, err := s.store.CheckFacts(ctx)
	if err != nil {
		return nil, err
	}
	var probs []Problem
	add := func(period, format string, args ...any) {
		probs = append(probs, Problem{Period: period, What: fmt.Sprintf(format, args...)})
	}
	for _, t := range facts.Unbalanced {
		add(t.Period, "ledger transaction %d (%s) has debits %d ≠ credits %d", t.ID, t.Kind, t.Debits, t.Credits)
	}
	periods, err := s.store.Periods(ctx)
	if err != nil {
		return nil, err
	}
	for _, p := range periods {
		if p.Status == StatusOpen {
			continue
		}
		lines, _, err := s.store.Payouts(ctx, p.Key, PayoutQuery{Sort: "creator_id"})
		if err != nil {
			return nil, err
		}
		in := make([]CreatorInput, len(lines))
		var sum int64
		for i, l := range lines {
			in[i] = CreatorInput{CreatorID: l.CreatorID, PeriodViews: l.PeriodViews, LifetimeViews: l.LifetimeViews, CarriedIn: l.CarriedIn}
			sum += l.Amount
		}
		re, err := Allocate(p.Params(), in)
		if err != nil {
			add(p.Key, "cannot recompute: %v", err)
			continue
		}
		if sum != p.Pool {
			add(p.Key, "payouts sum to %d, E is %d", sum, p.Pool)
		}
		if p.Pool+p.Platform != p.Revenue {
			add(p.Key, "E %d + platform %d ≠ R %d", p.Pool, p.Platform, p.Revenue)
		}
		if re.Pool != p.Pool || re.TotalViews != p.TotalViews || re.EligibleViews != p.EligibleViews || re.EligibleCount != p.EligibleCount {
			add(p.Key, "totals recompute to V=%d V_e=%d eligible=%d E=%d, stored V=%d V_e=%d eligible=%d E=%d",
				re.TotalViews, re.EligibleViews, re.EligibleCount, re.Pool, p.TotalViews, p.EligibleViews, p.EligibleCount, p.Pool)
		}
		if re.Digest(p.Params()) != p.Digest {
			add(p.Key, "the stored result digest does not match the recomputed result")
		}
		for i, l := range lines {
			if i < len(re.Lines) && re.Lines[i] != l.Line {
				add(p.Key, "creator %d: stored line %+v, recomputed %+v", l.CreatorID, l.Line, re.Lines[i])
			}
		}
		if p.Frozen() {
			if err := s.verifyBuckets(ctx, p, lines, add); err != nil {
				return nil, err
			}
			a := facts.Allocations[p.Key]
			switch {
			case a.Transactions != 1:
				add(p.Key, "has %d allocation transactions in the ledger, want 1", a.Transactions)
			case a.Debits != p.Revenue || a.PlatformCredits != p.Platform || a.CreatorCredits != p.Pool || a.RevenueCredits != p.Revenue:
				add(p.Key, "ledger allocation posts revenue %d/%d, platform %d, creators %d; want R=%d, platform %d, E=%d",
					a.RevenueCredits, a.Debits, a.PlatformCredits, a.CreatorCredits, p.Revenue, p.Platform, p.Pool)
			}
		}
	}
	for _, b := range facts.Balances {
		if b.Ledger != b.Expected {
			add("", "creator %d (%s): ledger balance %d ≠ %d from allocations, adjustments and payments", b.CreatorID, b.Currency, b.Ledger, b.Expected)
		}
	}
	return probs, nil
}

// verifyBuckets compares an approved period's frozen lines with the daily
// buckets: each creator's period and lifetime views must be what the
// buckets hold, less the late views recorded after the approval (those are
// shown as late_views audit entries and paid, if at all, by adjustments).
func (s *Service) verifyBuckets(ctx context.Context, p Period, lines []Payout, add func(period, format string, args ...any)) error {
	want, ok, err := s.store.BucketViews(ctx, p.Key)
	if err != nil || !ok {
		return err
	}
	seen := map[int64]bool{}
	for _, l := range lines {
		seen[l.CreatorID] = true
		b := want[l.CreatorID]
		if b.PeriodViews != l.PeriodViews || b.LifetimeViews != l.LifetimeViews {
			add(p.Key, "creator %d: the frozen line has %d period / %d lifetime views, the daily buckets hold %d / %d (views changed without a late-view record)",
				l.CreatorID, l.PeriodViews, l.LifetimeViews, b.PeriodViews, b.LifetimeViews)
		}
	}
	for id, b := range want {
		if !seen[id] && b.PeriodViews != 0 {
			add(p.Key, "creator %d: %d views in the daily buckets for the period and no frozen line", id, b.PeriodViews)
		}
	}
	return nil
}
