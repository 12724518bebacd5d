// Package csrf issues and checks the double-submit CSRF tokens of the
// session endpoints, as Auth.js's clients fetch and post them, and refuses
// cross-origin browser requests.
package csrf

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
)

// ErrRefused is Check's error: the request is cross-origin, or its token
// does not match its cookie.
var ErrRefused = errors.New("sessionkit: cross-site request refused (missing or invalid csrfToken, or cross-origin)")

// tokenBytes is the entropy of a token; it is sent hex-encoded.
const tokenBytes = 32

// Guard issues and checks tokens. The cookie holds "token|mac", where
// mac = HMAC-SHA256(secret, token) in hex, so that only this server can
// mint a cookie it accepts (a cookie planted by a sibling subdomain is
// refused). The secrets are derived from the cookie keys with HKDF-SHA256,
// one per key, so they rotate with them: the first key's signs, and a
// token signed with an older key verifies while that key is listed.
// Auth.js computes sha256(token + secret) instead; the cookie's shape is
// the same, and no client reads its second half. A Guard is safe for
// concurrent use.
type Guard struct {
	secrets [][]byte // [0] signs; all verify
	origin  *http.CrossOriginProtection
}

// New returns a Guard whose secrets derive from keys (the first signs),
// trusting the origin trusted ("scheme://host", or "" for none) besides
// the request's own Host.
func New(keys [][]byte, trusted string) (*Guard, error) {
	g := &Guard{origin: http.NewCrossOriginProtection()}
	for _, k := range keys {
		s, err := hkdf.Key(sha256.New, k, nil, "sessionkit csrf token v1", 32)
		if err != nil {
			return nil, err
		}
		g.secrets = append(g.secrets, s)
	}
	if trusted != "" {
		if err := g.origin.AddTrustedOrigin(trusted); err != nil {
			return nil, err
		}
	}
	return g, nil
}

func (g *Guard) mac(secret []byte, token string) string {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte(token))
	return hex.EncodeToString(h.Sum(nil))
}

// Issue returns a new token and the cookie value that carries it.
func (g *Guard) Issue() (token, cookie string) {
	var b [tokenBytes]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	token = hex.EncodeToString(b[:])
	return token, token + "|" + g.mac(g.secrets[0], token)
}

// TokenFrom returns the token of a cookie value that this server minted,
// with any of its keys.
func (g *Guard) TokenFrom(cookie string) (string, bool) {
	token, mac, ok := strings.Cut(cookie, "|")
	if !ok || len(token) != 2*tokenBytes || len(mac) != 2*sha256.Size || !isLowerHex(token) {
		return "", false
	}
	for _, s := range g.secrets {
		if hmac.Equal([]byte(mac), []byte(g.mac(s, token))) {
			return token, true
		}
	}
	return "", false
}

// Verify reports whether submitted is the token of the cookie value, in
// constant time.
func (g *Guard) Verify(cookie, submitted string) bool {
	token, ok := g.TokenFrom(cookie)
	if !ok || len(submitted) != len(token) {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(token), []byte(submitted)) == 1
}

// Check returns ErrRefused for a cross-origin browser request
// (Sec-Fetch-Site, or Origin against Host, as http.CrossOriginProtection
// decides) and for one whose submitted token does not match its cookie.
func (g *Guard) Check(r *http.Request, cookie, submitted string) error {
	if g.origin.Check(r) != nil || !g.Verify(cookie, submitted) {
		return ErrRefused
	}
	return nil
}

// RequestToken is TokenFrom for the value of r's cookie called name.
func (g *Guard) RequestToken(r *http.Request, name string) (string, bool) {
	c, err := r.Cookie(name)
	if err != nil {
		return "", false
	}
	return g.TokenFrom(c.Value)
}

// CheckRequest is Check with the value of r's cookie called name (none:
// refused).
func (g *Guard) CheckRequest(r *http.Request, name, submitted string) error {
	c, err := r.Cookie(name)
	if err != nil {
		return ErrRefused
	}
	return g.Check(r, c.Value, submitted)
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
