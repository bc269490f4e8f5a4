package systemtest

import (
	"context"
	"net/http"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ucc-video/ucc/internal/testenv"
)

// soakConfig is how long and how hard TestSoak runs: a short run in
// `make test`, a long one with UCC_SOAK=1 (`make soak`).
type soakConfig struct {
	Duration  time.Duration // traffic time
	Clients   int           // concurrent clients
	Outage    time.Duration // Redis cut off in the middle for this long
	MaxErrors float64       // error rate allowed outside the outage window
}

func soakSettings(t *testing.T) soakConfig {
	c := soakConfig{Duration: 20 * time.Second, Clients: 8, Outage: 3 * time.Second, MaxErrors: 0.001}
	if os.Getenv("UCC_SOAK") == "1" {
		c = soakConfig{Duration: 3 * time.Minute, Clients: 16, Outage: 10 * time.Second, MaxErrors: 0.001}
	}
	if v := os.Getenv("UCC_SOAK_DURATION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("UCC_SOAK_DURATION: %v", err)
		}
		c.Duration = d
	}
	return c
}

// soakStats are the figures of a soak run.
type soakStats struct {
	mu        sync.Mutex
	outage    bool // inside the outage window (cut until recovered)
	inside    [3]int64
	outside   [3]int64
	latencies []time.Duration // of answers outside the outage window
	bad       []string
}

func (s *soakStats) note(r testenv.Reply, err error) verdict {
	v, why := judge(r, err)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.outage {
		s.inside[v]++
	} else {
		s.outside[v]++
		s.latencies = append(s.latencies, r.Took)
	}
	if v == verdictBad && len(s.bad) < 20 {
		s.bad = append(s.bad, why)
	}
	return v
}

func (s *soakStats) setOutage(on bool) { s.mu.Lock(); s.outage = on; s.mu.Unlock() }

// percentile returns the p-th percentile (0-100) of the latencies outside the outage.
func (s *soakStats) percentile(p float64) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.latencies) == 0 {
		return 0
	}
	l := slices.Clone(s.latencies)
	slices.Sort(l)
	return l[min(len(l)-1, int(float64(len(l))*p/100))]
}

// TestSoak runs mixed traffic (watch page, play token, view report,
// comment, search) from many clients on loopback for a bounded time, with
// Redis cut off (all connections dropped, new ones refused) in the middle.
// Outside the outage window the error rate stays below the threshold; no
// answer is ever a 500 or a hang; afterwards the view counts reconcile
// exactly: PostgreSQL's total equals the reports answered counted.
// `make test` runs a short version; UCC_SOAK=1 (`make soak`) a long one.
func TestSoak(t *testing.T) {
	systemTest(t)
	cfg := soakSettings(t)
	d := newDeps(t, map[string]string{"UCC_DATABASE_MAX_CONNS": "20", "UCC_LOG_LEVEL": "error"})
	w := newWorld(t, d.ucc.Base, 12)
	waitStatus(t, context.Background(), d.DB, w.video, "ready", 2*time.Minute)

	st := &soakStats{}
	// The mix a viewer makes: mostly watching and counting, some searching
	// and reading comments, a few comments (each user at most one per 7 s,
	// under the comment rate limit).
	lastComment := make([]atomic.Int64, len(w.viewers))
	step := func(anon *testenv.Client, i int) {
		tl := tallyFunc(st.note)
		switch i % 8 {
		case 0, 4:
			w.view(tl, anon) // play token + report
		case 1, 5:
			r, err := anon.Do("GET", "/watch/"+w.video, nil, "Accept", "text/html")
			st.note(r, err)
		case 2:
			r, err := anon.Do("GET", "/search?q=clip", nil, "Accept", "text/html")
			st.note(r, err)
		case 3:
			r, err := anon.Do("GET", "/api/v1/search?q=fault+clip", nil)
			st.note(r, err)
		case 6:
			r, err := anon.Do("GET", "/api/v1/videos/"+w.video+"/comments", nil)
			st.note(r, err)
		case 7:
			u := (i / 8) % len(w.viewers)
			now := time.Now().UnixNano()
			if last := lastComment[u].Load(); now-last > int64(7*time.Second) && lastComment[u].CompareAndSwap(last, now) {
				w.comment(tl, u)
			} else {
				r, err := anon.Do("GET", "/", nil, "Accept", "text/html")
				st.note(r, err)
			}
		}
	}

	stop := make(chan struct{})
	start := time.Now()
	wg := traffic(w.base, cfg.Clients, 0, stop, step)

	// Cut Redis off in the middle; the outage window lasts until /readyz is
	// ready again.
	time.Sleep(cfg.Duration/2 - cfg.Outage/2)
	st.setOutage(true)
	cutAt := time.Since(start)
	d.redis.cut()
	time.Sleep(cfg.Outage)
	d.redis.restore(t)
	testenv.WaitFor(t, 30*time.Second, "/readyz after Redis returned", func() bool {
		s, _, err := readyz(d.ucc.Base)
		return err == nil && s == http.StatusOK
	})
	st.setOutage(false)
	window := time.Since(start) - cutAt
	time.Sleep(time.Until(start.Add(cfg.Duration)))
	close(stop)
	wg.Wait()
	elapsed := time.Since(start)

	w.settle(t, tallyFunc(st.note))
	views := w.checkAcknowledged(t, d.sysEnv)
	p50, p99 := st.percentile(50), st.percentile(99)
	st.mu.Lock()
	defer st.mu.Unlock()
	sent := st.inside[0] + st.inside[1] + st.inside[2] + st.outside[0] + st.outside[1] + st.outside[2]
	outErrs := st.outside[1] + st.outside[2]
	outTotal := st.outside[0] + outErrs
	rate := float64(outErrs) / float64(max(outTotal, 1))
	t.Logf("soak: %d clients for %v; requests sent: %d (%.0f/s); faults injected: %d (Redis cut for %v at %v, outage window %v)",
		cfg.Clients, elapsed.Round(time.Second), sent, float64(sent)/elapsed.Seconds(), d.faults(), cfg.Outage, cutAt.Round(time.Second), window.Round(100*time.Millisecond))
	t.Logf("soak: outside the outage: %d requests, %d errors (%.3f%%), p50 %v, p99 %v; inside: %d ok, %d answered 503 with a reason, %d bad",
		outTotal, outErrs, rate*100, p50.Round(time.Millisecond), p99.Round(time.Millisecond), st.inside[0], st.inside[1], st.inside[2])
	t.Logf("soak: views reconciled: PostgreSQL total %d == %d reports answered counted (of %d reports); %d comments answered 201, all stored",
		views, w.counted, w.reports, len(w.comments))
	for _, b := range st.bad {
		t.Errorf("bad answer: %s", b)
	}
	if rate > cfg.MaxErrors {
		t.Errorf("error rate outside the outage window %.3f%%, want at most %.3f%%", rate*100, cfg.MaxErrors*100)
	}
	if st.inside[1] == 0 {
		t.Error("no request failed during the Redis outage: the fault did not land")
	}
	if w.counted == 0 || len(w.comments) == 0 {
		t.Errorf("soak counted %d views and stored %d comments; want some of each", w.counted, len(w.comments))
	}
	d.ucc.Stop()
}

// tallyFunc records answers whatever their operation.
type tallyFunc func(testenv.Reply, error) verdict

func (f tallyFunc) note(_ string, r testenv.Reply, err error) verdict { return f(r, err) }
