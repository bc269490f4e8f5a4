package postgres_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"math/big"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/ucc-video/ucc/internal/errs"
	"github.com/ucc-video/ucc/internal/revenue"
	"github.com/ucc-video/ucc/storage/postgres"
	"github.com/ucc-video/ucc/storage/postgres/pgtest"
)

// revEnv is a revenue service on a fresh database with a fixed clock.
type revEnv struct {
	t     *testing.T
	ctx   context.Context
	db    *postgres.DB
	store *postgres.Revenue
	svc   *revenue.Service
	now   time.Time
	fin   revenue.Actor
}

func newRevEnv(t *testing.T) *revEnv {
	t.Helper()
	db := pgtest.DB(t)
	e := &revEnv{t: t, ctx: context.Background(), db: db, store: postgres.NewRevenue(db),
		now: time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)}
	e.svc = revenue.NewService(e.store, func() time.Time { return e.now })
	e.fin = revenue.Actor{ID: e.user("finance@example.com", "finance"), Name: "finance@example.com"}
	return e
}

func (e *revEnv) exec(sql string, args ...any) {
	e.t.Helper()
	if _, err := e.db.Pool.Exec(e.ctx, sql, args...); err != nil {
		e.t.Fatalf("%s: %v", sql, err)
	}
}

// user inserts a user and returns its id.
func (e *revEnv) user(email, role string) int64 {
	e.t.Helper()
	var id int64
	if err := e.db.Pool.QueryRow(e.ctx, `INSERT INTO users (email, display_name, password_hash, role) VALUES ($1, $1, 'x', $2) RETURNING id`,
		email, role).Scan(&id); err != nil {
		e.t.Fatal(err)
	}
	return id
}

// creator inserts a creator with a channel and returns its id.
func (e *revEnv) creator(handle string) int64 {
	e.t.Helper()
	id := e.user(handle+"@example.com", "creator")
	e.exec(`INSERT INTO channels (owner_id, handle, name) VALUES ($1, $2, $3)`, id, handle, "Channel "+handle)
	return id
}

// views adds a daily bucket; video ids are made up per creator.
func (e *revEnv) views(creator int64, video int64, day string, n int64) {
	e.t.Helper()
	e.exec(`INSERT INTO video_views_daily (video_id, creator_id, day, views) VALUES ($1, $2, $3, $4)
		ON CONFLICT (video_id, day) DO UPDATE SET views = video_views_daily.views + EXCLUDED.views`, creator*1000+video, creator, day, n)
}

func i64(v int64) *int64 { return &v }

func (e *revEnv) period(key string, r int64, cur string, bps, threshold, minPay int64) revenue.Period {
	e.t.Helper()
	p, err := e.svc.CreatePeriod(e.ctx, e.fin, revenue.NewPeriod{Period: key, Revenue: i64(r), Currency: cur,
		ShareBps: i64(bps), Threshold: i64(threshold), MinPayout: i64(minPay)})
	if err != nil {
		e.t.Fatal(err)
	}
	return p
}

func (e *revEnv) calc(key string) revenue.Period {
	e.t.Helper()
	p, err := e.svc.Calculate(e.ctx, e.fin, key)
	if err != nil {
		e.t.Fatalf("calculate %s: %v", key, err)
	}
	return p
}

func (e *revEnv) approve(key string) revenue.Period {
	e.t.Helper()
	p, err := e.svc.Approve(e.ctx, e.fin, key)
	if err != nil {
		e.t.Fatalf("approve %s: %v", key, err)
	}
	return p
}

func (e *revEnv) lines(key string) map[int64]revenue.Payout {
	e.t.Helper()
	_, all, err := e.svc.AllPayouts(e.ctx, key)
	if err != nil {
		e.t.Fatal(err)
	}
	m := map[int64]revenue.Payout{}
	for _, l := range all {
		m[l.CreatorID] = l
	}
	return m
}

func (e *revEnv) csv(key string) []byte {
	e.t.Helper()
	p, all, err := e.svc.AllPayouts(e.ctx, key)
	if err != nil {
		e.t.Fatal(err)
	}
	var b bytes.Buffer
	if err := revenue.WriteCSV(&b, p, all); err != nil {
		e.t.Fatal(err)
	}
	return b.Bytes()
}

func (e *revEnv) verifyOK() {
	e.t.Helper()
	probs, err := e.svc.Verify(e.ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	if len(probs) > 0 {
		e.t.Fatalf("verify found problems: %v", probs)
	}
}

func (e *revEnv) count(sql string, args ...any) int64 {
	e.t.Helper()
	var n int64
	if err := e.db.Pool.QueryRow(e.ctx, sql, args...).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

func wantCode(t *testing.T, err error, kind error, code string) {
	t.Helper()
	var ee *errs.Error
	if !errors.Is(err, kind) || !errors.As(err, &ee) || ee.Code != code {
		t.Fatalf("got %v, want %v with code %s", err, kind, code)
	}
}

func TestRevenueUSDTiesThresholdAndCSV(t *testing.T) {
	e := newRevEnv(t)
	a, b, c, d := e.creator("alpha"), e.creator("bravo"), e.creator("charlie"), e.creator("delta")
	// History before the period: lifetime views count toward T.
	e.views(a, 1, "2026-08-15", 900)
	e.views(b, 1, "2026-09-30", 50)
	// The period, 2026-10: 100 views each, spread over days and videos.
	e.views(a, 1, "2026-10-01", 60)
	e.views(a, 2, "2026-10-31", 40)
	e.views(b, 1, "2026-10-10", 100)
	e.views(c, 1, "2026-10-05", 100)
	e.views(d, 1, "2026-10-20", 100)
	// After the period: never changes it (would make d eligible).
	e.views(d, 1, "2026-11-01", 5000)
	// T = 1000: a has 900+100 = 1000 (exactly T: eligible), c 2000+100;
	// b (150) and d (100) are not eligible.
	e.views(c, 3, "2025-01-01", 2000)
	e.period("2026-10", 1000, "usd", 5500, 1000, 0)
	p := e.calc("2026-10")
	// V = 400, V_e = 200 (a, c): E = floor(1000·5500·200 / (10000·400)) = 275: 137 r 50 each → the tie gives a (lower id) 138.
	if p.TotalViews != 400 || p.EligibleViews != 200 || p.EligibleCount != 2 || p.Pool != 275 || p.Platform != 725 || p.CreatorCount != 4 {
		t.Fatalf("period totals %+v", p)
	}
	l := e.lines("2026-10")
	if l[a].Amount != 138 || l[c].Amount != 137 || l[b].Amount != 0 || l[d].Amount != 0 || !l[a].Eligible || l[b].Eligible || l[d].Eligible {
		t.Fatalf("lines %+v", l)
	}
	if l[a].LifetimeViews != 1000 || l[d].LifetimeViews != 100 {
		t.Fatalf("lifetime views: a %d d %d", l[a].LifetimeViews, l[d].LifetimeViews)
	}
	if l[a].ChannelHandle != "alpha" || l[a].HasProfile {
		t.Fatalf("report columns: %+v", l[a])
	}
	first := e.csv("2026-10")
	// Recalculating the same data gives byte-identical output.
	e.now = e.now.Add(time.Hour)
	p2 := e.calc("2026-10")
	if got := e.csv("2026-10"); !bytes.Equal(first, got) || p2.Digest != p.Digest {
		t.Fatalf("recalculation differs:\n%s\n%s", first, got)
	}
	// CSV: RFC 4180, header, one line per creator ordered by id, a totals line.
	recs, err := csv.NewReader(bytes.NewReader(first)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 6 || strings.Join(recs[0], ",") != strings.Join(revenue.CSVColumns(), ",") {
		t.Fatalf("csv: %q", recs)
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	if recs[1][col["creator_id"]] != strconv.FormatInt(a, 10) || recs[1][col["amount"]] != "1.38" || recs[1][col["share_of_views_pct"]] != "25.0000" ||
		recs[1][col["status"]] != "pending" {
		t.Fatalf("first line %q", recs[1])
	}
	tot := recs[5]
	if tot[col["record"]] != "total" || tot[col["amount"]] != "2.75" || tot[col["revenue"]] != "10.00" || tot[col["platform_share"]] != "7.25" || tot[col["period_views"]] != "400" {
		t.Fatalf("totals %q", tot)
	}
	e.approve("2026-10")
	e.verifyOK()
	// Approved periods are immutable: recalculating is a conflict, and the database refuses edits too.
	_, err = e.svc.Calculate(e.ctx, e.fin, "2026-10")
	wantCode(t, err, errs.ErrConflict, "period_approved")
	for _, sql := range []string{
		`UPDATE ledger_entries SET amount_minor = amount_minor + 1`,
		`DELETE FROM ledger_entries`,
		`DELETE FROM ledger_transactions`,
		`TRUNCATE ledger_entries CASCADE`,
		`UPDATE revenue_payouts SET amount_minor = 0`,
		`DELETE FROM revenue_payouts`,
		`UPDATE revenue_periods SET revenue_minor = 1`,
		`DELETE FROM revenue_audit`,
	} {
		if _, err := e.db.Pool.Exec(e.ctx, sql); err == nil || !strings.Contains(err.Error(), "P0001") {
			t.Errorf("%s: got %v, want the trigger's exception", sql, err)
		}
	}
	// An unbalanced transaction cannot even be inserted.
	var txID int64
	if err := e.db.Pool.QueryRow(e.ctx, `SELECT id FROM ledger_transactions LIMIT 1`).Scan(&txID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.Pool.Exec(e.ctx, `INSERT INTO ledger_entries (transaction_id, account, side, amount_minor) VALUES ($1, 'cash', 'D', 5)`, txID); err == nil {
		t.Fatal("unbalanced entry accepted")
	}
	// The ledger: revenue and allocation transactions, balanced, creators credited E.
	if n := e.count(`SELECT count(*) FROM ledger_transactions`); n != 2 {
		t.Fatalf("%d ledger transactions", n)
	}
	if n := e.count(`SELECT coalesce(sum(amount_minor), 0) FROM ledger_entries WHERE creator_id IS NOT NULL AND side = 'C'`); n != 275 {
		t.Fatalf("creator credits %d", n)
	}
	audit, err := e.svc.Audit(e.ctx, "2026-10")
	if err != nil || len(audit) != 4 || audit[0].Action != "create" || audit[3].Action != "approve" || audit[3].Actor != "finance@example.com" {
		t.Fatalf("audit %+v %v", audit, err)
	}
}

func TestRevenueKRWNobodyAndZeroViews(t *testing.T) {
	e := newRevEnv(t)
	x, y := e.creator("xray"), e.creator("yankee")
	e.views(x, 1, "2026-09-03", 1)
	e.views(y, 1, "2026-09-04", 2)
	// KRW: exponent 0. Everyone eligible (T=0): E = floor(1001·10000·3/(10000·3)) = 1001 → 334 (1/3 r) and 667.
	e.period("2026-09", 1001, "KRW", 10000, 0, 0)
	p := e.calc("2026-09")
	l := e.lines("2026-09")
	if p.Pool != 1001 || l[x].Amount+l[y].Amount != 1001 || l[x].Amount != 334 || l[y].Amount != 667 {
		t.Fatalf("KRW: %+v %+v", p, l)
	}
	recs, _ := csv.NewReader(bytes.NewReader(e.csv("2026-09"))).ReadAll()
	if recs[1][11] != "334" || recs[3][11] != "1001" {
		t.Fatalf("KRW csv %q", recs)
	}
	// Nobody eligible.
	e.period("2026-08", 5000, "USD", 5500, 1_000_000, 0)
	e.views(x, 1, "2026-08-03", 10)
	p = e.calc("2026-08")
	if p.Pool != 0 || p.Platform != 5000 || p.EligibleCount != 0 || p.CreatorCount != 1 {
		t.Fatalf("nobody eligible: %+v", p)
	}
	// Zero views at all.
	e.period("2026-07", 777, "JPY", 5500, 0, 0)
	p = e.calc("2026-07")
	if p.Pool != 0 || p.Platform != 777 || p.CreatorCount != 0 || p.TotalViews != 0 {
		t.Fatalf("zero views: %+v", p)
	}
	// September read August's views (lifetime up to its end) before they
	// were added: its draft is stale and approval wants a recalculation.
	_, err := e.svc.Approve(e.ctx, e.fin, "2026-09")
	wantCode(t, err, errs.ErrConflict, "inputs_changed")
	e.calc("2026-09")
	for _, k := range []string{"2026-07", "2026-08", "2026-09"} {
		e.approve(k)
	}
	e.verifyOK()
	// Unknown currency, bad period, month not over.
	_, err = e.svc.CreatePeriod(e.ctx, e.fin, revenue.NewPeriod{Period: "2026-06", Revenue: i64(1), Currency: "ABC"})
	wantCode(t, err, errs.ErrInvalid, "unknown_currency")
	_, err = e.svc.CreatePeriod(e.ctx, e.fin, revenue.NewPeriod{Period: "2026-13", Revenue: i64(1), Currency: "USD"})
	wantCode(t, err, errs.ErrInvalid, "invalid_period")
	_, err = e.svc.CreatePeriod(e.ctx, e.fin, revenue.NewPeriod{Period: "2026-09", Revenue: i64(1), Currency: "USD"})
	wantCode(t, err, errs.ErrConflict, "period_exists")
	e.period("2026-11", 1, "USD", 5500, 0, 0)
	_, err = e.svc.Calculate(e.ctx, e.fin, "2026-11")
	wantCode(t, err, errs.ErrConflict, "period_not_ended")
}

func TestRevenueCarryOverPaymentsAdjustments(t *testing.T) {
	e := newRevEnv(t)
	a, b := e.creator("anna"), e.creator("bert")
	e.views(a, 1, "2026-08-10", 3)
	e.views(b, 1, "2026-08-10", 7)
	// M = 5.00: a earns 3.00 (carried), b earns 7.00 (payable).
	e.period("2026-08", 1000, "USD", 10000, 0, 500)
	e.calc("2026-08")
	l := e.lines("2026-08")
	if l[a].Amount != 300 || l[a].CarriedOver != 300 || l[a].Payable != 0 || l[b].Payable != 700 {
		t.Fatalf("august %+v", l)
	}
	e.approve("2026-08")
	// Calculating September before August is paid: a's 3.00 is carried in,
	// b's unpaid 7.00 is not (August's own payment covers it).
	e.views(a, 1, "2026-09-10", 1)
	e.period("2026-09", 250, "USD", 10000, 0, 500)
	e.calc("2026-09")
	l = e.lines("2026-09")
	if l[a].CarriedIn != 300 || l[a].Amount != 250 || l[a].Payable != 550 || len(l) != 1 {
		t.Fatalf("september %+v", l)
	}
	// Paying August: b only (a has nothing payable); twice is refused.
	_, err := e.svc.MarkPaid(e.ctx, e.fin, "2026-08", a, "TX-1")
	wantCode(t, err, errs.ErrConflict, "nothing_payable")
	n, err := e.svc.MarkPaid(e.ctx, e.fin, "2026-08", 0, "BATCH-AUG")
	if err != nil || n != 1 {
		t.Fatalf("mark paid: %d %v", n, err)
	}
	_, err = e.svc.MarkPaid(e.ctx, e.fin, "2026-08", b, "again")
	wantCode(t, err, errs.ErrConflict, "already_paid")
	if p, _ := e.svc.Period(e.ctx, "2026-08"); p.Status != revenue.StatusPaid {
		t.Fatalf("august status %s", p.Status)
	}
	// September's draft is still consistent (carried balances unchanged): approve, pay a 5.50.
	e.approve("2026-09")
	if _, err := e.svc.MarkPaid(e.ctx, e.fin, "2026-09", a, "TX-A-SEP"); err != nil {
		t.Fatal(err)
	}
	e.verifyOK()
	bal := func(c int64) int64 {
		return e.count(`SELECT coalesce(sum(CASE side WHEN 'C' THEN amount_minor ELSE -amount_minor END), 0) FROM ledger_entries WHERE creator_id = $1`, c)
	}
	if bal(a) != 0 || bal(b) != 0 {
		t.Fatalf("balances a %d b %d", bal(a), bal(b))
	}
	if paid := e.count(`SELECT coalesce(sum(amount_minor), 0) FROM ledger_entries WHERE account = 'cash' AND side = 'C'`); paid != 1250 {
		t.Fatalf("cash paid out %d, want 700 + 550", paid)
	}
	// A late adjustment to August: a new entry, never an edit; it is carried into October.
	_, err = e.svc.Adjust(e.ctx, e.fin, "2026-08", b, 120, "missed views from a delayed flush")
	if err != nil {
		t.Fatal(err)
	}
	if l := e.lines("2026-08"); l[b].Amount != 700 {
		t.Fatal("adjustment edited the approved line")
	}
	e.verifyOK()
	e.period("2026-10", 0, "USD", 5500, 0, 100)
	e.calc("2026-10")
	if l := e.lines("2026-10"); l[b].CarriedIn != 120 || l[b].Payable != 120 {
		t.Fatalf("october %+v", l)
	}
	// A draft whose carried balances changed since calculation cannot be approved.
	if _, err := e.svc.Adjust(e.ctx, e.fin, "2026-09", b, 5, "rounding"); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.Approve(e.ctx, e.fin, "2026-10")
	wantCode(t, err, errs.ErrConflict, "stale_draft")
	e.calc("2026-10")
	e.approve("2026-10")
	e.verifyOK()

	// Verify notices tampering (triggers off, as only a superuser could).
	e.exec(`ALTER TABLE revenue_payouts DISABLE TRIGGER USER`)
	e.exec(`UPDATE revenue_payouts SET amount_minor = amount_minor + 1 WHERE creator_id = $1 AND period_id = (SELECT id FROM revenue_periods WHERE period = '2026-08')`, b)
	probs, err := e.svc.Verify(e.ctx)
	if err != nil || len(probs) == 0 {
		t.Fatalf("verify missed tampering: %v %v", probs, err)
	}
}

func TestRevenueConcurrentCalculate(t *testing.T) {
	e := newRevEnv(t)
	for i := 0; i < 20; i++ {
		c := e.creator(fmt.Sprintf("c%03d", i))
		e.views(c, 1, "2026-10-02", int64(i+1))
	}
	e.period("2026-10", 100000, "EUR", 5500, 0, 0)
	e.calc("2026-10")
	// Hold the first run inside its transaction until the second has tried.
	inside, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	postgres.SetBeforeCommit(e.store, func(context.Context) error {
		once.Do(func() { close(inside); <-release })
		return nil
	})
	var wg sync.WaitGroup
	var firstErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		_, firstErr = e.svc.Calculate(e.ctx, e.fin, "2026-10")
	}()
	<-inside
	_, err := e.svc.Calculate(e.ctx, e.fin, "2026-10")
	wantCode(t, err, errs.ErrConflict, "calculation_running")
	if err.Error() != "a calculation for 2026-10 is already running" {
		t.Fatalf("message %q", err)
	}
	// Approving while the calculation runs is refused the same way.
	_, err = e.svc.Approve(e.ctx, e.fin, "2026-10")
	wantCode(t, err, errs.ErrConflict, "calculation_running")
	close(release)
	wg.Wait()
	if firstErr != nil {
		t.Fatal(firstErr)
	}
	if n := e.count(`SELECT count(*) FROM revenue_payouts`); n != 20 {
		t.Fatalf("%d payout rows, want 20", n)
	}
	if n := e.count(`SELECT coalesce(sum(amount_minor), 0) FROM revenue_payouts`); n != 55000 {
		t.Fatalf("payouts sum %d", n)
	}
	postgres.SetBeforeCommit(e.store, nil)
	// A failure inside the transaction leaves nothing behind.
	postgres.SetBeforeCommit(e.store, func(context.Context) error { return errors.New("boom") })
	e.exec(`INSERT INTO video_views_daily VALUES (999999, 999999, '2026-10-03', 5)`)
	if _, err := e.svc.Calculate(e.ctx, e.fin, "2026-10"); err == nil {
		t.Fatal("want the hook's error")
	}
	if n := e.count(`SELECT count(*) FROM revenue_payouts`); n != 20 {
		t.Fatalf("failed run changed the draft: %d rows", n)
	}
}

// TestRevenueProperty runs many random scenarios against PostgreSQL:
// payouts sum to E exactly, each is within one minor unit of its exact
// share, V_c and lifetime views match the buckets, recalculation is
// byte-identical and verify passes.
func TestRevenueProperty(t *testing.T) {
	e := newRevEnv(t)
	r := rand.New(rand.NewPCG(42, uint64(time.Now().UnixNano())))
	creators := make([]int64, 30)
	for i := range creators {
		creators[i] = e.creator(fmt.Sprintf("p%03d", i))
	}
	currencies := []string{"USD", "KRW", "JPY", "EUR"}
	scenarios := 30
	if testing.Short() {
		scenarios = 8
	}
	start := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	type bucketRow struct {
		creator int64
		day     time.Time
		n       int64
	}
	var all []bucketRow
	for s := 0; s < scenarios; s++ {
		month := start.AddDate(0, s, 0)
		key := month.Format("2006-01")
		end := month.AddDate(0, 1, 0)
		// Random buckets for this month (and some before/after it), on
		// videos of their own; the buckets of earlier scenarios stay (a
		// bucket that changes under an approved period is what verify
		// catches), and views dated before an approved period's end are
		// recorded as late views, as the flusher records them.
		for _, c := range creators {
			if r.IntN(4) == 0 {
				continue
			}
			for v := int64(1); v <= int64(r.IntN(3)+1); v++ {
				for k := 0; k < 3; k++ {
					var day time.Time
					switch r.IntN(3) {
					case 0:
						day = month.AddDate(0, 0, -r.IntN(400)-1) // before
					case 1:
						day = month.AddDate(0, 0, r.IntN(int(end.Sub(month).Hours()/24))) // in
					default:
						day = end.AddDate(0, 0, r.IntN(30)) // after: must not count
					}
					n := r.Int64N(1 << uint(r.IntN(20)+1))
					if r.IntN(6) == 0 {
						n = 1000 // ties
					}
					e.views(c, int64(s)*10+v, day.Format("2006-01-02"), n)
					e.exec(`INSERT INTO revenue_late_views (video_id, creator_id, day, views, flush_id)
						SELECT $1, $2, $3, $4, 'property' WHERE $3::date < (SELECT max(ends_on) FROM revenue_periods WHERE status IN ('approved', 'paid'))`,
						c*1000+int64(s)*10+v, c, day, n)
					all = append(all, bucketRow{c, day, n})
				}
			}
		}
		periodViews := map[int64]int64{}
		lifetime := map[int64]int64{}
		for _, b := range all {
			if b.day.Before(end) {
				lifetime[b.creator] += b.n
				if !b.day.Before(month) {
					periodViews[b.creator] += b.n
				}
			}
		}
		rev := r.Int64N(1 << uint(r.IntN(50)+1))
		bps := r.Int64N(10001)
		thr := r.Int64N(1 << 21)
		cur := currencies[r.IntN(len(currencies))]
		e.period(key, rev, cur, bps, thr, 0)
		p := e.calc(key)
		first := e.csv(key)
		l := e.lines(key)
		var sum int64
		var ve big.Int
		for c, pv := range periodViews {
			if pv > 0 && lifetime[c] >= thr {
				ve.Add(&ve, big.NewInt(pv))
			}
		}
		for c, pv := range periodViews {
			if pv == 0 {
				continue
			}
			line, ok := l[c]
			if !ok || line.PeriodViews != pv || line.LifetimeViews != lifetime[c] || line.Eligible != (lifetime[c] >= thr) {
				t.Fatalf("%s creator %d: line %+v, want V_c %d lifetime %d", key, c, line, pv, lifetime[c])
			}
		}
		for _, line := range l {
			sum += line.Amount
			if line.Eligible && ve.Sign() > 0 {
				exact := new(big.Rat).SetFrac(new(big.Int).Mul(big.NewInt(p.Pool), big.NewInt(line.PeriodViews)), &ve)
				diff := new(big.Rat).Sub(new(big.Rat).SetInt64(line.Amount), exact)
				if diff.Abs(diff).Cmp(big.NewRat(1, 1)) >= 0 {
					t.Fatalf("%s creator %d: %d vs exact %s", key, line.CreatorID, line.Amount, exact.FloatString(4))
				}
			} else if line.Amount != 0 {
				t.Fatalf("%s: ineligible creator %d paid %d", key, line.CreatorID, line.Amount)
			}
		}
		if sum != p.Pool || p.Pool+p.Platform != rev {
			t.Fatalf("%s: sum %d, E %d, platform %d, R %d", key, sum, p.Pool, p.Platform, rev)
		}
		if ve.Cmp(big.NewInt(p.EligibleViews)) != 0 {
			t.Fatalf("%s: V_e %d, want %s", key, p.EligibleViews, ve.String())
		}
		e.now = e.now.Add(time.Minute)
		if again := e.calc(key); again.Digest != p.Digest || !bytes.Equal(first, e.csv(key)) {
			t.Fatalf("%s: recalculation differs", key)
		}
		if r.IntN(2) == 0 {
			e.approve(key)
			if r.IntN(2) == 0 && p.Pool > 0 {
				if _, err := e.svc.MarkPaid(e.ctx, e.fin, key, 0, "pay-"+key); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	e.verifyOK()
}

func TestRevenueCalculateWorker(t *testing.T) {
	e := newRevEnv(t)
	c := e.creator("worker")
	e.views(c, 1, "2026-10-02", 10)
	e.period("2026-10", 1000, "USD", 5500, 0, 0)
	w := &revenue.CalculateWorker{Service: e.svc}
	job := &river.Job[revenue.CalculateArgs]{Args: revenue.CalculateArgs{Period: "2026-10"}}
	if err := w.Work(e.ctx, job); err != nil {
		t.Fatal(err)
	}
	if p, _ := e.svc.Period(e.ctx, "2026-10"); p.Status != revenue.StatusCalculated || p.Pool != 550 {
		t.Fatalf("after the job: %+v", p)
	}
	e.approve("2026-10")
	// An approved period cancels the job rather than retrying forever.
	var cancel *river.JobCancelError
	if err := w.Work(e.ctx, job); !errors.As(err, &cancel) {
		t.Fatalf("approved period: %v", err)
	}
}
