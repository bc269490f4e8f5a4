package web

import (
	"bytes"
	"context"
	"encoding/csv"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ucc-video/ucc/internal/accounts"
	"github.com/ucc-video/ucc/internal/revenue"
)

// revenueNow is the clock of the revenue tests: late in November 2026, so
// October is the month just ended.
func revenueNow() time.Time { return time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC) }

func TestRevenueAuthorization(t *testing.T) {
	ts := newTestServer(t, withClock(revenueNow))
	viewer, _ := ts.user("viewer@example.com", accounts.RoleViewer)
	creator, _ := ts.user("creator@example.com", accounts.RoleCreator)
	fin, _ := ts.user("fin@example.com", accounts.RoleFinance)
	admin, _ := ts.user("admin@example.com", accounts.RoleAdmin)
	wantStatus(t, ts.do("POST", "/api/v1/revenue/periods", map[string]any{"period": "2026-10", "revenue_minor": 100, "currency": "USD"}, bearer(fin)...), http.StatusCreated)
	routes := []struct{ method, path string }{
		{"GET", "/api/v1/revenue/periods"},
		{"POST", "/api/v1/revenue/periods"},
		{"GET", "/api/v1/revenue/periods/2026-10"},
		{"POST", "/api/v1/revenue/periods/2026-10/calculate"},
		{"POST", "/api/v1/revenue/periods/2026-10/approve"},
		{"POST", "/api/v1/revenue/periods/2026-10/mark-paid"},
		{"POST", "/api/v1/revenue/periods/2026-10/adjustments"},
		{"GET", "/api/v1/revenue/periods/2026-10/payouts"},
		{"GET", "/api/v1/revenue/periods/2026-10/payouts.csv"},
		{"GET", "/api/v1/revenue/periods/2026-10/audit"},
		{"GET", "/finance"},
		{"GET", "/finance/periods/2026-10"},
		{"POST", "/finance/periods/2026-10/calculate"},
	}
	for _, r := range routes {
		wantStatus(t, ts.do(r.method, r.path, nil, "Accept", "application/json"), http.StatusUnauthorized)
		for _, tok := range []string{viewer, creator} {
			wantStatus(t, ts.do(r.method, r.path, nil, bearer(tok)...), http.StatusForbidden)
		}
	}
	// Anonymous browsers are sent to log in.
	r := ts.do("GET", "/finance", nil)
	wantStatus(t, r, http.StatusSeeOther)
	if !strings.HasPrefix(r.Header.Get("Location"), "/login") {
		t.Fatalf("redirect to %s", r.Header.Get("Location"))
	}
	for _, tok := range []string{fin, admin} {
		wantStatus(t, ts.do("GET", "/api/v1/revenue/periods", nil, bearer(tok)...), http.StatusOK)
		wantStatus(t, ts.do("GET", "/finance", nil, bearer(tok)...), http.StatusOK)
		wantStatus(t, ts.do("GET", "/finance/periods/2026-10", nil, bearer(tok)...), http.StatusOK)
	}
	// Payout profiles are for creators.
	wantStatus(t, ts.do("PUT", "/api/v1/me/payout-profile", map[string]string{"legal_name": "V", "country": "US", "method_ref": "1234"}, bearer(viewer)...), http.StatusForbidden)
	wantStatus(t, ts.do("GET", "/api/v1/me/earnings", nil), http.StatusUnauthorized)
}

func TestRevenueAPIFlowAndPages(t *testing.T) {
	ts := newTestServer(t, withClock(revenueNow))
	fin, _ := ts.user("fin@example.com", accounts.RoleFinance)
	aTok, a := ts.user("a@example.com", accounts.RoleCreator)
	bTok, b := ts.user("b@example.com", accounts.RoleCreator)
	ts.sql(`INSERT INTO channels (owner_id, handle, name) VALUES ($1, 'annas', 'Anna''s <Channel>'), ($2, 'bens', 'Ben')`, a, b)
	ts.sql(`INSERT INTO video_views_daily (video_id, creator_id, day, views) VALUES
		(1, $1, '2026-10-03', 1500000), (2, $1, '2026-11-10', 700), (3, $2, '2026-10-04', 500000), (3, $2, '2026-09-01', 400000)`, a, b)

	// Validation: an unknown currency is a clear 400.
	r := ts.do("POST", "/api/v1/revenue/periods", map[string]any{"period": "2026-10", "revenue_minor": 100000, "currency": "XXY"}, bearer(fin)...)
	wantStatus(t, r, http.StatusBadRequest)
	var e apiError
	r.JSON(t, &e)
	if e.Error.Code != "unknown_currency" || !strings.Contains(e.Error.Message, "XXY") {
		t.Fatalf("error %+v", e)
	}
	wantStatus(t, ts.do("POST", "/api/v1/revenue/periods", map[string]any{"period": "2026-1", "revenue_minor": 1, "currency": "USD"}, bearer(fin)...), http.StatusBadRequest)
	// Defaults: 5500 bps, 1,000,000 views, M = 0. $1000.00.
	r = ts.do("POST", "/api/v1/revenue/periods", map[string]any{"period": "2026-10", "revenue_minor": 100000, "currency": "usd"}, bearer(fin)...)
	wantStatus(t, r, http.StatusCreated)
	var pr struct{ Period revenue.JSONPeriod }
	r.JSON(t, &pr)
	if pr.Period.ShareBps != 5500 || pr.Period.Threshold != 1_000_000 || pr.Period.Currency != "USD" || pr.Period.RevenueDec != "1000.00" {
		t.Fatalf("period %+v", pr.Period)
	}
	wantStatus(t, ts.do("POST", "/api/v1/revenue/periods", map[string]any{"period": "2026-10", "revenue_minor": 1, "currency": "USD"}, bearer(fin)...), http.StatusConflict)
	wantStatus(t, ts.do("POST", "/api/v1/revenue/periods/2026-10/approve", nil, bearer(fin)...), http.StatusConflict)

	// Calculate: a has 1.5M (eligible), b 900k lifetime (not). V = 2M, V_e = 1.5M:
	// E = floor(100000·5500·1.5M / (10000·2M)) = 41250.
	r = ts.do("POST", "/api/v1/revenue/periods/2026-10/calculate", nil, bearer(fin)...)
	wantStatus(t, r, http.StatusOK)
	r.JSON(t, &pr)
	if pr.Period.Pool != 41250 || pr.Period.Platform != 58750 || pr.Period.EligibleCount != 1 || pr.Period.TotalViews != 2_000_000 {
		t.Fatalf("calculated %+v", pr.Period)
	}
	// b has no payout profile; a sets one.
	wantStatus(t, ts.do("PUT", "/api/v1/me/payout-profile", map[string]string{"legal_name": "Anna A", "country": "de", "method_ref": "DE89370400440532013000"}, bearer(aTok)...), http.StatusOK)
	wantStatus(t, ts.do("PUT", "/api/v1/me/payout-profile", map[string]string{"legal_name": "B", "country": "Germany", "method_ref": "x"}, bearer(bTok)...), http.StatusBadRequest)

	// Payouts: paginated and sortable.
	r = ts.do("GET", "/api/v1/revenue/periods/2026-10/payouts?sort=period_views&dir=asc&per_page=1&page=2", nil, bearer(fin)...)
	wantStatus(t, r, http.StatusOK)
	var pp struct {
		Payouts []revenue.JSONPayout
		Total   int
		Page    int
	}
	r.JSON(t, &pp)
	if pp.Total != 2 || pp.Page != 2 || len(pp.Payouts) != 1 || pp.Payouts[0].CreatorID != a {
		t.Fatalf("payouts page %+v", pp)
	}
	got := pp.Payouts[0]
	if got.AmountDec != "412.50" || !got.HasProfile || got.MethodMasked != "******************3000" || strings.Contains(string(r.Body), "DE8937") || got.Country != "DE" {
		t.Fatalf("line %+v", got)
	}
	wantStatus(t, ts.do("GET", "/api/v1/revenue/periods/2026-10/payouts?sort=bogus", nil, bearer(fin)...), http.StatusBadRequest)
	r = ts.do("GET", "/api/v1/revenue/periods/2026-10/payouts?sort=creator_id", nil, bearer(fin)...)
	r.JSON(t, &pp)
	if len(pp.Payouts) != 2 || pp.Payouts[1].CreatorID != b || pp.Payouts[1].HasProfile || pp.Payouts[1].Status != "ineligible" {
		t.Fatalf("b's line %+v", pp.Payouts)
	}

	// CSV download parses as RFC 4180 and is identical after recalculating.
	csv1 := ts.do("GET", "/api/v1/revenue/periods/2026-10/payouts.csv", nil, bearer(fin)...)
	wantStatus(t, csv1, http.StatusOK)
	if ct := csv1.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
		t.Fatalf("content type %s", ct)
	}
	recs, err := csv.NewReader(bytes.NewReader(csv1.Body)).ReadAll()
	if err != nil || len(recs) != 4 {
		t.Fatalf("csv %v %q", err, recs)
	}
	if recs[1][3] != strconv.FormatInt(a, 10) || recs[1][5] != "Anna's <Channel>" || recs[1][11] != "412.50" || recs[3][0] != "total" || recs[3][11] != "412.50" || recs[2][18] != "false" {
		t.Fatalf("csv records %q", recs)
	}
	wantStatus(t, ts.do("POST", "/api/v1/revenue/periods/2026-10/calculate", nil, bearer(fin)...), http.StatusOK)
	if csv2 := ts.do("GET", "/api/v1/revenue/periods/2026-10/payouts.csv", nil, bearer(fin)...); !bytes.Equal(csv1.Body, csv2.Body) {
		t.Fatal("recalculation changed the CSV")
	}

	// Approve; then it is immutable.
	wantStatus(t, ts.do("POST", "/api/v1/revenue/periods/2026-10/approve", nil, bearer(fin)...), http.StatusOK)
	r = ts.do("POST", "/api/v1/revenue/periods/2026-10/calculate", nil, bearer(fin)...)
	wantStatus(t, r, http.StatusConflict)
	wantStatus(t, ts.do("POST", "/api/v1/revenue/periods/2026-10/mark-paid", map[string]any{"creator_id": a}, bearer(fin)...), http.StatusBadRequest)
	r = ts.do("POST", "/api/v1/revenue/periods/2026-10/mark-paid", map[string]any{"creator_id": a, "reference": "SEPA-123"}, bearer(fin)...)
	wantStatus(t, r, http.StatusOK)
	wantStatus(t, ts.do("POST", "/api/v1/revenue/periods/2026-10/mark-paid", map[string]any{"creator_id": a, "reference": "SEPA-123"}, bearer(fin)...), http.StatusConflict)
	wantStatus(t, ts.do("POST", "/api/v1/revenue/periods/2026-10/adjustments", map[string]any{"creator_id": b, "amount_minor": 250, "reason": "late views"}, bearer(fin)...), http.StatusCreated)
	r = ts.do("GET", "/api/v1/revenue/periods/2026-10", nil, bearer(fin)...)
	var detail struct {
		Period revenue.JSONPeriod
		Audit  []revenue.AuditEntry
	}
	r.JSON(t, &detail)
	if detail.Period.Status != "paid" || len(detail.Audit) != 6 || detail.Audit[len(detail.Audit)-1].Action != "adjust" || detail.Audit[0].Actor != "fin@example.com" {
		t.Fatalf("detail %+v", detail)
	}
	if probs, err := ts.deps.Revenue.Verify(context.Background()); err != nil || len(probs) != 0 {
		t.Fatalf("verify %v %v", probs, err)
	}

	// Pages: finance period page with totals, SVG bars, audit, no inline styles.
	r = ts.do("GET", "/finance/periods/2026-10?sort=amount", nil, bearer(fin)...)
	wantStatus(t, r, http.StatusOK)
	body := string(r.Body)
	for _, want := range []string{"412.50 USD", "1000.00 USD", "587.50", `<rect class="bar"`, "fin@example.com", "marked paid", "@annas", "Anna&#39;s &lt;Channel&gt;", "no payout profile", "payouts.csv"} {
		if !strings.Contains(body, want) {
			t.Errorf("period page lacks %q", want)
		}
	}
	if strings.Contains(body, "style=") {
		t.Error("inline style on the period page")
	}
	// Creators see only their own earnings.
	r = ts.do("GET", "/api/v1/me/earnings", nil, bearer(aTok)...)
	wantStatus(t, r, http.StatusOK)
	var ea struct{ Earnings revenue.Earnings }
	r.JSON(t, &ea)
	if ea.Earnings.LifetimeViews != 1500700 || !ea.Earnings.Eligible || len(ea.Earnings.Payouts) != 1 || ea.Earnings.Payouts[0].Line.Amount != 41250 ||
		ea.Earnings.CurrentViews != 700 || ea.Earnings.Estimate == nil || len(ea.Earnings.Days) != revenue.EarningsDays {
		t.Fatalf("a's earnings %+v", ea.Earnings)
	}
	// Estimate: 700 views × E/V_e = 700 × 41250 / 1,500,000 = 19 cents (floor).
	if ea.Earnings.Estimate.Amount != 19 || ea.Earnings.Estimate.BasedOn != "2026-10" {
		t.Fatalf("estimate %+v", ea.Earnings.Estimate)
	}
	r = ts.do("GET", "/api/v1/me/earnings", nil, bearer(bTok)...)
	r.JSON(t, &ea)
	if ea.Earnings.LifetimeViews != 900000 || ea.Earnings.Eligible || ea.Earnings.Payouts[0].Line.CreatorID != b || ea.Earnings.Estimate.Amount != 0 {
		t.Fatalf("b's earnings %+v", ea.Earnings)
	}
	r = ts.do("GET", "/earnings", nil, bearer(bTok)...)
	wantStatus(t, r, http.StatusOK)
	body = string(r.Body)
	for _, want := range []string{`<progress id="threshold-progress" value="900000" max="1000000"`, `<rect class="bar"`, "estimate", "no payout profile yet", "2026-10"} {
		if !strings.Contains(body, want) {
			t.Errorf("earnings page lacks %q", want)
		}
	}
	if strings.Contains(body, "style=") || strings.Contains(body, "annas") || strings.Contains(body, "DE8937") {
		t.Error("earnings page shows inline styles or another creator's data")
	}
	// The profile form and the finance forms work (bearer requests skip the CSRF token).
	r = ts.do("POST", "/earnings/payout-profile", url.Values{"legal_name": {"Ben B"}, "country": {"kr"}, "method_ref": {"KR-ACCT-9876"}}.Encode(), bearer(bTok)...)
	wantStatus(t, r, http.StatusSeeOther)
	r = ts.do("POST", "/earnings/payout-profile", url.Values{"legal_name": {"Ben B"}, "country": {"Korea"}, "method_ref": {"KR"}}.Encode(), bearer(bTok)...)
	wantStatus(t, r, http.StatusBadRequest)
	r = ts.do("POST", "/finance/periods", url.Values{"period": {"2026-09"}, "revenue": {"12.34"}, "currency": {"USD"}, "creator_share_bps": {"5000"}, "view_threshold": {"0"}, "min_payout_minor": {"1.00"}}.Encode(), bearer(fin)...)
	wantStatus(t, r, http.StatusSeeOther)
	if p, err := ts.deps.Revenue.Period(context.Background(), "2026-09"); err != nil || p.Revenue != 1234 || p.MinPayout != 100 || p.ShareBps != 5000 {
		t.Fatalf("form-created period %+v %v", p, err)
	}
	r = ts.do("POST", "/finance/periods", url.Values{"period": {"2026-08"}, "revenue": {"12.345"}, "currency": {"USD"}}.Encode(), bearer(fin)...)
	wantStatus(t, r, http.StatusBadRequest)
	r = ts.do("POST", "/finance/periods/2026-09/calculate", "", bearer(fin)...)
	wantStatus(t, r, http.StatusSeeOther)
	if f := ts.flashOf(r); r.Header.Get("Location") != "/finance/periods/2026-09" || f == nil || f.Kind != flashNotice || !strings.HasPrefix(f.Message, "Calculated") {
		t.Fatalf("calculate redirect %s with flash %+v", r.Header.Get("Location"), f)
	}
	r = ts.do("POST", "/finance/periods/2026-10/calculate", "", bearer(fin)...)
	if f := ts.flashOf(r); f == nil || f.Kind != flashError {
		t.Fatalf("calculating an approved period should report an error: %s with flash %+v", r.Header.Get("Location"), f)
	}
	r = ts.do("GET", "/finance", nil, bearer(fin)...)
	if !strings.Contains(string(r.Body), `href="/finance/periods/2026-09"`) {
		t.Fatal("finance page lacks the period list")
	}
	// Finance staff approve creators' payouts; the navigation does not
	// invite them to become one.
	if strings.Contains(string(r.Body), `href="/channels/new"`) {
		t.Fatal("the finance page's navigation offers finance staff to open a channel")
	}
}
