package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// rowDef is one row of the table: how to name it and how to measure it.
type rowDef struct {
	key      string
	path     func(*bench) string
	baseline string
	measure  func(*bench, context.Context) (row, error)
}

var rowDefs = []rowDef{
	{key: "view", path: func(b *bench) string {
		return fmt.Sprintf("view report (`POST /api/v1/videos/{id}/views`, distinct viewers, %d connections)", b.opts.Conns)
	},
		baseline: "bare gin handler answering 204", measure: (*bench).viewRow},
	{key: "watch", path: func(b *bench) string {
		return fmt.Sprintf("watch page HTML (`GET /watch/{id}`, video with %s comments)", thousands(b.opts.Size.Comments))
	},
		baseline: "bare gin handler rendering a static page", measure: (*bench).watchRow},
	{key: "home", path: fixed("home page (`GET /`)"),
		baseline: "bare gin handler rendering a static page", measure: (*bench).homeRow},
	{key: "search", path: fixed("search (`GET /search?q=`)"),
		baseline: "bare gin handler rendering a static page", measure: (*bench).searchRow},
	{key: "ksearch", path: fixed("Korean search (`GET /search?q=기타를`, Hangul bigrams)"),
		baseline: "bare gin handler rendering a static page", measure: (*bench).koreanSearchRow},
	{key: "upload", path: func(b *bench) string {
		return "upload " + formatBytes(b.opts.Size.UploadBytes) + " (`POST /api/v1/videos`, multipart), `s3` driver"
	},
		baseline: "minio-go PutObject of the same file to the same MinIO", measure: (*bench).uploadRow},
	{key: "flush", path: func(b *bench) string {
		return fmt.Sprintf("view flush, %s pending views over %s videos", thousands(b.opts.Size.FlushViews), thousands(b.opts.Size.FlushVideos))
	},
		baseline: "COPY of the same rows into PostgreSQL", measure: (*bench).flushRow},
	{key: "revenue", path: func(b *bench) string {
		sz := b.opts.Size
		return fmt.Sprintf("revenue calculation, %s creators, %s videos, %d days", thousands(sz.Creators), thousands(sz.Videos), sz.RevenueDays)
	},
		baseline: "one `SELECT ... GROUP BY` over the same buckets", measure: (*bench).revenueRow},
	{key: "mixed", path: func(b *bench) string {
		return fmt.Sprintf("mixed load: %s simulated viewers (watch page, play token, report, comment)", thousands(b.opts.Size.MixedViewers))
	},
		baseline: "—", measure: (*bench).mixedRow},
}

func fixed(s string) func(*bench) string { return func(*bench) string { return s } }

// get returns a requestFunc for GET url with optional headers.
func get(url string, header http.Header) requestFunc {
	return func(int, int) (*http.Request, error) {
		req, err := http.NewRequest(http.MethodGet, url, nil)
		if err != nil {
			return nil, err
		}
		for k, v := range header {
			req.Header[k] = v
		}
		return req, nil
	}
}

// probe sends one request to ucc and turns "nothing at this address"
// (the catch-all 404) into errNotAvailable naming what is missing. want 0
// accepts any other answer.
func (b *bench) probe(ctx context.Context, req *http.Request, want int, feature string) error {
	req = req.WithContext(ctx)
	// JSON errors for pages too, so that the catch-all 404 is recognised.
	req.Header.Set("Accept", "application/json")
	resp, err := newClient(1).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode == want {
		return nil
	}
	if resp.StatusCode == http.StatusNotFound {
		var e struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		if json.Unmarshal(body, &e) == nil && e.Error.Message == "there is nothing at this address" {
			return notAvailable("%s %s is not routed in this build (%s has not landed)", req.Method, req.URL.Path, feature)
		}
	}
	if want == 0 {
		return nil // any answer but the catch-all 404 will do
	}
	return fmt.Errorf("%s %s: HTTP %d, want %d: %s", req.Method, req.URL.Path, resp.StatusCode, want, oneLine(body, 300))
}

// httpCompare measures ucc and the baseline under the same load: Runs
// rounds, each one run of each (the order alternating between rounds, so
// that drift on a shared machine hits both alike), after a short warm-up of
// each. It returns requests/s (answered as wanted), p50 and p99 figures,
// the share of failed UCC requests when there were any, and notes on
// response sizes and CPU. A UCC run where every request failed, or a
// baseline run with more than 1% failures, fails the row.
func (b *bench) httpCompare(ctx context.Context, conns int, ucc requestFunc, uccWant int, base requestFunc, baseWant int) ([]figure, []string, error) {
	sz := b.opts.Size
	uc, bc := newClient(conns), newClient(conns)
	defer uc.CloseIdleConnections()
	defer bc.CloseIdleConnections()
	// Warm-up: one second of each; UCC requests still running two seconds
	// later are cancelled (a slow page would otherwise hold the warm-up for
	// as long as a run). The probe has already checked that the path works.
	warm := min(sz.Duration, time.Second)
	wctx, cancel := context.WithTimeout(ctx, warm+2*time.Second)
	runLoad(wctx, uc, conns, warm, uccWant, withContext(wctx, ucc))
	cancel()
	runLoad(ctx, bc, conns, warm, baseWant, base)
	rps := figure{Name: "requests/s", Unit: unitRPS, Base: samples{}}
	errRate := figure{Name: "failed requests", Unit: unitPercent}
	var firstErr string
	p50 := figure{Name: "p50", Unit: unitMs, Base: samples{}}
	p99 := figure{Name: "p99", Unit: unitMs, Base: samples{}}
	var uBytes, bBytes float64
	var uErrs, uReqs int64
	var cpu cpuUse
	var xacts int64
	runUCC := func() loadResult {
		x0 := b.xacts(ctx)
		c0 := takeCPU(b.ucc.Process().Pid(), b.db.Name)
		r := runLoad(ctx, uc, conns, sz.Duration, uccWant, ucc)
		cpu.add(c0.until(takeCPU(b.ucc.Process().Pid(), b.db.Name)))
		xacts += b.xacts(ctx) - x0
		return r
	}
	for i := range sz.Runs {
		var ur, br loadResult
		if i%2 == 0 {
			ur = runUCC()
			br = runLoad(ctx, bc, conns, sz.Duration, baseWant, base)
		} else {
			br = runLoad(ctx, bc, conns, sz.Duration, baseWant, base)
			ur = runUCC()
		}
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		if ur.Requests == ur.Errors {
			return nil, nil, fmt.Errorf("run %d: all %d requests failed; first: %s", i+1, ur.Requests, ur.FirstErr)
		}
		if br.ErrorRate() > 0.01 {
			return nil, nil, fmt.Errorf("baseline run %d: %d of %d requests failed; first: %s", i+1, br.Errors, br.Requests, br.FirstErr)
		}
		if firstErr == "" {
			firstErr = ur.FirstErr
		}
		errRate.UCC = append(errRate.UCC, 100*ur.ErrorRate())
		b.verbosef("  run %d: ucc %.0f req/s p50 %s p99 %s | baseline %.0f req/s p50 %s p99 %s",
			i+1, ur.RPS(), ur.P50, ur.P99, br.RPS(), br.P50, br.P99)
		rps.UCC = append(rps.UCC, ur.GoodRPS())
		rps.Base = append(rps.Base, br.GoodRPS())
		p50.UCC = append(p50.UCC, msOf(ur.P50))
		p50.Base = append(p50.Base, msOf(br.P50))
		p99.UCC = append(p99.UCC, msOf(ur.P99))
		p99.Base = append(p99.Base, msOf(br.P99))
		uBytes, bBytes = ur.AvgBytes(), br.AvgBytes()
		uErrs += ur.Errors
		uReqs += ur.Requests
	}
	notes := []string{fmt.Sprintf("%d connections; response body %s (UCC) vs %s (baseline)", conns, formatSize(uBytes), formatSize(bBytes))}
	figs := []figure{rps, p50, p99}
	if uErrs > 0 {
		notes = append(notes, fmt.Sprintf("%d of %d UCC requests failed (requests/s counts only answered ones; latencies include the failures); first: %s", uErrs, uReqs, firstErr))
		figs = append(figs, errRate)
	}
	notes = append(notes, cpu.perRequest(uReqs), xactNote(xacts, uReqs))
	return figs, notes, nil
}

// xacts is the number of transactions (each statement outside an explicit
// transaction is one) committed or rolled back in the bench database so
// far. Backends publish these counts about once a second, so over runs of
// several seconds the per-request figure is close, not exact.
func (b *bench) xacts(ctx context.Context) int64 {
	var n int64
	_ = b.db.Pool.QueryRow(ctx, `SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()`).Scan(&n)
	return n
}

func xactNote(xacts, requests int64) string {
	if requests == 0 {
		return ""
	}
	return fmt.Sprintf("about %.1f PostgreSQL transactions per UCC request (pg_stat_database)", float64(xacts)/float64(requests))
}

// withContext makes next's requests carry ctx.
func withContext(ctx context.Context, next requestFunc) requestFunc {
	return func(w, seq int) (*http.Request, error) {
		req, err := next(w, seq)
		if err != nil {
			return nil, err
		}
		return req.WithContext(ctx), nil
	}
}

func (b *bench) verbosef(format string, args ...any) {
	if b.opts.Verbose {
		b.logf(format, args...)
	}
}

func formatSize(n float64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", n/(1<<20))
	case n >= 10<<10:
		return fmt.Sprintf("%.0f KiB", n/(1<<10))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", n/(1<<10))
	}
	return fmt.Sprintf("%.0f B", n)
}

func (b *bench) pageRow(ctx context.Context, url, feature string) (row, error) {
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if err := b.probe(ctx, req, http.StatusOK, feature); err != nil {
		return row{}, err
	}
	figs, notes, err := b.httpCompare(ctx, b.opts.Conns, get(url, nil), http.StatusOK, get(b.baseURL+"/page", nil), http.StatusOK)
	return row{Figures: figs, Notes: notes}, err
}

func (b *bench) homeRow(ctx context.Context) (row, error) {
	r, err := b.pageRow(ctx, b.uccURL+"/", "the home page")
	r.Notes = append([]string{fmt.Sprintf("anonymous; %d ready public videos in the catalogue", b.cat.Videos)}, r.Notes...)
	return r, err
}

func (b *bench) watchRow(ctx context.Context) (row, error) {
	return b.pageRow(ctx, b.uccURL+"/watch/"+b.cat.WatchVideo, "the community feature (watch page)")
}

func (b *bench) searchRow(ctx context.Context) (row, error) {
	req, _ := http.NewRequest(http.MethodGet, b.uccURL+"/search?q=guitar", nil)
	if err := b.probe(ctx, req, http.StatusOK, "the community feature (search)"); err != nil {
		return row{}, err
	}
	q := func(_, seq int) (*http.Request, error) {
		return http.NewRequest(http.MethodGet, b.uccURL+"/search?q="+searchWords[seq%len(searchWords)], nil)
	}
	figs, notes, err := b.httpCompare(ctx, b.opts.Conns, q, http.StatusOK, get(b.baseURL+"/page", nil), http.StatusOK)
	var matches int
	_ = b.db.Pool.QueryRow(ctx, `SELECT count(*) FROM videos WHERE search @@ websearch_to_tsquery('english', $1)`, searchWords[0]).Scan(&matches)
	notes = append([]string{fmt.Sprintf("one-word queries (%d words in turn); %q matches %s of the %s videos", len(searchWords), searchWords[0], thousands(matches), thousands(b.cat.Videos))}, notes...)
	return row{Figures: figs, Notes: notes}, err
}

// koreanSearchRow asks for Korean words with a particle attached (기타를,
// 요리를, ...): each finds the titles with the word and those with it inside
// a compound (통기타).
func (b *bench) koreanSearchRow(ctx context.Context) (row, error) {
	word := func(i int) string { return url.QueryEscape(koreanWords[i%len(koreanWords)] + "를") }
	req, _ := http.NewRequest(http.MethodGet, b.uccURL+"/search?q="+word(0), nil)
	if err := b.probe(ctx, req, http.StatusOK, "Korean search"); err != nil {
		return row{}, err
	}
	q := func(_, seq int) (*http.Request, error) {
		return http.NewRequest(http.MethodGet, b.uccURL+"/search?q="+word(seq), nil)
	}
	figs, notes, err := b.httpCompare(ctx, b.opts.Conns, q, http.StatusOK, get(b.baseURL+"/page", nil), http.StatusOK)
	var matches, compounds int
	_ = b.db.Pool.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE title LIKE '%통기타%') FROM videos WHERE search_ko @@ '기타'::tsquery`).Scan(&matches, &compounds)
	notes = append([]string{fmt.Sprintf("one-word queries with a particle (%d words in turn); %q matches %s of the %s videos (%s of them by 통기타)",
		len(koreanWords), koreanWords[0]+"를", thousands(matches), thousands(b.cat.Videos), thousands(compounds))}, notes...)
	return row{Figures: figs, Notes: notes}, err
}

// oneLine shortens a response body for an error message.
func oneLine(b []byte, n int) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if len(s) > n {
		s = s[:n] + "..."
	}
	return s
}

// thousands prints n with commas: 1,000,000.
func thousands(n int) string {
	s := fmt.Sprint(n)
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	return string(out)
}
