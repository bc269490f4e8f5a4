package accounts

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"runtime"
	"sync/atomic"
	"time"

	"golang.org/x/sync/semaphore"

	"github.com/ucc-video/ucc/internal/errs"
)

// How log-ins are slowed down (docs/security.md, "Log-in attempts"):
//
//   - per (account, client network): LoginLimit failures per LoginWindow,
//     then that network is refused for that account until its window
//     closes. An attacker's guesses lock out only the attacker's network.
//   - per client network: LoginNetworkFactor × LoginLimit failures over all
//     accounts per LoginWindow (one network spraying many accounts).
//   - per account, over all networks: after LoginAccountFactor × LoginLimit
//     failures in the window, attempts are not refused but spaced out: each
//     one takes the account's slot, which stays taken for a delay doubling
//     from loginBackoffBase up to loginBackoffMax. A botnet gets a guess per
//     minute at most; the owner still gets in between.
//
// Every count is taken in Redis before the password is hashed, in one
// atomic step per key, and given back when the password was right or never
// checked (the hash slots were busy), so parallel requests cannot all slip
// under the limit.
const (
	// LoginNetworkFactor times LoginLimit is the per-network limit.
	LoginNetworkFactor = 5
	// LoginAccountFactor times LoginLimit failures on an account, over all
	// networks, start the account's backoff.
	LoginAccountFactor = 5
	loginBackoffBase   = time.Second
	loginBackoffMax    = time.Minute
	// busyRetry is the Retry-After of a log-in that found no free hash slot.
	busyRetry = 2 * time.Second
)

var errBadCredentials = errs.New(errs.ErrUnauthorized, "bad_credentials", "wrong email or password")

// errHashBusy answers a log-in (or sign-up, or password change) that found
// every password-hash slot taken for HashWait.
var errHashBusy = errs.New(errs.ErrUnavailable, "login_busy",
	"too many log-ins are being checked right now; try again in a few seconds")

func loginLimited(retry time.Duration) error {
	return errs.WithRetryAfter(errs.New(errs.ErrRateLimited, "login_rate_limited",
		"too many failed log-in attempts from your network; try again in %d min", errs.P("Minutes", ceilMinutes(retry))), retry)
}

func loginSlowed(retry time.Duration) error {
	return errs.WithRetryAfter(errs.NewVariant(errs.ErrRateLimited, "login_rate_limited", "account",
		"this account has seen many failed log-ins, so attempts are slowed down; try again in %d s", errs.P("Seconds", ceilSeconds(retry))), retry)
}

func ceilMinutes(d time.Duration) int64 { return max(1, int64((d+time.Minute-1)/time.Minute)) }
func ceilSeconds(d time.Duration) int64 { return max(1, int64((d+time.Second-1)/time.Second)) }

// ClientNetwork is the unit a client is limited by: an IPv4 address, or the
// /64 an IPv6 address belongs to (one subscriber's whole allocation). An
// unparsable address is its own network.
func ClientNetwork(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap().WithZone("")
	if a.Is4() {
		return a.String()
	}
	p, _ := a.Prefix(64)
	return p.String()
}

// Authenticate checks an email and password from clientIP. The attempt is
// counted (per account and network, per network, per account) before the
// password is hashed; past a limit it answers errs.ErrRateLimited with a
// Retry-After and checks nothing. The hash waits for one of the process's
// hash slots; none free within HashWait is errs.ErrUnavailable.
func (s *Service) Authenticate(ctx context.Context, email, password, clientIP string) (User, error) {
	norm, err := NormalizeEmail(email)
	if err != nil {
		return User{}, errBadCredentials
	}
	netw := ClientNetwork(clientIP)
	acctNet, netKey, acctKey := "acct-net:"+norm+"|"+netw, "net:"+netw, "acct:"+norm
	// Releases use a context that outlives a client that hung up.
	bg := context.WithoutCancel(ctx)
	var held []string
	release := func() {
		for _, k := range held {
			_ = s.limiter.Release(bg, k)
		}
	}
	limit := int64(max(1, s.cfg.LoginLimit))
	for _, k := range []struct {
		key   string
		limit int64
	}{{acctNet, limit}, {netKey, limit * LoginNetworkFactor}} {
		ok, retry, err := s.limiter.Reserve(ctx, k.key, k.limit, s.cfg.LoginWindow)
		if err != nil {
			release()
			return User{}, fmt.Errorf("login limiter: %w", err)
		}
		if !ok {
			release()
			return User{}, loginLimited(retry)
		}
		held = append(held, k.key)
	}
	ok, retry, err := s.limiter.Backoff(ctx, acctKey, limit*LoginAccountFactor, s.cfg.LoginWindow, loginBackoffBase, loginBackoffMax)
	if err != nil {
		release()
		return User{}, fmt.Errorf("login limiter: %w", err)
	}
	if !ok {
		release()
		return User{}, loginSlowed(retry)
	}
	held = append(held, acctKey)

	u, hash, err := s.store.UserByEmail(ctx, norm)
	switch {
	case err == nil:
	case errors.Is(err, errs.ErrNotFound):
		// Spend the same time as a real check so timing does not reveal accounts.
		hash = ""
	default:
		release()
		return User{}, err
	}
	match, err := s.verifyPassword(ctx, password, hash)
	if err != nil {
		release() // never checked: the attempt is not the client's to pay for
		return User{}, err
	}
	if !match {
		return User{}, errBadCredentials
	}
	// The owner: their network's count for the account starts over, and
	// this attempt was no failure for the network's and the account's counts.
	_ = s.limiter.Reset(bg, acctNet)
	held = held[1:]
	release()
	return u, nil
}

// verifyPassword checks password against hash ("" checks against a dummy
// hash and never matches) in a hash slot.
func (s *Service) verifyPassword(ctx context.Context, password, hash string) (bool, error) {
	var ok bool
	err := s.hashes.do(ctx, func() error {
		if hash == "" {
			_, _ = VerifyPassword(password, s.dummyHash())
			return nil
		}
		var err error
		ok, err = VerifyPassword(password, hash)
		return err
	})
	return ok, err
}

// hashPassword hashes a new password in a hash slot.
func (s *Service) hashPassword(ctx context.Context, password string) (string, error) {
	var hash string
	err := s.hashes.do(ctx, func() error {
		var err error
		hash, err = HashPassword(password, s.cfg.PasswordParams)
		return err
	})
	return hash, err
}

// HashStats reports the password hashes running now and the most that ever
// ran at once in this process (for tests and metrics).
func (s *Service) HashStats() (inFlight, maxInFlight int64) {
	return s.hashes.inFlight.Load(), s.hashes.maxInFlight.Load()
}

// HashConcurrency is the number of password hashes that may run at once.
func (s *Service) HashConcurrency() int { return s.hashes.size }

// hashGate bounds the password hashes running at once: each costs
// PasswordParams.Memory (64 MiB by default), so a burst of log-ins must
// wait for a slot rather than allocate without end.
type hashGate struct {
	sem                   *semaphore.Weighted
	size                  int
	wait                  time.Duration
	inFlight, maxInFlight atomic.Int64
}

func newHashGate(size int, wait time.Duration) *hashGate {
	if size <= 0 {
		// Twice the CPUs keeps them busy while a hash waits for memory;
		// at most 16 (1 GiB at 64 MiB a hash) on a large machine.
		size = min(2*runtime.GOMAXPROCS(0), 16)
	}
	if wait <= 0 {
		wait = 2 * time.Second
	}
	return &hashGate{sem: semaphore.NewWeighted(int64(size)), size: size, wait: wait}
}

// do runs f in a slot, waiting at most g.wait for one.
func (g *hashGate) do(ctx context.Context, f func() error) error {
	wctx, cancel := context.WithTimeout(ctx, g.wait)
	err := g.sem.Acquire(wctx, 1)
	cancel()
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return errs.WithRetryAfter(errHashBusy, busyRetry)
	}
	defer g.sem.Release(1)
	n := g.inFlight.Add(1)
	defer g.inFlight.Add(-1)
	for m := g.maxInFlight.Load(); n > m && !g.maxInFlight.CompareAndSwap(m, n); m = g.maxInFlight.Load() {
	}
	return f()
}
