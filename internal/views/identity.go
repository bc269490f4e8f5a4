package views

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
)

// anonRandLen is the number of random bytes in an anonymous viewer id.
const anonRandLen = 18

// NewAnonymousID returns a fresh signed anonymous viewer id
// ("<random>.<signature>", base64url), the value of the ucc_vid cookie.
func (s *Signer) NewAnonymousID() string {
	b := make([]byte, anonRandLen)
	_, _ = rand.Read(b)
	r := base64.RawURLEncoding.EncodeToString(b)
	return r + "." + s.anonSig(r)
}

func (s *Signer) anonSig(r string) string {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte("ucc-viewer\x00"))
	m.Write([]byte(r))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:macLen])
}

// VerifyAnonymousID checks a signed anonymous id and returns its random
// part, or "" when it is missing, malformed or forged.
func (s *Signer) VerifyAnonymousID(signed string) string {
	r, sig, ok := strings.Cut(signed, ".")
	if !ok || len(r) != base64.RawURLEncoding.EncodedLen(anonRandLen) || len(signed) > 128 {
		return ""
	}
	if !hmac.Equal([]byte(sig), []byte(s.anonSig(r))) {
		return ""
	}
	return r
}

// Viewer is who is watching: a signed-in user or an anonymous id, plus the
// client IP (an extra key for the per-IP cap) and the User-Agent.
type Viewer struct {
	UserID    int64  // 0 when anonymous
	Admin     bool   // the signed-in user is an administrator
	AnonID    string // verified random part of the ucc_vid cookie, when anonymous
	IP        string // client IP, as gin's ClientIP resolves it behind trusted proxies
	UserAgent string
}

// Identity is the string a play token and the dedup key are bound to:
// "u:<id>" for a signed-in user, "a:<random>" for an anonymous viewer, ""
// when there is neither.
func (v Viewer) Identity() string {
	if v.UserID != 0 {
		return "u:" + strconv.FormatInt(v.UserID, 10)
	}
	if v.AnonID != "" {
		return "a:" + v.AnonID
	}
	return ""
}

// botMarkers are lower-case substrings of the User-Agents of clients that
// say they are not a person watching: crawlers, link previewers, uptime
// monitors and headless or automated browsers. HTTP libraries (okhttp,
// axios, Go-http-client, curl, ...) are not on the list: a native or
// third-party app using the documented play/report API counts under the
// same token, watch-time, deduplication and per-network limits as the web
// player (README, "Views"); a bot gains nothing by claiming to be a browser
// that those limits do not already bound.
var botMarkers = []string{
	"bot", "crawler", "spider", "slurp", "crawl", "scrapy", "archiver",
	"googlebot", "bingbot", "yandex", "baiduspider", "duckduckbot", "applebot", "petalbot",
	"facebookexternalhit", "facebot", "twitterbot", "linkedinbot", "embedly", "pinterest",
	"slackbot", "discordbot", "telegrambot", "whatsapp", "skypeuripreview", "vkshare",
	"ahrefs", "semrush", "mj12bot", "dotbot", "bytespider", "gptbot", "ccbot", "claudebot", "perplexity",
	"headlesschrome", "phantomjs", "puppeteer", "playwright", "selenium", "lighthouse",
	"pingdom", "uptimerobot", "statuscake", "monitor",
}

// IsBot reports whether userAgent declares a bot, crawler, link previewer,
// monitor or headless browser. An empty User-Agent counts as a bot: every
// browser and HTTP library sends one.
func IsBot(userAgent string) bool {
	ua := strings.ToLower(strings.TrimSpace(userAgent))
	if ua == "" {
		return true
	}
	for _, m := range botMarkers {
		if strings.Contains(ua, m) {
			return true
		}
	}
	return false
}
