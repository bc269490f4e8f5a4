package revenue

import (
	"bytes"
	"encoding/csv"
	"strconv"
	"strings"
	"testing"
	"time"
)

// FuzzPayoutCSV writes reports with arbitrary names, references and amounts,
// parses them back with encoding/csv and checks the shape (header, one line
// per creator plus a totals line, every line with every column), that text
// reads back as written (through CSVText), that no text cell can run as a
// spreadsheet formula, and that the totals line adds up.
func FuzzPayoutCSV(f *testing.F) {
	f.Add("Cooking", "Ann", "REF-1", "Ann Example", int64(1234), int64(0), int64(1234), int64(0), int64(100), int64(400), uint8(0), true)
	f.Add("=HYPERLINK(\"http://evil.example\",\"click\")", "+1+1", "@SUM(A1:A9)", "-2+3", int64(-50), int64(7), int64(0), int64(57), int64(0), int64(0), uint8(3), false)
	f.Add("a,b\"c\nd", "x\r\ny", "\ttab", "\rcr", int64(1), int64(2), int64(3), int64(4), int64(5), int64(6), uint8(7), true)
	f.Add("\xff\xfe", "", "", "", int64(999999999999999), int64(-999999999999999), int64(1), int64(1), int64(1<<40), int64(1<<41), uint8(200), false)
	f.Fuzz(func(t *testing.T, channel, creator, ref, legal string, amount, carriedIn, payable, carriedOver, views, total int64, cur uint8, paid bool) {
		const bound = 1_000_000_000_000_000 // amounts far beyond any revenue; sums of three stay in int64
		for _, v := range []*int64{&amount, &carriedIn, &payable, &carriedOver} {
			*v %= bound
		}
		if views < 0 {
			views = -(views + 1)
		}
		if total < views {
			total = views
		}
		codes := []string{"USD", "JPY", "KWD", "EUR", "KRW", "BHD"}
		p := Period{Key: "2026-10", Currency: codes[int(cur)%len(codes)], Status: StatusApproved, TotalViews: total,
			Revenue: 5 * bound, Pool: amount, Platform: 5*bound - amount, EligibleCount: 1}
		at := time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC)
		lines := []Payout{
			{Line: Line{CreatorID: 1, PeriodViews: views, LifetimeViews: views, Eligible: true, Amount: amount, CarriedIn: carriedIn, Payable: payable, CarriedOver: carriedOver},
				ChannelHandle: "chan", ChannelName: channel, CreatorName: creator, Reference: ref, HasProfile: true, LegalName: legal, Country: "DE", MethodMasked: MaskRef(ref)},
			{Line: Line{CreatorID: 2, PeriodViews: total - views, Amount: -amount / 2, Payable: payable / 3}, ChannelName: legal, CreatorName: channel},
		}
		if paid {
			lines[0].PaidAt = &at
		}
		var b bytes.Buffer
		if err := WriteCSV(&b, p, lines); err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(bytes.NewReader(b.Bytes())).ReadAll()
		if err != nil {
			t.Fatalf("report does not parse as CSV: %v\n%s", err, b.Bytes())
		}
		if len(recs) != len(lines)+2 {
			t.Fatalf("%d records, want header + %d lines + total", len(recs), len(lines))
		}
		if strings.Join(recs[0], "\x00") != strings.Join(CSVColumns(), "\x00") {
			t.Fatalf("header %q", recs[0])
		}
		col := map[string]int{}
		for i, h := range CSVColumns() {
			col[h] = i
		}
		text := []string{"channel_handle", "channel_name", "creator_name", "payment_reference", "legal_name", "country", "payout_method"}
		sums := map[string]int64{}
		for i, l := range lines {
			r := recs[i+1]
			if r[col["record"]] != "creator" || r[col["creator_id"]] != strconv.FormatInt(l.CreatorID, 10) || r[col["period"]] != p.Key {
				t.Fatalf("line %d: %q", i, r)
			}
			want := map[string]string{"channel_handle": l.ChannelHandle, "channel_name": l.ChannelName, "creator_name": l.CreatorName,
				"payment_reference": l.Reference, "legal_name": l.LegalName, "country": l.Country, "payout_method": l.MethodMasked}
			for _, name := range text {
				got := r[col[name]]
				if got != CSVText(want[name]) {
					t.Fatalf("line %d %s = %q, wrote %q", i, name, got, want[name])
				}
				if got != "" && strings.ContainsRune("=+-@\t\r", rune(got[0])) {
					t.Fatalf("line %d %s = %q would run as a spreadsheet formula", i, name, got)
				}
			}
			for _, name := range []string{"amount", "carried_in", "payable", "carried_over"} {
				n, err := ParseAmount(r[col[name]], p.Currency)
				if err != nil {
					t.Fatalf("line %d %s = %q: %v", i, name, r[col[name]], err)
				}
				sums[name] += n
			}
			if pct := r[col["share_of_views_pct"]]; !validPct(pct) {
				t.Fatalf("line %d share %q", i, pct)
			}
		}
		tot := recs[len(recs)-1]
		if tot[col["record"]] != "total" || tot[col["period_views"]] != strconv.FormatInt(total, 10) {
			t.Fatalf("totals line %q", tot)
		}
		for name, sum := range sums {
			n, err := ParseAmount(tot[col[name]], p.Currency)
			if err != nil || n != sum {
				t.Fatalf("total %s = %q (%v), lines add up to %d", name, tot[col[name]], err, sum)
			}
		}
		for name, want := range map[string]int64{"revenue": p.Revenue, "platform_share": p.Platform} {
			if n, err := ParseAmount(tot[col[name]], p.Currency); err != nil || n != want {
				t.Fatalf("total %s = %q, want %d", name, tot[col[name]], want)
			}
		}
	})
}

// validPct reports whether s is a percentage from 0.0000 to 100.0000.
func validPct(s string) bool {
	whole, frac, ok := strings.Cut(s, ".")
	n, err := strconv.Atoi(whole)
	return ok && err == nil && len(frac) == 4 && strings.Trim(frac, "0123456789") == "" && n >= 0 && (n < 100 || s == "100.0000")
}
