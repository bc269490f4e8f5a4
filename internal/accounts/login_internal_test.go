package accounts

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/ucc-video/ucc/internal/errs"
)

// TestHashGateBoundsAndRefuses: with every slot held, a further hash waits
// its HashWait and is refused as unavailable with a Retry-After, never run;
// the most in flight is the slot count.
func TestHashGateBoundsAndRefuses(t *testing.T) {
	g := newHashGate(2, 50*time.Millisecond)
	hold, entered, done := make(chan struct{}), make(chan struct{}), make(chan error, 2)
	for i := 0; i < 2; i++ {
		go func() { done <- g.do(context.Background(), func() error { entered <- struct{}{}; <-hold; return nil }) }()
	}
	<-entered
	<-entered
	ran := false
	err := g.do(context.Background(), func() error { ran = true; return nil })
	if ran || !errors.Is(err, errs.ErrUnavailable) {
		t.Fatalf("third hash with 2 slots held: ran %v, err %v", ran, err)
	}
	if d, ok := errs.RetryAfter(err); !ok || d <= 0 {
		t.Fatalf("busy answer without Retry-After: %v", err)
	}
	var e *errs.Error
	if !errors.As(err, &e) || e.Code != "login_busy" {
		t.Fatalf("busy error %v", err)
	}
	close(hold)
	for i := 0; i < 2; i++ {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if now, most := g.inFlight.Load(), g.maxInFlight.Load(); now != 0 || most != 2 {
		t.Fatalf("in flight %d, most %d", now, most)
	}
	if err := g.do(context.Background(), func() error { ran = true; return nil }); err != nil || !ran {
		t.Fatalf("free slot: %v", err)
	}
}

// TestClientNetwork: IPv4 addresses are themselves; IPv6 addresses count by
// their /64; IPv4-mapped IPv6 is IPv4.
func TestClientNetwork(t *testing.T) {
	for in, want := range map[string]string{
		"203.0.113.5": "203.0.113.5", "::ffff:203.0.113.5": "203.0.113.5",
		"2001:db8:1:2:3:4:5:6": "2001:db8:1:2::/64", "2001:db8:1:2::1": "2001:db8:1:2::/64",
		"fe80::1%eth0": "fe80::/64", "garbage": "garbage",
	} {
		if got := ClientNetwork(in); got != want {
			t.Errorf("ClientNetwork(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestDeviceAndCleanUserAgent: labels for common browsers and clients, and
// a User-Agent made fit to store (no control characters, valid UTF-8, cut
// on a character boundary).
func TestDeviceAndCleanUserAgent(t *testing.T) {
	for ua, want := range map[string]string{
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36 Edg/126.0":                  "Edge · Windows",
		"Mozilla/5.0 (Linux; Android 14; SM-S918N) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/25.0 Chrome/121.0 Mobile Safari/537.36": "Samsung Internet · Android",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15":                     "Safari · macOS",
		"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36":                                      "Chrome · Linux",
		"curl/8.5.0": "curl", "": "", "something else": "",
	} {
		if got := Device(ua); got != want {
			t.Errorf("Device(%q) = %q, want %q", ua, got, want)
		}
	}
	long := strings.Repeat("가", 300) // 900 bytes
	if got := CleanUserAgent(long); len(got) > MaxUserAgentBytes || !utf8.ValidString(got) || len(got) < MaxUserAgentBytes-3 {
		t.Fatalf("cut to %d bytes, valid %v", len(got), utf8.ValidString(got))
	}
	if got := CleanUserAgent("a\nb\x00c\xffd "); got != "a b cd" {
		t.Fatalf("CleanUserAgent = %q", got)
	}
}
