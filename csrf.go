package sessionkit

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

// ErrCSRF is answered with 403 for a state-changing request to Handler's
// endpoints that is cross-site (Sec-Fetch-Site or Origin) or whose
// csrfToken does not match its CSRF cookie.
var ErrCSRF = errors.New("sessionkit: cross-site request refused (missing or invalid csrfToken, or cross-origin)")

// csrfTokenBytes is the entropy of a CSRF token; it is sent hex-encoded.
const csrfTokenBytes = 32

// csrfGuard issues and checks Auth.js-style double-submit CSRF tokens. The
// cookie holds "token|mac", where mac = HMAC-SHA256(secret, token) in hex,
// so that only this server can mint a cookie it accepts (a cookie planted by
// a sibling subdomain is refused). The secrets are derived from
// Config.Keys with HKDF-SHA256, one per key, so they rotate with them: the
// first key's signs, and a token signed with an older key verifies while
// that key is listed.
//
// Auth.js computes sha256(token + secret) instead of an HMAC; the cookie's
// shape is the same, and no client ever reads the second half.
type csrfGuard struct {
	secrets [][]byte // [0] signs; all verify
	origin  *http.CrossOriginProtection
}

func newCSRFGuard(keys [][]byte, trusted string) (*csrfGuard, error) {
	g := &csrfGuard{origin: http.NewCrossOriginProtection()}
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

func (g *csrfGuard) mac(secret []byte, token string) string {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte(token))
	return hex.EncodeToString(h.Sum(nil))
}

// issue returns a new token and the cookie value that carries it.
func (g *csrfGuard) issue() (token, cookie string) {
	var b [csrfTokenBytes]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	token = hex.EncodeToString(b[:])
	return token, token + "|" + g.mac(g.secrets[0], token)
}

// tokenFrom returns the token of a CSRF cookie value that this server
// minted, with any of its keys.
func (g *csrfGuard) tokenFrom(cookie string) (string, bool) {
	token, mac, ok := strings.Cut(cookie, "|")
	if !ok || len(token) != 2*csrfTokenBytes || len(mac) != 2*sha256.Size || !isLowerHex(token) {
		return "", false
	}
	for _, s := range g.secrets {
		if hmac.Equal([]byte(mac), []byte(g.mac(s, token))) {
			return token, true
		}
	}
	return "", false
}

// verify reports whether submitted is the token of the cookie value, in
// constant time.
func (g *csrfGuard) verify(cookie, submitted string) bool {
	token, ok := g.tokenFrom(cookie)
	if !ok || len(submitted) != len(token) {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(token), []byte(submitted)) == 1
}

// check refuses a cross-origin browser request (Sec-Fetch-Site, or Origin
// against Host) and one whose submitted token does not match its cookie.
func (g *csrfGuard) check(r *http.Request, cookie, submitted string) error {
	if err := g.origin.Check(r); err != nil {
		return ErrCSRF
	}
	if !g.verify(cookie, submitted) {
		return ErrCSRF
	}
	return nil
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
