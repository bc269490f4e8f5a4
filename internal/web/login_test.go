package web

import (
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"github.com/ucc-video/ucc/internal/accounts"
)

// behindProxy makes the rig believe X-Forwarded-For from loopback, so a
// test can send log-ins from several client networks.
func behindProxy() rigOption {
	return withWeb(func(c *Config) { c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")} })
}

// burst sends n log-ins in parallel and counts the answers by status.
func (ts *testServer) burst(n int, body func(i int) map[string]string, from func(i int) string) map[int]int {
	ts.t.Helper()
	var mu sync.Mutex
	got := map[int]int{}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			r := ts.do("POST", "/api/v1/auth/tokens", body(i), "X-Forwarded-For", from(i))
			if (r.StatusCode == http.StatusTooManyRequests || r.StatusCode == http.StatusServiceUnavailable) && r.Header.Get("Retry-After") == "" {
				ts.t.Errorf("%d without Retry-After: %s", r.StatusCode, r.Body)
			}
			mu.Lock()
			got[r.StatusCode]++
			mu.Unlock()
		}()
	}
	close(start)
	wg.Wait()
	return got
}

// TestLoginBurstCountedBeforeHash: 60 parallel wrong passwords for one
// account from one network. The attempts are counted before the password
// is hashed, so at most the limit (5 in the rig) are checked (401) and the
// rest are refused unhashed (429 with Retry-After). On the old limiter,
// which read the count, hashed, then counted, all 60 got 401.
func TestLoginBurstCountedBeforeHash(t *testing.T) {
	ts := newTestServer(t, behindProxy())
	ts.user("victim@example.com", accounts.RoleViewer)
	got := ts.burst(60, func(int) map[string]string {
		return map[string]string{"email": "victim@example.com", "password": "wrong wrong"}
	}, func(int) string { return "198.51.100.7" })
	if got[http.StatusUnauthorized] > 5 || got[http.StatusTooManyRequests] < 55 || got[http.StatusUnauthorized]+got[http.StatusTooManyRequests] != 60 {
		t.Fatalf("60 parallel wrong passwords, limit 5: answers %v; want at most 5 × 401 and the rest 429", got)
	}
	// The hashes never exceed the process's slots.
	if _, most := ts.deps.Accounts.HashStats(); most < 1 || most > int64(ts.deps.Accounts.HashConcurrency()) {
		t.Fatalf("most hashes at once %d, slots %d", most, ts.deps.Accounts.HashConcurrency())
	}
	r := ts.do("POST", "/api/v1/auth/tokens", map[string]string{"email": "victim@example.com", "password": "wrong wrong"}, "X-Forwarded-For", "198.51.100.7")
	wantStatus(t, r, http.StatusTooManyRequests)
	if ra := r.Header.Get("Retry-After"); ra == "" || ra == "0" {
		t.Fatalf("429 Retry-After %q", ra)
	}
	if !strings.Contains(string(r.Body), "try again in 15 min") {
		t.Fatalf("429 does not say when to come back: %s", r.Body)
	}
	r = ts.do("POST", "/api/v1/auth/tokens", map[string]string{"email": "victim@example.com", "password": "wrong wrong"},
		"X-Forwarded-For", "198.51.100.7", "Accept-Language", "ko")
	if !strings.Contains(string(r.Body), "15분 뒤에 다시 시도하세요") {
		t.Fatalf("Korean 429: %s", r.Body)
	}
}

// TestLoginHashesBounded: with 2 hash slots and the real argon2id cost
// (64 MiB each), 12 parallel log-ins on 12 accounts never hash more than
// 2 passwords at once; those that find no slot in time get 503 with
// Retry-After, never an unbounded allocation.
func TestLoginHashesBounded(t *testing.T) {
	ts := newTestServer(t, behindProxy(), withAccounts(func(c *accounts.Config) {
		c.HashConcurrency = 2
		c.PasswordParams = accounts.DefaultPasswordParams()
	}))
	got := ts.burst(12, func(i int) map[string]string {
		return map[string]string{"email": fmt.Sprintf("nobody%d@example.com", i), "password": "wrong wrong"}
	}, func(int) string { return "198.51.100.8" })
	if got[http.StatusUnauthorized]+got[http.StatusServiceUnavailable] != 12 || got[http.StatusUnauthorized] == 0 {
		t.Fatalf("answers %v; want 401 or 503 only", got)
	}
	now, most := ts.deps.Accounts.HashStats()
	if now != 0 || most < 1 || most > 2 {
		t.Fatalf("hashes in flight %d, most at once %d; want at most 2", now, most)
	}
}

// TestLoginOwnerNotLockedOut: an attacker's failures from one network lock
// out that network only: the owner, from another network, still logs in,
// and their success does not reopen the attacker's window.
func TestLoginOwnerNotLockedOut(t *testing.T) {
	ts := newTestServer(t, behindProxy(), withAccounts(func(c *accounts.Config) { c.LoginLimit = 10 }))
	ts.user("owner@example.com", accounts.RoleViewer)
	try := func(ip, pw string) response {
		return ts.do("POST", "/api/v1/auth/tokens", map[string]string{"email": "owner@example.com", "password": pw}, "X-Forwarded-For", ip)
	}
	for i := 0; i < 10; i++ {
		wantStatus(t, try("203.0.113.66", "guess guess"), http.StatusUnauthorized)
	}
	wantStatus(t, try("203.0.113.66", "correct horse battery"), http.StatusTooManyRequests)
	// The same /64 is the same network; another /64 is not.
	for i := 0; i < 10; i++ {
		wantStatus(t, try(fmt.Sprintf("2001:db8:1:2::%x", i+1), "guess guess"), http.StatusUnauthorized)
	}
	wantStatus(t, try("2001:db8:1:2:ffff::1", "guess guess"), http.StatusTooManyRequests)
	wantStatus(t, try("192.0.2.10", "correct horse battery"), http.StatusCreated)
	wantStatus(t, try("2001:db8:1:3::1", "correct horse battery"), http.StatusCreated)
	wantStatus(t, try("203.0.113.66", "guess guess"), http.StatusTooManyRequests)
}

// TestLoginAccountBackoff: failures spread over many networks (a botnet)
// are not refused outright but spaced out once they pass 5 × the limit on
// the account: the next attempt takes the account's slot, the one after
// gets 429 with the wait, in seconds.
func TestLoginAccountBackoff(t *testing.T) {
	ts := newTestServer(t, behindProxy(), withAccounts(func(c *accounts.Config) { c.LoginLimit = 2 }))
	ts.user("target@example.com", accounts.RoleViewer)
	try := func(i int) response {
		return ts.do("POST", "/api/v1/auth/tokens", map[string]string{"email": "target@example.com", "password": "guess guess"},
			"X-Forwarded-For", fmt.Sprintf("198.18.0.%d", i))
	}
	for i := 0; i < 10; i++ { // 5 × 2 failures, each from its own address
		wantStatus(t, try(i+1), http.StatusUnauthorized)
	}
	wantStatus(t, try(100), http.StatusUnauthorized) // takes the slot for 1 s
	r := try(101)
	wantStatus(t, r, http.StatusTooManyRequests)
	if r.Header.Get("Retry-After") != "1" || !strings.Contains(string(r.Body), "attempts are slowed down; try again in 1 s") {
		t.Fatalf("backoff answer: Retry-After %q, %s", r.Header.Get("Retry-After"), r.Body)
	}
}
