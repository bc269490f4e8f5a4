package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/ucc-video/ucc/internal/revenue"
)

// Reports for finance: a period's payouts (sorted, paged) and its audit log.

// payoutOrderColumn is the SQL a payout sort key orders by ("" for an unknown key).
func payoutOrderColumn(sort string) string {
	switch sort {
	case "creator_id":
		return "rp.creator_id"
	case "channel":
		return "coalesce(c.handle, '')"
	case "period_views":
		return "rp.period_views"
	case "lifetime_views":
		return "rp.lifetime_views"
	case "amount":
		return "rp.amount_minor"
	case "payable":
		return "rp.payable_minor"
	}
	return ""
}

// Payouts returns a page of a period's payouts (all when q.PerPage is 0).
func (s *Revenue) Payouts(ctx context.Context, key string, q revenue.PayoutQuery) ([]revenue.Payout, int, error) {
	col := payoutOrderColumn(q.Sort)
	if col == "" {
		col = "rp.creator_id"
	}
	dir := " ASC"
	if q.Desc {
		dir = " DESC"
	}
	sql := `SELECT rp.creator_id, rp.period_views, rp.lifetime_views, rp.eligible, rp.amount_minor, rp.carried_in_minor,
			rp.payable_minor, rp.carried_over_minor, rp.paid_at, coalesce(rp.payment_reference, ''),
			coalesce(c.handle, ''), coalesce(c.name, ''), coalesce(u.display_name, ''),
			pp.user_id IS NOT NULL, coalesce(pp.legal_name, ''), coalesce(pp.country, ''), coalesce(pp.method_ref, '')
		FROM revenue_payouts rp
		JOIN revenue_periods p ON p.id = rp.period_id
		LEFT JOIN channels c ON c.owner_id = rp.creator_id
		LEFT JOIN users u ON u.id = rp.creator_id
		LEFT JOIN payout_profiles pp ON pp.user_id = rp.creator_id
		WHERE p.period = $1
		ORDER BY ` + col + dir + `, rp.creator_id` + dir
	args := []any{key}
	if q.PerPage > 0 {
		sql += ` LIMIT $2 OFFSET $3`
		args = append(args, q.PerPage, (q.Page-1)*q.PerPage)
	}
	rows, err := s.db.Pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, 0, mapErr(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (revenue.Payout, error) {
		var p revenue.Payout
		var ref string
		err := r.Scan(&p.CreatorID, &p.PeriodViews, &p.LifetimeViews, &p.Eligible, &p.Amount, &p.CarriedIn,
			&p.Payable, &p.CarriedOver, &p.PaidAt, &p.Reference, &p.ChannelHandle, &p.ChannelName, &p.CreatorName,
			&p.HasProfile, &p.LegalName, &p.Country, &ref)
		if ref != "" {
			p.MethodMasked = revenue.MaskRef(ref)
		}
		return p, err
	})
	if err != nil {
		return nil, 0, mapErr(err)
	}
	total := len(out)
	if q.PerPage > 0 {
		if err := s.db.Pool.QueryRow(ctx, `SELECT count(*) FROM revenue_payouts rp JOIN revenue_periods p ON p.id = rp.period_id
			WHERE p.period = $1`, key).Scan(&total); err != nil {
			return nil, 0, mapErr(err)
		}
	}
	return out, total, nil
}

// Audit lists a period's audit entries, oldest first.
func (s *Revenue) Audit(ctx context.Context, key string) ([]revenue.AuditEntry, error) {
	rows, err := s.db.Pool.Query(ctx, `SELECT p.period, coalesce(a.actor_id, 0), a.actor, a.action, a.detail, a.at
		FROM revenue_audit a JOIN revenue_periods p ON p.id = a.period_id WHERE p.period = $1 ORDER BY a.id`, key)
	if err != nil {
		return nil, mapErr(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (revenue.AuditEntry, error) {
		var a revenue.AuditEntry
		err := r.Scan(&a.PeriodKey, &a.ActorID, &a.Actor, &a.Action, &a.Detail, &a.At)
		return a, err
	})
	return out, mapErr(err)
}
