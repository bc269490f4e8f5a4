package web

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/ucc-video/ucc/internal/accounts"
	"github.com/ucc-video/ucc/internal/community"
	"github.com/ucc-video/ucc/internal/videos"
	"github.com/ucc-video/ucc/static"
	"github.com/ucc-video/ucc/storage/fs"
	"github.com/ucc-video/ucc/storage/postgres"
	"github.com/ucc-video/ucc/storage/postgres/pgtest"
	uccredis "github.com/ucc-video/ucc/storage/redis"
	"github.com/ucc-video/ucc/storage/redis/redistest"
	"github.com/ucc-video/ucc/templates"
)

// BenchmarkWatchPage1000Comments renders the watch page of a video with
// 1,000 comments (500 top-level, 500 replies) in-process; compare its
// req/s with BenchmarkBareGin from the same run (`make bench`).
func BenchmarkWatchPage1000Comments(b *testing.B) {
	db := pgtest.DB(b)
	rdb, prefix := redistest.Client(b)
	st, err := fs.New(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	acfg := accounts.DefaultConfig()
	acfg.PasswordParams = accounts.FastPasswordParams()
	users := postgres.NewUsers(db)
	acc := accounts.NewService(users, uccredis.NewLimiter(rdb, prefix, "login"), acfg, time.Now)
	vs := videos.NewService(postgres.NewVideos(db), videos.NewMedia(st, time.Hour), nil)
	srv, err := New(Config{BaseURL: "http://ucc.test", SecretKey: []byte("0123456789abcdef0123456789abcdef")}, Deps{
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Accounts: acc, Videos: vs,
		Community: community.NewService(postgres.NewCommunity(db), vs, uccredis.NewLimiter(rdb, prefix, "comment"), community.DefaultConfig(), nil),
		Registry:  prometheus.NewRegistry(), Templates: templates.FS, Static: static.FS,
	})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	u, err := acc.Signup(ctx, "creator@example.com", "correct horse battery", "Creator", accounts.RoleCreator)
	if err != nil {
		b.Fatal(err)
	}
	var ch, vid int64
	if err := db.Pool.QueryRow(ctx, `INSERT INTO channels (owner_id, handle, name) VALUES ($1, 'bench', 'Bench') RETURNING id`, u.ID).Scan(&ch); err != nil {
		b.Fatal(err)
	}
	if err := db.Pool.QueryRow(ctx, `INSERT INTO videos (public_id, channel_id, creator_id, title, status, published_at)
		VALUES ('benchvideo1', $1, $2, 'Bench', 'ready', now()) RETURNING id`, ch, u.ID).Scan(&vid); err != nil {
		b.Fatal(err)
	}
	seedComments(b, &testServer{db: db}, vid, u.ID, 1000)
	runHandlerBench(b, srv, "/watch/benchvideo1")
}

// BenchmarkBareGin is the baseline: a gin engine answering a fixed string.
func BenchmarkBareGin(b *testing.B) {
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	e.GET("/", func(c *gin.Context) { c.String(http.StatusOK, "ok") })
	runHandlerBench(b, e, "/")
}

func runHandlerBench(b *testing.B, h http.Handler, path string) {
	b.Helper()
	req := httptest.NewRequest("GET", path, nil)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d", w.Code)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
}
