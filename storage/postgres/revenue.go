package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
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
	return collect(rows, err, scanPeriod)
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

// fingerprintSQL sums over the daily view buckets the calculation of a
// period ending $1 reads (every day before the end: period views and
// lifetime views): the number of rows, their views, and a 64-bit hash of
// each (video, day, views) row added up, so that it is set-based and does
// not depend on row order. Buckets only grow, so equal sums before and
// after a read mean the read saw a stable set.
const fingerprintSQL = `SELECT count(*), coalesce(sum(views), 0)::bigint,
	coalesce(sum(hashtextextended(video_id::text || '|' || day::text || '|' || views::text, 0)::numeric), 0)::text
	FROM video_views_daily WHERE day < $1`

// bucketPrint is the fingerprint of the buckets a calculation read.
type bucketPrint struct {
	Rows, Views int64
	Hash        string
}

// String is the fingerprint as stored: sha256 over the three sums, hex.
func (b bucketPrint) String() string {
	h := sha256.Sum256([]byte(fmt.Sprintf("ucc-buckets\x00%d\x00%d\x00%s", b.Rows, b.Views, b.Hash)))
	return hex.EncodeToString(h[:])
}

func bucketFingerprint(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, end time.Time) (bucketPrint, error) {
	var b bucketPrint
	err := q.QueryRow(ctx, fingerprintSQL, end).Scan(&b.Rows, &b.Views, &b.Hash)
	return b, mapErr(err)
}

// errBucketsMoving: views were flushed into the period's buckets while it
// was being calculated.
func errBucketsMoving(key string) error {
	return errs.New(errs.ErrConflict, "buckets_changed_during_calculation",
		"views dated in or before %s were written to PostgreSQL while it was being calculated; calculate it again", errs.P("Period", key))
}

// Calculate computes and stores a period's draft in one transaction.
func (s *Revenue) Calculate(ctx context.Context, key string, at time.Time, compute func(revenue.Period, []revenue.CreatorInput) (revenue.Allocation, error), audit *revenue.AuditEntry) (revenue.Period, error) {
	var out revenue.Period
	err := s.db.InTx(ctx, func(tx pgx.Tx) error {
		p, err := lockPeriod(ctx, tx, key)
		if err != nil {
			return err
		}
		if p.Frozen() {
			return errs.New(errs.ErrConflict, "period_approved", "period %s is approved and can no longer change; record a late correction as an adjustment", errs.P("Period", key))
		}
		before, err := bucketFingerprint(ctx, tx, p.EndsOn)
		if err != nil {
			return err
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
		after, err := bucketFingerprint(ctx, tx, p.EndsOn)
		if err != nil {
			return err
		}
		if after != before {
			return errBucketsMoving(key)
		}
		a, err := compute(p, in)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO revenue_inputs (period_id, stage, fingerprint, bucket_rows, bucket_views, calculated_at)
			VALUES ($1, 'calculate', $2, $3, $4, $5)`, p.ID, before.String(), before.Rows, before.Views, at); err != nil {
			return revErr(err)
		}
		audit.Detail += fmt.Sprintf(", inputs %d bucket rows, %d views, fingerprint %.12s", before.Rows, before.Views, before.String())
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
