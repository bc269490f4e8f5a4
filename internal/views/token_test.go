package views

import (
	"testing"
	"time"

	"github.com/ucc-video/ucc/internal/videos"
)

func TestSignerRules(t *testing.T) {
	s := NewSigner([]byte("0123456789abcdef0123456789abcdef"))
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	tok := s.Issue(42, "u:7", t0)
	min, max := 30*time.Second, 2*time.Hour
	if _, err := s.Verify(tok, 42, "u:7", t0.Add(31*time.Second), min, max); err != nil {
		t.Fatalf("valid token refused: %v", err)
	}
	other := NewSigner([]byte("another secret, 32 characters..."))
	cases := []struct {
		name   string
		tok    string
		video  int64
		viewer string
		at     time.Time
		want   error
	}{
		{"too young", tok, 42, "u:7", t0.Add(29 * time.Second), errTokenTooYoung},
		{"expired", tok, 42, "u:7", t0.Add(max + time.Second), errTokenExpired},
		{"other video", tok, 43, "u:7", t0.Add(time.Minute), errTokenForged},
		{"other viewer", tok, 42, "u:8", t0.Add(time.Minute), errTokenForged},
		{"other key", other.Issue(42, "u:7", t0), 42, "u:7", t0.Add(time.Minute), errTokenForged},
		{"tampered", tok[:len(tok)-2] + flip(tok[len(tok)-2:]), 42, "u:7", t0.Add(time.Minute), errTokenForged},
		{"garbage", "not a token!", 42, "u:7", t0.Add(time.Minute), errTokenMalformed},
		{"empty", "", 42, "u:7", t0.Add(time.Minute), errTokenMalformed},
		{"truncated", tok[:10], 42, "u:7", t0.Add(time.Minute), errTokenMalformed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := s.Verify(c.tok, c.video, c.viewer, c.at, min, max); err != c.want {
				t.Fatalf("Verify = %v, want %v", err, c.want)
			}
		})
	}
}

func flip(s string) string {
	b := []byte(s)
	if b[0] == 'A' {
		b[0] = 'B'
	} else {
		b[0] = 'A'
	}
	return string(b)
}

func TestAnonymousIDs(t *testing.T) {
	s := NewSigner([]byte("0123456789abcdef0123456789abcdef"))
	id := s.NewAnonymousID()
	r := s.VerifyAnonymousID(id)
	if r == "" || len(r) < 20 {
		t.Fatalf("fresh id %q does not verify", id)
	}
	if s.NewAnonymousID() == id {
		t.Fatal("two fresh ids are equal")
	}
	for _, bad := range []string{"", "abc", r + ".xxxx", r, id + "x", flip(id[:1]) + id[1:]} {
		if s.VerifyAnonymousID(bad) != "" {
			t.Errorf("forged id %q verified", bad)
		}
	}
	if (Viewer{UserID: 5, AnonID: r}).Identity() != "u:5" || (Viewer{AnonID: r}).Identity() != "a:"+r || (Viewer{}).Identity() != "" {
		t.Fatal("identity precedence wrong")
	}
}

func TestIsBot(t *testing.T) {
	bots := []string{"", "  ", "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
		"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0 Safari/537.36",
		"facebookexternalhit/1.1", "Mozilla/5.0 (compatible; bingbot/2.0)", "UptimeRobot/2.0", "Scrapy/2.11 (+https://scrapy.org)"}
	for _, ua := range bots {
		if !IsBot(ua) {
			t.Errorf("IsBot(%q) = false", ua)
		}
	}
	people := []string{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
		"Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
		// HTTP libraries: native and third-party apps on the documented API
		// count under the same token, watch-time and network limits.
		"okhttp/4.12.0", "axios/1.6.8", "Go-http-client/1.1", "curl/8.5.0", "python-requests/2.31",
		"MyTVApp/2.3 (Android 14; +https://example.com/app) okhttp/4.12.0"}
	for _, ua := range people {
		if IsBot(ua) {
			t.Errorf("IsBot(%q) = true", ua)
		}
	}
}

func TestMinWatchAndMaxAge(t *testing.T) {
	s := NewService(Config{MinWatch: 30 * time.Second}, nil, nil, nil, nil, nil)
	for _, c := range []struct {
		dur      float64
		min, max time.Duration
	}{
		{600, 30 * time.Second, 2 * time.Hour},
		{2 * 3600, 30 * time.Second, 3 * time.Hour},
		{20, 10 * time.Second, 2 * time.Hour},
		{0, 30 * time.Second, 2 * time.Hour},
		{4 * 3600, 30 * time.Second, 5 * time.Hour},
		{8, 5 * time.Second, 2 * time.Hour}, // half is 4 s: the floor
		{1, time.Second, 2 * time.Hour},     // shorter than the floor: the whole clip
		{2.5, 2500 * time.Millisecond, 2 * time.Hour},
	} {
		v := Video{DurationSeconds: c.dur, Status: videos.StatusReady}
		if got := s.MinWatch(v); got != c.min {
			t.Errorf("MinWatch(%vs) = %v, want %v", c.dur, got, c.min)
		}
		if got := s.MaxTokenAge(v); got != c.max {
			t.Errorf("MaxTokenAge(%vs) = %v, want %v", c.dur, got, c.max)
		}
	}
}
