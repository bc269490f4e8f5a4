package systemtest

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ucc-video/ucc/internal/revenue"
	"github.com/ucc-video/ucc/internal/testenv"
	"github.com/ucc-video/ucc/storage/postgres"
	"github.com/ucc-video/ucc/storage/postgres/pgtest"
)

// TestRevenueCLIKilledMidRun SIGKILLs `ucc revenue calculate` while its
// transaction is open (held there by the test-only UCC_TEST_REVENUE_HOLD
// hook), checks nothing of the run is visible, then runs it again, verifies
// and reports through the CLI.
func TestRevenueCLIKilledMidRun(t *testing.T) {
	systemTest(t)
	ctx := context.Background()
	url := pgtest.URL(t)
	db, err := postgres.Open(ctx, url, 4)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	exec1 := func(sql string, args ...any) {
		t.Helper()
		if _, err := db.Pool.Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	count := func(sql string) int64 {
		t.Helper()
		var n int64
		if err := db.Pool.QueryRow(ctx, sql).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	// 2,000 creators with a few buckets each in May 2024.
	exec1(`INSERT INTO video_views_daily (video_id, creator_id, day, views)
		SELECT c * 10 + v, c, date '2024-05-01' + (c + v) % 31, (c * 7919 + v * 104729) % 5000 + 1
		FROM generate_series(1, 2000) c, generate_series(1, 3) v`)
	svc := revenue.NewService(postgres.NewRevenue(db), func() time.Time { return time.Date(2024, 6, 2, 0, 0, 0, 0, time.UTC) })
	rev, bps, thr := int64(123456789), int64(5500), int64(5000)
	if _, err := svc.CreatePeriod(ctx, revenue.Actor{Name: "test"}, revenue.NewPeriod{Period: "2024-05", Revenue: &rev, Currency: "USD", ShareBps: &bps, Threshold: &thr}); err != nil {
		t.Fatal(err)
	}

	bin := testenv.UCCBinary(t)
	env := append(testenv.WithoutPrefix(os.Environ(), "UCC_"), "UCC_DATABASE_URL="+url, "UCC_LOG_FORMAT=text")
	run := func(extraEnv []string, args ...string) (string, string, int) {
		t.Helper()
		res := testenv.RunUCC(t, bin, append(append([]string{}, env...), extraEnv...), nil, args...)
		return res.Stdout, res.Stderr, res.Code
	}

	// Start a run that holds its transaction open after writing every row, and kill it there.
	held, err := testenv.StartProcess(testenv.ProcessConfig{Name: "ucc revenue calculate",
		Args: []string{bin, "revenue", "calculate", "--period", "2024-05"},
		Env:  append(append([]string{}, env...), "UCC_TEST_REVENUE_HOLD=2m")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(held.KillGroup)
	if err := testenv.AwaitProcess(ctx, held, time.Minute, "the run to reach the hold point", func() (bool, string) {
		return strings.Contains(held.Log().String(), "holding the calculation transaction open"), ""
	}); err != nil {
		t.Fatal(err)
	}
	// The run holds the period's advisory lock (0x72657601, 202405).
	const lockSQL = `SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database
		WHERE l.locktype = 'advisory' AND l.classid = 1919251969 AND l.objid = 202405 AND d.datname = current_database()`
	if n := count(lockSQL); n != 1 {
		t.Fatalf("advisory lock held %d times during the run, want 1", n)
	}
	// The rows are written but not committed: the draft is not visible.
	if err := held.Kill(); err != nil {
		t.Fatal(err)
	}
	if n := count(`SELECT count(*) FROM revenue_payouts`); n != 0 {
		t.Fatalf("%d payout rows after the kill", n)
	}
	if n := count(`SELECT count(*) FROM ledger_entries`) + count(`SELECT count(*) FROM ledger_transactions`); n != 0 {
		t.Fatalf("%d ledger rows after the kill", n)
	}
	if n := count(`SELECT count(*) FROM revenue_periods WHERE status <> 'open' OR calculated_at IS NOT NULL`); n != 0 {
		t.Fatal("the period changed after the kill")
	}
	if n := count(`SELECT count(*) FROM revenue_audit WHERE action = 'calculate'`); n != 0 {
		t.Fatal("an audit entry survived the kill")
	}
	// PostgreSQL rolls the dead session back once it sees the closed socket;
	// wait (bounded) for its advisory lock to go before running again.
	deadline := time.Now().Add(20 * time.Second)
	for count(lockSQL) > 0 {
		if time.Now().After(deadline) {
			t.Fatal("the killed run's lock was never released")
		}
		time.Sleep(50 * time.Millisecond)
	}

	out, errOut, code := run(nil, "revenue", "calculate", "--period", "2024-05")
	if code != 0 || !strings.Contains(out, "calculated 2024-05") {
		t.Fatalf("second run: exit %d\n%s\n%s", code, out, errOut)
	}
	if n := count(`SELECT count(*) FROM revenue_payouts`); n != 2000 {
		t.Fatalf("%d payout rows, want 2000", n)
	}
	if n := count(`SELECT count(*) FROM revenue_audit WHERE action = 'calculate'`); n != 1 {
		t.Fatalf("%d calculate audit entries", n)
	}
	out, errOut, code = run(nil, "revenue", "verify")
	if code != 0 || !strings.HasPrefix(out, "ok") {
		t.Fatalf("verify: exit %d\n%s\n%s", code, out, errOut)
	}
	csvOut, _, code := run(nil, "revenue", "report", "--period", "2024-05", "--format", "csv")
	recs, err := csv.NewReader(strings.NewReader(csvOut)).ReadAll()
	if code != 0 || err != nil || len(recs) != 2002 || recs[0][3] != "creator_id" || recs[2001][0] != "total" {
		t.Fatalf("csv report: exit %d, %v, %d records", code, err, len(recs))
	}
	jsonOut, _, code := run(nil, "revenue", "report", "--period", "2024-05", "--format", "json")
	var rep struct {
		Period struct {
			Pool int64 `json:"pool_minor"`
		} `json:"period"`
		Payouts []struct {
			Amount int64 `json:"amount_minor"`
		} `json:"payouts"`
	}
	if code != 0 || json.Unmarshal([]byte(jsonOut), &rep) != nil || len(rep.Payouts) != 2000 {
		t.Fatalf("json report: exit %d\n%.300s", code, jsonOut)
	}
	var sum int64
	for _, p := range rep.Payouts {
		sum += p.Amount
	}
	if sum != rep.Period.Pool || sum == 0 {
		t.Fatalf("json payouts sum %d, E %d", sum, rep.Period.Pool)
	}
	// verify exits non-zero when an invariant fails (tampering with triggers off).
	exec1(`ALTER TABLE revenue_periods DISABLE TRIGGER USER`)
	exec1(`UPDATE revenue_periods SET platform_minor = platform_minor + 1`)
	_, errOut, code = run(nil, "revenue", "verify")
	if code != 1 || !strings.Contains(errOut, "FAIL 2024-05") {
		t.Fatalf("verify after tampering: exit %d\n%s", code, errOut)
	}
	// --enqueue queues the River job (once) instead of running here.
	out, errOut, code = run(nil, "revenue", "calculate", "--period", "2024-05", "--enqueue")
	if code != 0 || !strings.HasPrefix(out, "queued job") {
		t.Fatalf("enqueue: exit %d\n%s\n%s", code, out, errOut)
	}
	if out, _, _ = run(nil, "revenue", "calculate", "--period", "2024-05", "--enqueue"); !strings.Contains(out, "already queued") {
		t.Fatalf("second enqueue: %s", out)
	}
	if n := count(`SELECT count(*) FROM river_job WHERE kind = 'revenue.calculate' AND args->>'period' = '2024-05'`); n != 1 {
		t.Fatalf("%d queued jobs", n)
	}
	// Usage errors exit 2.
	if _, _, code := run(nil, "revenue", "calculate"); code != 2 {
		t.Fatalf("missing --period: exit %d", code)
	}
}
