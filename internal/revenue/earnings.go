package revenue

import (
	"context"
	"errors"
	"math/big"
	"time"

	"github.com/ucc-video/ucc/internal/errs"
)

// Earnings is what a creator's earnings page shows.
type Earnings struct {
	LifetimeViews int64           `json:"lifetime_views"`
	Threshold     int64           `json:"view_threshold"`
	Eligible      bool            `json:"eligible"`
	Days          []DailyViews    `json:"days"` // the last 90 days, oldest first, zero-filled
	CurrentPeriod string          `json:"current_period"`
	CurrentViews  int64           `json:"current_period_views"`
	Estimate      *Estimate       `json:"estimate,omitempty"`
	Payouts       []CreatorPayout `json:"payouts"`
	Profile       *Profile        `json:"payout_profile,omitempty"`
}

// Estimate is this month's estimated earnings: the month's views so far
// times the last approved period's effective rate per eligible view (E/V_e).
// It is an estimate: the real figure depends on this month's revenue and
// everyone's views.
type Estimate struct {
	BasedOn  string `json:"based_on_period"`
	Currency string `json:"currency"`
	Amount   int64  `json:"amount_minor"`
	Display  string `json:"amount"`
}

// EarningsDays is how many days the views chart covers.
const EarningsDays = 90

// Earnings gathers a creator's earnings page.
func (s *Service) Earnings(ctx context.Context, creatorID int64) (Earnings, error) {
	now := s.now().UTC()
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	from := today.AddDate(0, 0, -(EarningsDays - 1))
	tomorrow := today.AddDate(0, 0, 1)
	e := Earnings{Threshold: DefaultThreshold, CurrentPeriod: PeriodOf(now)}
	lifetime, days, err := s.store.CreatorViews(ctx, creatorID, from, tomorrow)
	if err != nil {
		return e, err
	}
	e.LifetimeViews = lifetime
	byDay := make(map[time.Time]int64, len(days))
	for _, d := range days {
		byDay[d.Day.UTC()] = d.Views
	}
	monthStart := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	for d := from; d.Before(tomorrow); d = d.AddDate(0, 0, 1) {
		e.Days = append(e.Days, DailyViews{Day: d, Views: byDay[d]})
	}
	// 90 days always cover the current month, so its views are in the chart.
	for _, d := range e.Days {
		if !d.Day.Before(monthStart) {
			e.CurrentViews += d.Views
		}
	}
	last, err := s.store.LastApproved(ctx)
	switch {
	case err == nil:
		e.Threshold = last.Threshold
		e.Eligible = e.LifetimeViews >= e.Threshold
		amt := int64(0)
		if e.Eligible && last.EligibleViews > 0 {
			n := new(big.Int).Mul(big.NewInt(e.CurrentViews), big.NewInt(last.Pool))
			amt = n.Quo(n, big.NewInt(last.EligibleViews)).Int64()
		}
		e.Estimate = &Estimate{BasedOn: last.Key, Currency: last.Currency, Amount: amt, Display: last.Format(amt)}
	case errors.Is(err, errs.ErrNotFound):
		e.Eligible = e.LifetimeViews >= e.Threshold
	default:
		return e, err
	}
	if e.Payouts, err = s.store.CreatorPayouts(ctx, creatorID); err != nil {
		return e, err
	}
	if p, err := s.store.Profile(ctx, creatorID); err == nil {
		e.Profile = &p
	} else if !errors.Is(err, errs.ErrNotFound) {
		return e, err
	}
	return e, nil
}

// Progress is lifetime views as a share of the threshold, capped at 1.
func (e Earnings) Progress() float64 {
	if e.Threshold <= 0 || e.LifetimeViews >= e.Threshold {
		return 1
	}
	return float64(e.LifetimeViews) / float64(e.Threshold)
}
