package web

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	uccredis "github.com/ucc-video/ucc/storage/redis"
)

// latencies collects per-request durations to report a p99.
type latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

func (l *latencies) add(d time.Duration) { l.mu.Lock(); l.d = append(l.d, d); l.mu.Unlock() }

func (l *latencies) report(b *testing.B, elapsed time.Duration) {
	sort.Slice(l.d, func(i, j int) bool { return l.d[i] < l.d[j] })
	if len(l.d) > 0 {
		b.ReportMetric(float64(l.d[len(l.d)*99/100].Microseconds()), "p99-µs")
	}
	b.ReportMetric(float64(len(l.d))/elapsed.Seconds(), "req/s")
}

// runHTTP sends b.N requests from parallel clients; mk builds request i.
func runHTTP(b *testing.B, mk func(i int64) *http.Request) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	var n atomic.Int64
	var lat latencies
	b.SetParallelism(4)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := mk(n.Add(1))
			t0 := time.Now()
			res, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			lat.add(time.Since(t0))
			if res.StatusCode >= 300 {
				b.Errorf("status %d", res.StatusCode)
				return
			}
		}
	})
	elapsed := time.Since(start)
	b.StopTimer()
	lat.report(b, elapsed)
}

// BenchmarkBareGin204 is the baseline of the view report: a gin handler answering 204.
func BenchmarkBareGin204(b *testing.B) {
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	e.POST("/api/v1/videos/:id/views", func(c *gin.Context) { c.Status(http.StatusNoContent) })
	srv := httptest.NewServer(e)
	defer srv.Close()
	body := []byte(`{"play_token":"x"}`)
	runHTTP(b, func(int64) *http.Request {
		req, _ := http.NewRequest("POST", srv.URL+"/api/v1/videos/abcdefghijk/views", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		return req
	})
}

// BenchmarkReportView is the full view report: every request a distinct
// viewer with a valid token, through the whole middleware stack, a
// PostgreSQL lookup and the Redis script.
func BenchmarkReportView(b *testing.B) {
	ts := newTestServer(b)
	ctx := context.Background()
	var vid int64
	if err := ts.db.Pool.QueryRow(ctx, `WITH u AS (INSERT INTO users (email, display_name, password_hash) VALUES ('c@example.com', 'C', 'x') RETURNING id),
		c AS (INSERT INTO channels (owner_id, handle, name) SELECT id, 'bench', 'B' FROM u RETURNING id, owner_id)
		INSERT INTO videos (public_id, channel_id, creator_id, title, status, duration_seconds)
		SELECT 'benchvideo1', c.id, c.owner_id, 'B', 'ready', 600 FROM c RETURNING id`).Scan(&vid); err != nil {
		b.Fatal(err)
	}
	counter := uccredis.NewViewCounter(ts.rdb, ts.prefix, time.Second)
	srv := ts.http
	svc := ts.deps.Views
	signer := svc.Signer()
	issued := time.Now().Add(-time.Minute)
	var counted atomic.Int64
	runHTTP(b, func(i int64) *http.Request {
		signed := signer.NewAnonymousID()
		id := "a:" + signer.VerifyAnonymousID(signed)
		body := []byte(`{"play_token":"` + signer.Issue(vid, id, issued) + `"}`)
		req, _ := http.NewRequest("POST", srv.URL+"/api/v1/videos/benchvideo1/views", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-UCC-Viewer", signed)
		req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0")
		req.Header.Set("X-Forwarded-For", "10.0.0."+strconv.FormatInt(i%250, 10))
		counted.Add(1)
		return req
	})
	p, err := counter.Pending(ctx, []int64{vid})
	if err != nil || p.Main[vid] != counted.Load() {
		b.Fatalf("pending %d (%v), want %d counted", p.Main[vid], err, counted.Load())
	}
}
