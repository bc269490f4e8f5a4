package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/ucc-video/ucc/internal/errs"
	"github.com/ucc-video/ucc/internal/revenue"
)

// A creator's earnings and payout profile: the API and the /earnings page.

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
	Form       revenue.Profile
}

type earningsPayout struct {
	revenue.CreatorPayout
	Amount, Payable, CarriedOver string
}

func (s *Server) earningsPage(c *gin.Context) {
	d, err := s.earningsView(c, nil)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.html(c, http.StatusOK, "earnings", "Earnings", d)
}

// earningsView is the creator's earnings page, with the payout profile
// form holding form (nil: the saved profile).
func (s *Server) earningsView(c *gin.Context, form *revenue.Profile) (earningsData, error) {
	e, err := s.deps.Revenue.Earnings(c, currentUser(c).ID)
	if err != nil {
		return earningsData{}, err
	}
	d := earningsData{E: e}
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
	return d, nil
}

func (s *Server) earningsProfileSubmit(c *gin.Context) {
	in := revenue.Profile{LegalName: c.PostForm("legal_name"), Country: c.PostForm("country"), MethodRef: c.PostForm("method_ref")}
	if _, err := s.deps.Revenue.SaveProfile(c, currentUser(c).ID, in); err != nil {
		d, derr := s.earningsView(c, &in)
		if derr != nil {
			s.fail(c, derr)
			return
		}
		s.formFailed(c, "earnings", "Earnings", d, err)
		return
	}
	s.redirectFlash(c, "/earnings", flash{Kind: flashNotice, Message: "Payout profile saved."})
}
