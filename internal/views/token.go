package views

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"time"
)

// tokenVersion is the first byte of every play token; bump it to retire all
// tokens of an older format at once.
const tokenVersion = 1

// macLen is how many bytes of the HMAC-SHA256 a token carries (128 bits).
const macLen = 16

// Token verification failures. Both map to the report reason invalid_token
// or too_early; they are distinct so tests and logs can tell them apart.
var (
	errTokenMalformed = errors.New("play token is malformed")
	errTokenForged    = errors.New("play token signature does not match")
	errTokenExpired   = errors.New("play token has expired")
	errTokenTooYoung  = errors.New("play token is younger than the minimum watch time")
)

// Signer issues and checks play tokens: HMAC-SHA256 over
// version | video id | viewer identity | issued-at, with the secret key.
// A token is base64url(version, uvarint video id, uvarint issued-at in
// milliseconds, first 16 bytes of the MAC); the viewer identity is not in the
// token but in the MAC, so a token only verifies for the viewer it was
// issued to.
type Signer struct{ key []byte }

// NewSigner returns a Signer keyed by secret.
func NewSigner(secret []byte) *Signer { return &Signer{key: append([]byte(nil), secret...)} }

func (s *Signer) mac(videoID int64, viewer string, issuedMS uint64) []byte {
	m := hmac.New(sha256.New, s.key)
	var b [1 + 2*binary.MaxVarintLen64]byte
	b[0] = tokenVersion
	n := 1 + binary.PutUvarint(b[1:], uint64(videoID))
	n += binary.PutUvarint(b[n:], issuedMS)
	// Lengths keep "video|viewer|time" unambiguous.
	m.Write([]byte("ucc-play\x00"))
	m.Write(b[:n])
	var l [binary.MaxVarintLen64]byte
	m.Write(l[:binary.PutUvarint(l[:], uint64(len(viewer)))])
	m.Write([]byte(viewer))
	return m.Sum(nil)[:macLen]
}

// Issue returns a play token for videoID and viewer, issued at now.
func (s *Signer) Issue(videoID int64, viewer string, now time.Time) string {
	ms := uint64(now.UnixMilli())
	b := make([]byte, 0, 1+2*binary.MaxVarintLen64+macLen)
	b = append(b, tokenVersion)
	b = binary.AppendUvarint(b, uint64(videoID))
	b = binary.AppendUvarint(b, ms)
	b = append(b, s.mac(videoID, viewer, ms)...)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Verify checks tok for videoID and viewer at now: the signature (constant
// time), then its age: not older than maxAge, not younger than minAge. It
// returns the token's MAC (a stable id of this token) on success.
func (s *Signer) Verify(tok string, videoID int64, viewer string, now time.Time, minAge, maxAge time.Duration) ([]byte, error) {
	if len(tok) == 0 || len(tok) > 64 {
		return nil, errTokenMalformed
	}
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || len(b) < 1+2+macLen || b[0] != tokenVersion {
		return nil, errTokenMalformed
	}
	rest := b[1:]
	vid, n := binary.Uvarint(rest)
	if n <= 0 {
		return nil, errTokenMalformed
	}
	rest = rest[n:]
	ms, n := binary.Uvarint(rest)
	if n <= 0 || len(rest[n:]) != macLen {
		return nil, errTokenMalformed
	}
	got := rest[n:]
	// Compute the MAC for the video asked about (not the one in the token),
	// so a token for another video fails the signature check.
	if !hmac.Equal(got, s.mac(videoID, viewer, ms)) || vid != uint64(videoID) {
		return nil, errTokenForged
	}
	age := now.Sub(time.UnixMilli(int64(ms)))
	if age > maxAge {
		return nil, errTokenExpired
	}
	if age < minAge {
		return nil, errTokenTooYoung
	}
	return got, nil
}
