package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ucc-video/ucc/internal/errs"
	"github.com/ucc-video/ucc/internal/revenue"
)

// The ledger: approving a period posts its revenue and allocation
// transactions, payments and adjustments post their own, and CheckFacts
// reads back what revenue.Service.Verify checks.

// Approve freezes a calculated period and posts its ledger transactions:
// revenue (Dr cash R, Cr revenue R) and allocation (Dr revenue R, Cr
// platform_share R − E, Cr creator_payable:<c> for each amount).
func (s *Revenue) Approve(ctx context.Context, key string, at time.Time, by revenue.Actor, audit revenue.AuditEntry) (revenue.Period, error) {
	var out revenue.Period
	err := s.db.InTx(ctx, func(tx pgx.Tx) error {
		p, err := lockPeriod(ctx, tx, key)
		if err != nil {
			return err
		}
		if p.Status != revenue.StatusCalculated {
			return errs.NewVariant(errs.ErrConflict, "not_calculated", "approve", "period %s is %s; only a calculated period can be approved", errs.P("Period", key), errs.P("Status", p.Status))
		}
		// The carried balances in the draft must still hold: a payment or
		// adjustment since the calculation means recalculating first.
		var stale int64
		if err := tx.QueryRow(ctx, `WITH `+carriedCTE+`, d AS (
				SELECT creator_id, carried_in_minor FROM revenue_payouts WHERE period_id = $3)
			SELECT count(*) FROM carried c FULL JOIN d ON d.creator_id = c.creator_id
			WHERE coalesce(c.carried, 0) <> coalesce(d.carried_in_minor, 0)`, p.StartsOn, p.Currency, p.ID).Scan(&stale); err != nil {
			return mapErr(err)
		}
		// The buckets the draft was calculated from must still be the
		// buckets: views flushed late into the period since then mean
		// recalculating. The flusher takes the same lock, shared, around
		// each apply, so a flush either lands before this check (and is
		// seen) or after the approval commits (and is recorded as late).
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(periodCloseLockKey)); err != nil {
			return mapErr(err)
		}
		var want string
		if err := tx.QueryRow(ctx, `SELECT coalesce((SELECT fingerprint FROM revenue_inputs WHERE period_id = $1 AND stage = 'calculate' ORDER BY id DESC LIMIT 1), '')`,
			p.ID).Scan(&want); err != nil {
			return mapErr(err)
		}
		now, err := bucketFingerprint(ctx, tx, p.EndsOn)
		if err != nil {
			return err
		}
		if now.String() != want {
			return errs.New(errs.ErrConflict, "inputs_changed",
				"the view buckets %s was calculated from have changed since (views flushed late, e.g. after a stopped worker or a PostgreSQL outage); calculate it again, then approve",
				errs.P("Period", key))
		}
		if _, err := tx.Exec(ctx, `INSERT INTO revenue_inputs (period_id, stage, late_views_seen, fingerprint, bucket_rows, bucket_views, calculated_at)
			VALUES ($1, 'approve', (SELECT coalesce(max(id), 0) FROM revenue_late_views), $2, $3, $4, $5)`,
			p.ID, want, now.Rows, now.Views, at); err != nil {
			return revErr(err)
		}
		if stale > 0 {
			return errs.New(errs.ErrConflict, "stale_draft", "balances carried into %s changed since it was calculated (%d creators); calculate it again, then approve", errs.P("Period", key), errs.P("Creators", stale))
		}
		revTx, err := insertTransaction(ctx, tx, p, "revenue", "net ad revenue "+key, by, at)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO ledger_entries (transaction_id, account, creator_id, side, amount_minor)
			SELECT $1, a, NULL, s, $2::bigint FROM (VALUES ('cash', 'D'), ('revenue', 'C')) v (a, s) WHERE $2::bigint > 0`, revTx, p.Revenue); err != nil {
			return revErr(err)
		}
		allocTx, err := insertTransaction(ctx, tx, p, "allocation", "revenue share "+key, by, at)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO ledger_entries (transaction_id, account, creator_id, side, amount_minor)
			SELECT $1::bigint, 'revenue', NULL::bigint, 'D', $3::bigint WHERE $3::bigint > 0
			UNION ALL SELECT $1, 'platform_share', NULL, 'C', $4::bigint WHERE $4::bigint > 0
			UNION ALL (SELECT $1, 'creator_payable:' || creator_id, creator_id, 'C', amount_minor
				FROM revenue_payouts WHERE period_id = $2 AND amount_minor > 0 ORDER BY creator_id)`,
			allocTx, p.ID, p.Revenue, p.Platform); err != nil {
			return revErr(err)
		}
		out, err = scanPeriod(tx.QueryRow(ctx, `UPDATE revenue_periods p SET status = 'approved', approved_at = $2
			WHERE p.id = $1 RETURNING `+periodCols, p.ID, at))
		if err != nil {
			return revErr(err)
		}
		return insertAudit(ctx, tx, audit)
	})
	return out, err
}

// BucketViews returns, per creator, the views the daily buckets now hold
// for the approved period key (in the period, and lifetime up to its end)
// less the late views recorded after its approval, i.e. what its frozen
// lines must show. ok is false when the period has no approval record
// (approved before inputs were recorded).
func (s *Revenue) BucketViews(ctx context.Context, key string) (map[int64]revenue.BucketViews, bool, error) {
	p, err := s.Period(ctx, key)
	if err != nil {
		return nil, false, err
	}
	var seen int64
	err = s.db.Pool.QueryRow(ctx, `SELECT late_views_seen FROM revenue_inputs WHERE period_id = $1 AND stage = 'approve'
		ORDER BY id DESC LIMIT 1`, p.ID).Scan(&seen)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, mapErr(err)
	}
	rows, err := s.db.Pool.Query(ctx, `
		WITH b AS (
			SELECT creator_id, day, views FROM video_views_daily WHERE day < $2
			UNION ALL
			SELECT creator_id, day, -views FROM revenue_late_views WHERE day < $2 AND id > $3
		)
		SELECT creator_id, coalesce(sum(views) FILTER (WHERE day >= $1), 0)::bigint, sum(views)::bigint
		FROM b GROUP BY creator_id`, p.StartsOn, p.EndsOn, seen)
	if err != nil {
		return nil, false, mapErr(err)
	}
	out := map[int64]revenue.BucketViews{}
	for rows.Next() {
		var id int64
		var b revenue.BucketViews
		if err := rows.Scan(&id, &b.PeriodViews, &b.LifetimeViews); err != nil {
			rows.Close()
			return nil, false, mapErr(err)
		}
		out[id] = b
	}
	rows.Close()
	return out, true, mapErr(rows.Err())
}

// MarkPaid records payments: per paid line Dr creator_payable:<c>, Cr cash.
func (s *Revenue) MarkPaid(ctx context.Context, key string, creatorID int64, reference string, at time.Time, by revenue.Actor, audit revenue.AuditEntry) (int, error) {
	var n int
	err := s.db.InTx(ctx, func(tx pgx.Tx) error {
		p, err := lockApproved(ctx, tx, key, errs.NewVariant(errs.ErrConflict, "not_approved", "payments", "period %s must be approved before payments are recorded", errs.P("Period", key)))
		if err != nil {
			return err
		}
		if creatorID > 0 {
			var payable int64
			var paid bool
			err := tx.QueryRow(ctx, `SELECT payable_minor, paid_at IS NOT NULL FROM revenue_payouts WHERE period_id = $1 AND creator_id = $2`,
				p.ID, creatorID).Scan(&payable, &paid)
			switch {
			case errors.Is(err, pgx.ErrNoRows):
				return errs.New(errs.ErrNotFound, "payout_not_found", "creator %d has no line in period %s", errs.P("Creator", creatorID), errs.P("Period", key))
			case err != nil:
				return mapErr(err)
			case paid:
				return errs.New(errs.ErrConflict, "already_paid", "creator %d is already paid for %s", errs.P("Creator", creatorID), errs.P("Period", key))
			case payable == 0:
				return errs.New(errs.ErrConflict, "nothing_payable", "creator %d has nothing payable for %s (below the minimum payout or not eligible)", errs.P("Creator", creatorID), errs.P("Period", key))
			}
		}
		txID, err := insertTransaction(ctx, tx, p, "payment", "payment "+reference, by, at)
		if err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `
			WITH paid AS (
				UPDATE revenue_payouts SET paid_at = $3::timestamptz, payment_reference = $4::text
				WHERE period_id = $2 AND paid_at IS NULL AND payable_minor > 0 AND ($5::bigint = 0 OR creator_id = $5::bigint)
				RETURNING creator_id, payable_minor
			)
			INSERT INTO ledger_entries (transaction_id, account, creator_id, side, amount_minor)
			SELECT $1::bigint, 'creator_payable:' || creator_id, creator_id, 'D', payable_minor FROM paid
			UNION ALL SELECT $1::bigint, 'cash', NULL, 'C', payable_minor FROM paid`,
			txID, p.ID, at, reference, creatorID)
		if err != nil {
			return revErr(err)
		}
		n = int(tag.RowsAffected() / 2)
		if n == 0 {
			return errs.NewVariant(errs.ErrConflict, "nothing_payable", "period", "period %s has no unpaid payable lines", errs.P("Period", key))
		}
		if _, err := tx.Exec(ctx, `UPDATE revenue_periods SET status = 'paid' WHERE id = $1 AND NOT EXISTS (
			SELECT 1 FROM revenue_payouts WHERE period_id = $1 AND paid_at IS NULL AND payable_minor > 0)`, p.ID); err != nil {
			return revErr(err)
		}
		audit.Detail += fmt.Sprintf(" (%d line%s)", n, map[bool]string{true: "", false: "s"}[n == 1])
		return insertAudit(ctx, tx, audit)
	})
	return n, err
}

// Adjust records a late correction and its ledger transaction.
func (s *Revenue) Adjust(ctx context.Context, key string, adj revenue.Adjustment, by revenue.Actor, audit revenue.AuditEntry) (revenue.Adjustment, error) {
	err := s.db.InTx(ctx, func(tx pgx.Tx) error {
		p, err := lockApproved(ctx, tx, key, errs.New(errs.ErrConflict, "not_approved", "period %s is not approved; recalculate it instead", errs.P("Period", key)))
		if err != nil {
			return err
		}
		txID, err := insertTransaction(ctx, tx, p, "adjustment", "adjustment: "+adj.Reason, by, adj.CreatedAt)
		if err != nil {
			return err
		}
		creditSide, debitSide := "C", "D" // creator is owed more: Dr platform_share, Cr creator_payable
		amount := adj.Amount
		if amount < 0 {
			creditSide, debitSide, amount = "D", "C", -amount
		}
		if _, err := tx.Exec(ctx, `INSERT INTO ledger_entries (transaction_id, account, creator_id, side, amount_minor)
			VALUES ($1, 'creator_payable:' || $2::bigint, $2, $3, $5), ($1, 'platform_share', NULL, $4, $5)`,
			txID, adj.CreatorID, creditSide, debitSide, amount); err != nil {
			return revErr(err)
		}
		if err := tx.QueryRow(ctx, `INSERT INTO revenue_adjustments (period_id, creator_id, amount_minor, reason, transaction_id, created_by, created_at)
			VALUES ($1, $2, $3, $4, $5, nullif($6, 0::bigint), $7) RETURNING id`,
			p.ID, adj.CreatorID, adj.Amount, adj.Reason, txID, by.ID, adj.CreatedAt).Scan(&adj.ID); err != nil {
			return revErr(err)
		}
		return insertAudit(ctx, tx, audit)
	})
	return adj, err
}

// Adjustments lists a period's adjustments, oldest first.
func (s *Revenue) Adjustments(ctx context.Context, key string) ([]revenue.Adjustment, error) {
	rows, err := s.db.Pool.Query(ctx, `SELECT a.id, p.period, a.creator_id, a.amount_minor, a.reason, a.created_at
		FROM revenue_adjustments a JOIN revenue_periods p ON p.id = a.period_id WHERE p.period = $1 ORDER BY a.id`, key)
	if err != nil {
		return nil, mapErr(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (revenue.Adjustment, error) {
		var a revenue.Adjustment
		err := r.Scan(&a.ID, &a.PeriodKey, &a.CreatorID, &a.Amount, &a.Reason, &a.CreatedAt)
		return a, err
	})
	return out, mapErr(err)
}

// CheckFacts loads the figures revenue.Service.Verify checks.
func (s *Revenue) CheckFacts(ctx context.Context) (revenue.CheckFacts, error) {
	f := revenue.CheckFacts{Allocations: map[string]revenue.AllocationTotals{}}
	rows, err := s.db.Pool.Query(ctx, `
		SELECT t.id, t.kind, p.period,
		       coalesce(sum(e.amount_minor) FILTER (WHERE e.side = 'D'), 0)::bigint,
		       coalesce(sum(e.amount_minor) FILTER (WHERE e.side = 'C'), 0)::bigint
		FROM ledger_transactions t
		JOIN revenue_periods p ON p.id = t.period_id
		LEFT JOIN ledger_entries e ON e.transaction_id = t.id
		GROUP BY t.id, t.kind, p.period
		HAVING coalesce(sum(e.amount_minor) FILTER (WHERE e.side = 'D'), 0) <> coalesce(sum(e.amount_minor) FILTER (WHERE e.side = 'C'), 0)
		ORDER BY t.id`)
	if err != nil {
		return f, mapErr(err)
	}
	if f.Unbalanced, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (revenue.TxTotals, error) {
		var t revenue.TxTotals
		err := r.Scan(&t.ID, &t.Kind, &t.Period, &t.Debits, &t.Credits)
		return t, err
	}); err != nil {
		return f, mapErr(err)
	}
	rows, err = s.db.Pool.Query(ctx, `
		SELECT p.period,
		       count(DISTINCT t.id) FILTER (WHERE t.kind = 'allocation'),
		       coalesce(sum(e.amount_minor) FILTER (WHERE t.kind = 'allocation' AND e.side = 'D'), 0)::bigint,
		       coalesce(sum(e.amount_minor) FILTER (WHERE t.kind = 'allocation' AND e.side = 'C' AND e.account = 'platform_share'), 0)::bigint,
		       coalesce(sum(e.amount_minor) FILTER (WHERE t.kind = 'allocation' AND e.side = 'C' AND e.creator_id IS NOT NULL), 0)::bigint,
		       coalesce(sum(e.amount_minor) FILTER (WHERE t.kind = 'revenue' AND e.side = 'C' AND e.account = 'revenue'), 0)::bigint
		FROM revenue_periods p
		JOIN ledger_transactions t ON t.period_id = p.id AND t.kind IN ('allocation', 'revenue')
		LEFT JOIN ledger_entries e ON e.transaction_id = t.id
		GROUP BY p.period`)
	if err != nil {
		return f, mapErr(err)
	}
	for rows.Next() {
		var key string
		var a revenue.AllocationTotals
		if err := rows.Scan(&key, &a.Transactions, &a.Debits, &a.PlatformCredits, &a.CreatorCredits, &a.RevenueCredits); err != nil {
			rows.Close()
			return f, mapErr(err)
		}
		f.Allocations[key] = a
	}
	if err := rows.Err(); err != nil {
		return f, mapErr(err)
	}
	rows, err = s.db.Pool.Query(ctx, `
		WITH led AS (
			SELECT e.creator_id, t.currency, sum(CASE e.side WHEN 'C' THEN e.amount_minor ELSE -e.amount_minor END)::bigint AS b
			FROM ledger_entries e JOIN ledger_transactions t ON t.id = e.transaction_id
			WHERE e.creator_id IS NOT NULL GROUP BY 1, 2
		), rec AS (
			SELECT creator_id, currency, sum(x)::bigint AS b FROM (
				SELECT rp.creator_id, p.currency, rp.amount_minor - CASE WHEN rp.paid_at IS NOT NULL THEN rp.payable_minor ELSE 0 END AS x
				FROM revenue_payouts rp JOIN revenue_periods p ON p.id = rp.period_id WHERE p.status IN ('approved', 'paid')
				UNION ALL
				SELECT a.creator_id, p.currency, a.amount_minor FROM revenue_adjustments a JOIN revenue_periods p ON p.id = a.period_id
			) y GROUP BY 1, 2
		)
		SELECT coalesce(l.creator_id, r.creator_id), coalesce(l.currency, r.currency), coalesce(l.b, 0), coalesce(r.b, 0)
		FROM led l FULL JOIN rec r ON r.creator_id = l.creator_id AND r.currency = l.currency
		ORDER BY 1, 2`)
	if err != nil {
		return f, mapErr(err)
	}
	f.Balances, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (revenue.BalanceCheck, error) {
		var b revenue.BalanceCheck
		err := r.Scan(&b.CreatorID, &b.Currency, &b.Ledger, &b.Expected)
		return b, err
	})
	return f, mapErr(err)
}

// insertTransaction opens a ledger transaction of kind in period p's
// currency and returns its id; its entries follow in the same transaction.
func insertTransaction(ctx context.Context, tx pgx.Tx, p revenue.Period, kind, memo string, by revenue.Actor, at time.Time) (int64, error) {
	var id int64
	err := tx.QueryRow(ctx, `INSERT INTO ledger_transactions (period_id, kind, currency, memo, created_by, created_at)
		VALUES ($1, $2, $3, $4, nullif($5, 0::bigint), $6) RETURNING id`,
		p.ID, kind, p.Currency, memo, by.ID, at).Scan(&id)
	return id, revErr(err)
}

// lockApproved locks the period row for the transaction and refuses
// with notApproved (409 not_approved) a period that is not approved (or
// paid).
func lockApproved(ctx context.Context, tx pgx.Tx, key string, notApproved error) (revenue.Period, error) {
	p, err := scanPeriod(tx.QueryRow(ctx, `SELECT `+periodCols+` FROM revenue_periods p WHERE p.period = $1 FOR UPDATE`, key))
	if err == nil && !p.Frozen() {
		err = notApproved
	}
	return p, err
}
