package sessionkit

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/sessionkit/sessionkit/internal/cookie"
	"github.com/sessionkit/sessionkit/internal/record"
	"github.com/sessionkit/sessionkit/internal/seal"
)

// cookieCodec seals sessions into the session cookie (Keys[0] seals, all
// open) and reads them back, in chunks when one cookie cannot hold them.
type cookieCodec struct {
	sealer  *seal.Sealer
	jar     *cookie.Chunked
	name    string // prefix included; authenticated with the value
	maxSize int
	// flow and tickets seal under names of their own, so that a value of
	// one kind never opens as another (the flow's name has a space, unlike
	// any cookie name, and the cookie's name, unlike another Manager's).
	flow, tickets *seal.Sealer
}

const browserCookieLimit = cookie.BrowserLimit

// cookieName is the session cookie's name, prefix included.
func cookieName(s *settings) string {
	return cookie.Name(s.CookieName, s.CookieDomain, s.CookiePath, s.InsecureCookies)
}

// newCookieCodec prepares the codec of s, which Config.validate checked.
func newCookieCodec(s *settings) (*cookieCodec, error) {
	name := cookieName(s)
	sealers, err := seal.NewSet(s.Keys, name, "sessionkit sign-in flow "+name, ticketName)
	if err != nil {
		return nil, fmt.Errorf("sessionkit: Keys: %w", err)
	}
	return &cookieCodec{
		sealer: sealers[0], flow: sealers[1], tickets: sealers[2], name: name, maxSize: s.MaxCookieSize,
		jar: cookie.New(cookie.Options{
			Name: name, Path: s.CookiePath, Domain: s.CookieDomain, SameSite: s.CookieSameSite, Secure: !s.InsecureCookies,
		}),
	}, nil
}

// checkSize checks a sealed value against MaxCookieSize.
func (c *cookieCodec) checkSize(raw []byte) error {
	if n := seal.Encoding.EncodedLen(len(raw)); n > c.maxSize {
		return fmt.Errorf("%w: %d bytes, more than MaxCookieSize (%d)", ErrSessionTooLarge, n, c.maxSize)
	}
	return nil
}

// cookieWrite is a write of the session cookie that a verb or the read path
// decides and the HTTP face applies. The zero value writes nothing.
type cookieWrite = cookie.Lines

// sealCookie decides the session cookie holding the payload appendPayload
// appends; it expires the cookies of ours in r that it does not replace.
func (c *cookieCodec) sealCookie(r *http.Request, appendPayload func([]byte) []byte, expires, now time.Time) (cookieWrite, error) {
	if expires.IsZero() {
		return cookieWrite{}, errNoExpiry
	}
	bp, raw := c.sealer.Seal(appendPayload)
	defer seal.Release(bp)
	if err := c.checkSize(raw); err != nil {
		return cookieWrite{}, err
	}
	l, err := c.jar.SetEncoded(r, raw, seal.Encoding, expires, now)
	if err != nil {
		return l, fmt.Errorf("%w: %w", ErrSessionTooLarge, err)
	}
	return l, nil
}

// sessionCookie decides the stateless cookie holding s, until s expires.
func (c *cookieCodec) sessionCookie(r *http.Request, s *Session, now time.Time) (cookieWrite, error) {
	if err := s.checkSignIns(); err != nil {
		return cookieWrite{}, err
	}
	expires := s.ExpireAt
	if expires.IsZero() {
		expires = s.AbandonAt
	}
	return c.sealCookie(r, func(b []byte) []byte { return appendPayload(b, s) }, expires, now)
}

// refCookie decides the cookie referring to stored session id at gen.
func (c *cookieCodec) refCookie(r *http.Request, id string, gen uint64, s *Session, now time.Time) (cookieWrite, error) {
	expires := s.AbandonAt
	if expires.IsZero() {
		expires = s.ExpireAt
	}
	return c.sealCookie(r, func(b []byte) []byte { return record.AppendRef(b, cookieRef{ID: id, Gen: gen}) }, expires, now)
}

var errNoExpiry = errors.New("sessionkit: session has no expiry")

// read finds the parts of the session cookie in r, into f (the caller's:
// no allocation). err wraps ErrInvalidCookie when it cannot be a session.
func (c *cookieCodec) read(r *http.Request, f *cookie.Found) (parts []string, present bool, err error) {
	c.jar.Scan(r, f)
	parts, present, err = f.Parts(c.maxSize)
	if err != nil {
		return nil, present, fmt.Errorf("%w: %w", ErrInvalidCookie, err)
	}
	return parts, present, nil
}

// parts is the session cookie r carries, in parts, if it can be a session.
func (c *cookieCodec) parts(r *http.Request) ([]string, bool) {
	var found cookie.Found
	parts, present, err := c.read(r, &found)
	return parts, present && err == nil
}

// open opens a cookie value; reissue: a key other than the first opened it.
func (c *cookieCodec) open(value string) (payload []byte, reissue bool, err error) {
	p, key, err := c.sealer.Open(value)
	if err != nil {
		return nil, false, fmt.Errorf("%w: %w", ErrInvalidCookie, seal.ErrNoKey)
	}
	return p, key > 0, nil
}
