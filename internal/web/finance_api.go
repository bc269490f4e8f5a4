package web

import (
	"context"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/ucc-video/ucc/internal/errs"
	"github.com/ucc-video/ucc/internal/revenue"
)

// The finance API (finance staff and admins): revenue periods, their
// calculation, approval, payments, adjustments, payouts and audit log.

// actorOf is the signed-in user as the revenue audit log names them.
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

// apiPeriodStep runs one step of a period's life (revenue.Service.Calculate
// or Approve) on the period in the path and answers {"period"}.
func (s *Server) apiPeriodStep(step func(context.Context, revenue.Actor, string) (revenue.Period, error)) gin.HandlerFunc {
	return func(c *gin.Context) {
		p, err := step(c, actorOf(c), c.Param("period"))
		if err != nil {
			s.fail(c, err)
			return
		}
		c.JSON(http.StatusOK, gin.H{"period": revenue.PeriodJSON(p)})
	}
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
	p, lines, total, err := s.deps.Revenue.Payouts(c, c.Param("period"), q)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"period": revenue.PeriodJSON(p), "payouts": nonNil(revenue.PayoutsJSON(p, lines)),
		"page": q.Page, "per_page": q.PerPage, "total": total, "sort": q.Sort, "dir": q.Dir()})
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
