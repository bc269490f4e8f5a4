package revenue

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/ucc-video/ucc/internal/errs"
)

// Service runs revenue periods. Its clock is injected.
type Service struct {
	store   Store
	now     func() time.Time
	pending PendingViews
}

// NewService returns a Service over store.
func NewService(store Store, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{store: store, now: now}
}

// CheckPending makes Calculate and Approve refuse while views dated in the
// period are still in Redis. Without it (tests of the arithmetic alone) no
// such check is made; every ucc process that calculates or approves sets it.
func (s *Service) CheckPending(p PendingViews) *Service {
	s.pending = p
	return s
}

// ensureFlushed refuses to close period p while counted views dated in it
// have not reached PostgreSQL: the calculation would miss them and they
// would land after approval.
func (s *Service) ensureFlushed(ctx context.Context, p Period) error {
	if s.pending == nil {
		return nil
	}
	n, oldest, err := s.pending.PendingBetween(ctx, p.StartsOn, p.EndsOn)
	if err != nil {
		return errs.New(errs.ErrUnavailable, "views_pending_unknown",
			"cannot tell whether views dated in %s are still waiting in Redis (%s); the period is closed only once they are known to be in PostgreSQL: try again when Redis answers",
			errs.P("Period", p.Key), errs.P("Cause", err.Error()))
	}
	if n == 0 {
		return nil
	}
	age := s.now().Sub(oldest).Round(time.Second)
	return errs.New(errs.ErrConflict, "views_pending",
		"%d views dated in %s are still in Redis, not yet in PostgreSQL (the oldest was counted %s ago); the view flusher moves them every %s. Wait until it has (a minute at most when a worker is running), then try again; if they stay, check that a worker (ucc serve --role worker or all) runs and reaches PostgreSQL",
		errs.P("Views", n), errs.P("Period", p.Key), errs.P("Age", age.String()), errs.P("Every", s.pending.FlushEvery().String()))
}

// NewPeriod is the input of CreatePeriod; nil fields take their defaults.
type NewPeriod struct {
	Period    string `json:"period"`
	Revenue   *int64 `json:"revenue_minor"`
	Currency  string `json:"currency"`
	ShareBps  *int64 `json:"creator_share_bps"`
	Threshold *int64 `json:"view_threshold"`
	MinPayout *int64 `json:"min_payout_minor"`
}

func (s *Service) audit(by Actor, key, action, detail string) AuditEntry {
	name := by.Name
	if name == "" {
		name = "operator (CLI)"
	}
	return AuditEntry{PeriodKey: key, ActorID: by.ID, Actor: name, Action: action, Detail: detail, At: s.now().UTC()}
}

// CreatePeriod validates and stores a new period.
func (s *Service) CreatePeriod(ctx context.Context, by Actor, in NewPeriod) (Period, error) {
	start, end, err := ParsePeriod(strings.TrimSpace(in.Period))
	if err != nil {
		return Period{}, err
	}
	if in.Revenue == nil {
		return Period{}, errs.InvalidVariant("invalid_revenue", "required", "revenue_minor is required: the net ad revenue in minor units (cents for USD)")
	}
	cur, err := NormalizeCurrency(in.Currency)
	if err != nil {
		return Period{}, err
	}
	p := Period{Key: start.Format("2006-01"), StartsOn: start, EndsOn: end, Revenue: *in.Revenue, Currency: cur,
		ShareBps: DefaultShareBps, Threshold: DefaultThreshold, Status: StatusOpen, CreatedAt: s.now().UTC()}
	if in.ShareBps != nil {
		p.ShareBps = *in.ShareBps
	}
	if in.Threshold != nil {
		p.Threshold = *in.Threshold
	}
	if in.MinPayout != nil {
		p.MinPayout = *in.MinPayout
	}
	switch {
	case p.Revenue < 0:
		return Period{}, errs.Invalid("invalid_revenue", "revenue_minor must be zero or more")
	case p.ShareBps < 0 || p.ShareBps > 10000:
		return Period{}, errs.Invalid("invalid_share", "creator_share_bps must be between 0 and 10000 basis points (5500 = 55%%)")
	case p.Threshold < 0:
		return Period{}, errs.Invalid("invalid_threshold", "view_threshold must be zero or more")
	case p.MinPayout < 0:
		return Period{}, errs.Invalid("invalid_min_payout", "min_payout_minor must be zero or more")
	}
	detail := fmt.Sprintf("R=%s %s, s=%d bps, T=%d, M=%s", p.Format(p.Revenue), p.Currency, p.ShareBps, p.Threshold, p.Format(p.MinPayout))
	out, err := s.store.CreatePeriod(ctx, p, by, s.audit(by, p.Key, "create", detail))
	if errors.Is(err, errs.ErrConflict) {
		return Period{}, errs.New(errs.ErrConflict, "period_exists", "period %s already exists", errs.P("Period", p.Key))
	}
	return out, err
}

// Periods lists periods, latest first.
func (s *Service) Periods(ctx context.Context) ([]Period, error) { return s.store.Periods(ctx) }

// Period returns one period.
func (s *Service) Period(ctx context.Context, key string) (Period, error) {
	if _, _, err := ParsePeriod(key); err != nil {
		return Period{}, err
	}
	p, err := s.store.Period(ctx, key)
	if errors.Is(err, errs.ErrNotFound) {
		return Period{}, fmtPeriodErr(key)
	}
	return p, err
}

// Calculate computes (or recomputes) a period's draft. The month must have
// ended. A second concurrent run gets ErrConflict ("already running"); an
// approved period gets ErrConflict too.
func (s *Service) Calculate(ctx context.Context, by Actor, key string) (Period, error) {
	p, err := s.Period(ctx, key)
	if err != nil {
		return Period{}, err
	}
	if p.Frozen() {
		return Period{}, errFrozen(key)
	}
	now := s.now().UTC()
	if now.Before(p.EndsOn) {
		return Period{}, errs.New(errs.ErrConflict, "period_not_ended", "period %s has not ended yet (it ends %s UTC); calculate it after the month is over", errs.P("Period", key), errs.P("Ends", p.EndsOn.Format("2006-01-02")))
	}
	if err := s.ensureFlushed(ctx, p); err != nil {
		return Period{}, err
	}
	aud := s.audit(by, key, "calculate", "")
	compute := func(p Period, in []CreatorInput) (Allocation, error) {
		a, err := Allocate(p.Params(), in)
		if err == nil {
			aud.Detail = fmt.Sprintf("V=%d, V_e=%d, eligible=%d of %d, E=%s, platform=%s, digest %.12s", a.TotalViews, a.EligibleViews,
				a.EligibleCount, len(a.Lines), p.Format(a.Pool), p.Format(a.Platform), a.Digest(p.Params()))
		}
		return a, err
	}
	return s.store.Calculate(ctx, key, now, compute, &aud)
}

// CalculationSummary describes a period's totals for logs and the CLI.
func CalculationSummary(p Period) string {
	return fmt.Sprintf("%s: status %s, R=%s %s, V=%d, V_e=%d, eligible=%d, E=%s, platform=%s, digest %s",
		p.Key, p.Status, p.Format(p.Revenue), p.Currency, p.TotalViews, p.EligibleViews, p.EligibleCount,
		p.Format(p.Pool), p.Format(p.Platform), p.Digest)
}

// Approve freezes a calculated period and posts it to the ledger.
func (s *Service) Approve(ctx context.Context, by Actor, key string) (Period, error) {
	p, err := s.Period(ctx, key)
	if err != nil {
		return Period{}, err
	}
	switch p.Status {
	case StatusOpen:
		return Period{}, errs.New(errs.ErrConflict, "not_calculated", "period %s has not been calculated yet", errs.P("Period", key))
	case StatusApproved, StatusPaid:
		return Period{}, errs.NewVariant(errs.ErrConflict, "period_approved", "already", "period %s is already approved", errs.P("Period", key))
	}
	if err := s.ensureFlushed(ctx, p); err != nil {
		return Period{}, err
	}
	return s.store.Approve(ctx, key, s.now().UTC(), by, s.audit(by, key, "approve", "E="+p.Format(p.Pool)+", platform="+p.Format(p.Platform)+", digest "+p.Digest))
}

// MarkPaid records a payment for one creator (creatorID > 0) or for every
// unpaid line (creatorID 0).
func (s *Service) MarkPaid(ctx context.Context, by Actor, key string, creatorID int64, reference string) (int, error) {
	reference = strings.TrimSpace(reference)
	if reference == "" || utf8.RuneCountInString(reference) > 200 || !oneLine(reference) {
		return 0, errs.Invalid("invalid_reference", "a payment reference (1 to 200 characters on one line, e.g. the bank transfer id) is required")
	}
	if creatorID < 0 {
		return 0, errs.Invalid("invalid_creator", "creator_id must be positive")
	}
	p, err := s.Period(ctx, key)
	if err != nil {
		return 0, err
	}
	if !p.Frozen() {
		return 0, errs.NewVariant(errs.ErrConflict, "not_approved", "payments", "period %s must be approved before payments are recorded", errs.P("Period", key))
	}
	who := "all unpaid creators"
	if creatorID > 0 {
		who = fmt.Sprintf("creator %d", creatorID)
	}
	return s.store.MarkPaid(ctx, key, creatorID, reference, s.now().UTC(), by, s.audit(by, key, "mark_paid", who+", reference "+reference))
}

// Adjust records a late correction to an approved period: a new ledger
// transaction moving amount between platform_share and the creator's
// payable (positive: the creator is owed more). The balance is paid with
// a later period.
func (s *Service) Adjust(ctx context.Context, by Actor, key string, creatorID, amount int64, reason string) (Adjustment, error) {
	reason = strings.TrimSpace(reason)
	switch {
	case creatorID <= 0:
		return Adjustment{}, errs.InvalidVariant("invalid_creator", "required", "creator_id is required")
	case amount == 0:
		return Adjustment{}, errs.InvalidVariant("invalid_amount", "zero", "amount_minor must be non-zero (positive owes the creator more, negative less)")
	case reason == "" || utf8.RuneCountInString(reason) > 500 || !oneLine(reason):
		return Adjustment{}, errs.Invalid("invalid_reason", "a reason of 1 to 500 characters on one line is required")
	}
	p, err := s.Period(ctx, key)
	if err != nil {
		return Adjustment{}, err
	}
	if !p.Frozen() {
		return Adjustment{}, errs.NewVariant(errs.ErrConflict, "not_approved", "adjust", "period %s is still a draft: change its inputs and recalculate instead of adjusting", errs.P("Period", key))
	}
	adj := Adjustment{PeriodKey: key, CreatorID: creatorID, Amount: amount, Reason: reason, CreatedAt: s.now().UTC()}
	return s.store.Adjust(ctx, key, adj, by, s.audit(by, key, "adjust", fmt.Sprintf("creator %d, %s %s: %s", creatorID, p.Format(amount), p.Currency, reason)))
}

// Adjustments lists a period's adjustments.
func (s *Service) Adjustments(ctx context.Context, key string) ([]Adjustment, error) {
	if _, err := s.Period(ctx, key); err != nil {
		return nil, err
	}
	return s.store.Adjustments(ctx, key)
}

// Payouts returns the period, a page of its payouts and their total number.
func (s *Service) Payouts(ctx context.Context, key string, q PayoutQuery) (Period, []Payout, int, error) {
	q, err := q.Normalize()
	if err != nil {
		return Period{}, nil, 0, err
	}
	p, err := s.Period(ctx, key)
	if err != nil {
		return Period{}, nil, 0, err
	}
	lines, total, err := s.store.Payouts(ctx, key, q)
	return p, lines, total, err
}

// AllPayouts returns every payout of a period ordered by creator id.
func (s *Service) AllPayouts(ctx context.Context, key string) (Period, []Payout, error) {
	p, err := s.Period(ctx, key)
	if err != nil {
		return Period{}, nil, err
	}
	lines, _, err := s.store.Payouts(ctx, key, PayoutQuery{Sort: "creator_id"})
	return p, lines, err
}

// Audit lists a period's audit log.
func (s *Service) Audit(ctx context.Context, key string) ([]AuditEntry, error) {
	if _, err := s.Period(ctx, key); err != nil {
		return nil, err
	}
	return s.store.Audit(ctx, key)
}

var countryRe = regexp.MustCompile(`^[A-Z]{2}$`)

// SaveProfile validates and stores a creator's payout profile.
func (s *Service) SaveProfile(ctx context.Context, userID int64, p Profile) (Profile, error) {
	p.UserID = userID
	p.LegalName = strings.TrimSpace(p.LegalName)
	p.Country = strings.ToUpper(strings.TrimSpace(p.Country))
	p.MethodRef = strings.TrimSpace(p.MethodRef)
	switch {
	case p.LegalName == "" || utf8.RuneCountInString(p.LegalName) > 200 || !oneLine(p.LegalName):
		return Profile{}, errs.Invalid("invalid_legal_name", "legal name must be 1 to 200 characters on one line")
	case !countryRe.MatchString(p.Country):
		return Profile{}, errs.Invalid("invalid_country", "country must be a two-letter ISO 3166 code such as US, DE or KR")
	case utf8.RuneCountInString(p.MethodRef) < 4 || utf8.RuneCountInString(p.MethodRef) > 100 || !oneLine(p.MethodRef):
		return Profile{}, errs.Invalid("invalid_method_ref", "payout method reference (IBAN, PayPal id, ...) must be 4 to 100 characters on one line")
	}
	p.UpdatedAt = s.now().UTC()
	return p, s.store.SaveProfile(ctx, p)
}

// Profile returns a creator's own payout profile (ErrNotFound if none).
func (s *Service) Profile(ctx context.Context, userID int64) (Profile, error) {
	return s.store.Profile(ctx, userID)
}

// oneLine reports whether s is valid UTF-8 text without control characters
// (no NUL, which PostgreSQL cannot store, and no line breaks, which have no
// place in names and references).
func oneLine(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}
