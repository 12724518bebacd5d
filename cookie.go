package sessionkit

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/securecookie"
)

// Browsers keep a cookie whose name and value together stay within 4096
// bytes. Each chunk is sized so that its whole Set-Cookie line (name, value
// and attributes) stays within that, which satisfies the strictest of them.
const (
	browserCookieLimit = 4096
	// attrBudget is room for "; Path=...; Domain=...; Expires=<29 bytes>;
	// Max-Age=<10>; HttpOnly; Secure; SameSite=Strict" beyond Path and Domain.
	attrBudget = 110
	maxChunks  = 64
)

// cookieCodec seals sessions into cookies and reads them back (seal.go:
// AES-256-GCM with rotated keys, and the legacy securecookie format read)
// over the binary payload, split into chunks when one cookie cannot hold it.
type cookieCodec struct {
	keys []*cookieKey // [0] seals; all open
	// flow seals the sign-in flow cookie (oauthflow.go) in securecookie's
	// format, with the same keys: [0] seals; all open. They also open
	// session cookies of the legacy format.
	flow     []*securecookie.SecureCookie
	name     string // the cookie's name, prefix included; authenticated with the value
	ad       []byte // sealV2 and name: the current format's additional data
	domain   string
	path     string
	sameSite http.SameSite
	secure   bool
	maxSize  int
	// chunkSize is the largest value one cookie carries, for the longest
	// (two-digit chunk index) name.
	chunkSize int
	// attrsPre and attrsPost are the Set-Cookie attributes before
	// Expires (Path, Domain) and after Max-Age (HttpOnly, Secure,
	// SameSite), as http.Cookie writes them.
	attrsPre, attrsPost string
	nameOnly            [1]string // name, for expireStale
}

// cookieName is the session cookie's name: the configured name with the
// "__Host-" prefix (host-only, Path "/") or the "__Secure-" prefix, unless
// cookies are insecure.
func cookieName(s *settings) string {
	switch {
	case s.InsecureCookies:
		return s.CookieName
	case s.CookieDomain == "" && s.CookiePath == "/":
		return "__Host-" + s.CookieName
	}
	return "__Secure-" + s.CookieName
}

// chunkSizeFor is the largest cookie value that keeps a chunk's whole
// Set-Cookie line within a browser's limit.
func chunkSizeFor(s *settings) int {
	longest := len(cookieName(s)) + len(".00")
	return browserCookieLimit - longest - 1 - len(s.CookiePath) - len(s.CookieDomain) - attrBudget
}

func newCookieCodec(s *settings) *cookieCodec {
	c := &cookieCodec{
		name:      cookieName(s),
		domain:    s.CookieDomain,
		path:      s.CookiePath,
		sameSite:  s.CookieSameSite,
		secure:    !s.InsecureCookies,
		maxSize:   s.MaxCookieSize,
		chunkSize: chunkSizeFor(s),
	}
	c.nameOnly[0] = c.name
	c.ad = append([]byte{sealV2}, c.name...)
	for _, k := range s.Keys {
		c.keys = append(c.keys, newCookieKey(k))
		sc := securecookie.New(k.HashKey, k.BlockKey)
		sc.SetSerializer(securecookie.NopEncoder{})
		sc.MaxAge(0)    // the expiry lives in the payload, against Config.Now
		sc.MaxLength(0) // sizes are checked by sealFlow and openFlow
		c.flow = append(c.flow, sc)
	}
	// The attributes that do not change from one write to the next, as
	// net/http formats (and sanitizes) them.
	c.attrsPre = (&http.Cookie{Name: "x", Path: c.path, Domain: c.domain}).String()[len("x="):]
	c.attrsPost = (&http.Cookie{Name: "x", HttpOnly: true, Secure: c.secure, SameSite: c.sameSite}).String()[len("x="):]
	return c
}

func (c *cookieCodec) checkSize(raw []byte) error {
	if n := sealB64.EncodedLen(len(raw)); n > c.maxSize {
		return fmt.Errorf("%w: %d bytes, more than MaxCookieSize (%d)", ErrSessionTooLarge, n, c.maxSize)
	}
	return nil
}

// sealWrite seals, with the first key pair and in the current format
// (seal.go), the payload that appendPayload appends to its argument, and
// writes the value as write does. The payload is built in the
// sealing buffer, and a value that fits one cookie is encoded straight
// into its Set-Cookie line.
func (c *cookieCodec) sealWrite(w http.ResponseWriter, r *http.Request, appendPayload func([]byte) []byte, expires, now time.Time) error {
	bp, raw := sealRaw(c.keys[0], c.ad, appendPayload)
	defer putBuf(bp)
	if err := c.checkSize(raw); err != nil {
		return err
	}
	maxAge := int(expires.Sub(now) / time.Second)
	if maxAge <= 0 || sealB64.EncodedLen(len(raw)) > c.chunkSize {
		return c.write(w, r, encodeValue(raw), expires, now)
	}
	c.dropEarlier(w)
	c.addLine(w, c.appendAttrs(c.lineSealed(c.name, raw), maxAge, expires))
	c.expireStale(w, r, c.nameOnly[:])
	return nil
}

// open authenticates and decrypts a cookie value, in the current or the
// legacy format, trying each key pair in order. The payload is in memory
// of its own, which nothing else references. reissue reports that the
// value should be sealed again: a key other than the first one opened it,
// or it is in the legacy format.
func (c *cookieCodec) open(value string) (payload []byte, reissue bool, err error) {
	p, key, legacy, err := c.openValue(value)
	if err != nil {
		return nil, false, fmt.Errorf("%w: %w", ErrInvalidCookie, errNoKeyOpens)
	}
	return p, key > 0 || legacy, nil
}

var errNoKeyOpens = errors.New("no configured key authenticates it")

// cookieJar is what read found of the session cookie in a request.
type cookieJar struct {
	one     [1]string         // backs parts for an unchunked cookie
	whole   string            // value of the unchunked cookie, if any
	chunks  [maxChunks]string // values of name.0, name.1, ... by index; "" where missing
	nchunks int               // 1 + the highest index seen
	present bool              // some cookie of ours was there
	size    int               // bytes of our cookie values
}

// parts returns the pieces of the session cookie found by scan (which
// allocates nothing for the cookies it skips), in order: the unchunked
// value, or the chunks from name.0 up to the first missing index (any
// beyond are leftovers; the authentication of the joined value decides).
// Their concatenation is the sealed value. err wraps
// ErrInvalidCookie when what is present cannot be a session (no chunk 0,
// too large).
func (c *cookieCodec) parts(jar *cookieJar) (parts []string, present bool, err error) {
	if !jar.present {
		return nil, false, nil
	}
	if jar.whole != "" {
		if len(jar.whole) > c.maxSize {
			return nil, true, fmt.Errorf("%w: %d bytes exceeds the %d-byte limit", ErrInvalidCookie, len(jar.whole), c.maxSize)
		}
		jar.one[0] = jar.whole
		return jar.one[:], true, nil
	}
	n, size := 0, 0
	for n < jar.nchunks && jar.chunks[n] != "" {
		size += len(jar.chunks[n])
		n++
	}
	switch {
	case n == 0 && jar.size == 0:
		return nil, false, nil // only empty values, as a clear leaves them
	case n == 0:
		return nil, true, fmt.Errorf("%w: chunk 0 is missing", ErrInvalidCookie)
	case size > c.maxSize:
		return nil, true, fmt.Errorf("%w: %d bytes exceeds the %d-byte limit", ErrInvalidCookie, size, c.maxSize)
	}
	return jar.chunks[:n], true, nil
}

// scan finds name and name.N among r's cookies. For a name sent twice (a
// stale cookie with another Path or Domain) the first one wins, as browsers
// send the most specific path first.
func (c *cookieCodec) scan(r *http.Request, name string, jar *cookieJar) {
	wholeSeen := false
	for _, line := range r.Header["Cookie"] {
		for part := range strings.SplitSeq(line, ";") {
			part = strings.TrimSpace(part)
			k, v, ok := strings.Cut(part, "=")
			if !ok || !strings.HasPrefix(k, name) {
				continue
			}
			if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
				v = v[1 : len(v)-1]
			}
			rest := k[len(name):]
			if rest == "" {
				jar.present = true
				if !wholeSeen {
					wholeSeen = true
					jar.whole = v
					jar.size += len(v)
				}
				continue
			}
			idx, ok := chunkIndex(rest)
			if !ok {
				continue
			}
			jar.present = true
			if idx >= maxChunks {
				continue // not a chunk we ever write
			}
			jar.nchunks = max(jar.nchunks, idx+1)
			if jar.chunks[idx] == "" {
				jar.chunks[idx] = v
				jar.size += len(v)
			}
		}
	}
}

// chunkIndex parses ".N" (N decimal, no sign, no leading zeros).
func chunkIndex(rest string) (int, bool) {
	if len(rest) < 2 || rest[0] != '.' || len(rest) > 4 {
		return 0, false
	}
	digits := rest[1:]
	if len(digits) > 1 && digits[0] == '0' {
		return 0, false
	}
	for i := 0; i < len(digits); i++ { // Atoi would take a sign
		if digits[i] < '0' || digits[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(digits)
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}

// write sets the session cookie holding value on w, chunked when needed,
// expiring at expires, and expires any cookie of ours in r that this write
// does not replace (stale chunks after a shrink, the whole cookie after a
// growth).
func (c *cookieCodec) write(w http.ResponseWriter, r *http.Request, value string, expires, now time.Time) error {
	c.dropEarlier(w)
	name := c.name
	maxAge := int(expires.Sub(now) / time.Second)
	if maxAge <= 0 {
		return c.clear(w, r)
	}
	var written []string
	if len(value) <= c.chunkSize {
		c.set(w, name, value, maxAge, expires)
		written = append(written, name)
	} else {
		n := (len(value) + c.chunkSize - 1) / c.chunkSize
		if n > maxChunks {
			return fmt.Errorf("%w: %d chunks", ErrSessionTooLarge, n)
		}
		for i := range n {
			chunk := value[i*c.chunkSize : min((i+1)*c.chunkSize, len(value))]
			cn := name + "." + strconv.Itoa(i)
			c.set(w, cn, chunk, maxAge, expires)
			written = append(written, cn)
		}
	}
	c.expireStale(w, r, written)
	return nil
}

// clear expires every cookie of ours that r carries, and the whole cookie
// name even if r does not carry it.
func (c *cookieCodec) clear(w http.ResponseWriter, r *http.Request) error {
	c.dropEarlier(w)
	c.expire(w, c.name)
	c.expireStale(w, r, []string{c.name})
	return nil
}

// dropEarlier removes the session cookie lines set earlier in the same
// response (the middleware re-issues a refreshed cookie before the handler
// runs, and the handler may then sign out or sign in): only the last
// write of a response may stand, whatever chunking each write used. What
// the request itself carried is expired by expireStale.
func (c *cookieCodec) dropEarlier(w http.ResponseWriter) {
	h := w.Header()
	lines := h["Set-Cookie"]
	kept := lines[:0]
	for _, line := range lines {
		name, _, _ := strings.Cut(line, "=")
		if name == c.name {
			continue
		}
		if rest, ok := strings.CutPrefix(name, c.name); ok {
			if _, chunk := chunkIndex(rest); chunk {
				continue
			}
		}
		kept = append(kept, line)
	}
	if len(kept) != len(lines) {
		clear(lines[len(kept):])
		h["Set-Cookie"] = kept
	}
}

func (c *cookieCodec) expireStale(w http.ResponseWriter, r *http.Request, keep []string) {
	if r == nil {
		return
	}
	var jar cookieJar
	c.scan(r, c.name, &jar)
	if jar.whole != "" && !contains(keep, c.name) {
		c.expire(w, c.name)
	}
	for i, v := range jar.chunks[:jar.nchunks] {
		cn := c.name + "." + strconv.Itoa(i)
		if v != "" && !contains(keep, cn) {
			c.expire(w, cn)
		}
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// set adds the Set-Cookie line for name=value, as http.SetCookie would
// write it, without its sanitizing pass over the value: values are the
// URL-safe base64 of seal (or empty), and the name and the other
// attributes were checked by New and formatted by net/http once.
func (c *cookieCodec) set(w http.ResponseWriter, name, value string, maxAge int, expires time.Time) {
	b := make([]byte, 0, len(name)+1+len(value)+c.attrsLen())
	b = append(append(append(b, name...), '='), value...)
	c.addLine(w, c.appendAttrs(b, maxAge, expires))
}

// lineSealed starts the Set-Cookie line for name and the value of the
// sealed bytes raw, encoding them in place, with room for the attributes.
func (c *cookieCodec) lineSealed(name string, raw []byte) []byte {
	n := len(name) + 1 + sealB64.EncodedLen(len(raw))
	b := make([]byte, n, n+c.attrsLen())
	copy(b, name)
	b[len(name)] = '='
	sealB64.Encode(b[len(name)+1:], raw)
	return b
}

// attrsLen bounds what appendAttrs appends.
func (c *cookieCodec) attrsLen() int {
	return len(c.attrsPre) + len("; Expires=") + len(http.TimeFormat) + len("; Max-Age=") + 20 + len(c.attrsPost)
}

// appendAttrs appends the cookie's attributes, in http.Cookie's order and
// format.
func (c *cookieCodec) appendAttrs(b []byte, maxAge int, expires time.Time) []byte {
	b = append(b, c.attrsPre...)
	if expires.Year() >= 1601 { // as net/http: older dates are invalid
		b = append(b, "; Expires="...)
		b = expires.UTC().AppendFormat(b, http.TimeFormat)
	}
	switch {
	case maxAge > 0:
		b = append(b, "; Max-Age="...)
		b = strconv.AppendInt(b, int64(maxAge), 10)
	case maxAge < 0:
		b = append(b, "; Max-Age=0"...)
	}
	return append(b, c.attrsPost...)
}

// addLine adds the Set-Cookie line b, which it takes over.
func (c *cookieCodec) addLine(w http.ResponseWriter, b []byte) {
	h := w.Header()
	h["Set-Cookie"] = append(h["Set-Cookie"], stringOf(b))
}

// expire deletes the cookie name: empty, Max-Age=0, expired long ago.
func (c *cookieCodec) expire(w http.ResponseWriter, name string) {
	c.set(w, name, "", -1, time.Unix(1, 0))
}
