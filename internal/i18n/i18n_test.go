package i18n

import (
	"fmt"
	"testing"
	"time"

	"github.com/ucc-video/ucc/internal/errs"
)

func TestNegotiate(t *testing.T) {
	c := load(t)
	for _, tc := range []struct{ header, want string }{
		{"ko-KR,ko;q=0.9", Korean},
		{"ko", Korean},
		{"en-US,en;q=0.9", English},
		{"en-GB", English},
		{"de-DE,de;q=0.9,en;q=0.5", English},
		{"fr-FR,ko;q=0.3", Korean},
		{"ja-JP", ""}, // neither: the caller's default decides
		{"", ""},
		{"*", ""},
		{";;;garbage", ""},
	} {
		if got := c.Negotiate(tc.header); got != tc.want {
			t.Errorf("Negotiate(%q) = %q, want %q", tc.header, got, tc.want)
		}
	}
	if _, err := Load(Options{Default: "fr"}); err == nil {
		t.Error("Load accepted a default language UCC does not speak")
	}
	if got := c.Localizer("xx").Lang(); got != Korean {
		t.Errorf("Localizer(xx) speaks %s, want the default ko", got)
	}
}

func TestCounts(t *testing.T) {
	c := load(t)
	ko, en := c.Localizer(Korean), c.Localizer(English)
	for _, tc := range []struct {
		n      int64
		ko, en string
	}{
		{0, "0", "0"}, {999, "999", "999"}, {1000, "1천", "1K"}, {1234, "1.2천", "1.2K"}, {9999, "9.9천", "10K"},
		{12_000, "1.2만", "12K"}, {34_567, "3.4만", "34K"}, {99_999, "9.9만", "99K"}, {100_000, "10만", "100K"},
		{1_234_567, "123만", "1.2M"}, {12_345_678, "1,234만", "12M"}, {100_000_000, "1억", "100M"},
		{123_456_789, "1.2억", "123M"}, {1_500_000_000, "15억", "1.5B"}, {2_000_000_000_000, "2조", "2000B"},
		{-1234, "-1.2천", "-1.2K"},
	} {
		if got := ko.Compact(tc.n); got != tc.ko {
			t.Errorf("ko Compact(%d) = %q, want %q", tc.n, got, tc.ko)
		}
		if got := en.Compact(tc.n); got != tc.en {
			t.Errorf("en Compact(%d) = %q, want %q", tc.n, got, tc.en)
		}
	}
	for _, tc := range []struct {
		key    string
		n      int64
		ko, en string
	}{
		{"count.views", 12_000, "조회수 1.2만회", "12K views"},
		{"count.views", 1, "조회수 1회", "1 view"},
		{"count.views", 100_000_000, "조회수 1억회", "100M views"},
		{"count.subscribers", 34_000, "구독자 3.4만명", "34K subscribers"},
		{"count.subscribers", 1, "구독자 1명", "1 subscriber"},
	} {
		if got := ko.C(tc.key, tc.n); got != tc.ko {
			t.Errorf("ko C(%s, %d) = %q, want %q", tc.key, tc.n, got, tc.ko)
		}
		if got := en.C(tc.key, tc.n); got != tc.en {
			t.Errorf("en C(%s, %d) = %q, want %q", tc.key, tc.n, got, tc.en)
		}
	}
	// Full numbers are grouped in both languages.
	if got := en.N("flash.payments_recorded", 1_000_000); got != "Recorded 1,000,000 payments." {
		t.Errorf("en N = %q", got)
	}
	if got := en.N("flash.payments_recorded", 1); got != "Recorded 1 payment." {
		t.Errorf("en N(1) = %q", got)
	}
	if got := ko.N("flash.payments_recorded", 1_000_000); got != "지급 1,000,000건을 기록했습니다." {
		t.Errorf("ko N = %q", got)
	}
	if got := ko.Number(1_000_000); got != "1,000,000" {
		t.Errorf("ko Number = %q", got)
	}
}

func TestDatesAndTimes(t *testing.T) {
	c := load(t)
	ko, en := c.Localizer(Korean), c.Localizer(English)
	day := time.Date(2026, 11, 27, 23, 30, 0, 0, time.FixedZone("KST", 9*3600)) // 14:30 UTC
	if got := ko.Date(day); got != "2026년 11월 27일" {
		t.Errorf("ko Date = %q", got)
	}
	if got := en.Date(day); got != "Nov 27, 2026" {
		t.Errorf("en Date = %q", got)
	}
	if got := ko.ShortDate(day); got != "11월 27일" {
		t.Errorf("ko ShortDate = %q", got)
	}
	for _, tc := range []struct {
		d      time.Duration
		ko, en string
	}{
		{10 * time.Second, "방금 전", "just now"},
		{time.Minute, "1분 전", "1 minute ago"},
		{5 * time.Hour, "5시간 전", "5 hours ago"},
		{3 * 24 * time.Hour, "3일 전", "3 days ago"},
		{65 * 24 * time.Hour, "2개월 전", "2 months ago"},
		{800 * 24 * time.Hour, "2년 전", "2 years ago"},
	} {
		if got := ko.Ago(tc.d); got != tc.ko {
			t.Errorf("ko Ago(%s) = %q, want %q", tc.d, got, tc.ko)
		}
		if got := en.Ago(tc.d); got != tc.en {
			t.Errorf("en Ago(%s) = %q, want %q", tc.d, got, tc.en)
		}
	}
	for _, tc := range []struct {
		d      time.Duration
		ko, en string
	}{
		{24 * time.Hour, "1일", "1 day"},
		{26*time.Hour + 5*time.Minute, "1일 2시간", "1 day 2 hours"},
		{90 * time.Minute, "1시간 30분", "1 hour 30 minutes"},
		{2*time.Hour + 30*time.Second, "2시간", "2 hours"},
		{45 * time.Second, "45초", "45 seconds"},
	} {
		if got := ko.Span(tc.d); got != tc.ko {
			t.Errorf("ko Span(%s) = %q, want %q", tc.d, got, tc.ko)
		}
		if got := en.Span(tc.d); got != tc.en {
			t.Errorf("en Span(%s) = %q, want %q", tc.d, got, tc.en)
		}
	}
	if got := ko.Clock(3725); got != "1:02:05" {
		t.Errorf("Clock = %q", got)
	}
}

func TestSizesAndMoney(t *testing.T) {
	c := load(t)
	ko, en := c.Localizer(Korean), c.Localizer(English)
	if got := ko.Size(500); got != "500바이트" {
		t.Errorf("ko Size(500) = %q", got)
	}
	if got := en.Size(1); got != "1 byte" {
		t.Errorf("en Size(1) = %q", got)
	}
	if got := ko.Size(5 << 20); got != "5 MiB" {
		t.Errorf("ko Size(5 MiB) = %q", got)
	}
	for _, tc := range []struct {
		amount, cur, ko, en string
	}{
		{"1234", "KRW", "₩1,234", "1,234 KRW"},
		{"-1234567", "KRW", "-₩1,234,567", "-1,234,567 KRW"},
		{"12.34", "USD", "12.34 USD", "12.34 USD"},
		{"1234567.89", "USD", "1,234,567.89 USD", "1,234,567.89 USD"},
		{"1.234", "KWD", "1.234 KWD", "1.234 KWD"},
		{"0.05", "EUR", "0.05 EUR", "0.05 EUR"},
	} {
		if got := ko.Money(tc.amount, tc.cur); got != tc.ko {
			t.Errorf("ko Money(%s %s) = %q, want %q", tc.amount, tc.cur, got, tc.ko)
		}
		if got := en.Money(tc.amount, tc.cur); got != tc.en {
			t.Errorf("en Money(%s %s) = %q, want %q", tc.amount, tc.cur, got, tc.en)
		}
	}
}

func TestErrorMessages(t *testing.T) {
	c := load(t)
	ko, en := c.Localizer(Korean), c.Localizer(English)
	bad := errs.New(errs.ErrUnauthorized, "bad_credentials", "wrong email or password")
	if got := ko.Error(bad); got != "이메일 또는 비밀번호가 틀렸습니다." {
		t.Errorf("ko = %q", got)
	}
	if got := en.Error(bad); got != "wrong email or password" {
		t.Errorf("en = %q", got)
	}
	// Wrapped errors are found; their parameters fill the message, numbers grouped.
	long := fmt.Errorf("posting: %w", errs.Invalid("comment_too_long", "a comment can be at most 10,000 characters; this one has %d", errs.P("Length", 12345)))
	if got := ko.Error(long); got != "댓글은 최대 10,000자까지 쓸 수 있습니다. 지금 댓글은 12,345자입니다." {
		t.Errorf("ko = %q", got)
	}
	if got := en.Error(long); got != "a comment can be at most 10,000 characters; this one has 12345" {
		t.Errorf("en = %q", got)
	}
	// A variant has its own message.
	like := errs.NewVariant(errs.ErrUnauthorized, "unauthorized", "like", "sign in to like videos")
	if got := ko.Error(like); got != "좋아요를 누르려면 로그인하세요." {
		t.Errorf("ko variant = %q", got)
	}
	// A parameter that is itself an error is translated too.
	inner := errs.Invalid("unknown_currency", "currency %q is not an ISO 4217 code UCC knows; use an upper-case code such as USD, EUR, GBP, JPY or KRW", errs.P("Currency", "XYZ"))
	outer := errs.InvalidVariant("invalid_amount", "revenue", "revenue: %s", errs.P("Reason", inner))
	if got := ko.Error(outer); got != "광고 수익: “XYZ”은(는) UCC가 아는 ISO 4217 통화 코드가 아닙니다. USD, EUR, GBP, JPY, KRW 같은 대문자 코드를 쓰세요." {
		t.Errorf("ko nested = %q", got)
	}
	// An error the catalog does not know reads in English, and is reported.
	var missed []string
	c2, err := Load(Options{Default: Korean, OnMissing: func(lang, key string) { missed = append(missed, lang+":"+key) }})
	if err != nil {
		t.Fatal(err)
	}
	odd := errs.Invalid("no_such_code_anywhere", "something odd")
	if got := c2.Localizer(Korean).Error(odd); got != "something odd" {
		t.Errorf("unknown code = %q", got)
	}
	if got := c2.Localizer(Korean).T("no.such.key"); got != "no.such.key" {
		t.Errorf("unknown key = %q", got)
	}
	if fmt.Sprint(missed) != "[ko:err.no_such_code_anywhere ko:no.such.key]" {
		t.Errorf("OnMissing heard %v", missed)
	}
	// A plain error is its own text.
	if got := ko.Error(fmt.Errorf("boom")); got != "boom" {
		t.Errorf("plain = %q", got)
	}
}

func TestScriptMessages(t *testing.T) {
	c := load(t)
	en := c.Localizer(English).Script("js.upload.", "count.views")
	if en["js.upload.retrying"] != "Connection lost — retrying in {Seconds} s (attempt {Attempt} of {Max})…" {
		t.Errorf("en retrying = %v", en["js.upload.retrying"])
	}
	views, ok := en["count.views"].(map[string]string)
	if !ok || views["one"] != "{Count} view" || views["other"] != "{Count} views" {
		t.Errorf("en count.views = %#v", en["count.views"])
	}
	if _, ok := en["count.subscribers"]; ok {
		t.Error("Script gave a message it was not asked for")
	}
	ko := c.Localizer(Korean).Script("count.views")
	if ko["count.views"] != "조회수 {Count}회" {
		t.Errorf("ko count.views = %#v", ko["count.views"])
	}
}
