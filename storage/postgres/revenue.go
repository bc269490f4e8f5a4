package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/ucc-video/ucc/internal/errs"
	"github.com/ucc-video/ucc/internal/revenue"
)

// Revenue implements revenue.Store: periods, payouts, the ledger, payout
// profiles and the finance audit log.
type Revenue struct {
	db *DB
	// beforeCommit, when set, runs inside Calculate's transaction after
	// every row is written and before COMMIT: the fault-injection hold
	// (HoldCalculations) and the package tests' seam (export_test.go).
	beforeCommit func(ctx context.Context) error
}

// NewRevenue returns the PostgreSQL revenue store.
func NewRevenue(db *DB) *Revenue { return &Revenue{db: db} }

// HoldCalculations is fault injection for crash tests (config.Faults,
// UCC_TEST_REVENUE_HOLD), never used in production: once Calculate has
// written every row it calls held, then keeps its transaction open for d
// (or until ctx ends) before committing, so a test can kill the process
// mid-transaction.
func (s *Revenue) HoldCalculations(d time.Duration, held func()) {
	s.beforeCommit = func(ctx context.Context) error {
		held()
		select {
		case <-time.After(d):
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

var _ revenue.Store = (*Revenue)(nil)

// revenueLockNS is the first key of the per-period advisory lock; the
// second is the month as YYYYMM.
const revenueLockNS = 0x72657601

// revErr maps the ledger triggers' exceptions (SQLSTATE P0001) to a
// conflict with their message, then falls back to mapErr.
func revErr(err error) error {
	var pg *pgconn.PgError
	if errors.As(err, &pg) && pg.Code == "P0001" {
		return errs.New(errs.ErrConflict, "immutable", "%s", pg.Message)
	}
	return mapErr(err)
}

const periodCols = `p.id, p.period, p.starts_on, p.ends_on, p.revenue_minor, p.currency, p.creator_share_bps, p.view_threshold,
	p.min_payout_minor, p.status, p.total_views, p.eligible_views, p.eligible_count, p.creator_count, p.pool_minor,
	p.platform_minor, p.result_digest, p.created_at, p.calculated_at, p.approved_at`

func scanPeriod(row pgx.Row) (revenue.Period, error) {
	var p revenue.Period
	err := row.Scan(&p.ID, &p.Key, &p.StartsOn, &p.EndsOn, &p.Revenue, &p.Currency, &p.ShareBps, &p.Threshold,
		&p.MinPayout, &p.Status, &p.TotalViews, &p.EligibleViews, &p.EligibleCount, &p.CreatorCount, &p.Pool,
		&p.Platform, &p.Digest, &p.CreatedAt, &p.CalculatedAt, &p.ApprovedAt)
	return p, mapErr(err)
}

func insertAudit(ctx context.Context, tx pgx.Tx, a revenue.AuditEntry) error {
	_, err := tx.Exec(ctx, `
		INSERT INTO revenue_audit (period_id, actor_id, actor, action, detail, at)
		VALUES ((SELECT id FROM revenue_periods WHERE period = $1), nullif($2, 0), $3, $4, $5, $6)`,
		a.PeriodKey, a.ActorID, a.Actor, a.Action, a.Detail, a.At)
	return revErr(err)
}

// lockPeriod takes the period's advisory lock for this transaction without
// waiting, then the period row.
func lockPeriod(ctx context.Context, tx pgx.Tx, key string) (revenue.Period, error) {
	start, _, err := revenue.ParsePeriod(key)
	if err != nil {
		return revenue.Period{}, err
	}
	var got bool
	if err := tx.QueryRow(ctx, `SELECT pg_try_advisory_xact_lock($1, $2)`, revenueLockNS, start.Year()*100+int(start.Month())).Scan(&got); err != nil {
		return revenue.Period{}, mapErr(err)
	}
	if !got {
		return revenue.Period{}, revenue.ErrRunning(key)
	}
	return scanPeriod(tx.QueryRow(ctx, `SELECT `+periodCols+` FROM revenue_periods p WHERE p.period = $1 FOR UPDATE`, key))
}

// CreatePeriod inserts a period.
func (s *Revenue) CreatePeriod(ctx context.Context, p revenue.Period, by revenue.Actor, audit revenue.AuditEntry) (revenue.Period, error) {
	var out revenue.Period
	err := s.db.InTx(ctx, func(tx pgx.Tx) error {
		var err error
		out, err = scanPeriod(tx.QueryRow(ctx, `
			INSERT INTO revenue_periods AS p (period, starts_on, ends_on, revenue_minor, currency, creator_share_bps,
				view_threshold, min_payout_minor, created_by, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, nullif($9, 0::bigint), $10)
			RETURNING `+periodCols,
			p.Key, p.StartsOn, p.EndsOn, p.Revenue, p.Currency, p.ShareBps, p.Threshold, p.MinPayout, by.ID, p.CreatedAt))
		if err != nil {
			return err
		}
		return insertAudit(ctx, tx, audit)
	})
	return out, err
}

// Period returns one period.
func (s *Revenue) Period(ctx context.Context, key string) (revenue.Period, error) {
	return scanPeriod(s.db.Pool.QueryRow(ctx, `SELECT `+periodCols+` FROM revenue_periods p WHERE p.period = $1`, key))
}

// Periods lists periods, latest month first.
func (s *Revenue) Periods(ctx context.Context) ([]revenue.Period, error) {
	rows, err := s.db.Pool.Query(ctx, `SELECT `+periodCols+` FROM revenue_periods p ORDER BY p.starts_on DESC`)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []revenue.Period
	for rows.Next() {
		p, err := scanPeriod(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, mapErr(rows.Err())
}

// LastApproved returns the latest approved (or paid) period.
func (s *Revenue) LastApproved(ctx context.Context) (revenue.Period, error) {
	return scanPeriod(s.db.Pool.QueryRow(ctx, `SELECT `+periodCols+` FROM revenue_periods p
		WHERE p.status IN ('approved', 'paid') ORDER BY p.starts_on DESC LIMIT 1`))
}

// carriedCTE computes each creator's balance brought into the period
// starting $1 in currency $2: their creator_payable balance over earlier
// periods' ledger transactions, minus payable lines of earlier approved
// periods that are not paid yet (those are owed by their own period's
// payment, not carried).
const carriedCTE = `carried AS (
	SELECT creator_id, sum(amount)::bigint AS carried FROM (
		SELECT e.creator_id, CASE e.side WHEN 'C' THEN e.amount_minor ELSE -e.amount_minor END AS amount
		FROM ledger_entries e
		JOIN ledger_transactions t ON t.id = e.transaction_id
		JOIN revenue_periods lp ON lp.id = t.period_id
		WHERE e.creator_id IS NOT NULL AND t.currency = $2 AND lp.starts_on < $1
		UNION ALL
		SELECT rp.creator_id, -rp.payable_minor
		FROM revenue_payouts rp
		JOIN revenue_periods lp ON lp.id = rp.period_id
		WHERE lp.status IN ('approved', 'paid') AND lp.currency = $2 AND lp.starts_on < $1
		  AND rp.paid_at IS NULL AND rp.payable_minor > 0
	) x GROUP BY creator_id)`

// inputsSQL is the revenue job's one set-based query: per creator, the
// period's views (V_c), lifetime views up to the end of the period (a later
// view never changes a past period) and the balance carried in.
const inputsSQL = `
	WITH views AS (
		SELECT creator_id,
		       coalesce(sum(views) FILTER (WHERE day >= $1), 0)::bigint AS period_views,
		       sum(views)::bigint AS lifetime_views
		FROM video_views_daily
		WHERE day < $3
		GROUP BY creator_id
	), ` + carriedCTE + `
	SELECT coalesce(v.creator_id, c.creator_id), coalesce(v.period_views, 0), coalesce(v.lifetime_views, 0), coalesce(c.carried, 0)
	FROM views v FULL JOIN carried c ON c.creator_id = v.creator_id
	WHERE coalesce(v.period_views, 0) > 0 OR coalesce(c.carried, 0) <> 0
	ORDER BY 1`

// Calculate computes and stores a period's draft in one transaction.
func (s *Revenue) Calculate(ctx context.Context, key string, at time.Time, compute func(revenue.Period, []revenue.CreatorInput) (revenue.Allocation, error), audit *revenue.AuditEntry) (revenue.Period, error) {
	var out revenue.Period
	err := s.db.InTx(ctx, func(tx pgx.Tx) error {
		p, err := lockPeriod(ctx, tx, key)
		if err != nil {
			return err
		}
		if p.Frozen() {
			return errs.New(errs.ErrConflict, "period_approved", "period %s is approved and can no longer change; record a late correction as an adjustment", key)
		}
		rows, err := tx.Query(ctx, inputsSQL, p.StartsOn, p.Currency, p.EndsOn)
		if err != nil {
			return mapErr(err)
		}
		in, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (revenue.CreatorInput, error) {
			var c revenue.CreatorInput
			err := r.Scan(&c.CreatorID, &c.PeriodViews, &c.LifetimeViews, &c.CarriedIn)
			return c, err
		})
		if err != nil {
			return mapErr(err)
		}
		a, err := compute(p, in)
		if err != nil {
			return err
		}
		// The draft is replaced wholesale; drafts are not in the ledger.
		if _, err := tx.Exec(ctx, `DELETE FROM revenue_payouts WHERE period_id = $1`, p.ID); err != nil {
			return revErr(err)
		}
		_, err = tx.CopyFrom(ctx, pgx.Identifier{"revenue_payouts"},
			[]string{"period_id", "creator_id", "period_views", "lifetime_views", "eligible", "amount_minor",
				"carried_in_minor", "payable_minor", "carried_over_minor"},
			pgx.CopyFromSlice(len(a.Lines), func(i int) ([]any, error) {
				l := a.Lines[i]
				return []any{p.ID, l.CreatorID, l.PeriodViews, l.LifetimeViews, l.Eligible, l.Amount, l.CarriedIn, l.Payable, l.CarriedOver}, nil
			}))
		if err != nil {
			return revErr(err)
		}
		out, err = scanPeriod(tx.QueryRow(ctx, `
			UPDATE revenue_periods p SET status = 'calculated', total_views = $2, eligible_views = $3, eligible_count = $4,
				creator_count = $5, pool_minor = $6, platform_minor = $7, result_digest = $8, calculated_at = $9
			WHERE p.id = $1
			RETURNING `+periodCols,
			p.ID, a.TotalViews, a.EligibleViews, a.EligibleCount, len(a.Lines), a.Pool, a.Platform, a.Digest(p.Params()), at))
		if err != nil {
			return revErr(err)
		}
		if err := insertAudit(ctx, tx, *audit); err != nil {
			return err
		}
		if s.beforeCommit != nil {
			return s.beforeCommit(ctx)
		}
		return nil
	})
	return out, err
}

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
			return errs.New(errs.ErrConflict, "not_calculated", "period %s is %s; only a calculated period can be approved", key, p.Status)
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
		if stale > 0 {
			return errs.New(errs.ErrConflict, "stale_draft", "balances carried into %s changed since it was calculated (%d creators); calculate it again, then approve", key, stale)
		}
		var revTx, allocTx int64
		if err := tx.QueryRow(ctx, `INSERT INTO ledger_transactions (period_id, kind, currency, memo, created_by, created_at)
			VALUES ($1, 'revenue', $2, $3, nullif($4, 0::bigint), $5) RETURNING id`,
			p.ID, p.Currency, "net ad revenue "+key, by.ID, at).Scan(&revTx); err != nil {
			return revErr(err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO ledger_entries (transaction_id, account, creator_id, side, amount_minor)
			SELECT $1, a, NULL, s, $2::bigint FROM (VALUES ('cash', 'D'), ('revenue', 'C')) v (a, s) WHERE $2::bigint > 0`, revTx, p.Revenue); err != nil {
			return revErr(err)
		}
		if err := tx.QueryRow(ctx, `INSERT INTO ledger_transactions (period_id, kind, currency, memo, created_by, created_at)
			VALUES ($1, 'allocation', $2, $3, nullif($4, 0::bigint), $5) RETURNING id`,
			p.ID, p.Currency, "revenue share "+key, by.ID, at).Scan(&allocTx); err != nil {
			return revErr(err)
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

// MarkPaid records payments: per paid line Dr creator_payable:<c>, Cr cash.
func (s *Revenue) MarkPaid(ctx context.Context, key string, creatorID int64, reference string, at time.Time, by revenue.Actor, audit revenue.AuditEntry) (int, error) {
	var n int
	err := s.db.InTx(ctx, func(tx pgx.Tx) error {
		p, err := scanPeriod(tx.QueryRow(ctx, `SELECT `+periodCols+` FROM revenue_periods p WHERE p.period = $1 FOR UPDATE`, key))
		if err != nil {
			return err
		}
		if !p.Frozen() {
			return errs.New(errs.ErrConflict, "not_approved", "period %s must be approved before payments are recorded", key)
		}
		if creatorID > 0 {
			var payable int64
			var paid bool
			err := tx.QueryRow(ctx, `SELECT payable_minor, paid_at IS NOT NULL FROM revenue_payouts WHERE period_id = $1 AND creator_id = $2`,
				p.ID, creatorID).Scan(&payable, &paid)
			switch {
			case errors.Is(err, pgx.ErrNoRows):
				return errs.New(errs.ErrNotFound, "payout_not_found", "creator %d has no line in period %s", creatorID, key)
			case err != nil:
				return mapErr(err)
			case paid:
				return errs.New(errs.ErrConflict, "already_paid", "creator %d is already paid for %s", creatorID, key)
			case payable == 0:
				return errs.New(errs.ErrConflict, "nothing_payable", "creator %d has nothing payable for %s (below the minimum payout or not eligible)", creatorID, key)
			}
		}
		var txID int64
		if err := tx.QueryRow(ctx, `INSERT INTO ledger_transactions (period_id, kind, currency, memo, created_by, created_at)
			VALUES ($1, 'payment', $2, $3, nullif($4, 0::bigint), $5) RETURNING id`,
			p.ID, p.Currency, "payment "+reference, by.ID, at).Scan(&txID); err != nil {
			return revErr(err)
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
			return errs.New(errs.ErrConflict, "nothing_payable", "period %s has no unpaid payable lines", key)
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
		p, err := scanPeriod(tx.QueryRow(ctx, `SELECT `+periodCols+` FROM revenue_periods p WHERE p.period = $1 FOR UPDATE`, key))
		if err != nil {
			return err
		}
		if !p.Frozen() {
			return errs.New(errs.ErrConflict, "not_approved", "period %s is not approved; recalculate it instead", key)
		}
		var txID int64
		if err := tx.QueryRow(ctx, `INSERT INTO ledger_transactions (period_id, kind, currency, memo, created_by, created_at)
			VALUES ($1, 'adjustment', $2, $3, nullif($4, 0::bigint), $5) RETURNING id`,
			p.ID, p.Currency, "adjustment: "+adj.Reason, by.ID, adj.CreatedAt).Scan(&txID); err != nil {
			return revErr(err)
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

var payoutOrder = map[string]string{
	"creator_id":     "rp.creator_id",
	"channel":        "coalesce(c.handle, '')",
	"period_views":   "rp.period_views",
	"lifetime_views": "rp.lifetime_views",
	"amount":         "rp.amount_minor",
	"payable":        "rp.payable_minor",
}

// Payouts returns a page of a period's payouts (all when q.PerPage is 0).
func (s *Revenue) Payouts(ctx context.Context, key string, q revenue.PayoutQuery) ([]revenue.Payout, int, error) {
	col, ok := payoutOrder[q.Sort]
	if !ok {
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
