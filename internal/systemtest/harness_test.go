package systemtest

// What the system tests share on top of internal/testenv: the serve
// configuration they run with, a fresh database, Redis prefix and MinIO
// bucket per test, the test clips, polling a video's status, the orphan
// sweep, and the check that object storage holds nothing the database does
// not reference.

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ucc-video/ucc/internal/testenv"
	"github.com/ucc-video/ucc/internal/videos"
	"github.com/ucc-video/ucc/internal/views"
	"github.com/ucc-video/ucc/storage/postgres"
	"github.com/ucc-video/ucc/storage/postgres/pgtest"
	uccredis "github.com/ucc-video/ucc/storage/redis"
	"github.com/ucc-video/ucc/storage/redis/redistest"
	"github.com/ucc-video/ucc/storage/s3"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// systemTest marks t as a system test: skipped with -short (it builds and
// runs the ucc binary), and run in parallel with the others (each has its
// own database, Redis prefix, bucket and port).
func systemTest(t *testing.T) {
	if testing.Short() {
		t.Skip("system test: builds and runs the ucc binary; skipped with -short")
	}
	t.Parallel()
}

// The clips the upload tests send, made once per test binary.
var (
	// smallClip is a 2 s 320x240 MP4 with sound (~60 KB).
	smallClip = testenv.Clip{Name: "small.mp4", Size: "320x240", Rate: 25, Seconds: 2, Tone: 440}
	// bigClip is a 12 MiB raw-video AVI (transcodes in well under a
	// second): 110 frames of 320x240 yuv420p, more than one 8 MiB tus part.
	bigClip = testenv.Clip{Name: "big.avi", Size: "320x240", Rate: 25, Frames: 110, Raw: true}
	// longClip is a 10 s 640x360 MP4 with sound (transcodes in a few seconds).
	longClip = testenv.Clip{Name: "long.mp4", Size: "640x360", Rate: 30, Seconds: 10, Tone: 220}
)

// serveDefaults is the configuration every system test's ucc serve starts
// from: short view timings, no per-IP limits (every simulated user comes
// from 127.0.0.1), one worker.
func serveDefaults() map[string]string {
	return map[string]string{
		"UCC_MIGRATE_ON_START": "false", "UCC_SECRET_KEY": "fault-test-secret-0123456789abcdef",
		"UCC_LOG_FORMAT": "text", "UCC_LOG_LEVEL": "warn",
		"UCC_SHUTDOWN_TIMEOUT": "10s", "UCC_WORKERS": "1", "UCC_DATABASE_MAX_CONNS": "10",
		"UCC_VIEW_MIN_WATCH": "0s", "UCC_VIEW_IP_HOURLY_CAP": "0", "UCC_VIEW_FLUSH_INTERVAL": "300ms",
		// Every client is 127.0.0.1, creators included: the per-network
		// view limits and the self-view rule are off (docs/security.md).
		"UCC_VIEW_NET_VIDEO_HOURLY_CAP": "0", "UCC_VIEW_NET_CREATOR_HOURLY_CAP": "0", "UCC_VIEW_ANON_MINT_HOURLY_CAP": "0", "UCC_VIEW_CREATOR_NETWORK_TTL": "0s",
		"UCC_SIGNUP_RATE_LIMIT": "0", "UCC_SEARCH_RATE_LIMIT": "0", "UCC_LIST_RATE_LIMIT": "0",
	}
}

// newUCC prepares a `ucc serve` process (role all) on a free loopback
// port; env adds to (and overrides) serveDefaults.
func newUCC(t *testing.T, env map[string]string) *testenv.UCC {
	t.Helper()
	return newRoleUCC(t, "all", env)
}

// newRoleUCC is newUCC for `ucc serve --role role`.
func newRoleUCC(t *testing.T, role string, env map[string]string) *testenv.UCC {
	t.Helper()
	return testenv.NewUCC(t, testenv.ServeConfig{Role: role, Env: mergeEnv(serveDefaults(), env)})
}

// mergeEnv returns the variables of every map, later ones winning.
func mergeEnv(maps ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range maps {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

// sysEnv is a fresh database, Redis prefix and MinIO bucket for one test.
type sysEnv struct {
	DBURL  string
	DB     *pgxpool.Pool
	Prefix string
	Bucket *bucket
}

func newSysEnv(t *testing.T) *sysEnv {
	t.Helper()
	b := newBucket(t)
	_, prefix := redistest.Client(t)
	url := pgtest.URL(t)
	db, err := pgxpool.New(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	return &sysEnv{DBURL: url, DB: db, Prefix: prefix, Bucket: b}
}

// serveEnv is the serve configuration for this environment, with objects
// stored through s3Endpoint (MinIO, or a proxy in front of it) and extra
// variables added.
func (e *sysEnv) serveEnv(t *testing.T, s3Endpoint string, extra map[string]string) map[string]string {
	env := e.Bucket.S3.ServeEnv(e.Bucket.Name)
	env["UCC_S3_ENDPOINT"] = s3Endpoint
	env["UCC_DATABASE_URL"] = e.DBURL
	env["UCC_REDIS_URL"] = testenv.RedisURL(t)
	env["UCC_REDIS_PREFIX"] = e.Prefix
	return mergeEnv(env, extra)
}

func (e *sysEnv) count(t testing.TB, sql string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := e.DB.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

// sweep runs the videos orphan sweep as its River job would, with a clock
// moved past the sweep's grace period, and returns what it removed.
func (e *sysEnv) sweep(t testing.TB) int {
	t.Helper()
	ctx := context.Background()
	db, err := postgres.Open(ctx, e.DBURL, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rdb, err := uccredis.Open(ctx, testenv.RedisURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer rdb.Close()
	vstore := postgres.NewViews(db)
	counts := views.NewService(views.Config{}, vstore, uccredis.NewViewCounter(rdb, e.Prefix, time.Second), vstore, nil, time.Now)
	later := func() time.Time { return time.Now().Add(videos.SweepGrace + time.Hour) }
	svc, err := videos.NewService(videos.Config{Store: postgres.NewVideos(db), Objects: e.Bucket.Store, Views: counts,
		MaxUploadBytes: 1 << 30, Now: later})
	if err != nil {
		t.Fatal(err)
	}
	n, err := svc.SweepOrphans(ctx)
	if err != nil {
		t.Fatalf("orphan sweep: %v", err)
	}
	return n
}

// bucket is a fresh MinIO bucket for one test, emptied and removed at the end.
type bucket struct {
	Name  string
	S3    testenv.S3
	Store *s3.Store
}

func newBucket(t testing.TB) *bucket {
	t.Helper()
	srv, name := testenv.Bucket(t, "ucc-fault-")
	st, err := s3.New(context.Background(), s3.Config{Endpoint: srv.Endpoint, Region: srv.Region, Bucket: name,
		AccessKey: srv.AccessKey, SecretKey: srv.SecretKey, PathStyle: true})
	if err != nil {
		t.Fatal(err)
	}
	return &bucket{Name: name, S3: srv, Store: st}
}

// orphanReport is what checkNoOrphans found.
type orphanReport struct {
	Objects    int // objects in the bucket, all referenced
	Multiparts int // incomplete multipart uploads, all of open upload sessions
}

// checkNoOrphans lists the bucket and its incomplete multipart uploads and
// fails the test for any that no database row references: video originals,
// renditions and thumbnails, channel images, tus tails and open tus uploads.
func checkNoOrphans(t testing.TB, ctx context.Context, b *bucket, db *pgxpool.Pool) orphanReport {
	t.Helper()
	refs := queryKeys(t, ctx, db, `
		SELECT original_key FROM videos WHERE original_key IS NOT NULL
		UNION ALL SELECT thumbnail_key FROM videos WHERE thumbnail_key IS NOT NULL
		UNION ALL SELECT object_key FROM renditions
		UNION ALL SELECT avatar_key FROM channels WHERE avatar_key IS NOT NULL
		UNION ALL SELECT banner_key FROM channels WHERE banner_key IS NOT NULL
		UNION ALL SELECT tail_key FROM upload_sessions WHERE tail_key <> ''`)
	open := queryKeys(t, ctx, db, `SELECT object_key FROM upload_sessions WHERE upload_offset < upload_length`)
	list, err := b.Store.List(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	var orphans []string
	for _, o := range list {
		if !refs[o.Key] {
			orphans = append(orphans, o.Key)
		}
	}
	mps, err := b.Store.Multipart().OpenUploads(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range mps {
		if !open[k] {
			orphans = append(orphans, "incomplete multipart upload of "+k)
		}
	}
	if len(orphans) > 0 {
		slices.Sort(orphans)
		t.Errorf("object storage holds %d things no row references: %v", len(orphans), orphans)
	}
	return orphanReport{Objects: len(list), Multiparts: len(mps)}
}

// queryKeys runs sql, which selects one text column, and returns the set
// of its values.
func queryKeys(t testing.TB, ctx context.Context, db *pgxpool.Pool, sql string) map[string]bool {
	t.Helper()
	rows, err := db.Query(ctx, sql)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	set := make(map[string]bool, len(keys))
	for _, k := range keys {
		set[k] = true
	}
	return set
}

// waitStatus polls the video until its status is want (failing on "failed")
// and returns how long it took.
func waitStatus(t testing.TB, ctx context.Context, db *pgxpool.Pool, publicID, want string, timeout time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		var status, reason string
		if err := db.QueryRow(ctx, `SELECT status, failure_reason FROM videos WHERE public_id = $1`, publicID).Scan(&status, &reason); err != nil {
			t.Fatalf("video %s: %v", publicID, err)
		}
		if status == want {
			return time.Since(start)
		}
		if status == "failed" {
			t.Fatalf("video %s failed: %s", publicID, reason)
		}
		if time.Since(start) > timeout {
			t.Fatalf("video %s still %s after %v, want %s", publicID, status, timeout, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// errBodyLeak reports an answer body that shows internals a person should
// never see (a stack trace, a Go panic, a raw driver error).
func errBodyLeak(body []byte) error {
	for _, s := range []string{"goroutine ", "panic:", ".go:", "runtime error", "pgconn", "SQLSTATE", "dial tcp", "redis:", "connection refused"} {
		if bytes.Contains(body, []byte(s)) {
			return errors.New("the answer shows internals (" + s + ")")
		}
	}
	return nil
}
