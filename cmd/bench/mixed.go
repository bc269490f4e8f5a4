package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ucc-video/ucc/internal/testenv"
)

// commentEvery is how often a simulated viewer comments at most: under the
// community feature's limit of 10 comments a minute per user.
const commentEvery = 8 * time.Second

// mixedStats is what one simulated viewer saw.
type mixedStats struct {
	lat      []time.Duration
	errs     int64
	bytes    int64
	firstErr string
	counted  int64
	comments int64
}

// viewer is one simulated signed-in viewer: it opens a watch page (the
// video with the comments one time in five, else one of the first 10,000),
// asks for a play token, watches for the minimum watch time the token
// demands, reports the view and, at most every commentEvery, comments.
type viewer struct {
	b           *bench
	client      *http.Client
	token       string
	rng         *rand.Rand
	st          mixedStats
	lastComment time.Time
}

func (v *viewer) request(ctx context.Context, method, path string, body []byte, want int) ([]byte, bool) {
	req, err := http.NewRequestWithContext(ctx, method, v.b.uccURL+path, bytes.NewReader(body))
	if err != nil {
		v.fail(err.Error())
		return nil, false
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+v.token)
	req.Header.Set("User-Agent", browserUA)
	t0 := time.Now()
	resp, err := v.client.Do(req)
	if err != nil {
		if ctx.Err() == nil {
			v.st.lat = append(v.st.lat, time.Since(t0))
			v.fail(err.Error())
		}
		return nil, false
	}
	out, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	v.st.lat = append(v.st.lat, time.Since(t0))
	v.st.bytes += int64(len(out))
	if err != nil || resp.StatusCode != want {
		v.fail(fmt.Sprintf("%s %s: HTTP %d, want %d: %s", method, path, resp.StatusCode, want, oneLine(out, 200)))
		return out, false
	}
	return out, true
}

func (v *viewer) fail(msg string) {
	v.st.errs++
	if v.st.firstErr == "" {
		v.st.firstErr = msg
	}
}

// session is one visit; it returns false when ctx ended.
func (v *viewer) session(ctx context.Context) {
	id := v.b.cat.WatchVideo
	if v.rng.IntN(5) != 0 {
		id = v.b.cat.PublicIDs[v.rng.IntN(min(10_000, len(v.b.cat.PublicIDs)))]
	}
	if _, ok := v.request(ctx, http.MethodGet, "/watch/"+id, nil, http.StatusOK); !ok {
		return
	}
	out, ok := v.request(ctx, http.MethodGet, "/api/v1/videos/"+id+"/play", nil, http.StatusOK)
	if !ok {
		return
	}
	g, err := testenv.DecodePlay(out)
	if err != nil {
		v.fail("play: no token in " + oneLine(out, 200))
		return
	}
	// Watch: a player reports once the minimum watch time has passed.
	select {
	case <-ctx.Done():
		return
	case <-time.After(time.Duration(g.MinWatchSeconds)*time.Second + 50*time.Millisecond):
	}
	body, _ := json.Marshal(map[string]string{"play_token": g.Token})
	out, ok = v.request(ctx, http.MethodPost, "/api/v1/videos/"+id+"/views", body, http.StatusOK)
	if !ok {
		return
	}
	r, err := testenv.DecodeViewResult(out)
	if err != nil {
		v.fail("report: " + oneLine(out, 200))
		return
	}
	if r.Counted {
		v.st.counted++
	} else if r.Reason != "duplicate" {
		// A fresh token of a signed-in viewer must count, or be a
		// duplicate of a video this viewer watched within the hour.
		v.fail("report not counted: " + r.Reason)
	}
	if time.Since(v.lastComment) >= commentEvery {
		v.lastComment = time.Now()
		body, _ := json.Marshal(map[string]string{"body": fmt.Sprintf("Nice one! Comment %d from a simulated viewer.", v.rng.IntN(1_000_000))})
		if _, ok := v.request(ctx, http.MethodPost, "/api/v1/videos/"+id+"/comments", body, http.StatusCreated); ok {
			v.st.comments++
		}
	}
}

func (b *bench) mixedRow(ctx context.Context) (row, error) {
	sz := b.opts.Size
	n := sz.MixedViewers
	client := newClient(n)
	defer client.CloseIdleConnections()
	probe := &viewer{b: b, client: client, token: b.cat.ViewerTokens[0], rng: rand.New(rand.NewPCG(1, 2))}
	if _, ok := probe.request(ctx, http.MethodGet, "/api/v1/videos/"+b.cat.WatchVideo+"/play", nil, http.StatusOK); !ok {
		return row{}, fmt.Errorf("play token: %s", probe.st.firstErr)
	}
	viewers := make([]*viewer, n)
	for i := range viewers {
		viewers[i] = &viewer{b: b, client: client, token: b.cat.ViewerTokens[i%len(b.cat.ViewerTokens)],
			rng: rand.New(rand.NewPCG(uint64(i), 42)), lastComment: time.Now().Add(-time.Duration(i%8) * time.Second)}
	}
	rps := figure{Name: "requests/s", Unit: unitRPS}
	errRate := figure{Name: "error rate", Unit: unitPercent}
	p99 := figure{Name: "p99", Unit: unitMs}
	var counted, comments, total int64
	var firstErr string
	var cpu cpuUse
	var xacts int64
	for run := range sz.Runs {
		rctx, cancel := context.WithTimeout(ctx, b.opts.MixedLength)
		var wg sync.WaitGroup
		var active atomic.Int64
		x0 := b.xacts(ctx)
		c0 := takeCPU(b.ucc.Process().Pid(), b.db.Name)
		t0 := time.Now()
		for _, v := range viewers {
			v.st = mixedStats{}
			wg.Go(func() {
				active.Add(1)
				for rctx.Err() == nil {
					v.session(rctx)
				}
			})
		}
		wg.Wait()
		elapsed := time.Since(t0)
		cancel()
		cpu.add(c0.until(takeCPU(b.ucc.Process().Pid(), b.db.Name)))
		xacts += b.xacts(ctx) - x0
		if err := ctx.Err(); err != nil {
			return row{}, err
		}
		res := mergeStats(elapsed, func(yield func([]time.Duration, int64, int64, string)) {
			for _, v := range viewers {
				yield(v.st.lat, v.st.errs, v.st.bytes, v.st.firstErr)
				counted += v.st.counted
				comments += v.st.comments
			}
		})
		if res.Requests == 0 || res.Errors == res.Requests {
			return row{}, fmt.Errorf("run %d: no request succeeded; first error: %s", run+1, res.FirstErr)
		}
		if firstErr == "" {
			firstErr = res.FirstErr
		}
		total += res.Requests
		b.verbosef("  mixed run %d: %.0f req/s, %d errors of %d, p99 %s", run+1, res.RPS(), res.Errors, res.Requests, res.P99)
		rps.UCC = append(rps.UCC, res.RPS())
		errRate.UCC = append(errRate.UCC, 100*res.ErrorRate())
		p99.UCC = append(p99.UCC, msOf(res.P99))
	}
	notes := []string{
		fmt.Sprintf("%d signed-in viewers, each on its own keep-alive connection, for %s per run: watch page (the video with %s comments one visit in five, else one of the first 10,000 videos), play token, the minimum watch time (UCC_VIEW_MIN_WATCH=1s for the bench), view report, and a comment at most every %s (the comment limit is 10 a minute)",
			n, b.opts.MixedLength, thousands(sz.Comments), commentEvery),
		fmt.Sprintf("over all runs: %d requests, %d views counted, %d comments posted", total, counted, comments),
		cpu.perRequest(total),
		xactNote(xacts, total),
	}
	if firstErr != "" {
		notes = append(notes, "first error: "+firstErr)
	}
	return row{Figures: []figure{rps, errRate, p99}, Notes: notes}, nil
}
