package systemtest

import (
	"context"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ucc-video/ucc/internal/testenv"
	"github.com/ucc-video/ucc/storage/postgres/pgtest"
	"github.com/ucc-video/ucc/storage/redis/redistest"
)

// TestViewCountingSurvivesSIGKILL runs `ucc serve` as a child process,
// fires thousands of view reports from concurrent clients while killing the
// process with SIGKILL at random moments and restarting it, then stops it
// cleanly and checks that PostgreSQL holds exactly as many views as reports
// were answered "counted": true.
func TestViewCountingSurvivesSIGKILL(t *testing.T) {
	systemTest(t)
	const (
		reports = 3000
		clients = 24
		kills   = 3
	)
	dbURL := pgtest.URL(t)
	rdb, prefix := redistest.Client(t)
	redisURL := testenv.RedisURL(t)
	ctx := context.Background()

	// One creator, channel and ready public video.
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	const pub = "crashtest01"
	if _, err := conn.Exec(ctx, `WITH u AS (INSERT INTO users (email, display_name, password_hash, role)
			VALUES ('creator@example.com', 'C', 'x', 'creator') RETURNING id),
		c AS (INSERT INTO channels (owner_id, handle, name) SELECT id, 'creator', 'C' FROM u RETURNING id, owner_id)
		INSERT INTO videos (public_id, channel_id, creator_id, title, visibility, status, duration_seconds)
		SELECT $1, c.id, c.owner_id, 'Crash', 'public', 'ready', 600 FROM c`, pub); err != nil {
		t.Fatal(err)
	}

	u := testenv.NewUCC(t, testenv.ServeConfig{Env: map[string]string{
		"UCC_DATABASE_URL": dbURL, "UCC_DATABASE_MAX_CONNS": "10", "UCC_MIGRATE_ON_START": "false",
		"UCC_REDIS_URL": redisURL, "UCC_REDIS_PREFIX": prefix,
		"UCC_STORAGE": "fs", "UCC_STORAGE_DIR": t.TempDir(),
		"UCC_SECRET_KEY":     "crash-test-secret-0123456789abcdef",
		"UCC_VIEW_MIN_WATCH": "0s", "UCC_VIEW_FLUSH_INTERVAL": "200ms", "UCC_VIEW_IP_HOURLY_CAP": "0", "UCC_VIEW_DEDUP_WINDOW": "1h",
		"UCC_VIEW_NET_VIDEO_HOURLY_CAP": "0", "UCC_VIEW_NET_CREATOR_HOURLY_CAP": "0", "UCC_VIEW_ANON_MINT_HOURLY_CAP": "0", "UCC_VIEW_CREATOR_NETWORK_TTL": "0s",
		"UCC_LOG_LEVEL": "warn", "UCC_LOG_FORMAT": "text", "UCC_SHUTDOWN_TIMEOUT": "15s", "UCC_WORKERS": "1",
	}})
	u.Start()

	client := testenv.NewClient(u.Base)
	client.HTTP = &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	do := func(method, path, viewer string, body any) (int, []byte, http.Header, error) {
		var hdr []string
		if viewer != "" {
			hdr = []string{"X-UCC-Viewer", viewer}
		}
		r, err := client.Do(method, path, body, hdr...)
		return r.Status, r.Body, r.Header, err
	}

	var counted, answered, retries atomic.Int64
	jobs := make(chan int)
	var wg sync.WaitGroup
	deadline := time.Now().Add(45 * time.Second)
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range jobs {
				var viewer, token string
				for token == "" { // a viewer id and a play token
					st, b, h, err := do("GET", "/api/v1/videos/"+pub+"/play", "", nil)
					if err != nil || st != 200 {
						retries.Add(1)
						time.Sleep(20 * time.Millisecond)
						continue
					}
					g, err := testenv.DecodePlay(b)
					if err != nil || h.Get("X-UCC-Viewer") == "" {
						t.Errorf("play answer %s", b)
						return
					}
					viewer, token = h.Get("X-UCC-Viewer"), g.Token
				}
				for { // report until a definite answer; a lost answer is retried with the same token
					if time.Now().After(deadline) {
						t.Error("reports did not finish in time")
						return
					}
					st, b, _, err := do("POST", "/api/v1/videos/"+pub+"/views", viewer, map[string]string{"play_token": token})
					if err != nil || st == http.StatusServiceUnavailable {
						retries.Add(1)
						time.Sleep(20 * time.Millisecond)
						continue
					}
					res, err := testenv.DecodeViewResult(b)
					if st != 200 || err != nil {
						t.Errorf("report answer %d %s", st, b)
						return
					}
					answered.Add(1)
					if res.Counted {
						counted.Add(1)
					} else {
						t.Errorf("distinct viewer not counted: %s", b)
					}
					break
				}
			}
		}()
	}
	go func() {
		for i := 0; i < reports; i++ {
			jobs <- i
		}
		close(jobs)
	}()

	// Kill the server at random moments while reports and flushes run.
	for k := 0; k < kills; k++ {
		time.Sleep(time.Duration(150+rand.IntN(500)) * time.Millisecond)
		u.Kill()
		t.Logf("kill %d after %d answers", k+1, answered.Load())
		u.Start()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	// Clean stop: SIGTERM, final flush.
	u.Stop()

	var total, daily, flushed int64
	if err := conn.QueryRow(ctx, `SELECT views FROM videos WHERE public_id = $1`, pub).Scan(&total); err != nil {
		t.Fatal(err)
	}
	if err := conn.QueryRow(ctx, `SELECT coalesce(sum(views), 0) FROM video_views_daily`).Scan(&daily); err != nil {
		t.Fatal(err)
	}
	if err := conn.QueryRow(ctx, `SELECT coalesce(sum(views), 0) FROM view_flushes`).Scan(&flushed); err != nil {
		t.Fatal(err)
	}
	keys, err := rdb.Keys(ctx, prefix+":{views}:[pf]*").Result()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d reports, %d counted, %d retries; PostgreSQL total %d, daily %d, flushes %d; Redis leftovers %v",
		answered.Load(), counted.Load(), retries.Load(), total, daily, flushed, keys)
	if answered.Load() != reports {
		t.Fatalf("answered %d reports, want %d", answered.Load(), reports)
	}
	if total != counted.Load() || daily != counted.Load() || flushed != counted.Load() {
		t.Fatalf("PostgreSQL total %d, daily %d, flushed %d; want exactly the %d counted answers", total, daily, flushed, counted.Load())
	}
	if len(keys) != 0 {
		t.Fatalf("pending view keys left in Redis after a clean stop: %v", keys)
	}
	if retries.Load() == 0 {
		t.Fatal("no request ever failed: the kills did not land while reports were running")
	}
}
