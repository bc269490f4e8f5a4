package web

import (
	"context"
	"net/netip"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ucc-video/ucc/internal/errs"
)

// RequestLimiter admits requests per key within a sliding window
// (storage/redis.RequestLimiter).
type RequestLimiter interface {
	// Allow counts one request for key if fewer than limit lie within the
	// window ending now; otherwise it says how long until one would fit.
	Allow(ctx context.Context, key string, limit int, window time.Duration) (ok bool, retryAfter time.Duration, err error)
}

// requestWindow is the window of the per-network request limits.
const requestWindow = time.Minute

// perNetwork limits a route to limit requests per minute from one client
// network (an IPv4 address, an IPv6 /64: one subscriber's allocation),
// counted under name ("search" or "list"); routes sharing a name share
// the budget. Beyond it
// the answer is 429 with Retry-After. Searches and list pages are cheap to
// ask for and dear to answer, so this is what keeps one client from
// taking the database. When Redis does not answer the request goes
// through: the limit is a brake, and the pages must work without Redis.
func (s *Server) perNetwork(name string, limit int) gin.HandlerFunc {
	return func(c *gin.Context) {
		if limit <= 0 {
			return
		}
		ok, wait, err := s.deps.Requests.Allow(c, clientNetwork(c.ClientIP()), limit, requestWindow)
		if err != nil {
			s.log.WarnContext(c, "request limiter unavailable; letting the request through", "limit", name, "err", err)
			return
		}
		if ok {
			return
		}
		secs := max(int((wait+time.Second-1)/time.Second), 1)
		err = errs.NewVariant(errs.ErrRateLimited, "too_many_requests", "list",
			"too many requests from your network; wait %d seconds and try again", errs.P("Seconds", secs))
		if name == "search" {
			err = errs.NewVariant(errs.ErrRateLimited, "too_many_requests", "search",
				"too many searches from your network; wait %d seconds and try again", errs.P("Seconds", secs))
		}
		s.fail(c, errs.WithRetryAfter(err, time.Duration(secs)*time.Second))
	}
}

// clientNetwork is the key of a client address for network limits: an
// IPv4 address as is, an IPv6 address cut to its /64.
func clientNetwork(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap()
	if a.Is4() {
		return a.String()
	}
	p, _ := a.Prefix(64)
	return p.String()
}
