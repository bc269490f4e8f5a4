package web

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/minio/minio-go/v7"
	"github.com/prometheus/client_golang/prometheus"
	goredis "github.com/redis/go-redis/v9"

	"github.com/ucc-video/ucc/internal/accounts"
	"github.com/ucc-video/ucc/internal/community"
	"github.com/ucc-video/ucc/internal/i18n"
	"github.com/ucc-video/ucc/internal/objects"
	"github.com/ucc-video/ucc/internal/revenue"
	"github.com/ucc-video/ucc/internal/testenv"
	"github.com/ucc-video/ucc/internal/uploads"
	"github.com/ucc-video/ucc/internal/videos"
	"github.com/ucc-video/ucc/internal/views"
	"github.com/ucc-video/ucc/static"
	"github.com/ucc-video/ucc/storage/fs"
	"github.com/ucc-video/ucc/storage/postgres"
	"github.com/ucc-video/ucc/storage/postgres/pgtest"
	uccredis "github.com/ucc-video/ucc/storage/redis"
	"github.com/ucc-video/ucc/storage/redis/redistest"
	"github.com/ucc-video/ucc/storage/s3"
	"github.com/ucc-video/ucc/templates"
)

// The test rig: the whole application, wired as `ucc serve` wires it, for
// handler tests. newTestServer builds it on a fresh PostgreSQL database, a
// fresh Redis key prefix and object storage of its own (the fs driver in a
// temporary directory, or a fresh MinIO bucket), with every service:
// accounts, videos, community, tus uploads, view counting and revenue.
// Options change what a test needs changed (the clock, limits, the storage
// driver, the web configuration); nothing is left out.

// TestMain runs the tests with gin in release mode, as `ucc serve` sets
// it, then says how many answers the rig validated against openapi.yaml.
func TestMain(m *testing.M) {
	gin.SetMode(gin.ReleaseMode)
	code := m.Run()
	if theContract != nil {
		n, spent, ops, reached, unreached := theContract.report()
		fmt.Printf("openapi: %d answers validated against openapi.yaml (%.1fs of validation); %d of %d operations reached\n",
			n, spent.Seconds(), reached, ops)
		if testing.Verbose() && len(unreached) > 0 {
			fmt.Printf("openapi: not reached by any test: %s\n", strings.Join(unreached, ", "))
		}
	}
	os.Exit(code)
}

// testSecret is the rig's server key (signs sessions' CSRF tokens, play
// tokens, viewer ids and notices).
const testSecret = "0123456789abcdef0123456789abcdef"

// testMetricsToken is the rig's metrics token (GET /metrics, /readyz's errors).
const testMetricsToken = "rig-metrics-token"

// testServer is the running rig.
type testServer struct {
	t       testing.TB
	db      *postgres.DB
	rdb     goredis.UniversalClient
	prefix  string
	objs    objects.Store
	dataDir string    // the fs driver's directory ("" on s3)
	fsStore *fs.Store // the fs driver's store (nil on s3)
	// openUploads lists the multipart uploads still holding parts (tus leftovers).
	openUploads func() []string
	clock       *testClock
	cfg         Config
	deps        Deps
	videoCfg    videos.Config
	fin         *recordingFinisher // set by withRecordingFinisher
	flusher     *views.Flusher     // the view flusher (not running; tests call Flush)
	srv         *Server
	http        *httptest.Server
	patchEnd    chan struct{} // set by withPatchSignal: a value each time a PATCH handler returns
}

// rigSettings are what the options change.
type rigSettings struct {
	base        func() time.Time
	s3          bool
	web         []func(*Config)
	accounts    []func(*accounts.Config)
	community   community.Config
	commStore   func(community.Store) community.Store
	queryTO     time.Duration
	videos      []func(*videos.Config)
	uploads     []func(*uploads.Config)
	recording   bool
	rdb         goredis.UniversalClient
	redisPrefix string
	readyChecks []ReadyCheck
	patchSignal bool
	logs        io.Writer
	views       []func(*views.Config)
}

// rigOption changes one thing of the rig.
type rigOption func(*rigSettings)

// withClock makes now the clock of every service and of the pages.
func withClock(now func() time.Time) rigOption { return func(s *rigSettings) { s.base = now } }

// withViews changes the view counting rules (the rig's default: minimum
// watch 0, a one-hour dedup window, no per-network limits).
func withViews(f func(*views.Config)) rigOption {
	return func(s *rigSettings) { s.views = append(s.views, f) }
}

// withS3 keeps objects in a fresh MinIO bucket instead of the fs driver.
func withS3() rigOption { return func(s *rigSettings) { s.s3 = true } }

// withWeb changes the web configuration.
func withWeb(f func(*Config)) rigOption { return func(s *rigSettings) { s.web = append(s.web, f) } }

// withAccounts changes the accounts configuration.
func withAccounts(f func(*accounts.Config)) rigOption {
	return func(s *rigSettings) { s.accounts = append(s.accounts, f) }
}

// withCommunity replaces the community configuration.
func withCommunity(c community.Config) rigOption { return func(s *rigSettings) { s.community = c } }

// withCommunityStore wraps the community service's PostgreSQL store (a
// test holds one of its calls, or counts them).
func withCommunityStore(wrap func(community.Store) community.Store) rigOption {
	return func(s *rigSettings) { s.commStore = wrap }
}

// withQueryTimeout sets the statement timeout of list and search queries.
func withQueryTimeout(d time.Duration) rigOption { return func(s *rigSettings) { s.queryTO = d } }

// withVideos changes the videos configuration (limits, quota, timeouts).
func withVideos(f func(*videos.Config)) rigOption {
	return func(s *rigSettings) { s.videos = append(s.videos, f) }
}

// withUploads changes the resumable upload configuration.
func withUploads(f func(*uploads.Config)) rigOption {
	return func(s *rigSettings) { s.uploads = append(s.uploads, f) }
}

// withRecordingFinisher hands completed tus uploads to a recordingFinisher
// (ts.fin) instead of the videos service, so protocol tests need no real
// media: files starting with videoMagic are taken, the rest refused. Who
// may upload is still decided by the videos service.
func withRecordingFinisher() rigOption { return func(s *rigSettings) { s.recording = true } }

// withRedis runs the application on rdb (a Redis that is down, say).
func withRedis(rdb goredis.UniversalClient, prefix string) rigOption {
	return func(s *rigSettings) { s.rdb, s.redisPrefix = rdb, prefix }
}

// withReadyCheck adds a /readyz check, or replaces the one of the same name.
func withReadyCheck(c ReadyCheck) rigOption {
	return func(s *rigSettings) { s.readyChecks = append(s.readyChecks, c) }
}

// withLogs writes the application's log to w (text lines) instead of
// discarding it.
func withLogs(w io.Writer) rigOption { return func(s *rigSettings) { s.logs = w } }

// withPatchSignal makes ts.patchEnd receive a value each time a PATCH
// handler returns (tus tests wait on the server's side of a request).
func withPatchSignal() rigOption { return func(s *rigSettings) { s.patchSignal = true } }

// testClock is the rig's clock: its base (time.Now unless withClock) plus
// an offset a test moves with add.
type testClock struct {
	base   func() time.Time
	offset atomic.Int64
}

func (c *testClock) now() time.Time      { return c.base().Add(time.Duration(c.offset.Load())) }
func (c *testClock) add(d time.Duration) { c.offset.Add(int64(d)) }

// newTestServer builds and starts the rig.
func newTestServer(t testing.TB, opts ...rigOption) *testServer {
	t.Helper()
	set := rigSettings{base: time.Now, community: community.Config{CommentLimit: 1000, CommentWindow: time.Minute}}
	for _, o := range opts {
		o(&set)
	}
	// The application runs as the runtime role, as ucc serve does: every
	// handler test also proves its grants are enough.
	ts := &testServer{t: t, db: pgtest.AppDB(t), clock: &testClock{base: set.base}}
	now := ts.clock.now
	logs := set.logs
	if logs == nil {
		logs = io.Discard
	}
	log := slog.New(slog.NewTextHandler(logs, nil))
	if set.rdb != nil {
		ts.rdb, ts.prefix = set.rdb, set.redisPrefix
	} else {
		ts.rdb, ts.prefix = redistest.Client(t)
	}
	parts := ts.openStorage(set.s3)
	registry := prometheus.NewRegistry()

	acfg := accounts.DefaultConfig()
	acfg.PasswordParams = accounts.FastPasswordParams()
	acfg.LoginLimit = 5
	acfg.SignupLimit = 0 // off: tests sign up freely; TestSignupRateLimitPerIP turns it on
	for _, f := range set.accounts {
		f(&acfg)
	}
	acc := accounts.NewService(postgres.NewUsers(ts.db), uccredis.NewLimiter(ts.rdb, ts.prefix, "login"), acfg, now)

	// View counting: min watch 0, so a report counts at once.
	viewStore := postgres.NewViews(ts.db)
	counter := uccredis.NewViewCounter(ts.rdb, ts.prefix, 500*time.Millisecond)
	metrics := views.NewMetrics(registry)
	vcfg := views.Config{Secret: []byte(testSecret), DedupWindow: time.Hour}
	for _, f := range set.views {
		f(&vcfg)
	}
	vw := views.NewService(vcfg, viewStore, counter, viewStore, metrics, now)
	ts.flusher = views.NewFlusher(counter, viewStore, metrics, log, time.Second, now)

	ts.videoCfg = videos.Config{Store: postgres.NewVideos(ts.db), Objects: ts.objs, Views: vw, Log: log, Now: now,
		MediaURLTTL: time.Hour, MaxUploadBytes: 50 << 20, TranscodeTimeout: 2 * time.Minute, Preset: "ultrafast", TempDir: t.TempDir()}
	if ff, err := exec.LookPath("ffmpeg"); err == nil { // tests that need it ask testenv.FFmpeg
		ts.videoCfg.FFmpeg = ff
	}
	if fp, err := exec.LookPath("ffprobe"); err == nil {
		ts.videoCfg.FFprobe = fp
	}
	for _, f := range set.videos {
		f(&ts.videoCfg)
	}
	vids, err := videos.NewService(ts.videoCfg)
	if err != nil {
		t.Fatal(err)
	}
	var commStore community.Store = postgres.NewCommunity(ts.db).WithQueryTimeout(set.queryTO)
	if set.commStore != nil {
		commStore = set.commStore(commStore)
	}
	comm := community.NewService(commStore, vids, uccredis.NewLimiter(ts.rdb, ts.prefix, "comment"), set.community, now)
	vids.OnHidden(func(id int64, publicID string) { // as cmd/ucc wires it
		comm.Evict(id)
		vw.Evict(publicID)
	})

	var fin uploads.Finisher = vids
	if set.recording {
		ts.fin = &recordingFinisher{objs: ts.objs, videos: vids}
		fin = ts.fin
	}
	ucfg := uploads.Config{MaxBytes: 1 << 30, Log: log, MaxOpen: 1000} // tests open sessions freely; TestOpenUploadSessionsCapped sets a cap
	for _, f := range set.uploads {
		f(&ucfg)
	}
	ups := uploads.NewService(postgres.NewUploads(ts.db), parts, ts.objs, fin, ucfg, now)

	// The rig's readers get English unless they ask for Korean (with
	// Accept-Language, the switcher's cookie or their saved choice), so
	// that a test's expected messages read as the Go source writes them;
	// ucc serve's default is Korean (Config.Language "").
	ts.cfg = Config{BaseURL: "http://ucc.test", SecretKey: []byte(testSecret), Version: "test", Language: i18n.English,
		MetricsToken: testMetricsToken}
	for _, f := range set.web {
		f(&ts.cfg)
	}
	checks := []ReadyCheck{
		{Name: "postgres", Check: ts.db.Ping},
		{Name: "redis", Check: func(ctx context.Context) error { return ts.rdb.Ping(ctx).Err() }},
		{Name: "storage", Check: ts.objs.Ping},
	}
	for _, c := range set.readyChecks {
		replaced := false
		for i := range checks {
			if checks[i].Name == c.Name {
				checks[i], replaced = c, true
			}
		}
		if !replaced {
			checks = append(checks, c)
		}
	}
	ts.deps = Deps{
		Log: log, Now: now, Accounts: acc, Videos: vids, Community: comm, Uploads: ups, Views: vw,
		Revenue:  revenue.NewService(postgres.NewRevenue(ts.db), now).CheckPending(vw),
		Registry: registry, ReadyChecks: checks, Templates: templates.FS, Static: static.FS,
		Requests: uccredis.NewRequestLimiter(ts.rdb, ts.prefix, "web", now),
	}
	if ts.srv, err = New(ts.cfg, ts.deps); err != nil {
		t.Fatal(err)
	}
	var h http.Handler = ts.srv
	if _, bench := t.(*testing.B); !bench { // benchmarks measure the server alone
		h = apiContract(t).handler(h, func(err error) { t.Error(err) })
	}
	if set.patchSignal {
		ts.patchEnd = make(chan struct{}, 16)
		inner := h
		h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			inner.ServeHTTP(w, r)
			if r.Method == http.MethodPatch {
				ts.patchEnd <- struct{}{}
			}
		})
	}
	ts.http = httptest.NewServer(h)
	t.Cleanup(ts.http.Close)
	return ts
}

// openStorage opens the object store (fs in a temporary directory, or a
// fresh MinIO bucket removed when the test ends) and returns its multipart
// driver for tus.
func (ts *testServer) openStorage(onS3 bool) uploads.Parts {
	t := ts.t
	if !onS3 {
		ts.dataDir = t.TempDir()
		st, err := fs.New(ts.dataDir)
		if err != nil {
			t.Fatal(err)
		}
		mp, err := st.Multipart()
		if err != nil {
			t.Fatal(err)
		}
		ts.objs, ts.fsStore = st, st
		ts.openUploads = func() []string {
			ids, err := mp.OpenUploads()
			if err != nil {
				t.Fatal(err)
			}
			return ids
		}
		return mp
	}
	srv := testenv.S3Server(t)
	var b [6]byte
	_, _ = rand.Read(b[:])
	bucket := "ucc-web-" + hex.EncodeToString(b[:])
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := s3.New(ctx, s3.Config{Endpoint: srv.Endpoint, Region: srv.Region, Bucket: bucket,
		AccessKey: srv.AccessKey, SecretKey: srv.SecretKey, PathStyle: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		c := st.Core().Client
		for oi := range c.ListObjects(ctx, bucket, minio.ListObjectsOptions{Recursive: true}) {
			if oi.Err == nil {
				_ = c.RemoveObject(ctx, bucket, oi.Key, minio.RemoveObjectOptions{})
			}
		}
		if err := c.RemoveBucketWithOptions(ctx, bucket, minio.RemoveBucketOptions{ForceDelete: true}); err != nil {
			t.Errorf("cleanup: removing bucket %s: %v", bucket, err)
		}
	})
	mp := st.Multipart()
	ts.objs = st
	ts.openUploads = func() []string {
		keys, err := mp.OpenUploads(context.Background(), "")
		if err != nil {
			t.Fatal(err)
		}
		return keys
	}
	return mp
}

// response is a finished request with its body read.
type response struct {
	*http.Response
	Body []byte
}

// JSON decodes the body into v, failing the test on error.
func (r response) JSON(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
}

// do sends a request; body may be nil, a string (a form), []byte or a value
// to encode as JSON. headers alternate name, value.
func (ts *testServer) do(method, path string, body any, headers ...string) response {
	ts.t.Helper()
	var rd io.Reader
	ctype := ""
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
		ctype = "application/x-www-form-urlencoded"
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
		ctype = "application/json"
	}
	req, err := http.NewRequest(method, ts.http.URL+path, rd)
	if err != nil {
		ts.t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Do(req)
	if err != nil {
		ts.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{res, b}
}

// user signs up a user with role and returns its bearer token and id.
func (ts *testServer) user(email string, role accounts.Role) (token string, id int64) {
	ts.t.Helper()
	ctx := context.Background()
	u, err := ts.deps.Accounts.Signup(ctx, email, "correct horse battery", "", role)
	if err != nil {
		ts.t.Fatal(err)
	}
	tok, err := ts.deps.Accounts.IssueToken(ctx, u.ID, "test")
	if err != nil {
		ts.t.Fatal(err)
	}
	return tok, u.ID
}

// bearer is the Authorization header pair for tok.
func bearer(tok string) []string { return []string{"Authorization", "Bearer " + tok} }

// wantStatus fails the test unless r has status want.
func wantStatus(t testing.TB, r response, want int) {
	t.Helper()
	if r.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d; body: %s", r.Request.Method, r.Request.URL.Path, r.StatusCode, want, r.Body)
	}
}

// sql runs a statement on the rig's database.
func (ts *testServer) sql(q string, args ...any) {
	ts.t.Helper()
	if _, err := ts.db.Pool.Exec(context.Background(), q, args...); err != nil {
		ts.t.Fatalf("%s: %v", q, err)
	}
}

// count runs a query that returns one number.
func (ts *testServer) count(sql string, args ...any) int {
	ts.t.Helper()
	var n int
	if err := ts.db.Pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		ts.t.Fatal(err)
	}
	return n
}

// keys lists the stored object keys under prefix.
func (ts *testServer) keys(prefix string) []string {
	ts.t.Helper()
	list, err := ts.objs.List(context.Background(), prefix)
	if err != nil {
		ts.t.Fatal(err)
	}
	var out []string
	for _, o := range list {
		out = append(out, o.Key)
	}
	return out
}
