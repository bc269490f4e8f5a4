package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/ucc-video/ucc/internal/accounts"
	"github.com/ucc-video/ucc/internal/community"
)

// BenchmarkHomeUnderTrendingCursors measures GET / while 40 anonymous
// clients walk trending with distinct cursors (issue 21 item 6: with one
// mutex held for every trending query, the home page waited for all of
// them). The catalogue has UCC_BENCH_TRENDING_VIDEOS public videos
// (default 20,000) with views on each of the last seven days. Reports the
// median and slowest home page, and how many failed (the first one finds
// the cache cold and computes trending while the walkers load the database).
func BenchmarkHomeUnderTrendingCursors(b *testing.B) {
	n := 20000
	if v, err := strconv.Atoi(os.Getenv("UCC_BENCH_TRENDING_VIDEOS")); err == nil && v > 0 {
		n = v
	}
	// As cmd/ucc wires it: deep pages and searches may hold a quarter of
	// the pool (pgx's default size here), and list queries run under the
	// default statement timeout.
	cfg := community.DefaultConfig()
	cfg.HeavyQueries = max(1, max(4, runtime.NumCPU())/4)
	ts := newTestServer(b, withCommunity(cfg), withQueryTimeout(3*time.Second))
	ctx := context.Background()
	_, uid := ts.user("bench@example.com", accounts.RoleCreator)
	ch := ts.seedChannel(uid, "bench", "Bench", "")
	ts.sql(`INSERT INTO videos (public_id, channel_id, creator_id, title, visibility, status, duration_seconds, published_at)
		SELECT 'tb' || lpad(i::text, 9, '0'), $1, $2, 'Video ' || i, 'public', 'ready', 60, now() - i * interval '1 minute'
		FROM generate_series(1, $3) i`, ch, uid, n)
	ts.sql(`INSERT INTO video_views_daily (video_id, creator_id, day, views)
		SELECT v.id, v.creator_id, d::date, (v.id * 7919 + extract(doy FROM d)::int) % 1000 + 1
		FROM videos v, generate_series(current_date - 6, current_date, '1 day') d`)
	ts.sql(`ANALYZE`)

	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 40; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{}
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				off := (w*977 + i*40 + 1) % 9000 // a new cursor every time
				cur := community.Cursor{Offset: off}.String()
				req, _ := http.NewRequestWithContext(ctx, "GET", ts.http.URL+"/api/v1/videos?sort=trending&limit=24&cursor="+cur, nil)
				if res, err := client.Do(req); err == nil {
					res.Body.Close()
				}
			}
		}()
	}
	time.Sleep(500 * time.Millisecond) // let the walkers start
	var took []time.Duration
	failed := 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		w := httptest.NewRecorder()
		req := httptest.NewRequest("GET", "/", nil)
		req.Header.Set("Accept", "application/json") // an error says its code
		ts.srv.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			failed++
			b.Logf("GET /: %d after %s: %.200s", w.Code, time.Since(start).Round(time.Millisecond), w.Body.String())
			continue
		}
		took = append(took, time.Since(start))
	}
	b.StopTimer()
	close(stop)
	wg.Wait()
	b.ReportMetric(float64(failed), "failed")
	if len(took) == 0 {
		return
	}
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(took[len(took)-1].Microseconds())/1000, "max-ms")
}
