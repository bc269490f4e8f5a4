package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/ucc-video/ucc/internal/errs"
	"github.com/ucc-video/ucc/internal/revenue"
)

func actorOf(c *gin.Context) revenue.Actor {
	u := currentUser(c)
	return revenue.Actor{ID: u.ID, Name: u.Email}
}

func (s *Server) apiCreatePeriod(c *gin.Context) {
	var in revenue.NewPeriod
	if err := bindJSON(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	p, err := s.deps.Revenue.CreatePeriod(c, actorOf(c), in)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, gin.H{"period": revenue.PeriodJSON(p)})
}

func (s *Server) apiPeriods(c *gin.Context) {
	ps, err := s.deps.Revenue.Periods(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	out := make([]revenue.JSONPeriod, len(ps))
	for i, p := range ps {
		out[i] = revenue.PeriodJSON(p)
	}
	c.JSON(http.StatusOK, gin.H{"periods": out})
}

func (s *Server) apiPeriod(c *gin.Context) {
	key := c.Param("period")
	p, err := s.deps.Revenue.Period(c, key)
	if err != nil {
		s.fail(c, err)
		return
	}
	adj, err := s.deps.Revenue.Adjustments(c, key)
	if err != nil {
		s.fail(c, err)
		return
	}
	audit, err := s.deps.Revenue.Audit(c, key)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"period": revenue.PeriodJSON(p), "adjustments": nonNil(adj), "audit": nonNil(audit)})
}

func nonNil[T any](v []T) []T {
	if v == nil {
		return []T{}
	}
	return v
}

func (s *Server) apiCalculate(c *gin.Context) {
	p, err := s.deps.Revenue.Calculate(c, actorOf(c), c.Param("period"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"period": revenue.PeriodJSON(p)})
}

func (s *Server) apiApprove(c *gin.Context) {
	p, err := s.deps.Revenue.Approve(c, actorOf(c), c.Param("period"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"period": revenue.PeriodJSON(p)})
}

func (s *Server) apiMarkPaid(c *gin.Context) {
	var in struct {
		CreatorID int64  `json:"creator_id"`
		Reference string `json:"reference"`
	}
	if err := bindJSON(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	n, err := s.deps.Revenue.MarkPaid(c, actorOf(c), c.Param("period"), in.CreatorID, in.Reference)
	if err != nil {
		s.fail(c, err)
		return
	}
	p, err := s.deps.Revenue.Period(c, c.Param("period"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"paid": n, "period": revenue.PeriodJSON(p)})
}

func (s *Server) apiAdjust(c *gin.Context) {
	var in struct {
		CreatorID int64  `json:"creator_id"`
		Amount    int64  `json:"amount_minor"`
		Reason    string `json:"reason"`
	}
	if err := bindJSON(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	adj, err := s.deps.Revenue.Adjust(c, actorOf(c), c.Param("period"), in.CreatorID, in.Amount, in.Reason)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, gin.H{"adjustment": adj})
}

func (s *Server) apiAdjustments(c *gin.Context) {
	adj, err := s.deps.Revenue.Adjustments(c, c.Param("period"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"adjustments": nonNil(adj)})
}

func (s *Server) apiAudit(c *gin.Context) {
	audit, err := s.deps.Revenue.Audit(c, c.Param("period"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"audit": nonNil(audit)})
}

// payoutQuery reads sort, dir, page and per_page.
func payoutQuery(c *gin.Context) (revenue.PayoutQuery, error) {
	q := revenue.PayoutQuery{Sort: c.Query("sort"), Desc: c.Query("dir") == "desc"}
	if d := c.Query("dir"); d != "" && d != "asc" && d != "desc" {
		return q, errs.Invalid("invalid_dir", "dir must be asc or desc")
	}
	if q.Sort != "" && c.Query("dir") == "" && q.Sort != "creator_id" && q.Sort != "channel" {
		q.Desc = true // numbers: largest first unless asked otherwise
	}
	for name, dst := range map[string]*int{"page": &q.Page, "per_page": &q.PerPage} {
		if v := c.Query(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				return q, errs.Invalid("invalid_"+name, "%s must be a positive whole number", name)
			}
			*dst = n
		}
	}
	return q.Normalize()
}

func (s *Server) apiPayouts(c *gin.Context) {
	q, err := payoutQuery(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	key := c.Param("period")
	p, err := s.deps.Revenue.Period(c, key)
	if err != nil {
		s.fail(c, err)
		return
	}
	lines, total, err := s.deps.Revenue.Payouts(c, key, q)
	if err != nil {
		s.fail(c, err)
		return
	}
	dir := "asc"
	if q.Desc {
		dir = "desc"
	}
	c.JSON(http.StatusOK, gin.H{"period": revenue.PeriodJSON(p), "payouts": nonNil(revenue.PayoutsJSON(p, lines)),
		"page": q.Page, "per_page": q.PerPage, "total": total, "sort": q.Sort, "dir": dir})
}

// payoutsCSV serves the report documented at revenue.CSVColumns.
func (s *Server) payoutsCSV(c *gin.Context) {
	p, lines, err := s.deps.Revenue.AllPayouts(c, c.Param("period"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Content-Type", "text/csv; charset=utf-8")
	c.Header("Content-Disposition", `attachment; filename="ucc-payouts-`+p.Key+`.csv"`)
	c.Header("Cache-Control", "no-store")
	c.Status(http.StatusOK)
	if err := revenue.WriteCSV(c.Writer, p, lines); err != nil {
		s.log.ErrorContext(c, "csv report", "err", err)
	}
}

func (s *Server) apiGetProfile(c *gin.Context) {
	p, err := s.deps.Revenue.Profile(c, currentUser(c).ID)
	if err != nil {
		if errors.Is(err, errs.ErrNotFound) {
			err = errs.New(errs.ErrNotFound, "no_payout_profile", "you have not set up a payout profile yet")
		}
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"payout_profile": p})
}

func (s *Server) apiPutProfile(c *gin.Context) {
	var in revenue.Profile
	if err := bindJSON(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	p, err := s.deps.Revenue.SaveProfile(c, currentUser(c).ID, in)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"payout_profile": p})
}

func (s *Server) apiEarnings(c *gin.Context) {
	e, err := s.deps.Revenue.Earnings(c, currentUser(c).ID)
	if err != nil {
		s.fail(c, err)
		return
	}
	e.Payouts = nonNil(e.Payouts)
	c.JSON(http.StatusOK, gin.H{"earnings": e})
}

// ---- pages ----

type financePageData struct {
	Periods []revenue.Period
	Error   string
	Notice  string
	Form    map[string]string
}

func (s *Server) financePage(c *gin.Context) {
	s.renderFinance(c, http.StatusOK, financePageData{Notice: s.queryNotice(c, "notice"), Form: map[string]string{
		"currency": "USD", "creator_share_bps": "5500", "view_threshold": "1000000", "min_payout_minor": "0",
		"period": revenue.PeriodOf(s.now().AddDate(0, -1, 0))}})
}

func (s *Server) renderFinance(c *gin.Context, status int, d financePageData) {
	ps, err := s.deps.Revenue.Periods(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	d.Periods = ps
	s.html(c, status, "finance", "Finance", d)
}

func (s *Server) financeCreate(c *gin.Context) {
	form := map[string]string{}
	for _, k := range []string{"period", "revenue", "currency", "creator_share_bps", "view_threshold", "min_payout_minor"} {
		form[k] = strings.TrimSpace(c.PostForm(k))
	}
	in := revenue.NewPeriod{Period: form["period"], Currency: form["currency"]}
	var err error
	in.Revenue, err = parseAmountField(form["revenue"], form["currency"], "revenue")
	for _, f := range []struct {
		name string
		dst  **int64
	}{{"creator_share_bps", &in.ShareBps}, {"view_threshold", &in.Threshold}} {
		if err == nil && form[f.name] != "" {
			n, perr := strconv.ParseInt(form[f.name], 10, 64)
			if perr != nil {
				err = errs.Invalid("invalid_"+f.name, "%s must be a whole number", strings.ReplaceAll(f.name, "_", " "))
			}
			*f.dst = &n
		}
	}
	if err == nil && form["min_payout_minor"] != "" {
		in.MinPayout, err = parseAmountField(form["min_payout_minor"], form["currency"], "minimum payout")
	}
	if err == nil {
		var p revenue.Period
		if p, err = s.deps.Revenue.CreatePeriod(c, actorOf(c), in); err == nil {
			c.Redirect(http.StatusSeeOther, "/finance/periods/"+p.Key)
			return
		}
	}
	status, _, msg, unexpected := classify(err)
	if unexpected {
		s.fail(c, err)
		return
	}
	s.renderFinance(c, status, financePageData{Error: msg, Form: form})
}

// parseAmountField reads a decimal amount ("1234.56") in currency's
// exponent into minor units.
func parseAmountField(v, currency, what string) (*int64, error) {
	cur, err := revenue.NormalizeCurrency(currency)
	if err != nil {
		return nil, err
	}
	n, err := revenue.ParseAmount(v, cur)
	if err != nil {
		return nil, errs.Invalid("invalid_amount", "%s: %s", what, err.Error())
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
	Error       string
	Notice      string
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
	p, err := s.deps.Revenue.Period(c, key)
	if err != nil {
		s.fail(c, err)
		return
	}
	lines, total, err := s.deps.Revenue.Payouts(c, key, q)
	if err != nil {
		s.fail(c, err)
		return
	}
	d := financePeriodData{P: revenue.PeriodJSON(p), Total: total, Page: q.Page, PerPage: q.PerPage, Sort: q.Sort,
		Error: s.queryNotice(c, "error"), Notice: s.queryNotice(c, "notice"),
		CanCalc: !p.Frozen(), CanApprove: p.Status == revenue.StatusCalculated, CanPay: p.Status == revenue.StatusApproved, CanAdjust: p.Frozen()}
	d.Dir = "asc"
	if q.Desc {
		d.Dir = "desc"
	}
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
	for _, col := range []sortColumn{{Label: "Channel", Key: "channel"}, {Label: "Creator", Key: "creator_id"},
		{Label: "Period views", Key: "period_views", Num: true}, {Label: "Lifetime views", Key: "lifetime_views", Num: true},
		{Label: "Amount", Key: "amount", Num: true}, {Label: "Payable", Key: "payable", Num: true}} {
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
	for _, l := range lines {
		d.Rows = append(d.Rows, periodRow{Payout: l, Status: l.Status(p.Frozen()), Share: revenue.SharePct(l.PeriodViews, p.TotalViews),
			Amount: p.Format(l.Amount), CarriedIn: p.Format(l.CarriedIn), Payable: p.Format(l.Payable), CarriedOver: p.Format(l.CarriedOver)})
	}
	// Top earners chart: the ten largest amounts, bars scaled to the largest.
	top, _, err := s.deps.Revenue.Payouts(c, key, revenue.PayoutQuery{Sort: "amount", Desc: true, Page: 1, PerPage: 10})
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
			label = "creator " + strconv.FormatInt(l.CreatorID, 10)
		}
		d.Bars = append(d.Bars, barView{Label: label, Value: p.Format(l.Amount) + " " + p.Currency, Y: i * 26, TextY: i*26 + 15, Width: w, ValueX: 170 + w})
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
	s.html(c, http.StatusOK, "finance_period", "Revenue "+p.Key, d)
}

// financeAction runs a button on the period page and redirects back with a
// notice or the error.
func (s *Server) financeAction(c *gin.Context) {
	key := c.Param("period")
	by := actorOf(c)
	var notice string
	var err error
	switch c.Param("action") {
	case "calculate":
		var p revenue.Period
		if p, err = s.deps.Revenue.Calculate(c, by, key); err == nil {
			notice = fmt.Sprintf("Calculated: E = %s %s for %d eligible creators.", p.Format(p.Pool), p.Currency, p.EligibleCount)
		}
	case "approve":
		if _, err = s.deps.Revenue.Approve(c, by, key); err == nil {
			notice = "Approved and posted to the ledger. The period can no longer change."
		}
	case "mark-paid":
		var cid int64
		if v := strings.TrimSpace(c.PostForm("creator_id")); v != "" {
			if cid, err = strconv.ParseInt(v, 10, 64); err != nil {
				err = errs.Invalid("invalid_creator", "creator id must be a number")
			}
		}
		if err == nil {
			var n int
			if n, err = s.deps.Revenue.MarkPaid(c, by, key, cid, c.PostForm("reference")); err == nil {
				notice = fmt.Sprintf("Recorded %d payment%s.", n, map[bool]string{true: "", false: "s"}[n == 1])
			}
		}
	case "adjustments":
		var cid int64
		var amt *int64
		if cid, err = strconv.ParseInt(strings.TrimSpace(c.PostForm("creator_id")), 10, 64); err != nil {
			err = errs.Invalid("invalid_creator", "creator id must be a number")
		} else if p, perr := s.deps.Revenue.Period(c, key); perr != nil {
			err = perr
		} else if amt, err = parseAmountField(c.PostForm("amount"), p.Currency, "amount"); err == nil {
			if _, err = s.deps.Revenue.Adjust(c, by, key, cid, *amt, c.PostForm("reason")); err == nil {
				notice = "Adjustment recorded as a new ledger entry."
			}
		}
	default:
		s.fail(c, errNoRoute)
		return
	}
	v := url.Values{}
	if err != nil {
		_, _, msg, unexpected := classify(err)
		if unexpected {
			s.fail(c, err)
			return
		}
		s.setNotice(v, "error", msg)
	} else {
		s.setNotice(v, "notice", notice)
	}
	c.Redirect(http.StatusSeeOther, "/finance/periods/"+url.PathEscape(key)+"?"+v.Encode())
}

type dayBar struct {
	X, Y, H int
	Title   string
}

type earningsData struct {
	E          revenue.Earnings
	ProgressPc string
	DayBars    []dayBar
	MaxDay     int64
	Payouts    []earningsPayout
	Estimate   string
	Error      string
	Notice     string
	Form       revenue.Profile
}

type earningsPayout struct {
	revenue.CreatorPayout
	Amount, Payable, CarriedOver string
}

func (s *Server) earningsPage(c *gin.Context) {
	s.renderEarnings(c, http.StatusOK, s.queryNotice(c, "notice"), "", nil)
}

func (s *Server) renderEarnings(c *gin.Context, status int, notice, errMsg string, form *revenue.Profile) {
	e, err := s.deps.Revenue.Earnings(c, currentUser(c).ID)
	if err != nil {
		s.fail(c, err)
		return
	}
	d := earningsData{E: e, Notice: notice, Error: errMsg}
	d.ProgressPc = fmt.Sprintf("%.1f", e.Progress()*100)
	for _, dv := range e.Days {
		if dv.Views > d.MaxDay {
			d.MaxDay = dv.Views
		}
	}
	for i, dv := range e.Days {
		h := 0
		if d.MaxDay > 0 {
			h = int(float64(dv.Views) / float64(d.MaxDay) * 120)
		}
		if dv.Views > 0 && h < 1 {
			h = 1
		}
		d.DayBars = append(d.DayBars, dayBar{X: i * 7, Y: 120 - h, H: h, Title: dv.Day.Format("Jan 2") + ": " + strconv.FormatInt(dv.Views, 10) + " views"})
	}
	for _, p := range e.Payouts {
		d.Payouts = append(d.Payouts, earningsPayout{CreatorPayout: p, Amount: revenue.FormatAmount(p.Line.Amount, p.Currency),
			Payable: revenue.FormatAmount(p.Line.Payable, p.Currency), CarriedOver: revenue.FormatAmount(p.Line.CarriedOver, p.Currency)})
	}
	switch {
	case form != nil:
		d.Form = *form
	case e.Profile != nil:
		d.Form = *e.Profile
	}
	s.html(c, status, "earnings", "Earnings", d)
}

func (s *Server) earningsProfileSubmit(c *gin.Context) {
	in := revenue.Profile{LegalName: c.PostForm("legal_name"), Country: c.PostForm("country"), MethodRef: c.PostForm("method_ref")}
	if _, err := s.deps.Revenue.SaveProfile(c, currentUser(c).ID, in); err != nil {
		status, _, msg, unexpected := classify(err)
		if unexpected {
			s.fail(c, err)
			return
		}
		s.renderEarnings(c, status, "", msg, &in)
		return
	}
	c.Redirect(http.StatusSeeOther, s.noticeURL("/earnings", "notice", "Payout profile saved."))
}
