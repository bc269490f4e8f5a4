package i18n

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/ucc-video/ucc/internal/bytesize"
)

// Number writes n in full with the language's grouping: 1,000,000.
func (l *Localizer) Number(n int64) string { return l.printer.Sprintf("%d", n) }

// Compact writes a count short, as the language's readers expect: English
// 999, 1.2K, 12K, 1.2M, 3B; Korean 999, 1.2천, 3.4만, 123만, 1.2억, 1조
// (myriads: 만 is 10^4, 억 10^8, 조 10^12). Korean figures are rounded
// down, so a count never reads as more than it is.
func (l *Localizer) Compact(n int64) string {
	if n < 0 {
		return "-" + l.Compact(-n)
	}
	if l.lang == Korean {
		return compactKorean(n, l.Number)
	}
	return compactEnglish(n)
}

// compactEnglish is UCC's English short count (1.2K, 12K, 1.2M).
func compactEnglish(n int64) string {
	trim := func(s string) string { return strings.TrimSuffix(s, ".0") }
	switch {
	case n < 1000:
		return strconv.FormatInt(n, 10)
	case n < 10_000:
		return trim(fmt.Sprintf("%.1f", float64(n)/1000)) + "K"
	case n < 1_000_000:
		return fmt.Sprintf("%dK", n/1000)
	case n < 10_000_000:
		return trim(fmt.Sprintf("%.1f", float64(n)/1e6)) + "M"
	case n < 1_000_000_000:
		return fmt.Sprintf("%dM", n/1_000_000)
	}
	return trim(fmt.Sprintf("%.1f", float64(n)/1e9)) + "B"
}

// compactKorean is the Korean short count: one decimal while below ten of
// a unit, whole units (grouped) above.
func compactKorean(n int64, group func(int64) string) string {
	units := []struct {
		size int64
		name string
	}{{1_000_000_000_000, "조"}, {100_000_000, "억"}, {10_000, "만"}, {1000, "천"}}
	for _, u := range units {
		if n < u.size {
			continue
		}
		if n < 10*u.size {
			tenths := n * 10 / u.size
			if tenths%10 == 0 {
				return strconv.FormatInt(tenths/10, 10) + u.name
			}
			return strconv.FormatInt(tenths/10, 10) + "." + strconv.FormatInt(tenths%10, 10) + u.name
		}
		return group(n/u.size) + u.name
	}
	return strconv.FormatInt(n, 10)
}

// Date writes a day: Nov 27, 2026 / 2026년 11월 27일 (in UTC).
func (l *Localizer) Date(t time.Time) string { return t.UTC().Format(l.T("format.date")) }

// ShortDate writes a day without its year: Nov 27 / 11월 27일 (in UTC).
func (l *Localizer) ShortDate(t time.Time) string { return t.UTC().Format(l.T("format.short_date")) }

// Ago writes how long ago something happened, d being its age: "just now",
// "3 days ago" / "방금 전", "3일 전".
func (l *Localizer) Ago(d time.Duration) string {
	const day = 24 * time.Hour
	switch {
	case d < time.Minute:
		return l.T("time.just_now")
	case d < time.Hour:
		return l.N("time.minutes_ago", int64(d/time.Minute))
	case d < day:
		return l.N("time.hours_ago", int64(d/time.Hour))
	case d < 30*day:
		return l.N("time.days_ago", int64(d/day))
	case d < 365*day:
		return l.N("time.months_ago", int64(d/(30*day)))
	}
	return l.N("time.years_ago", int64(d/(365*day)))
}

// Clock writes a video's length as m:ss or h:mm:ss (the same in every
// language UCC speaks).
func (l *Localizer) Clock(seconds float64) string {
	s := int64(math.Round(seconds))
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

// Span writes a length of time in words, in its two largest units:
// "1 day 2 hours", "15 minutes" / "1일 2시간", "15분".
func (l *Localizer) Span(d time.Duration) string {
	if d < time.Second {
		return l.N("time.seconds", 0)
	}
	units := []struct {
		size time.Duration
		key  string
	}{{24 * time.Hour, "time.days"}, {time.Hour, "time.hours"}, {time.Minute, "time.minutes"}, {time.Second, "time.seconds"}}
	var parts []string
	for _, u := range units {
		if n := d / u.size; n > 0 && len(parts) < 2 {
			parts = append(parts, l.N(u.key, int64(n)))
			d -= n * u.size
		} else if len(parts) > 0 {
			break
		}
	}
	return strings.Join(parts, " ")
}

// Size writes a byte count in binary units (internal/bytesize): 500 bytes,
// 1.5 KiB, 8 GiB / 500바이트, 1.5 KiB.
func (l *Localizer) Size(n int64) string {
	if n < 1024 {
		return l.N("format.bytes", n)
	}
	return bytesize.Format(n)
}

// Decimal writes a decimal number ("-1234567.89") with its whole part
// grouped: -1,234,567.89. Anything else is returned as it is.
func (l *Localizer) Decimal(amount string) string {
	neg := strings.HasPrefix(amount, "-")
	whole, frac, hasFrac := strings.Cut(strings.TrimPrefix(amount, "-"), ".")
	n, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || strings.HasPrefix(whole, "+") {
		return amount
	}
	s := l.Number(n)
	if hasFrac {
		s += "." + frac
	}
	if neg {
		s = "-" + s
	}
	return s
}

// Money writes an amount given as a decimal in the currency's major units
// ("1234.56", as revenue.FormatMinor writes it, with the ISO 4217 exponent)
// and its currency code: 1,234.56 USD; in Korean won as ₩1,234.
func (l *Localizer) Money(amount, currency string) string {
	s := l.Decimal(amount)
	neg := strings.HasPrefix(s, "-")
	if l.lang == Korean && currency == "KRW" {
		if neg {
			return "-₩" + s[1:]
		}
		return "₩" + s
	}
	return s + " " + currency
}
