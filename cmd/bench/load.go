package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// newClient returns a keep-alive HTTP client that holds up to conns idle
// connections to one host, so that every load worker keeps its connection.
func newClient(conns int) *http.Client {
	tr := &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        conns + 16,
		MaxIdleConnsPerHost: conns + 16,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
	}
	return &http.Client{
		Transport: tr,
		// Slow pages must still give a latency, not a timeout: under 64
		// connections a page costing half a second of database time waits
		// half a minute in the queue.
		Timeout: 60 * time.Second,
		// Redirects are answers to measure, not to follow.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// requestFunc builds the next request of load worker w (its seq-th).
type requestFunc func(w, seq int) (*http.Request, error)

// loadResult is what one timed run measured.
type loadResult struct {
	Requests int64
	Errors   int64
	Elapsed  time.Duration
	P50, P99 time.Duration
	Bytes    int64 // response body bytes read
	FirstErr string
}

// RPS is completed requests per second (errors included).
func (r loadResult) RPS() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Requests) / r.Elapsed.Seconds()
}

// GoodRPS is requests answered as wanted per second.
func (r loadResult) GoodRPS() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Requests-r.Errors) / r.Elapsed.Seconds()
}

// ErrorRate is the fraction of requests that failed.
func (r loadResult) ErrorRate() float64 {
	if r.Requests == 0 {
		return 0
	}
	return float64(r.Errors) / float64(r.Requests)
}

// AvgBytes is the mean response body size.
func (r loadResult) AvgBytes() float64 {
	if r.Requests == 0 {
		return 0
	}
	return float64(r.Bytes) / float64(r.Requests)
}

// runLoad runs conns workers that each send requests back to back over
// their own keep-alive connection for d, and returns throughput and latency.
// A request counts as an error when it fails or its status differs from
// want. Each worker records its latencies in its own slice; they are merged
// and sorted afterwards, so measuring costs no locks.
func runLoad(ctx context.Context, client *http.Client, conns int, d time.Duration, want int, next requestFunc) loadResult {
	type workerStats struct {
		lat      []time.Duration
		errs     int64
		bytes    int64
		firstErr string
	}
	stats := make([]workerStats, conns)
	var started sync.WaitGroup
	var wg sync.WaitGroup
	start := make(chan struct{})
	var stop atomic.Bool
	for w := range conns {
		started.Add(1)
		wg.Go(func() {
			st := &stats[w]
			st.lat = make([]time.Duration, 0, 4096)
			started.Done()
			<-start
			for seq := 0; !stop.Load() && ctx.Err() == nil; seq++ {
				req, err := next(w, seq)
				if err != nil {
					st.errs++
					st.lat = append(st.lat, 0)
					if st.firstErr == "" {
						st.firstErr = err.Error()
					}
					continue
				}
				if req.Header.Get("User-Agent") == "" {
					req.Header.Set("User-Agent", browserUA)
				}
				t0 := time.Now()
				n, status, err := do(client, req)
				lat := time.Since(t0)
				st.lat = append(st.lat, lat)
				st.bytes += n
				if err != nil || status != want {
					st.errs++
					if st.firstErr == "" {
						if err != nil {
							st.firstErr = err.Error()
						} else {
							st.firstErr = fmt.Sprintf("%s %s: HTTP %d, want %d", req.Method, req.URL.Path, status, want)
						}
					}
				}
			}
		})
	}
	started.Wait()
	t0 := time.Now()
	close(start)
	timer := time.NewTimer(d)
	select {
	case <-timer.C:
	case <-ctx.Done():
		timer.Stop()
	}
	stop.Store(true)
	wg.Wait()
	return mergeStats(time.Since(t0), func(yield func([]time.Duration, int64, int64, string)) {
		for _, st := range stats {
			yield(st.lat, st.errs, st.bytes, st.firstErr)
		}
	})
}

// mergeStats combines per-worker latencies, error counts and byte counts.
func mergeStats(elapsed time.Duration, each func(func(lat []time.Duration, errs, bytes int64, firstErr string))) loadResult {
	var all []time.Duration
	res := loadResult{Elapsed: elapsed}
	each(func(lat []time.Duration, errs, bytes int64, firstErr string) {
		all = append(all, lat...)
		res.Errors += errs
		res.Bytes += bytes
		if res.FirstErr == "" {
			res.FirstErr = firstErr
		}
	})
	res.Requests = int64(len(all))
	if len(all) > 0 {
		slices.Sort(all)
		res.P50 = percentile(all, 0.50)
		res.P99 = percentile(all, 0.99)
	}
	return res
}

// percentile returns the q-quantile of sorted (nearest rank).
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.5) - 1
	i = max(0, min(i, len(sorted)-1))
	return sorted[i]
}

// do sends req, reads and discards the whole body (so the connection is
// reused) and returns the body size and status.
func do(client *http.Client, req *http.Request) (int64, int, error) {
	resp, err := client.Do(req)
	if err != nil {
		return 0, 0, err
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil {
		return n, resp.StatusCode, err
	}
	return n, resp.StatusCode, nil
}

// errNotAvailable marks a row whose feature is not in this build.
var errNotAvailable = errors.New("not available")

// notAvailable returns an error saying why a row cannot be measured.
func notAvailable(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errNotAvailable, fmt.Sprintf(format, args...))
}
