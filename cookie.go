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

// cookieCodec seals sessions into the session cookie and reads them back:
// internal/seal's AES-256-GCM under the configured keys (rotated: [0]
// seals, all open) over the binary payload, written and found by
// internal/cookie, in chunks when one cookie cannot hold it.
type cookieCodec struct {
	sealer  *seal.Sealer
	jar     *cookie.Chunked
	name    string // the cookie's name, prefix included; authenticated with the value
	maxSize int
	// flow seals the sign-in flow cookies (handler_flow.go) and tickets
	// the tickets (tickets.go), with the same keys as the session cookie
	// but under names of their own, so that each has its own derived keys
	// and a value of one kind never opens as another.
	flow, tickets *seal.Sealer
}

// flowSealName is the name the flow cookies of the session cookie called
// name are sealed under. The space keeps it apart from every cookie name;
// the session cookie's name in it keeps a Manager's flow cookies from
// opening in a Manager with another cookie name.
func flowSealName(name string) string { return "sessionkit sign-in flow " + name }

// browserCookieLimit is the most a browser keeps of one cookie.
const browserCookieLimit = cookie.BrowserLimit

// errNoKeyOpens: no configured key authenticates a session cookie.
var errNoKeyOpens = seal.ErrNoKey

// cookieName is the session cookie's name, prefix included.
func cookieName(s *settings) string {
	return cookie.Name(s.CookieName, s.CookieDomain, s.CookiePath, s.InsecureCookies)
}

// newCookieCodec prepares the codec of s, whose keys and cookie
// attributes Config.validate has checked.
func newCookieCodec(s *settings) (*cookieCodec, error) {
	name := cookieName(s)
	c := &cookieCodec{
		name:    name,
		maxSize: s.MaxCookieSize,
		jar: cookie.New(cookie.Options{
			Name: name, Path: s.CookiePath, Domain: s.CookieDomain, SameSite: s.CookieSameSite, Secure: !s.InsecureCookies,
		}),
	}
	for _, sl := range []struct {
		sealer **seal.Sealer
		name   string
	}{{&c.sealer, name}, {&c.flow, flowSealName(name)}, {&c.tickets, ticketName}} {
		sealer, err := seal.New(sl.name, s.Keys)
		if err != nil {
			return nil, fmt.Errorf("sessionkit: Keys: %w", err)
		}
		*sl.sealer = sealer
	}
	return c, nil
}

func (c *cookieCodec) checkSize(raw []byte) error {
	if n := seal.Encoding.EncodedLen(len(raw)); n > c.maxSize {
		return fmt.Errorf("%w: %d bytes, more than MaxCookieSize (%d)", ErrSessionTooLarge, n, c.maxSize)
	}
	return nil
}

// cookieWrite is a write of the session cookie that a verb or the read
// path decided and the HTTP face applies to the response (Apply), replacing
// the cookie's lines set earlier in it. The zero value writes nothing.
type cookieWrite = cookie.Lines

// sealCookie decides the session cookie holding, sealed with the first key,
// the payload that appendPayload appends to its argument, expiring at
// expires, in chunks when needed; it expires the cookies of ours in r that
// the write does not replace. The payload is built in the sealing buffer,
// and a value that fits one cookie is encoded straight into its Set-Cookie
// line.
func (c *cookieCodec) sealCookie(r *http.Request, appendPayload func([]byte) []byte, expires, now time.Time) (cookieWrite, error) {
	bp, raw := c.sealer.Seal(appendPayload)
	defer seal.Release(bp)
	if err := c.checkSize(raw); err != nil {
		return cookieWrite{}, err
	}
	l, err := c.jar.SetEncoded(r, raw, seal.Encoding, expires, now)
	return l, c.tooLarge(err)
}

// sessionCookie decides the stateless cookie holding s, replacing whatever
// r carried; it lives until s expires.
func (c *cookieCodec) sessionCookie(r *http.Request, s *Session, now time.Time) (cookieWrite, error) {
	if err := s.checkSignIns(); err != nil {
		return cookieWrite{}, err
	}
	expires := s.ExpireAt
	if expires.IsZero() {
		expires = s.AbandonAt
	}
	if expires.IsZero() {
		return cookieWrite{}, errNoExpiry
	}
	return c.sealCookie(r, func(b []byte) []byte { return appendPayload(b, s) }, expires, now)
}

// refCookie decides the cookie that refers to stored session id at
// generation gen, living until s's absolute end.
func (c *cookieCodec) refCookie(r *http.Request, id string, gen uint64, s *Session, now time.Time) (cookieWrite, error) {
	expires := s.AbandonAt
	if expires.IsZero() {
		expires = s.ExpireAt
	}
	if expires.IsZero() {
		return cookieWrite{}, errNoExpiry
	}
	return c.sealCookie(r, func(b []byte) []byte { return record.AppendRef(b, cookieRef{ID: id, Gen: gen}) }, expires, now)
}

// errNoExpiry: a session cookie must expire.
var errNoExpiry = errors.New("sessionkit: session has no expiry")

func (c *cookieCodec) tooLarge(err error) error {
	if err != nil {
		return fmt.Errorf("%w: %w", ErrSessionTooLarge, err)
	}
	return nil
}

// clearing decides the write that expires every cookie of ours that r
// carries, and the whole cookie name even if r does not carry it.
func (c *cookieCodec) clearing(r *http.Request) cookieWrite {
	return c.jar.Clearing(r)
}

// read finds the session cookie in r (chunks joined by the caller): the
// pieces whose concatenation is the sealed value, into f, which the caller
// declares so that a request's cookies are scanned without allocating.
// present reports that some cookie of ours was there; err wraps
// ErrInvalidCookie when what is there cannot be a session (no chunk 0, too
// large).
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

// open authenticates and decrypts a cookie value, trying each key in
// order. The payload is in memory of its own, which nothing else
// references. reissue reports that a key other than the first one opened
// it, so that it should be sealed again.
func (c *cookieCodec) open(value string) (payload []byte, reissue bool, err error) {
	p, key, err := c.sealer.Open(value)
	if err != nil {
		return nil, false, fmt.Errorf("%w: %w", ErrInvalidCookie, errNoKeyOpens)
	}
	return p, key > 0, nil
}

// sealValue seals payload with s into a value that owns its memory (the
// flow cookie, tickets).
func sealValue(s *seal.Sealer, payload []byte) string {
	bp, raw := s.Seal(func(b []byte) []byte { return append(b, payload...) })
	defer seal.Release(bp)
	return seal.EncodeToString(raw)
}
