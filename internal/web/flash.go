package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
)

// A flash is the one way a page tells a person how their last form went:
// a notice that it was done, or an error that it was not. The layout shows
// it above the page's content. After a form's redirect (POST, then 303,
// then GET) it travels in a cookie signed with the server's key, so that a
// link made elsewhere cannot put words of its choosing on UCC's pages
// ("your payout details changed, call ..."); it lives a minute and is shown
// once. A form that is shown again with its error (so that what was typed
// stays in the fields) sets the page's flash itself.

// flash is a one-time message for the next page.
type flash struct {
	Kind    string // flashNotice or flashError
	Message string
}

// Flash kinds; they are also the CSS classes the layout gives the message.
const (
	flashNotice = "notice"
	flashError  = "error"
)

const (
	flashCookie = "ucc_flash"
	// flashTTL is how long a flash waits for the page it was made for.
	flashTTL = time.Minute
	// maxFlashBytes bounds the message a cookie carries (messages may quote input).
	maxFlashBytes = 1024
)

// flashMAC signs a flash cookie's payload.
func (s *Server) flashMAC(payload string) string {
	m := hmac.New(sha256.New, s.cfg.SecretKey)
	m.Write([]byte("ucc-flash\x00" + payload))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
}

// redirectFlash answers a form with a 303 to path, carrying f to that page.
func (s *Server) redirectFlash(c *gin.Context, path string, f flash) {
	msg := f.Message
	if len(msg) > maxFlashBytes {
		msg = strings.ToValidUTF8(msg[:maxFlashBytes], "") + "…"
	}
	exp := strconv.FormatInt(s.now().Add(flashTTL).Unix(), 10)
	payload := base64.RawURLEncoding.EncodeToString([]byte(f.Kind + "\x00" + exp + "\x00" + msg))
	s.setFlashCookie(c, payload+"."+s.flashMAC(payload), int(flashTTL/time.Second))
	c.Redirect(http.StatusSeeOther, path)
}

// takeFlash returns the flash the request's cookie carries, if this server
// signed it and it has not expired, and clears the cookie: a flash is shown
// once. Anything else yields nil.
func (s *Server) takeFlash(c *gin.Context) *flash {
	v, err := c.Cookie(flashCookie)
	if err != nil || v == "" {
		return nil
	}
	s.setFlashCookie(c, "", -1)
	payload, mac, ok := strings.Cut(v, ".")
	if !ok || !hmac.Equal([]byte(mac), []byte(s.flashMAC(payload))) {
		return nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return nil
	}
	parts := strings.SplitN(string(raw), "\x00", 3)
	if len(parts) != 3 || (parts[0] != flashNotice && parts[0] != flashError) || !utf8.ValidString(parts[2]) {
		return nil
	}
	if exp, err := strconv.ParseInt(parts[1], 10, 64); err != nil || s.now().Unix() > exp {
		return nil
	}
	return &flash{Kind: parts[0], Message: parts[2]}
}

// setFlashCookie sets (maxAge > 0) or clears (maxAge < 0) the flash cookie.
func (s *Server) setFlashCookie(c *gin.Context, value string, maxAge int) {
	http.SetCookie(c.Writer, &http.Cookie{Name: flashCookie, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: s.cfg.CookieSecure, SameSite: http.SameSiteLaxMode})
}

// formFailed shows a form page again, at err's status, with err's message
// as the page's flash and data (what was typed) in its fields. An
// unexpected error is the error page instead.
func (s *Server) formFailed(c *gin.Context, page, title string, data any, err error) {
	status, code, msg, unexpected := classify(err)
	if unexpected {
		s.fail(c, err)
		return
	}
	setRetryAfter(c, status, err)
	msg = s.errorText(c, err, code, msg)
	s.htmlPage(c, status, page, Page{Title: title, Data: data, Flash: &flash{Kind: flashError, Message: msg}})
}
