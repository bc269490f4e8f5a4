package revenue

import (
	"errors"
	"math"
	"math/big"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/ucc-video/ucc/internal/errs"
)

func amounts(a Allocation) map[int64]int64 {
	m := map[int64]int64{}
	for _, l := range a.Lines {
		m[l.CreatorID] = l.Amount
	}
	return m
}

func TestAllocateHandWorked(t *testing.T) {
	cases := []struct {
		name     string
		p        Params
		in       []CreatorInput
		pool     int64
		platform int64
		want     map[int64]int64
		eligible int
	}{
		{
			// V=400, V_e=300: E = floor(1000·5500·300 / (10000·400)) = floor(412.5) = 412.
			// 412/3 = 137 r 1 each: the tie goes to the lowest id.
			name: "ties go to the lower creator id",
			p:    Params{Revenue: 1000, ShareBps: 5500, Threshold: 100},
			in:   []CreatorInput{{3, 100, 300, 0}, {1, 100, 100, 0}, {2, 100, 200, 0}, {4, 100, 50, 0}},
			pool: 412, platform: 588, eligible: 3,
			want: map[int64]int64{1: 138, 2: 137, 3: 137, 4: 0},
		},
		{
			// E = 10 over V_c 1 and 2: 3 r 1/3 and 6 r 2/3: the larger remainder wins over the lower id.
			name: "largest remainder beats lower id",
			p:    Params{Revenue: 10, ShareBps: 10000},
			in:   []CreatorInput{{1, 1, 1, 0}, {2, 2, 2, 0}},
			pool: 10, platform: 0, eligible: 2,
			want: map[int64]int64{1: 3, 2: 7},
		},
		{
			// KRW has no minor unit: 1001 won, everyone eligible, three equal creators: 334, 334, 333.
			name: "KRW everyone eligible",
			p:    Params{Revenue: 1001, ShareBps: 10000, Threshold: 0},
			in:   []CreatorInput{{7, 5, 5, 0}, {8, 5, 5, 0}, {9, 5, 5, 0}},
			pool: 1001, platform: 0, eligible: 3,
			want: map[int64]int64{7: 334, 8: 334, 9: 333},
		},
		{
			// Threshold crossed exactly: lifetime 1000 = T is eligible, 999 is not.
			// V=10, V_e=3: E = floor(1,000,000·5500·3 / (10000·10)) = 165000 → 55000 and 110000.
			name: "threshold exactly at T",
			p:    Params{Revenue: 1_000_000, ShareBps: 5500, Threshold: 1000},
			in:   []CreatorInput{{10, 1, 1000, 0}, {11, 2, 5000, 0}, {12, 7, 999, 0}},
			pool: 165000, platform: 835000, eligible: 2,
			want: map[int64]int64{10: 55000, 11: 110000, 12: 0},
		},
		{
			name: "nobody eligible",
			p:    Params{Revenue: 12345, ShareBps: 5500, Threshold: 1_000_000},
			in:   []CreatorInput{{1, 10, 10, 0}, {2, 20, 999_999, 0}},
			pool: 0, platform: 12345, eligible: 0,
			want: map[int64]int64{1: 0, 2: 0},
		},
		{
			name: "zero views",
			p:    Params{Revenue: 999, ShareBps: 5500, Threshold: 0},
			in:   nil,
			pool: 0, platform: 999, eligible: 0,
			want: map[int64]int64{},
		},
		{
			// USD: $100.00 at 55%, everyone eligible: E = 5500 cents split 1:2:3:4 → 550, 1100, 1650, 2200.
			name: "USD everyone eligible",
			p:    Params{Revenue: 10000, ShareBps: 5500, Threshold: 0},
			in:   []CreatorInput{{1, 1, 1, 0}, {2, 2, 2, 0}, {3, 3, 3, 0}, {4, 4, 4, 0}},
			pool: 5500, platform: 4500, eligible: 4,
			want: map[int64]int64{1: 550, 2: 1100, 3: 1650, 4: 2200},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, err := Allocate(c.p, c.in)
			if err != nil {
				t.Fatal(err)
			}
			if a.Pool != c.pool || a.Platform != c.platform || a.EligibleCount != c.eligible {
				t.Fatalf("E=%d platform=%d eligible=%d, want %d %d %d", a.Pool, a.Platform, a.EligibleCount, c.pool, c.platform, c.eligible)
			}
			got := amounts(a)
			if len(got) != len(c.want) {
				t.Fatalf("lines %v, want %v", got, c.want)
			}
			for id, w := range c.want {
				if got[id] != w {
					t.Fatalf("creator %d got %d, want %d (all %v)", id, got[id], w, got)
				}
			}
			for i := 1; i < len(a.Lines); i++ {
				if a.Lines[i-1].CreatorID >= a.Lines[i].CreatorID {
					t.Fatal("lines not ordered by creator id")
				}
			}
		})
	}
}

func TestAllocateMinPayoutCarry(t *testing.T) {
	p := Params{Revenue: 1000, ShareBps: 10000, MinPayout: 500}
	a, err := Allocate(p, []CreatorInput{{1, 3, 3, 0}, {2, 7, 7, 0}})
	if err != nil {
		t.Fatal(err)
	}
	// 300 < 500 is carried; 700 ≥ 500 is payable.
	if l := a.Lines[0]; l.Amount != 300 || l.Payable != 0 || l.CarriedOver != 300 {
		t.Fatalf("creator 1: %+v", l)
	}
	if l := a.Lines[1]; l.Amount != 700 || l.Payable != 700 || l.CarriedOver != 0 {
		t.Fatalf("creator 2: %+v", l)
	}
	// Next period: 300 carried in + 250 earned = 550 ≥ 500 is paid in full.
	a, err = Allocate(Params{Revenue: 250, ShareBps: 10000, MinPayout: 500}, []CreatorInput{{1, 1, 4, 300}})
	if err != nil {
		t.Fatal(err)
	}
	if l := a.Lines[0]; l.Amount != 250 || l.CarriedIn != 300 || l.Payable != 550 || l.CarriedOver != 0 {
		t.Fatalf("next period: %+v", l)
	}
}

func TestAllocateHugeNumbersExact(t *testing.T) {
	// R·s·V_e overflows int64 many times over; the result must still be exact.
	p := Params{Revenue: math.MaxInt64 / 2, ShareBps: 9999}
	in := []CreatorInput{{1, math.MaxInt64 / 4, math.MaxInt64 / 4, 0}, {2, math.MaxInt64/4 - 1, 1, 0}, {3, 3, 3, 0}}
	a, err := Allocate(p, in)
	if err != nil {
		t.Fatal(err)
	}
	checkExact(t, p, in, a)
}

// checkExact asserts the invariants against big.Rat arithmetic.
func checkExact(t *testing.T, p Params, in []CreatorInput, a Allocation) {
	t.Helper()
	var v, ve big.Int
	for _, c := range in {
		v.Add(&v, big.NewInt(c.PeriodViews))
		if c.LifetimeViews >= p.Threshold {
			ve.Add(&ve, big.NewInt(c.PeriodViews))
		}
	}
	wantE := int64(0)
	if v.Sign() > 0 {
		num := new(big.Int).Mul(big.NewInt(p.Revenue), big.NewInt(p.ShareBps))
		num.Mul(num, &ve)
		den := new(big.Int).Mul(big.NewInt(10000), &v)
		wantE = num.Quo(num, den).Int64()
	}
	if a.Pool != wantE || a.Pool+a.Platform != p.Revenue {
		t.Fatalf("E=%d platform=%d, want E=%d R=%d", a.Pool, a.Platform, wantE, p.Revenue)
	}
	var sum int64
	for _, l := range a.Lines {
		sum += l.Amount
		if !l.Eligible {
			if l.Amount != 0 {
				t.Fatalf("ineligible creator %d got %d", l.CreatorID, l.Amount)
			}
			continue
		}
		exact := new(big.Rat)
		if ve.Sign() > 0 {
			exact.SetFrac(new(big.Int).Mul(big.NewInt(a.Pool), big.NewInt(l.PeriodViews)), &ve)
		}
		diff := new(big.Rat).Sub(new(big.Rat).SetInt64(l.Amount), exact)
		if diff.Abs(diff).Cmp(big.NewRat(1, 1)) >= 0 {
			t.Fatalf("creator %d got %d, exact share %s", l.CreatorID, l.Amount, exact.FloatString(3))
		}
	}
	if sum != a.Pool {
		t.Fatalf("payouts sum to %d, E=%d", sum, a.Pool)
	}
}

func TestAllocateRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 2000; i++ {
		p := Params{Revenue: r.Int64N(1 << uint(r.IntN(62)+1)), ShareBps: r.Int64N(10001), Threshold: r.Int64N(1000)}
		n := r.IntN(30)
		in := make([]CreatorInput, n)
		for k := range in {
			pv := r.Int64N(1 << uint(r.IntN(40)+1))
			if r.IntN(5) == 0 {
				pv = r.Int64N(3) // many ties
			}
			in[k] = CreatorInput{CreatorID: int64(k*7 + 1), PeriodViews: pv, LifetimeViews: pv + r.Int64N(1000)}
		}
		a, err := Allocate(p, in)
		if err != nil {
			t.Fatal(err)
		}
		checkExact(t, p, in, a)
		b, _ := Allocate(p, in)
		if a.Digest(p) != b.Digest(p) {
			t.Fatal("allocation not deterministic")
		}
	}
}

func TestCurrenciesAndFormatting(t *testing.T) {
	for _, c := range []struct {
		amount int64
		cur    string
		want   string
	}{{123456, "USD", "1234.56"}, {5, "EUR", "0.05"}, {-5, "GBP", "-0.05"}, {123456, "KRW", "123456"},
		{7, "JPY", "7"}, {1234, "KWD", "1.234"}, {math.MinInt64, "USD", "-92233720368547758.08"}, {0, "USD", "0.00"}} {
		if got := FormatAmount(c.amount, c.cur); got != c.want {
			t.Errorf("FormatAmount(%d, %s) = %q, want %q", c.amount, c.cur, got, c.want)
		}
	}
	if _, err := NormalizeCurrency("xyz"); !errors.Is(err, errs.ErrInvalid) || !strings.Contains(err.Error(), "XYZ") {
		t.Fatalf("unknown currency: %v", err)
	}
	if c, err := NormalizeCurrency(" usd "); err != nil || c != "USD" {
		t.Fatalf("usd: %q %v", c, err)
	}
	if got := MaskRef("DE89370400440532013000"); got != "******************3000" {
		t.Fatalf("mask: %s", got)
	}
	if got := SharePct(1, 3); got != "33.3333" {
		t.Fatalf("SharePct = %s", got)
	}
}

func TestParsePeriod(t *testing.T) {
	s, e, err := ParsePeriod("2026-10")
	if err != nil || !s.Equal(time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)) || !e.Equal(time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("%v %v %v", s, e, err)
	}
	if _, e, _ := ParsePeriod("2026-12"); !e.Equal(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatal("december end")
	}
	for _, bad := range []string{"2026-13", "2026-00", "26-10", "2026/10", "", "1999-01", "2026-1"} {
		if _, _, err := ParsePeriod(bad); !errors.Is(err, errs.ErrInvalid) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}
