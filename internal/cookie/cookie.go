// Package cookie writes a value as a cookie, split into chunks (name.0,
// name.1, ...) when one cookie cannot hold it, and finds it again in a
// request's Cookie header without allocating for the cookies it skips.
//
// The package knows nothing of sessions: values are opaque strings.
package cookie

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"
	"unsafe"
)

// Browsers keep a cookie whose name and value together stay within 4096
// bytes. Each chunk is sized so that its whole Set-Cookie line (name, value
// and attributes) stays within that, which satisfies the strictest of them.
const (
	// BrowserLimit is the most a browser keeps of one cookie: its name and
	// value, and with the strictest browsers its whole Set-Cookie line.
	BrowserLimit = 4096
	// attrBudget is room for "; Path=...; Domain=...; Expires=<29 bytes>;
	// Max-Age=<10>; HttpOnly; Secure; SameSite=Strict" beyond Path and Domain.
	attrBudget = 110
	// MaxChunks is the most chunks a value is split into.
	MaxChunks = 64
)

var (
	// ErrTooManyChunks means a value would need more than MaxChunks
	// cookies.
	ErrTooManyChunks = errors.New("more than 64 chunks")
	// ErrMissingChunk means chunks are present but not the first one.
	ErrMissingChunk = errors.New("chunk 0 is missing")
	// ErrTooLarge means the cookie found is larger than the caller
	// accepts.
	ErrTooLarge = errors.New("too large")
)

// Options are a chunked cookie's name and attributes.
type Options struct {
	Name     string // the full name, prefix included (see Name)
	Path     string
	Domain   string
	SameSite http.SameSite
	Secure   bool
}

// Name is the name of the cookie configured as name: with the "__Host-"
// prefix (host-only, Path "/") or the "__Secure-" prefix, unless the
// cookie is insecure.
func Name(name, domain, path string, insecure bool) string {
	switch {
	case insecure:
		return name
	case domain == "" && path == "/":
		return "__Host-" + name
	}
	return "__Secure-" + name
}

// Chunked writes and finds one chunked, HttpOnly cookie. It is safe for
// concurrent use.
type Chunked struct {
	name string
	// chunkSize is the largest value one cookie carries, for the longest
	// (two-digit chunk index) name.
	chunkSize int
	// attrsPre and attrsPost are the Set-Cookie attributes before
	// Expires (Path, Domain) and after Max-Age (HttpOnly, Secure,
	// SameSite), as http.Cookie writes them.
	attrsPre, attrsPost string
	nameOnly            [1]string // name, for expireStale
}

// New returns the chunked cookie of o, whose name and attributes the
// caller has checked.
func New(o Options) *Chunked {
	c := &Chunked{
		name:      o.Name,
		chunkSize: BrowserLimit - len(o.Name) - len(".00") - 1 - len(o.Path) - len(o.Domain) - attrBudget,
	}
	c.nameOnly[0] = c.name
	// The attributes that do not change from one write to the next, as
	// net/http formats (and sanitizes) them.
	c.attrsPre = (&http.Cookie{Name: "x", Path: o.Path, Domain: o.Domain}).String()[len("x="):]
	c.attrsPost = (&http.Cookie{Name: "x", HttpOnly: true, Secure: o.Secure, SameSite: o.SameSite}).String()[len("x="):]
	return c
}

// Name returns the cookie's name.
func (c *Chunked) Name() string { return c.name }

// ChunkSize returns the largest value one cookie carries.
func (c *Chunked) ChunkSize() int { return c.chunkSize }

// Write sets the cookie holding value on w, chunked when needed, expiring
// at expires, and expires any cookie of ours in r (which may be nil) that
// this write does not replace (stale chunks after a shrink, the whole
// cookie after a growth). Lines of the cookie set earlier in the same
// response are dropped, also when the write fails. A write whose expiry
// is not after now clears the cookie.
func (c *Chunked) Write(w http.ResponseWriter, r *http.Request, value string, expires, now time.Time) error {
	maxAge := int(expires.Sub(now) / time.Second)
	if maxAge <= 0 {
		c.Clear(w, r)
		return nil
	}
	c.dropEarlier(w)
	if len(value) <= c.chunkSize {
		c.set(w, c.name, value, maxAge, expires)
		c.expireStale(w, r, c.nameOnly[:])
		return nil
	}
	n := (len(value) + c.chunkSize - 1) / c.chunkSize
	if n > MaxChunks {
		return fmt.Errorf("%w: %d", ErrTooManyChunks, n)
	}
	written := make([]string, 0, n)
	for i := range n {
		chunk := value[i*c.chunkSize : min((i+1)*c.chunkSize, len(value))]
		cn := c.name + "." + strconv.Itoa(i)
		c.set(w, cn, chunk, maxAge, expires)
		written = append(written, cn)
	}
	c.expireStale(w, r, written)
	return nil
}

// WriteEncoded writes, as Write does, the value enc encodes raw to. A value
// that fits one cookie is encoded straight into its Set-Cookie line.
func (c *Chunked) WriteEncoded(w http.ResponseWriter, r *http.Request, raw []byte, enc *base64.Encoding, expires, now time.Time) error {
	maxAge := int(expires.Sub(now) / time.Second)
	n := enc.EncodedLen(len(raw))
	if maxAge <= 0 || n > c.chunkSize {
		out := make([]byte, n)
		enc.Encode(out, raw)
		return c.Write(w, r, stringOf(out), expires, now)
	}
	c.dropEarlier(w)
	b := make([]byte, len(c.name)+1+n, len(c.name)+1+n+c.attrsLen())
	copy(b, c.name)
	b[len(c.name)] = '='
	enc.Encode(b[len(c.name)+1:], raw)
	addLine(w, c.appendAttrs(b, maxAge, expires))
	c.expireStale(w, r, c.nameOnly[:])
	return nil
}

// Clear expires every cookie of ours that r (which may be nil) carries,
// and the whole cookie name even if r does not carry it.
func (c *Chunked) Clear(w http.ResponseWriter, r *http.Request) {
	c.dropEarlier(w)
	c.expire(w, c.name)
	c.expireStale(w, r, c.nameOnly[:])
}

// stringOf returns b as a string without a copy: b must never be written
// again while the string (or anything sliced from it) is in use.
func stringOf(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}
