// Package revenue shares net ad revenue with creators who cross a view
// threshold, by monthly period, with exact integer payouts and an
// append-only double-entry ledger.
//
// The rule (issue 6, binding): for period P with revenue R, share s (basis
// points) and threshold T, V_c is creator c's counted views in P from the
// daily buckets, V their sum; c is eligible when its lifetime views up to the
// end of P are ≥ T; V_e sums V_c over eligible creators; the pool
// E = floor(R·s·V_e / (10000·V)) is split by largest remainder (ties to the
// lower creator id); the platform keeps R − E. A balance below the minimum
// payout M is carried over.
//
// Life of a period: open → calculated (a draft held in the payout table,
// replaced wholesale by each recalculation; nothing is posted to the ledger)
// → approved (the ledger gets a revenue and an allocation transaction and the
// figures freeze) → paid (each payable line got a payment transaction). A
// later correction is an adjustment: a new ledger transaction.
//
// Design decisions:
//
//   - Drafts are not in the ledger. A calculation writes revenue_payouts
//     rows (one per creator, unique on period and creator) and the period's
//     totals; recalculating a draft replaces those rows. Only approval posts
//     to the ledger (ledger_transactions/ledger_entries), which is
//     append-only: triggers refuse UPDATE, DELETE and TRUNCATE, and a
//     statement trigger refuses any INSERT whose transactions do not
//     balance. Triggers also freeze an approved period's figures and lines.
//   - Accounts: cash, revenue, platform_share and creator_payable:<id>.
//     Approval posts "revenue" (Dr cash R, Cr revenue R) and "allocation"
//     (Dr revenue R, Cr platform_share R−E, Cr creator_payable each amount);
//     a payment posts Dr creator_payable, Cr cash; an adjustment moves an
//     amount between platform_share and creator_payable. A creator's balance
//     is the ledger sum of their creator_payable account.
//   - Carried balance into period P (per currency) = the creator's ledger
//     balance over earlier periods minus payable lines of earlier approved
//     periods not yet paid (those are paid by their own period, so they are
//     never counted twice). Approval refuses a draft whose carried balances
//     changed since it was calculated (409 stale_draft: recalculate).
//   - One run at a time: Calculate and Approve take
//     pg_try_advisory_xact_lock(0x72657601, YYYYMM) first; a second run gets
//     ErrConflict "a calculation for 2026-10 is already running". Everything
//     happens in one transaction, so a crash leaves nothing behind.
//   - Where it runs: the API's calculate runs synchronously in the request
//     (finance sees the totals or the conflict at once); the same
//     Service.Calculate runs as the River job CalculateArgs
//     (`ucc revenue calculate --enqueue`) and in the foreground from
//     `ucc revenue calculate`. A period can be calculated only once its
//     month has ended (by the injected clock).
//   - Determinism: the inputs are ordered by creator id and the output is
//     pure integer arithmetic, so the same buckets give byte-identical
//     payout rows, CSV and JSON; Allocation.Digest fingerprints a result.
package revenue

import (
	"context"
	"io"
	"regexp"
	"strconv"
	"time"

	"github.com/ucc-video/ucc/internal/errs"
)

// Period statuses.
const (
	StatusOpen       = "open"
	StatusCalculated = "calculated"
	StatusApproved   = "approved"
	StatusPaid       = "paid"
)

// Defaults for a new period.
const (
	DefaultShareBps  = 5500
	DefaultThreshold = 1_000_000
)

// Period is one month of revenue sharing.
type Period struct {
	ID            int64      `json:"-"`
	Key           string     `json:"period"` // "2026-10"
	StartsOn      time.Time  `json:"starts_on"`
	EndsOn        time.Time  `json:"ends_on"` // exclusive
	Revenue       int64      `json:"revenue_minor"`
	Currency      string     `json:"currency"`
	ShareBps      int64      `json:"creator_share_bps"`
	Threshold     int64      `json:"view_threshold"`
	MinPayout     int64      `json:"min_payout_minor"`
	Status        string     `json:"status"`
	TotalViews    int64      `json:"total_views"`
	EligibleViews int64      `json:"eligible_views"`
	EligibleCount int        `json:"eligible_count"`
	CreatorCount  int        `json:"creator_count"`
	Pool          int64      `json:"pool_minor"`
	Platform      int64      `json:"platform_minor"`
	Digest        string     `json:"result_digest,omitempty"`
	CreatedAt     time.Time  `json:"created_at"`
	CalculatedAt  *time.Time `json:"calculated_at,omitempty"`
	ApprovedAt    *time.Time `json:"approved_at,omitempty"`
}

// Params returns the period's inputs to Allocate.
func (p Period) Params() Params {
	return Params{Revenue: p.Revenue, ShareBps: p.ShareBps, Threshold: p.Threshold, MinPayout: p.MinPayout}
}

// Frozen reports whether the period is approved (or paid) and so immutable.
func (p Period) Frozen() bool { return p.Status == StatusApproved || p.Status == StatusPaid }

// Format renders a minor amount in the period's currency.
func (p Period) Format(amount int64) string { return FormatAmount(amount, p.Currency) }

var periodRe = regexp.MustCompile(`^([0-9]{4})-([0-9]{2})$`)

// ParsePeriod parses "2026-10" into the month's first day and the next
// month's first day (UTC).
func ParsePeriod(s string) (start, end time.Time, err error) {
	m := periodRe.FindStringSubmatch(s)
	if m == nil {
		return start, end, errs.Invalid("invalid_period", "period %q must be a month written YYYY-MM, e.g. 2026-10", errs.P("Period", s))
	}
	y, _ := strconv.Atoi(m[1])
	mo, _ := strconv.Atoi(m[2])
	if mo < 1 || mo > 12 || y < 2000 {
		return start, end, errs.InvalidVariant("invalid_period", "range", "period %q is not a month from 2000-01 on", errs.P("Period", s))
	}
	start = time.Date(y, time.Month(mo), 1, 0, 0, 0, 0, time.UTC)
	return start, start.AddDate(0, 1, 0), nil
}

// PeriodOf returns the period key of t's month in UTC.
func PeriodOf(t time.Time) string { return t.UTC().Format("2006-01") }

// Actor is who performs a finance action: a user, or an operator at the CLI
// (ID 0).
type Actor struct {
	ID   int64
	Name string
}

// Payout is one line of a period's result with its report columns.
type Payout struct {
	Line
	ChannelHandle string     `json:"channel_handle"`
	ChannelName   string     `json:"channel_name"`
	CreatorName   string     `json:"creator_name"`
	PaidAt        *time.Time `json:"paid_at,omitempty"`
	Reference     string     `json:"payment_reference,omitempty"`
	HasProfile    bool       `json:"has_payout_profile"`
	LegalName     string     `json:"legal_name,omitempty"`
	Country       string     `json:"country,omitempty"`
	MethodMasked  string     `json:"payout_method,omitempty"`
}

// Status is the line's payment status: ineligible, carried_over,
// nothing_due, pending (calculated, not approved), unpaid or paid.
func (p Payout) Status(periodFrozen bool) string {
	switch {
	case p.PaidAt != nil:
		return "paid"
	case p.Payable > 0 && periodFrozen:
		return "unpaid"
	case p.Payable > 0:
		return "pending"
	case p.CarriedOver > 0:
		return "carried_over"
	case !p.Eligible:
		return "ineligible"
	}
	return "nothing_due"
}

// PayoutQuery selects a page of payouts.
type PayoutQuery struct {
	Sort    string // creator_id, channel, period_views, lifetime_views, amount, payable
	Desc    bool
	Page    int // from 1
	PerPage int
}

// payoutSort reports whether PayoutQuery accepts sort as its sort key.
func payoutSort(sort string) bool {
	switch sort {
	case "creator_id", "channel", "period_views", "lifetime_views", "amount", "payable":
		return true
	}
	return false
}

// Dir is the query's direction as the API and pages name it: "asc" or "desc".
func (q PayoutQuery) Dir() string {
	if q.Desc {
		return "desc"
	}
	return "asc"
}

// Normalize validates the query and fills defaults (amount desc, 50 a page).
func (q PayoutQuery) Normalize() (PayoutQuery, error) {
	if q.Sort == "" {
		q.Sort, q.Desc = "amount", true
	}
	if !payoutSort(q.Sort) {
		return q, errs.InvalidVariant("invalid_sort", "payouts", "sort must be one of creator_id, channel, period_views, lifetime_views, amount, payable")
	}
	if q.Page < 1 {
		q.Page = 1
	}
	if q.PerPage <= 0 {
		q.PerPage = 50
	}
	if q.PerPage > 500 {
		return q, errs.InvalidVariant("invalid_per_page", "max", "per_page may be at most 500")
	}
	return q, nil
}

// AuditEntry is one finance action.
type AuditEntry struct {
	PeriodKey string    `json:"period,omitempty"`
	ActorID   int64     `json:"actor_id,omitempty"`
	Actor     string    `json:"actor"`
	Action    string    `json:"action"`
	Detail    string    `json:"detail"`
	At        time.Time `json:"at"`
}

// Adjustment is a late correction to an approved period for one creator.
type Adjustment struct {
	ID        int64     `json:"id"`
	PeriodKey string    `json:"period"`
	CreatorID int64     `json:"creator_id"`
	Amount    int64     `json:"amount_minor"` // positive: owed more to the creator
	Reason    string    `json:"reason"`
	CreatedAt time.Time `json:"created_at"`
}

// Profile is a creator's payout profile.
type Profile struct {
	UserID    int64     `json:"-"`
	LegalName string    `json:"legal_name"`
	Country   string    `json:"country"`    // ISO 3166-1 alpha-2
	MethodRef string    `json:"method_ref"` // IBAN, PayPal id, ...
	UpdatedAt time.Time `json:"updated_at"`
}

// CreatorPayout is one period's result for a creator, for their earnings page.
type CreatorPayout struct {
	PeriodKey string     `json:"period"`
	Currency  string     `json:"currency"`
	Status    string     `json:"status"`
	Line      Line       `json:"line"`
	PaidAt    *time.Time `json:"paid_at,omitempty"`
	Reference string     `json:"payment_reference,omitempty"`
}

// DailyViews is one day of a creator's counted views.
type DailyViews struct {
	Day   time.Time `json:"day"`
	Views int64     `json:"views"`
}

// CheckFacts are the stored figures Verify recomputes invariants from.
type CheckFacts struct {
	// Transactions whose debits differ from their credits.
	Unbalanced []TxTotals
	// Per creator and currency: the creator_payable balance in the ledger and
	// the balance the payout, adjustment and payment records imply.
	Balances []BalanceCheck
	// Per frozen period: what the ledger's allocation transaction credits.
	Allocations map[string]AllocationTotals
}

// TxTotals are one ledger transaction's sums.
type TxTotals struct {
	ID      int64
	Kind    string
	Period  string
	Debits  int64
	Credits int64
}

// BalanceCheck compares a creator's ledger balance with the records.
type BalanceCheck struct {
	CreatorID int64
	Currency  string
	Ledger    int64
	Expected  int64
}

// AllocationTotals is what a period's allocation transaction posted.
type AllocationTotals struct {
	Debits          int64
	PlatformCredits int64
	CreatorCredits  int64
	RevenueCredits  int64 // the revenue transaction's credit to revenue
	Transactions    int
}

// BucketViews is one creator's views in the daily buckets for a period.
type BucketViews struct {
	PeriodViews   int64
	LifetimeViews int64
}

// PendingViews tells whether counted views dated in a period are still
// waiting in Redis to reach PostgreSQL (implemented by views.Service).
type PendingViews interface {
	// PendingBetween returns how many counted views dated in [from, before)
	// are not in PostgreSQL yet and when the oldest of them was counted.
	PendingBetween(ctx context.Context, from, before time.Time) (n int64, oldest time.Time, err error)
	// FlushEvery is how often the flusher runs (UCC_VIEW_FLUSH_INTERVAL).
	FlushEvery() time.Duration
}

// Store persists periods, payouts and the ledger. Implemented by
// storage/postgres.Revenue.
type Store interface {
	// CreatePeriod inserts p (ErrConflict when the month exists).
	CreatePeriod(ctx context.Context, p Period, by Actor, audit AuditEntry) (Period, error)
	// Period returns one period by key.
	Period(ctx context.Context, key string) (Period, error)
	// Periods lists all periods, latest month first.
	Periods(ctx context.Context) ([]Period, error)
	// Calculate, in one transaction: takes the period's advisory lock
	// without waiting (ErrConflict when another run holds it), loads the
	// period (refusing a frozen one with ErrConflict), runs one set-based
	// query for every creator's inputs, passes them to compute, replaces the
	// period's draft payout rows with the result, updates its totals and
	// records audit (which compute may fill in).
	Calculate(ctx context.Context, key string, at time.Time, compute func(Period, []CreatorInput) (Allocation, error), audit *AuditEntry) (Period, error)
	// Approve freezes a calculated period and posts its revenue and
	// allocation transactions to the ledger, in one transaction.
	Approve(ctx context.Context, key string, at time.Time, by Actor, audit AuditEntry) (Period, error)
	// MarkPaid posts a payment for creatorID's payable line (all unpaid
	// lines when creatorID is 0) and returns how many lines it paid.
	MarkPaid(ctx context.Context, key string, creatorID int64, reference string, at time.Time, by Actor, audit AuditEntry) (int, error)
	// Adjust records an adjustment and its ledger transaction.
	Adjust(ctx context.Context, key string, adj Adjustment, by Actor, audit AuditEntry) (Adjustment, error)
	// Adjustments lists a period's adjustments.
	Adjustments(ctx context.Context, key string) ([]Adjustment, error)
	// Payouts returns one page of a period's payouts and the total count;
	// q.PerPage 0 returns them all ordered by creator id.
	Payouts(ctx context.Context, key string, q PayoutQuery) ([]Payout, int, error)
	// Audit lists a period's audit entries, oldest first.
	Audit(ctx context.Context, key string) ([]AuditEntry, error)
	// CheckFacts loads what Verify needs.
	CheckFacts(ctx context.Context) (CheckFacts, error)
	// BucketViews returns per creator what an approved period's frozen
	// lines must show according to the daily buckets now (late views
	// recorded after the approval taken out); ok is false when the period
	// has no approval record of its inputs.
	BucketViews(ctx context.Context, key string) (map[int64]BucketViews, bool, error)
	// CreatorPayouts lists a creator's lines in frozen periods, latest first.
	CreatorPayouts(ctx context.Context, creatorID int64) ([]CreatorPayout, error)
	// CreatorViews returns a creator's lifetime views up to before and their
	// views per day in [from, before).
	CreatorViews(ctx context.Context, creatorID int64, from, before time.Time) (lifetime int64, days []DailyViews, err error)
	// LastApproved returns the latest frozen period (ErrNotFound if none).
	LastApproved(ctx context.Context) (Period, error)
	// Profile returns a creator's payout profile (ErrNotFound if none).
	Profile(ctx context.Context, userID int64) (Profile, error)
	// SaveProfile inserts or replaces a payout profile.
	SaveProfile(ctx context.Context, p Profile) error
}

// ReportWriter writes a period report in one format.
type ReportWriter func(w io.Writer, p Period, lines []Payout) error

// errFrozen is the conflict for changing an approved period.
func errFrozen(key string) error {
	return errs.New(errs.ErrConflict, "period_approved", "period %s is approved and can no longer change; record a late correction as an adjustment", errs.P("Period", key))
}

// ErrRunning is the conflict a second concurrent calculation gets.
func ErrRunning(key string) error {
	return errs.New(errs.ErrConflict, "calculation_running", "a calculation for %s is already running", errs.P("Period", key))
}

func fmtPeriodErr(key string) error {
	return errs.New(errs.ErrNotFound, "period_not_found", "there is no revenue period %s", errs.P("Period", key))
}
