package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ucc-video/ucc/internal/revenue"
)

// What a creator sees of revenue: their payouts, their views and their
// payout profile.

// CreatorPayouts lists a creator's lines in approved periods, latest first.
func (s *Revenue) CreatorPayouts(ctx context.Context, creatorID int64) ([]revenue.CreatorPayout, error) {
	rows, err := s.db.Pool.Query(ctx, `
		SELECT p.period, p.currency, p.status, rp.creator_id, rp.period_views, rp.lifetime_views, rp.eligible, rp.amount_minor,
		       rp.carried_in_minor, rp.payable_minor, rp.carried_over_minor, rp.paid_at, coalesce(rp.payment_reference, '')
		FROM revenue_payouts rp JOIN revenue_periods p ON p.id = rp.period_id
		WHERE rp.creator_id = $1 AND p.status IN ('approved', 'paid')
		ORDER BY p.starts_on DESC`, creatorID)
	if err != nil {
		return nil, mapErr(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (revenue.CreatorPayout, error) {
		var c revenue.CreatorPayout
		var pstatus string
		l := &c.Line
		err := r.Scan(&c.PeriodKey, &c.Currency, &pstatus, &l.CreatorID, &l.PeriodViews, &l.LifetimeViews, &l.Eligible, &l.Amount,
			&l.CarriedIn, &l.Payable, &l.CarriedOver, &c.PaidAt, &c.Reference)
		c.Status = revenue.Payout{Line: c.Line, PaidAt: c.PaidAt}.Status(true)
		return c, err
	})
	return out, mapErr(err)
}

// CreatorViews returns lifetime views before `before` and per-day views in [from, before).
func (s *Revenue) CreatorViews(ctx context.Context, creatorID int64, from, before time.Time) (int64, []revenue.DailyViews, error) {
	var lifetime int64
	if err := s.db.Pool.QueryRow(ctx, `SELECT coalesce(sum(views), 0)::bigint FROM video_views_daily WHERE creator_id = $1 AND day < $2`,
		creatorID, before).Scan(&lifetime); err != nil {
		return 0, nil, mapErr(err)
	}
	rows, err := s.db.Pool.Query(ctx, `SELECT day, sum(views)::bigint FROM video_views_daily
		WHERE creator_id = $1 AND day >= $2 AND day < $3 GROUP BY day ORDER BY day`, creatorID, from, before)
	if err != nil {
		return 0, nil, mapErr(err)
	}
	days, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (revenue.DailyViews, error) {
		var d revenue.DailyViews
		err := r.Scan(&d.Day, &d.Views)
		return d, err
	})
	return lifetime, days, mapErr(err)
}

// Profile returns a creator's payout profile.
func (s *Revenue) Profile(ctx context.Context, userID int64) (revenue.Profile, error) {
	var p revenue.Profile
	err := s.db.Pool.QueryRow(ctx, `SELECT user_id, legal_name, country, method_ref, updated_at FROM payout_profiles WHERE user_id = $1`,
		userID).Scan(&p.UserID, &p.LegalName, &p.Country, &p.MethodRef, &p.UpdatedAt)
	return p, mapErr(err)
}

// SaveProfile inserts or replaces a payout profile.
func (s *Revenue) SaveProfile(ctx context.Context, p revenue.Profile) error {
	_, err := s.db.Pool.Exec(ctx, `INSERT INTO payout_profiles (user_id, legal_name, country, method_ref, updated_at)
		VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (user_id) DO UPDATE SET legal_name = EXCLUDED.legal_name, country = EXCLUDED.country,
			method_ref = EXCLUDED.method_ref, updated_at = EXCLUDED.updated_at`,
		p.UserID, p.LegalName, p.Country, p.MethodRef, p.UpdatedAt)
	return mapErr(err)
}
