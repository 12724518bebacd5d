package cookie

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// dropEarlier removes the cookie's lines set earlier in the response whose
// header is h. What the request itself carried is expired by expireStale.
func (c *Chunked) dropEarlier(h http.Header) {
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

// expireStale expires the cookies of ours r carries that are not in keep.
func (l *Lines) expireStale(r *http.Request, keep []string) {
	c := l.c
	if r == nil {
		return
	}
	var f Found
	c.Scan(r, &f)
	if f.whole != "" && !slices.Contains(keep, c.name) {
		l.expire(c.name)
	}
	for i := range f.nchunks {
		cn := c.name + "." + strconv.Itoa(i)
		if *f.slot(i) != "" && !slices.Contains(keep, cn) {
			l.expire(cn)
		}
	}
}

// set adds the Set-Cookie line for name=value, as http.SetCookie would
// write it, without its sanitizing pass over the value: values are
// URL-safe base64 (or empty), and the name and the other attributes were
// formatted by net/http once.
func (l *Lines) set(name, value string, maxAge int, expires time.Time) {
	b := make([]byte, 0, len(name)+1+len(value)+l.c.attrsLen())
	b = append(append(append(b, name...), '='), value...)
	l.lines = append(l.lines, stringOf(l.c.appendAttrs(b, maxAge, expires)))
}

// attrsLen bounds what appendAttrs appends.
func (c *Chunked) attrsLen() int {
	return len(c.attrsPre) + len("; Expires=") + len(http.TimeFormat) + len("; Max-Age=") + 20 + len(c.attrsPost)
}

// appendAttrs appends the cookie's attributes, in http.Cookie's order and
// format.
func (c *Chunked) appendAttrs(b []byte, maxAge int, expires time.Time) []byte {
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

// expire deletes the cookie name: empty, Max-Age=0, expired long ago.
func (l *Lines) expire(name string) {
	l.set(name, "", -1, time.Unix(1, 0))
}
