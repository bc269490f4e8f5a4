package web

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ucc-video/ucc/internal/accounts"
	"github.com/ucc-video/ucc/internal/revenue"
	uccredis "github.com/ucc-video/ucc/storage/redis"
)

// TestPeriodCloseWithViewsInRedis reproduces issue 21's period close on
// real Redis and PostgreSQL: views of November's last day still pending in
// Redis (the flusher stopped) used to be left out of a calculation that
// succeeded, to arrive after approval, and `verify` said ok. Now the
// calculation is refused (API and finance page) while a pending or swapped
// set holds views dated in the period, and allowed after the flush; a
// draft whose buckets changed cannot be approved; views that arrive after
// approval are an audited late_views entry that verify reconciles; and a
// bucket changed behind the ledger's back makes verify fail.
func TestPeriodCloseWithViewsInRedis(t *testing.T) {
	lastDay := time.Date(2026, 11, 30, 23, 50, 0, 0, time.UTC)
	ts := newTestServer(t, withClock(func() time.Time { return lastDay }))
	ctx := context.Background()
	fin, _ := ts.user("fin@example.com", accounts.RoleFinance)
	_, creator := ts.user("creator@example.com", accounts.RoleCreator)
	pub := ts.creatorVideos(creator, 1)[0]
	f := &farmer{t: t, ts: ts, ua: firefoxUA, refused: map[string]int{}}
	watch := func(n int) {
		t.Helper()
		for range n {
			tok, id := f.play(pub, "127.0.0.1", "")
			if r := f.report(pub, "127.0.0.1", id, tok); !r.Counted {
				t.Fatalf("view not counted: %+v", r)
			}
		}
	}
	flush := func() {
		t.Helper()
		if _, err := ts.flusher.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	wantCode := func(r response, status int, code string) apiError {
		t.Helper()
		wantStatus(t, r, status)
		var e apiError
		r.JSON(t, &e)
		if e.Error.Code != code {
			t.Fatalf("error %s, want %s: %s", e.Error.Code, code, r.Body)
		}
		return e
	}

	watch(7)
	flush()                        // 7 views of November 30 in PostgreSQL
	watch(3)                       // 3 more, still in Redis: the flusher "stopped"
	ts.clock.add(20 * time.Minute) // December 1st, 00:10
	wantStatus(t, ts.do("POST", "/api/v1/revenue/periods", map[string]any{"period": "2026-11", "revenue_minor": 100000, "currency": "USD", "view_threshold": 0}, bearer(fin)...), http.StatusCreated)

	// Refused while pending, with how long to wait and why.
	e := wantCode(ts.do("POST", "/api/v1/revenue/periods/2026-11/calculate", nil, bearer(fin)...), http.StatusConflict, "views_pending")
	for _, want := range []string{"3 views dated in 2026-11", "still in Redis", "20m0s ago", "every 5s", "worker"} {
		if !strings.Contains(e.Error.Message, want) {
			t.Errorf("message %q lacks %q", e.Error.Message, want)
		}
	}
	// The finance page says the same in its notice.
	r := ts.do("POST", "/finance/periods/2026-11/calculate", "", bearer(fin)...)
	if fl := ts.flashOf(r); fl == nil || fl.Kind != flashError || !strings.Contains(fl.Message, "still in Redis") {
		t.Fatalf("finance page: flash %+v", fl)
	}
	// A set swapped aside and not applied (a flusher that crashed) holds
	// them just the same.
	counter := uccredis.NewViewCounter(ts.rdb, ts.prefix, time.Second)
	if _, ok, err := counter.Swap(ctx, "crashed-flush-1"); err != nil || !ok {
		t.Fatalf("swap: %v %v", ok, err)
	}
	wantCode(ts.do("POST", "/api/v1/revenue/periods/2026-11/calculate", nil, bearer(fin)...), http.StatusConflict, "views_pending")

	// Views dated in December do not hold November back.
	watch(2)
	flush()  // the swapped set and the pending one
	watch(1) // a December view, pending
	r = ts.do("POST", "/api/v1/revenue/periods/2026-11/calculate", nil, bearer(fin)...)
	wantStatus(t, r, http.StatusOK)
	var got struct{ Period revenue.JSONPeriod }
	r.JSON(t, &got)
	if got.Period.TotalViews != 10 {
		t.Fatalf("calculated V = %d, want 10 (all of November 30)", got.Period.TotalViews)
	}

	// Buckets changed after the draft (views of November 30 flushed late):
	// approval refused until recalculated.
	ts.clock.add(-20 * time.Minute)
	watch(4)
	ts.clock.add(20 * time.Minute)
	flush()
	wantCode(ts.do("POST", "/api/v1/revenue/periods/2026-11/approve", nil, bearer(fin)...), http.StatusConflict, "inputs_changed")
	wantStatus(t, ts.do("POST", "/api/v1/revenue/periods/2026-11/calculate", nil, bearer(fin)...), http.StatusOK)
	// Approve refuses pending views of the period too.
	ts.clock.add(-20 * time.Minute)
	watch(1)
	ts.clock.add(20 * time.Minute)
	wantCode(ts.do("POST", "/api/v1/revenue/periods/2026-11/approve", nil, bearer(fin)...), http.StatusConflict, "views_pending")
	flush()
	wantStatus(t, ts.do("POST", "/api/v1/revenue/periods/2026-11/calculate", nil, bearer(fin)...), http.StatusOK)
	wantStatus(t, ts.do("POST", "/api/v1/revenue/periods/2026-11/approve", nil, bearer(fin)...), http.StatusOK)
	if probs, err := ts.deps.Revenue.Verify(ctx); err != nil || len(probs) != 0 {
		t.Fatalf("verify after approval: %v %v", probs, err)
	}

	// Views of November that reach PostgreSQL after the approval (a worker
	// restarted with a set left in Redis): an audited late_views entry, the
	// frozen lines unchanged, verify still ok.
	ts.clock.add(-20 * time.Minute)
	watch(5)
	ts.clock.add(20 * time.Minute)
	flush()
	if n := ts.count(`SELECT coalesce(sum(views), 0)::int FROM revenue_late_views WHERE creator_id = $1 AND day = '2026-11-30'`, creator); n != 5 {
		t.Fatalf("late views recorded: %d, want 5", n)
	}
	audit, err := ts.deps.Revenue.Audit(ctx, "2026-11")
	if err != nil {
		t.Fatal(err)
	}
	if last := audit[len(audit)-1]; last.Action != "late_views" || !strings.HasPrefix(last.Detail, "5 views of 1 creators") {
		t.Fatalf("last audit entry %+v", last)
	}
	if p := ts.count(`SELECT period_views::int FROM revenue_payouts WHERE creator_id = $1`, creator); p != 15 {
		t.Fatalf("frozen line has %d views, want 15", p)
	}
	if probs, err := ts.deps.Revenue.Verify(ctx); err != nil || len(probs) != 0 {
		t.Fatalf("verify with recorded late views: %v %v", probs, err)
	}
	page := ts.do("GET", "/finance/periods/2026-11", nil, bearer(fin)...)
	if !strings.Contains(string(page.Body), "late views") {
		t.Fatal("the period page does not show the late views entry")
	}

	// A bucket changed with no record (the 1,110 vs 51,110): verify fails.
	ts.sql(`UPDATE video_views_daily SET views = views + 50000 WHERE creator_id = $1 AND day = '2026-11-30'`, creator)
	probs, err := ts.deps.Revenue.Verify(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(probs) != 1 || !strings.Contains(probs[0].String(), "2026-11: creator") || !strings.Contains(probs[0].String(), "the daily buckets hold 50015") {
		t.Fatalf("verify after a silent change: %v", probs)
	}
}
