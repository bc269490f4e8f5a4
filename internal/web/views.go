package web

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/ucc-video/ucc/internal/errs"
	"github.com/ucc-video/ucc/internal/views"
)

// viewerCookie holds the signed anonymous viewer id; API clients may send
// the same value in the viewerHeader instead.
const (
	viewerCookie = "ucc_vid"
	viewerHeader = "X-UCC-Viewer"
)

// viewer builds the views.Viewer of a request: the signed-in user, else
// the anonymous id from the X-UCC-Viewer header or the ucc_vid cookie. With
// mint, an anonymous request without a valid id gets a fresh one (set as
// cookie and echoed in the X-UCC-Viewer response header).
func (s *Server) viewer(c *gin.Context, mint bool) views.Viewer {
	v := views.Viewer{IP: c.ClientIP(), UserAgent: c.Request.UserAgent()}
	if u := currentUser(c); u != nil {
		v.UserID, v.Admin = u.ID, u.IsAdmin()
		return v
	}
	signer := s.deps.Views.Signer()
	if h := c.GetHeader(viewerHeader); h != "" {
		v.AnonID = signer.VerifyAnonymousID(h)
	}
	if v.AnonID == "" {
		if ck, err := c.Cookie(viewerCookie); err == nil {
			v.AnonID = signer.VerifyAnonymousID(ck)
		}
	}
	if v.AnonID == "" && mint {
		// Minting is limited per network (views.Service.MintAnonymous): a
		// client over the allowance gets the network's shared id, kept for
		// an hour only so that a real viewer behind that network gets an
		// own id again later.
		m := s.deps.Views.MintAnonymous(c, v.IP, v.UserAgent)
		v.AnonID = signer.VerifyAnonymousID(m.ID)
		age := 2 * 365 * 24 * 3600
		if m.Shared {
			age = 3600
		}
		http.SetCookie(c.Writer, &http.Cookie{Name: viewerCookie, Value: m.ID, Path: "/", MaxAge: age,
			HttpOnly: true, Secure: s.cfg.CookieSecure, SameSite: http.SameSiteLaxMode})
		c.Header(viewerHeader, m.ID)
	}
	return v
}

// playGrant issues a play token for a page (the watch page embeds it in
// <video data-play-token data-min-watch> and loads /static/js/beacon.js).
// It sets the viewer cookie for anonymous visitors. ok is false when the
// video may not be played.
func (s *Server) playGrant(c *gin.Context, publicID string) (g views.Grant, ok bool) {
	g, err := s.deps.Views.Play(c, publicID, s.viewer(c, true))
	return g, err == nil
}

// apiPlay answers GET /api/v1/videos/:id/play with a play token.
func (s *Server) apiPlay(c *gin.Context) {
	g, err := s.deps.Views.Play(c, c.Param("id"), s.viewer(c, true))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, g)
}

// viewReportBody caps a view report's body (route table): a play token in JSON.
const viewReportBody = 4 << 10

// viewReport is the body of POST /api/v1/videos/:id/views.
type viewReport struct {
	PlayToken string `json:"play_token"`
}

// apiReportView answers POST /api/v1/videos/:id/views: 200 with
// {"counted", "reason"} for a well-formed report, 400 for a malformed one,
// 404 for an unknown video, 503 when Redis is down.
func (s *Server) apiReportView(c *gin.Context) {
	token, err := readViewReport(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	res, err := s.deps.Views.Report(c, c.Param("id"), s.viewer(c, false), token)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, res)
}

// readViewReport reads the play token from a view report's body (at most
// 4 KiB of JSON).
func readViewReport(c *gin.Context) (string, error) {
	var body viewReport
	if err := bindJSON(c, &body); err != nil {
		return "", err
	}
	body.PlayToken = strings.TrimSpace(body.PlayToken)
	if body.PlayToken == "" {
		return "", errs.Invalid("missing_play_token", "the body must be {\"play_token\": \"...\"} with the token from GET /api/v1/videos/{id}/play")
	}
	return body.PlayToken, nil
}

// apiViewCount answers GET /api/v1/videos/:id/views with the displayed count.
func (s *Server) apiViewCount(c *gin.Context) {
	n, err := s.deps.Views.DisplayedByPublicID(c, c.Param("id"), s.viewer(c, false))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, gin.H{"views": n})
}
