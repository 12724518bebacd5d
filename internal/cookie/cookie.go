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

// Lines is a write of the cookie that is decided but not yet applied to a
// response: its Set-Cookie lines, in order. Applied, they replace the
// cookie's lines set earlier in the same response (a middleware may
// re-issue a cookie before the handler runs, and the handler may then
// write it again): only the last write of a response stands, whatever
// chunking each write used. The zero Lines writes nothing.
type Lines struct {
	c     *Chunked
	lines []string
}

// IsZero reports whether l writes nothing.
func (l Lines) IsZero() bool { return l.c == nil }

// Apply drops the cookie's lines set earlier in h and adds l's.
func (l Lines) Apply(h http.Header) {
	if l.c == nil {
		return
	}
	l.c.dropEarlier(h)
	h["Set-Cookie"] = append(h["Set-Cookie"], l.lines...)
}

// Write sets the cookie holding value on w, as Set decides it.
func (c *Chunked) Write(w http.ResponseWriter, r *http.Request, value string, expires, now time.Time) error {
	l, err := c.Set(r, value, expires, now)
	l.Apply(w.Header())
	return err
}

// Set decides the write of the cookie holding value, chunked when needed,
// expiring at expires, which also expires any cookie of ours in r (which
// may be nil) that this write does not replace (stale chunks after a
// shrink, the whole cookie after a growth). A write whose expiry is not
// after now clears the cookie. When it fails, the Lines returned still
// drop the cookie's earlier lines.
func (c *Chunked) Set(r *http.Request, value string, expires, now time.Time) (Lines, error) {
	maxAge := int(expires.Sub(now) / time.Second)
	if maxAge <= 0 {
		return c.Clearing(r), nil
	}
	l := Lines{c: c, lines: make([]string, 0, 2)}
	if len(value) <= c.chunkSize {
		l.set(c.name, value, maxAge, expires)
		l.expireStale(r, c.nameOnly[:])
		return l, nil
	}
	n := (len(value) + c.chunkSize - 1) / c.chunkSize
	if n > MaxChunks {
		return Lines{c: c}, fmt.Errorf("%w: %d", ErrTooManyChunks, n)
	}
	written := make([]string, 0, n)
	for i := range n {
		chunk := value[i*c.chunkSize : min((i+1)*c.chunkSize, len(value))]
		cn := c.name + "." + strconv.Itoa(i)
		l.set(cn, chunk, maxAge, expires)
		written = append(written, cn)
	}
	l.expireStale(r, written)
	return l, nil
}

// WriteEncoded writes, as Write does, the value enc encodes raw to.
func (c *Chunked) WriteEncoded(w http.ResponseWriter, r *http.Request, raw []byte, enc *base64.Encoding, expires, now time.Time) error {
	l, err := c.SetEncoded(r, raw, enc, expires, now)
	l.Apply(w.Header())
	return err
}

// SetEncoded decides, as Set does, the write of the value enc encodes raw
// to. A value that fits one cookie is encoded straight into its Set-Cookie
// line.
func (c *Chunked) SetEncoded(r *http.Request, raw []byte, enc *base64.Encoding, expires, now time.Time) (Lines, error) {
	maxAge := int(expires.Sub(now) / time.Second)
	n := enc.EncodedLen(len(raw))
	if maxAge <= 0 || n > c.chunkSize {
		out := make([]byte, n)
		enc.Encode(out, raw)
		return c.Set(r, stringOf(out), expires, now)
	}
	b := make([]byte, len(c.name)+1+n, len(c.name)+1+n+c.attrsLen())
	copy(b, c.name)
	b[len(c.name)] = '='
	enc.Encode(b[len(c.name)+1:], raw)
	l := Lines{c: c, lines: make([]string, 1, 2)}
	l.lines[0] = stringOf(c.appendAttrs(b, maxAge, expires))
	l.expireStale(r, c.nameOnly[:])
	return l, nil
}

// Clearing decides the write that expires every cookie of ours that r
// (which may be nil) carries, and the whole cookie name even if r does not
// carry it.
func (c *Chunked) Clearing(r *http.Request) Lines {
	l := Lines{c: c, lines: make([]string, 0, 2)}
	l.expire(c.name)
	l.expireStale(r, c.nameOnly[:])
	return l
}

// stringOf returns b as a string without a copy: b must never be written
// again while the string (or anything sliced from it) is in use.
func stringOf(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// Own is a single cookie of the caller's own (not chunked): host-only, Path
// "/", HttpOnly, SameSite=Lax, Secure when secure. maxAge 0 makes a
// browser-session cookie, a negative one expires it; now dates Expires.
func Own(name, value string, maxAge int, secure bool, now time.Time) *http.Cookie {
	c := &http.Cookie{Name: name, Value: value, Path: "/", HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode, MaxAge: maxAge}
	switch {
	case maxAge > 0:
		c.Expires = now.Add(time.Duration(maxAge) * time.Second).UTC()
	case maxAge < 0:
		c.Expires = time.Unix(1, 0)
	}
	return c
}
