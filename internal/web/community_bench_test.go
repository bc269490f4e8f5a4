package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ucc-video/ucc/internal/accounts"
)

// BenchmarkWatchPage1000Comments renders the watch page of a video with
// 1,000 comments (500 top-level, 500 replies) in-process; compare its
// req/s with BenchmarkBareGin from the same run (`make bench`).
func BenchmarkWatchPage1000Comments(b *testing.B) {
	ts := newTestServer(b)
	ctx := context.Background()
	u, err := ts.deps.Accounts.Signup(ctx, "creator@example.com", "correct horse battery", "Creator", accounts.RoleCreator)
	if err != nil {
		b.Fatal(err)
	}
	var ch, vid int64
	if err := ts.db.Pool.QueryRow(ctx, `INSERT INTO channels (owner_id, handle, name) VALUES ($1, 'bench', 'Bench') RETURNING id`, u.ID).Scan(&ch); err != nil {
		b.Fatal(err)
	}
	if err := ts.db.Pool.QueryRow(ctx, `INSERT INTO videos (public_id, channel_id, creator_id, title, status, published_at)
		VALUES ('benchvideo1', $1, $2, 'Bench', 'ready', now()) RETURNING id`, ch, u.ID).Scan(&vid); err != nil {
		b.Fatal(err)
	}
	seedComments(b, ts, vid, u.ID, 1000)
	runHandlerBench(b, ts.srv, "/watch/benchvideo1")
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
