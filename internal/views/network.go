package views

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/netip"
	"strconv"
	"sync"
	"time"
)

// Network is the unit the per-network limits count by: an IPv4 address
// itself ("203.0.113.9"), an IPv6 address's /64 ("2001:db8:1:2::/64", the
// block one subscriber line or one cloud VM usually gets whole), and ""
// for what does not parse (no network limit applies then; the web layer
// always has an address). An IPv4 address mapped into IPv6 is its IPv4
// address.
func Network(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ""
	}
	a = a.Unmap().WithZone("")
	if a.Is4() {
		return a.String()
	}
	p, err := a.Prefix(64)
	if err != nil {
		return ""
	}
	return p.String()
}

// networkID is the anonymous viewer id a network shares once it has used
// up its minting allowance: the same signed id for every later client of
// that network, so that a client throwing its cookie away gains nothing
// (its views deduplicate with everyone else over the limit on that network).
func (s *Signer) networkID(network string) string {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte("ucc-network-viewer\x00"))
	m.Write([]byte(network))
	r := base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:anonRandLen])
	return r + "." + s.anonSig(r)
}

// LimitSpan is the sliding window of every per-network limit.
const LimitSpan = time.Hour

// Minted is a freshly minted anonymous viewer id.
type Minted struct {
	ID     string // the signed id, the ucc_vid cookie's value
	Shared bool   // the network is over its minting allowance: the id is the network's shared one
}

// MintAnonymous returns a new signed anonymous viewer id for a client at ip
// without one. Each network may mint Config.MintHourlyCap ids in any sliding
// hour; beyond that (and for self-declared bots, and while Redis does not
// answer) the client gets its network's shared id, so that discarding the
// cookie and asking again never yields a fresh identity to count under.
func (s *Service) MintAnonymous(ctx context.Context, ip, userAgent string) Minted {
	network := Network(ip)
	if network == "" || s.cfg.MintHourlyCap <= 0 {
		return Minted{ID: s.signer.NewAnonymousID()}
	}
	if IsBot(userAgent) {
		return Minted{ID: s.signer.networkID(network), Shared: true}
	}
	id := s.signer.NewAnonymousID()
	ok, err := s.counter.Mint(ctx, network, id, s.now(), s.cfg.MintHourlyCap)
	if err != nil {
		s.metrics.redisErrors.Inc()
	}
	if err != nil || !ok {
		s.metrics.sharedIDs.Inc()
		return Minted{ID: s.signer.networkID(network), Shared: true}
	}
	return Minted{ID: id}
}

// networkNotes remembers when a signed-in user's network was last written
// to Redis, so that a session browsing many pages costs one write per
// noteEvery, not one per request.
type networkNotes struct {
	mu   sync.Mutex
	last map[string]time.Time
}

// networkNotesMax bounds the in-process memory; it is emptied when full.
const networkNotesMax = 100_000

func (n *networkNotes) due(key string, now time.Time, every time.Duration) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if t, ok := n.last[key]; ok && now.Sub(t) < every && !now.Before(t) {
		return false
	}
	if n.last == nil || len(n.last) >= networkNotesMax {
		n.last = make(map[string]time.Time)
	}
	n.last[key] = now
	return true
}

// SignedIn records that user id is signed in from ip, for
// Config.CreatorNetworkTTL: anonymous plays and other accounts' plays from
// that network of the user's own videos are self-views and do not count.
// Errors are left to the next request (this is a best-effort note).
func (s *Service) SignedIn(ctx context.Context, userID int64, ip string) {
	network := Network(ip)
	ttl := s.cfg.CreatorNetworkTTL
	if userID == 0 || network == "" || ttl <= 0 {
		return
	}
	every := min(ttl/4, 10*time.Minute)
	key := strconv.FormatInt(userID, 10) + "|" + network
	if !s.notes.due(key, s.now(), every) {
		return
	}
	if err := s.counter.MarkNetwork(ctx, userID, network, ttl); err != nil {
		s.metrics.redisErrors.Inc()
		s.notes.mu.Lock()
		delete(s.notes.last, key) // try again on the next request
		s.notes.mu.Unlock()
	}
}
