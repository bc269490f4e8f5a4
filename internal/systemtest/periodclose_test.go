package systemtest

import (
	"context"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ucc-video/ucc/internal/revenue"
	"github.com/ucc-video/ucc/internal/testenv"
	"github.com/ucc-video/ucc/internal/views"
	"github.com/ucc-video/ucc/storage/postgres"
	"github.com/ucc-video/ucc/storage/postgres/pgtest"
	uccredis "github.com/ucc-video/ucc/storage/redis"
	"github.com/ucc-video/ucc/storage/redis/redistest"
)

// TestRevenueCLIPeriodClose is issue 21's period close through the CLI on
// real PostgreSQL and Redis: `ucc revenue calculate` refuses while views of
// the month's last day are still in Redis (on main it calculated without
// them), succeeds once they are flushed, and `ucc revenue verify` fails when
// an approved period's buckets changed without a late-view record (on main
// it said ok).
func TestRevenueCLIPeriodClose(t *testing.T) {
	systemTest(t)
	ctx := context.Background()
	url := pgtest.URL(t)
	db, err := postgres.Open(ctx, url, 4)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rdb, prefix := redistest.Client(t)
	var creator, video int64
	if err := db.Pool.QueryRow(ctx, `INSERT INTO users (email, display_name, password_hash, role)
		VALUES ('c@example.com', 'C', 'x', 'creator') RETURNING id`).Scan(&creator); err != nil {
		t.Fatal(err)
	}
	if err := db.Pool.QueryRow(ctx, `WITH ch AS (INSERT INTO channels (owner_id, handle, name) VALUES ($1, 'closer', 'C') RETURNING id)
		INSERT INTO videos (public_id, channel_id, creator_id, title, visibility, status, duration_seconds)
		SELECT 'closevideo1', ch.id, $1, 'T', 'public', 'ready', 300 FROM ch RETURNING id`, creator).Scan(&video); err != nil {
		t.Fatal(err)
	}
	counter := uccredis.NewViewCounter(rdb, prefix, time.Second)
	store := postgres.NewViews(db)
	flusher := views.NewFlusher(counter, store, nil, slog.New(slog.NewTextHandler(io.Discard, nil)), time.Second, nil)
	lastDay := time.Date(2024, 5, 31, 23, 59, 0, 0, time.UTC)
	for i := range 3 {
		if _, err := counter.Count(ctx, views.Hit{VideoID: video, CreatorID: creator, Viewer: "a:v" + string(rune('a'+i)),
			TokenID: []byte{byte(i)}, Now: lastDay, Window: time.Hour}); err != nil {
			t.Fatal(err)
		}
	}
	svc := revenue.NewService(postgres.NewRevenue(db), func() time.Time { return time.Date(2024, 6, 2, 0, 0, 0, 0, time.UTC) })
	rev, thr := int64(100000), int64(0)
	if _, err := svc.CreatePeriod(ctx, revenue.Actor{Name: "test"}, revenue.NewPeriod{Period: "2024-05", Revenue: &rev, Currency: "USD", Threshold: &thr}); err != nil {
		t.Fatal(err)
	}
	bin := testenv.UCCBinary(t)
	env := append(testenv.WithoutPrefix(os.Environ(), "UCC_"), "UCC_DATABASE_URL="+url, "UCC_LOG_FORMAT=text",
		"UCC_REDIS_URL="+testenv.RedisURL(t), "UCC_REDIS_PREFIX="+prefix, "UCC_DEFAULT_LANGUAGE=en")
	run := func(args ...string) testenv.RunResult {
		t.Helper()
		return testenv.RunUCC(t, bin, env, nil, args...)
	}

	res := run("revenue", "calculate", "--period", "2024-05")
	if res.Code == 0 || !strings.Contains(res.Stderr, "3 views dated in 2024-05 are still in Redis") {
		t.Fatalf("calculate with views pending: exit %d\n%s\n%s", res.Code, res.Stdout, res.Stderr)
	}
	if _, err := flusher.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	res = run("revenue", "calculate", "--period", "2024-05")
	if res.Code != 0 || !strings.Contains(res.Stdout, "V=3,") {
		t.Fatalf("calculate after the flush: exit %d\n%s\n%s", res.Code, res.Stdout, res.Stderr)
	}
	if _, err := svc.Approve(ctx, revenue.Actor{Name: "test"}, "2024-05"); err != nil {
		t.Fatal(err)
	}
	if res = run("revenue", "verify"); res.Code != 0 {
		t.Fatalf("verify: exit %d\n%s\n%s", res.Code, res.Stdout, res.Stderr)
	}
	if _, err := db.Pool.Exec(ctx, `UPDATE video_views_daily SET views = views + 50000 WHERE video_id = $1`, video); err != nil {
		t.Fatal(err)
	}
	res = run("revenue", "verify")
	if res.Code != 1 || !strings.Contains(res.Stderr, "FAIL 2024-05: creator") || !strings.Contains(res.Stderr, "the daily buckets hold 50003") {
		t.Fatalf("verify after a silent bucket change: exit %d\n%s\n%s", res.Code, res.Stdout, res.Stderr)
	}
}
