package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/ucc-video/ucc/internal/errs"
	"github.com/ucc-video/ucc/internal/revenue"
)

// The finance pages: the list of periods with the form for a new one, and
// a period's page with its payouts, chart, audit log and action buttons.

// financePageData is what templates/pages/finance.html receives.
type financePageData struct {
	Periods []revenue.Period
	Form    periodForm
}

// periodForm is the new-period form, as typed: decimal amounts in the
// currency's major units, numbers as text.
type periodForm struct {
	Period, Revenue, Currency, ShareBps, Threshold, MinPayout string
}

// readPeriodForm reads the form's fields, trimmed.
func readPeriodForm(c *gin.Context) periodForm {
	f := func(name string) string { return strings.TrimSpace(c.PostForm(name)) }
	return periodForm{Period: f("period"), Revenue: f("revenue"), Currency: f("currency"),
		ShareBps: f("creator_share_bps"), Threshold: f("view_threshold"), MinPayout: f("min_payout_minor")}
}

// newPeriod turns the form into the service's input: amounts into minor
// units of the currency, the share and the threshold into numbers.
func (f periodForm) newPeriod() (revenue.NewPeriod, error) {
	in := revenue.NewPeriod{Period: f.Period, Currency: f.Currency}
	var err error
	if in.Revenue, err = parseAmountField(f.Revenue, f.Currency, "revenue"); err != nil {
		return in, err
	}
	for _, n := range []struct {
		value string
		dst   **int64
		bad   error
	}{
		{f.ShareBps, &in.ShareBps, errs.Invalid("invalid_creator_share_bps", "creator share bps must be a whole number")},
		{f.Threshold, &in.Threshold, errs.Invalid("invalid_view_threshold", "view threshold must be a whole number")},
	} {
		if n.value == "" {
			continue
		}
		v, err := strconv.ParseInt(n.value, 10, 64)
		if err != nil {
			return in, n.bad
		}
		*n.dst = &v
	}
	if f.MinPayout != "" {
		in.MinPayout, err = parseAmountField(f.MinPayout, f.Currency, "min_payout")
	}
	return in, err
}

func (s *Server) financePage(c *gin.Context) {
	d, err := s.financeData(c, periodForm{Currency: "USD", ShareBps: "5500", Threshold: "1000000", MinPayout: "0",
		Period: revenue.PeriodOf(s.now().AddDate(0, -1, 0))})
	if err != nil {
		s.fail(c, err)
		return
	}
	s.html(c, http.StatusOK, "finance", s.t(c, "finance.title"), d)
}

// financeData is the periods and the new-period form holding form.
func (s *Server) financeData(c *gin.Context, form periodForm) (financePageData, error) {
	ps, err := s.deps.Revenue.Periods(c)
	return financePageData{Periods: ps, Form: form}, err
}

func (s *Server) financeCreate(c *gin.Context) {
	form := readPeriodForm(c)
	in, err := form.newPeriod()
	if err == nil {
		var p revenue.Period
		if p, err = s.deps.Revenue.CreatePeriod(c, actorOf(c), in); err == nil {
			c.Redirect(http.StatusSeeOther, "/finance/periods/"+p.Key)
			return
		}
	}
	d, derr := s.financeData(c, form)
	if derr != nil {
		s.fail(c, derr)
		return
	}
	s.formFailed(c, "finance", s.t(c, "finance.title"), d, err)
}

// parseAmountField reads a decimal amount ("1234.56") in currency's
// exponent into minor units; field ("revenue", "min_payout" or "amount")
// names the form's field in the error.
func parseAmountField(v, currency, field string) (*int64, error) {
	cur, err := revenue.NormalizeCurrency(currency)
	if err != nil {
		return nil, err
	}
	n, err := revenue.ParseAmount(v, cur)
	switch {
	case err == nil:
	case field == "revenue":
		return nil, errs.InvalidVariant("invalid_amount", "revenue", "revenue: %s", errs.P("Reason", err))
	case field == "min_payout":
		return nil, errs.InvalidVariant("invalid_amount", "min_payout", "minimum payout: %s", errs.P("Reason", err))
	default:
		return nil, errs.InvalidVariant("invalid_amount", "amount", "amount: %s", errs.P("Reason", err))
	}
	return &n, nil
}

type barView struct {
	Label  string
	Value  string
	Y      int
	Width  int
	TextY  int
	ValueX int
}

type financePeriodData struct {
	P           revenue.JSONPeriod
	Rows        []periodRow
	Total       int
	Page        int
	Pages       int
	PerPage     int
	Sort        string
	Dir         string
	Bars        []barView
	ChartHeight int
	Audit       []revenue.AuditEntry
	Adjustments []revenue.Adjustment
	CanCalc     bool
	CanApprove  bool
	CanPay      bool
	CanAdjust   bool
	Columns     []sortColumn
	Prev, Next  string
}

type periodRow struct {
	revenue.Payout
	Status      string
	Share       string
	Amount      string
	CarriedIn   string
	Payable     string
	CarriedOver string
}

type sortColumn struct {
	Label, Key, URL, Mark string
	Num                   bool
}

func (s *Server) financePeriodPage(c *gin.Context) {
	key := c.Param("period")
	q, err := payoutQuery(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	if c.Query("per_page") == "" {
		q.PerPage = 25
	}
	p, lines, total, err := s.deps.Revenue.Payouts(c, key, q)
	if err != nil {
		s.fail(c, err)
		return
	}
	d := financePeriodData{P: revenue.PeriodJSON(p), Total: total, Page: q.Page, PerPage: q.PerPage, Sort: q.Sort, Dir: q.Dir(),
		CanCalc: !p.Frozen(), CanApprove: p.Status == revenue.StatusCalculated, CanPay: p.Status == revenue.StatusApproved, CanAdjust: p.Frozen()}
	d.Pages = (total + q.PerPage - 1) / q.PerPage
	link := func(sort, dir string, page int) string {
		v := url.Values{"sort": {sort}, "dir": {dir}, "page": {strconv.Itoa(page)}}
		return "/finance/periods/" + p.Key + "?" + v.Encode()
	}
	if q.Page > 1 {
		d.Prev = link(q.Sort, d.Dir, q.Page-1)
	}
	if q.Page < d.Pages {
		d.Next = link(q.Sort, d.Dir, q.Page+1)
	}
	l := s.loc(c)
	for _, col := range []sortColumn{{Label: l.T("period.col_channel"), Key: "channel"}, {Label: l.T("period.col_creator"), Key: "creator_id"},
		{Label: l.T("period.col_period_views"), Key: "period_views", Num: true}, {Label: l.T("period.col_lifetime_views"), Key: "lifetime_views", Num: true},
		{Label: l.T("period.col_amount"), Key: "amount", Num: true}, {Label: l.T("period.col_payable"), Key: "payable", Num: true}} {
		dir := "desc"
		if !col.Num {
			dir = "asc"
		}
		if col.Key == q.Sort {
			col.Mark = " ▲"
			if q.Desc {
				col.Mark = " ▼"
			}
			if d.Dir == "desc" {
				dir = "asc"
			} else {
				dir = "desc"
			}
		}
		col.URL = link(col.Key, dir, 1)
		d.Columns = append(d.Columns, col)
	}
	loc := l
	for _, line := range lines {
		money := func(n int64) string { return loc.Decimal(p.Format(n)) } // the currency is the page's
		d.Rows = append(d.Rows, periodRow{Payout: line, Status: line.Status(p.Frozen()), Share: revenue.SharePct(line.PeriodViews, p.TotalViews),
			Amount: money(line.Amount), CarriedIn: money(line.CarriedIn), Payable: money(line.Payable), CarriedOver: money(line.CarriedOver)})
	}
	// Top earners chart: the ten largest amounts, bars scaled to the largest.
	_, top, _, err := s.deps.Revenue.Payouts(c, key, revenue.PayoutQuery{Sort: "amount", Desc: true, Page: 1, PerPage: 10})
	if err != nil {
		s.fail(c, err)
		return
	}
	var maxAmt int64
	for _, l := range top {
		if l.Amount > maxAmt {
			maxAmt = l.Amount
		}
	}
	for i, l := range top {
		if l.Amount == 0 {
			break
		}
		w := int(float64(l.Amount) / float64(maxAmt) * 360)
		if w < 1 {
			w = 1
		}
		label := l.ChannelHandle
		if label == "" {
			label = loc.T("period.creator_label", "ID", strconv.FormatInt(l.CreatorID, 10))
		}
		d.Bars = append(d.Bars, barView{Label: label, Value: loc.Money(p.Format(l.Amount), p.Currency), Y: i * 26, TextY: i*26 + 15, Width: w, ValueX: 170 + w})
	}
	d.ChartHeight = len(d.Bars) * 26
	if d.Audit, err = s.deps.Revenue.Audit(c, key); err != nil {
		s.fail(c, err)
		return
	}
	if d.Adjustments, err = s.deps.Revenue.Adjustments(c, key); err != nil {
		s.fail(c, err)
		return
	}
	s.html(c, http.StatusOK, "finance_period", loc.T("period.heading", "Period", p.Key), d)
}

// financeAction runs a button on the period page and redirects back with a
// flash: the notice, or the error.
func (s *Server) financeAction(c *gin.Context) {
	key := c.Param("period")
	by := actorOf(c)
	var notice string
	var err error
	switch c.Param("action") {
	case "calculate":
		var p revenue.Period
		if p, err = s.deps.Revenue.Calculate(c, by, key); err == nil {
			notice = s.loc(c).N("flash.calculated", int64(p.EligibleCount), "Pool", s.loc(c).Money(p.Format(p.Pool), p.Currency))
		}
	case "approve":
		if _, err = s.deps.Revenue.Approve(c, by, key); err == nil {
			notice = s.t(c, "flash.approved")
		}
	case "mark-paid":
		var cid int64
		if v := strings.TrimSpace(c.PostForm("creator_id")); v != "" {
			if cid, err = strconv.ParseInt(v, 10, 64); err != nil {
				err = errs.InvalidVariant("invalid_creator", "number", "creator id must be a number")
			}
		}
		if err == nil {
			var n int
			if n, err = s.deps.Revenue.MarkPaid(c, by, key, cid, c.PostForm("reference")); err == nil {
				notice = s.loc(c).N("flash.payments_recorded", int64(n))
			}
		}
	case "adjustments":
		var cid int64
		var amt *int64
		if cid, err = strconv.ParseInt(strings.TrimSpace(c.PostForm("creator_id")), 10, 64); err != nil {
			err = errs.InvalidVariant("invalid_creator", "number", "creator id must be a number")
		} else if p, perr := s.deps.Revenue.Period(c, key); perr != nil {
			err = perr
		} else if amt, err = parseAmountField(c.PostForm("amount"), p.Currency, "amount"); err == nil {
			if _, err = s.deps.Revenue.Adjust(c, by, key, cid, *amt, c.PostForm("reason")); err == nil {
				notice = s.t(c, "flash.adjustment_recorded")
			}
		}
	default:
		s.fail(c, errNoRoute)
		return
	}
	back := "/finance/periods/" + url.PathEscape(key)
	if err != nil {
		_, code, msg, unexpected := classify(err)
		if unexpected {
			s.fail(c, err)
			return
		}
		msg = s.errorText(c, err, code, msg)
		s.redirectFlash(c, back, flash{Kind: flashError, Message: msg})
		return
	}
	s.redirectFlash(c, back, flash{Kind: flashNotice, Message: notice})
}
