package revenue

import (
	"encoding/csv"
	"encoding/json"
	"io"
	"math/bits"
	"strconv"
	"strings"
	"time"
)

// CSVColumns returns the report's columns, in order. They are stable: new
// columns are only ever appended. Every line has all of them.
//
//	record              "creator" for a creator's line, "total" for the last line
//	period              the month, YYYY-MM
//	currency            ISO 4217 code; amounts use its exponent (USD 12.34, KRW 1234)
//	creator_id          the creator's user id (empty on the total line)
//	channel_handle      channel_name, creator_name: who it is (may be empty for deleted accounts)
//	period_views        V_c (V on the total line)
//	share_of_views_pct  V_c / V as a percentage, 4 decimals, rounded down
//	lifetime_views      counted views up to the end of the period
//	eligible            true/false (the number of eligible creators on the total line)
//	amount              this period's share of the pool (E on the total line)
//	carried_in          unpaid balance brought forward from earlier periods
//	payable             what is paid for this period (balance ≥ minimum payout)
//	carried_over        balance carried to the next period (below the minimum payout)
//	status              pending, unpaid, paid, carried_over, ineligible, nothing_due (period status on the total line)
//	paid_at             RFC 3339 time of the payment, if paid
//	payment_reference   the payment's reference, if paid
//	has_payout_profile  true/false: false lines are calculated but flagged
//	legal_name, country from the payout profile
//	payout_method       the payout method reference masked except its last 4 characters
//	revenue             R (total line only)
//	platform_share      R − E (total line only)
//
// Free-text cells (channel_name, creator_name, payment_reference, legal_name,
// payout_method) are written through CSVText: a value a spreadsheet would
// run as a formula (starting with =, +, -, @, tab or carriage return) gets a
// leading apostrophe, and carriage returns become line feeds.
func CSVColumns() []string {
	return []string{"record", "period", "currency", "creator_id", "channel_handle", "channel_name", "creator_name",
		"period_views", "share_of_views_pct", "lifetime_views", "eligible", "amount", "carried_in", "payable", "carried_over",
		"status", "paid_at", "payment_reference", "has_payout_profile", "legal_name", "country", "payout_method",
		"revenue", "platform_share"}
}

// SharePct renders part/whole as a percentage with 4 decimals, rounded down,
// in exact integer arithmetic ("12.3456").
func SharePct(part, whole int64) string {
	if whole <= 0 || part < 0 {
		return "0.0000"
	}
	hi, lo := bits.Mul64(uint64(part), 1_000_000)
	if hi >= uint64(whole) {
		return "100.0000"
	}
	q, _ := bits.Div64(hi, lo, uint64(whole))
	return FormatMinor(int64(q), 4)
}

func fmtTime(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// CSVText makes user-supplied text safe for a spreadsheet cell (OWASP "CSV
// injection"): carriage returns become line feeds (so the text reads back
// unchanged from any CSV parser), and a value starting with a
// character that makes spreadsheets evaluate it as a formula is prefixed
// with an apostrophe, which shows the text as typed.
func CSVText(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	if s != "" && strings.ContainsRune("=+-@\t\n", rune(s[0])) {
		return "'" + s
	}
	return s
}

// WriteCSV writes the period's report (lines ordered by creator id) as RFC
// 4180 CSV with a header and a totals line. The output depends only on the
// stored data, so recalculating the same data gives the same bytes.
func WriteCSV(w io.Writer, p Period, lines []Payout) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVColumns()); err != nil {
		return err
	}
	f := p.Format
	var amount, carriedIn, payable, carriedOver int64
	for _, l := range lines {
		amount += l.Amount
		carriedIn += l.CarriedIn
		payable += l.Payable
		carriedOver += l.CarriedOver
		rec := []string{"creator", p.Key, p.Currency, strconv.FormatInt(l.CreatorID, 10), CSVText(l.ChannelHandle), CSVText(l.ChannelName), CSVText(l.CreatorName),
			strconv.FormatInt(l.PeriodViews, 10), SharePct(l.PeriodViews, p.TotalViews), strconv.FormatInt(l.LifetimeViews, 10),
			strconv.FormatBool(l.Eligible), f(l.Amount), f(l.CarriedIn), f(l.Payable), f(l.CarriedOver),
			l.Status(p.Frozen()), fmtTime(l.PaidAt), CSVText(l.Reference), strconv.FormatBool(l.HasProfile), CSVText(l.LegalName), CSVText(l.Country), CSVText(l.MethodMasked),
			"", ""}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	share := "0.0000"
	if p.TotalViews > 0 {
		share = "100.0000"
	}
	total := []string{"total", p.Key, p.Currency, "", "", "", "", strconv.FormatInt(p.TotalViews, 10), share, "",
		strconv.Itoa(p.EligibleCount), f(amount), f(carriedIn), f(payable), f(carriedOver), p.Status, "", "", "", "", "", "",
		f(p.Revenue), f(p.Platform)}
	if err := cw.Write(total); err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}

// JSONPayout is one payout line in the JSON report and API.
type JSONPayout struct {
	Payout
	Status       string `json:"status"`
	ShareOfViews string `json:"share_of_views_pct"`
	AmountDec    string `json:"amount"`
	CarriedInDec string `json:"carried_in"`
	PayableDec   string `json:"payable"`
	CarriedDec   string `json:"carried_over"`
}

// JSONPeriod is a period with its amounts also as decimal strings.
type JSONPeriod struct {
	Period
	RevenueDec  string `json:"revenue"`
	PoolDec     string `json:"pool"`
	PlatformDec string `json:"platform_share"`
	MinPayDec   string `json:"min_payout"`
}

// PeriodJSON decorates a period for JSON output.
func PeriodJSON(p Period) JSONPeriod {
	return JSONPeriod{Period: p, RevenueDec: p.Format(p.Revenue), PoolDec: p.Format(p.Pool), PlatformDec: p.Format(p.Platform), MinPayDec: p.Format(p.MinPayout)}
}

// PayoutsJSON decorates payout lines for JSON output.
func PayoutsJSON(p Period, lines []Payout) []JSONPayout {
	out := make([]JSONPayout, len(lines))
	for i, l := range lines {
		out[i] = JSONPayout{Payout: l, Status: l.Status(p.Frozen()), ShareOfViews: SharePct(l.PeriodViews, p.TotalViews),
			AmountDec: p.Format(l.Amount), CarriedInDec: p.Format(l.CarriedIn), PayableDec: p.Format(l.Payable), CarriedDec: p.Format(l.CarriedOver)}
	}
	return out
}

// WriteJSON writes the period's full report as one JSON document.
func WriteJSON(w io.Writer, p Period, lines []Payout) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		Period  JSONPeriod   `json:"period"`
		Payouts []JSONPayout `json:"payouts"`
	}{PeriodJSON(p), PayoutsJSON(p, lines)})
}
