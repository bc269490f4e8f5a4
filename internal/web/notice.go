package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/url"

	"github.com/gin-gonic/gin"
)

// Pages show a notice or an error carried in the query string of the
// redirect after a form (?notice=..., ?error=...). The text is signed with
// the server's key (?ns=...), so that a link made elsewhere cannot put
// words of its choosing on UCC's pages ("your payout details changed, call
// ..."): an unsigned or altered message is not shown.

// noticeMAC signs a message for the query parameter key.
func (s *Server) noticeMAC(key, msg string) string {
	m := hmac.New(sha256.New, s.cfg.SecretKey)
	m.Write([]byte("ucc-notice\x00" + key + "\x00" + msg))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
}

// setNotice puts msg under key in v, signed.
func (s *Server) setNotice(v url.Values, key, msg string) {
	v.Set(key, msg)
	v.Set(key+"_sig", s.noticeMAC(key, msg))
}

// noticeURL is path with msg as a signed notice under key.
func (s *Server) noticeURL(path, key, msg string) string {
	v := url.Values{}
	s.setNotice(v, key, msg)
	return path + "?" + v.Encode()
}

// queryNotice returns the message under key when this server signed it, else "".
func (s *Server) queryNotice(c *gin.Context, key string) string {
	msg := c.Query(key)
	if msg == "" || !hmac.Equal([]byte(c.Query(key+"_sig")), []byte(s.noticeMAC(key, msg))) {
		return ""
	}
	return msg
}
