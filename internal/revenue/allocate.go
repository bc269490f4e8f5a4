package revenue

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"math/big"
	"math/bits"
	"sort"
	"strconv"

	"github.com/ucc-video/ucc/internal/errs"
)

// Params are a period's inputs to the rule.
type Params struct {
	Revenue   int64 // R, net ad revenue in minor units
	ShareBps  int64 // s, creator share in basis points (0..10000)
	Threshold int64 // T, lifetime views needed to be eligible
	MinPayout int64 // M, smallest balance paid out; below it the balance is carried over
}

// CreatorInput is what the set-based query returns per creator.
type CreatorInput struct {
	CreatorID     int64
	PeriodViews   int64 // V_c
	LifetimeViews int64 // counted views up to the end of the period
	CarriedIn     int64 // unpaid balance from earlier periods (ledger)
}

// Line is one creator's result.
type Line struct {
	CreatorID     int64 `json:"creator_id"`
	PeriodViews   int64 `json:"period_views"`
	LifetimeViews int64 `json:"lifetime_views"`
	Eligible      bool  `json:"eligible"`
	Amount        int64 `json:"amount_minor"`       // this period's share of E
	CarriedIn     int64 `json:"carried_in_minor"`   // balance brought forward
	Payable       int64 `json:"payable_minor"`      // paid for this period (balance ≥ M)
	CarriedOver   int64 `json:"carried_over_minor"` // carried to the next period (balance < M)
}

// Allocation is the result of the rule for one period.
type Allocation struct {
	TotalViews    int64 // V
	EligibleViews int64 // V_e
	EligibleCount int
	Pool          int64 // E
	Platform      int64 // R − E
	Lines         []Line
}

// Allocate applies the revenue rule. Lines come back ordered by creator id,
// so equal inputs give an identical Allocation.
//
//   - E = floor(R·s·V_e / (10000·V)), 0 when V = 0, computed with math/big.
//   - Each eligible creator gets floor(E·V_c / V_e) (128-bit exact via
//     math/bits); the E − Σfloor leftover units go one each to the largest
//     remainders, ties to the lower creator id.
//   - balance = carried-in + amount; balance ≥ M (and > 0) is payable, else
//     it is carried over.
func Allocate(p Params, in []CreatorInput) (Allocation, error) {
	if p.Revenue < 0 || p.ShareBps < 0 || p.ShareBps > 10000 || p.Threshold < 0 || p.MinPayout < 0 {
		return Allocation{}, errs.Invalid("invalid_params", "revenue, share, threshold and minimum payout must be non-negative and the share at most 10000 basis points")
	}
	lines := make([]Line, len(in))
	var a Allocation
	var total, eligible uint64
	for i, c := range in {
		if c.PeriodViews < 0 || c.LifetimeViews < 0 {
			return Allocation{}, fmt.Errorf("revenue: negative views for creator %d", c.CreatorID)
		}
		lines[i] = Line{CreatorID: c.CreatorID, PeriodViews: c.PeriodViews, LifetimeViews: c.LifetimeViews,
			CarriedIn: c.CarriedIn, Eligible: c.LifetimeViews >= p.Threshold}
		total += uint64(c.PeriodViews)
		if lines[i].Eligible {
			eligible += uint64(c.PeriodViews)
			a.EligibleCount++
		}
		if total > math.MaxInt64 {
			return Allocation{}, fmt.Errorf("revenue: total views overflow")
		}
	}
	sort.Slice(lines, func(i, j int) bool { return lines[i].CreatorID < lines[j].CreatorID })
	for i := 1; i < len(lines); i++ {
		if lines[i].CreatorID == lines[i-1].CreatorID {
			return Allocation{}, fmt.Errorf("revenue: creator %d appears twice", lines[i].CreatorID)
		}
	}
	a.TotalViews, a.EligibleViews = int64(total), int64(eligible)
	a.Pool = Pool(p.Revenue, p.ShareBps, a.EligibleViews, a.TotalViews)
	a.Platform = p.Revenue - a.Pool

	// Largest remainder split of E over eligible creators.
	if a.Pool > 0 && eligible > 0 {
		type rem struct {
			idx int
			r   uint64
		}
		rems := make([]rem, 0, a.EligibleCount)
		var given uint64
		for i := range lines {
			if !lines[i].Eligible {
				continue
			}
			hi, lo := bits.Mul64(uint64(a.Pool), uint64(lines[i].PeriodViews))
			q, r := bits.Div64(hi, lo, eligible) // hi < eligible since V_c ≤ V_e and E < 2^63
			lines[i].Amount = int64(q)
			given += q
			rems = append(rems, rem{i, r})
		}
		left := uint64(a.Pool) - given
		sort.Slice(rems, func(x, y int) bool {
			if rems[x].r != rems[y].r {
				return rems[x].r > rems[y].r
			}
			return lines[rems[x].idx].CreatorID < lines[rems[y].idx].CreatorID
		})
		if left > uint64(len(rems)) {
			return Allocation{}, fmt.Errorf("revenue: %d leftover units for %d creators", left, len(rems))
		}
		for k := uint64(0); k < left; k++ {
			lines[rems[k].idx].Amount++
		}
	}
	for i := range lines {
		l := &lines[i]
		if l.CarriedIn > math.MaxInt64-l.Amount {
			return Allocation{}, fmt.Errorf("revenue: balance overflow for creator %d", l.CreatorID)
		}
		bal := l.CarriedIn + l.Amount
		switch {
		case bal <= 0:
			// Nothing due (a negative balance from an adjustment stays on the ledger).
			l.CarriedOver = bal
		case bal >= p.MinPayout:
			l.Payable = bal
		default:
			l.CarriedOver = bal
		}
	}
	a.Lines = lines
	return a, nil
}

// Pool returns E = floor(R·s·V_e / (10000·V)), or 0 when V = 0.
func Pool(revenue, shareBps, eligibleViews, totalViews int64) int64 {
	if totalViews == 0 || eligibleViews == 0 {
		return 0
	}
	num := new(big.Int).Mul(big.NewInt(revenue), big.NewInt(shareBps))
	num.Mul(num, big.NewInt(eligibleViews))
	den := new(big.Int).Mul(big.NewInt(10000), big.NewInt(totalViews))
	return num.Quo(num, den).Int64()
}

// Digest is a stable fingerprint of an allocation: two calculations over the
// same data give the same digest.
func (a Allocation) Digest(p Params) string {
	h := sha256.New()
	buf := make([]byte, 0, 128)
	buf = fmt.Appendf(buf, "R=%d s=%d T=%d M=%d V=%d Ve=%d E=%d P=%d n=%d\n", p.Revenue, p.ShareBps, p.Threshold, p.MinPayout,
		a.TotalViews, a.EligibleViews, a.Pool, a.Platform, a.EligibleCount)
	h.Write(buf)
	for _, l := range a.Lines {
		buf = buf[:0]
		for _, v := range []int64{l.CreatorID, l.PeriodViews, l.LifetimeViews, l.Amount, l.CarriedIn, l.Payable, l.CarriedOver} {
			buf = strconv.AppendInt(buf, v, 10)
			buf = append(buf, ',')
		}
		buf = strconv.AppendBool(buf, l.Eligible)
		buf = append(buf, '\n')
		h.Write(buf)
	}
	return hex.EncodeToString(h.Sum(nil))
}
