package web

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/ucc-video/ucc/internal/accounts"
	"github.com/ucc-video/ucc/static"
	"github.com/ucc-video/ucc/storage/postgres"
	"github.com/ucc-video/ucc/storage/postgres/pgtest"
	uccredis "github.com/ucc-video/ucc/storage/redis"
	"github.com/ucc-video/ucc/storage/redis/redistest"
	"github.com/ucc-video/ucc/templates"
)

// TestMain runs the tests with gin in release mode, as cmd/ucc sets it.
func TestMain(m *testing.M) {
	gin.SetMode(gin.ReleaseMode)
	os.Exit(m.Run())
}

// testServer is a real Server on a fresh database and Redis prefix, behind
// an httptest server. Feature tests extend deps before calling start.
type testServer struct {
	t      *testing.T
	db     *postgres.DB
	prefix string
	deps   Deps
	cfg    Config
	srv    *Server
	http   *httptest.Server
}

func newTestServer(t *testing.T) *testServer {
	t.Helper()
	db := pgtest.DB(t)
	rdb, prefix := redistest.Client(t)
	acfg := accounts.DefaultConfig()
	acfg.PasswordParams = accounts.FastPasswordParams()
	acfg.LoginLimit = 5
	acfg.SignupLimit = 0 // off: tests sign up freely; TestSignupRateLimitPerIP turns it on
	acc := accounts.NewService(postgres.NewUsers(db), uccredis.NewLimiter(rdb, prefix, "login"), acfg, time.Now)
	ts := &testServer{t: t, db: db, prefix: prefix}
	ts.cfg = Config{BaseURL: "http://ucc.test", SecretKey: []byte("0123456789abcdef0123456789abcdef"), Version: "test"}
	ts.deps = Deps{
		Log:       slog.New(slog.NewTextHandler(io.Discard, nil)),
		Accounts:  acc,
		Registry:  prometheus.NewRegistry(),
		Templates: templates.FS,
		Static:    static.FS,
		ReadyChecks: []ReadyCheck{
			{Name: "postgres", Check: db.Ping},
			{Name: "redis", Check: func(ctx context.Context) error { return rdb.Ping(ctx).Err() }},
		},
	}
	return ts
}

// start builds the Server from deps and cfg.
func (ts *testServer) start() *testServer {
	ts.t.Helper()
	s, err := New(ts.cfg, ts.deps)
	if err != nil {
		ts.t.Fatal(err)
	}
	ts.srv = s
	ts.http = httptest.NewServer(s)
	ts.t.Cleanup(ts.http.Close)
	return ts
}

// response is a finished request with its body read.
type response struct {
	*http.Response
	Body []byte
}

// JSON decodes the body into v, failing the test on error.
func (r response) JSON(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
}

// do sends a request; body may be nil, a string, []byte or a value to encode as JSON.
// headers alternate name, value.
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
func wantStatus(t *testing.T, r response, want int) {
	t.Helper()
	if r.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d; body: %s", r.Request.Method, r.Request.URL.Path, r.StatusCode, want, r.Body)
	}
}
