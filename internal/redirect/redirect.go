// Package redirect decides where the endpoints may send a browser: a
// callbackUrl is accepted only as a path on the application's site or a URL
// on its origin, checked more strictly than a URL parser would, because the
// browser that follows the redirect parses differently from Go.
package redirect

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// ErrInvalid is returned for a callbackUrl that is not a path on this site
// or a URL on its origin: the endpoints never redirect anywhere else.
var ErrInvalid = errors.New("sessionkit: invalid callbackUrl")

// MaxLen bounds the callbackUrl accepted, which ends up in a cookie.
const MaxLen = 2048

// Origin is an origin ("https://app.example:8443") split for comparison.
type Origin struct {
	scheme string // "http" or "https"
	host   string // lower-case host[:port], default port dropped
}

// String is the origin as a URL prefix, "scheme://host[:port]".
func (o Origin) String() string { return o.scheme + "://" + o.host }

// ParseOrigin parses raw as an http(s) origin: scheme and host, an optional
// port, at most a "/" as path, nothing else.
func ParseOrigin(raw string) (Origin, error) {
	if strings.ContainsFunc(raw, unsafeURLRune) {
		return Origin{}, errors.New("holds a control character, space, backslash or non-ASCII byte")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return Origin{}, errors.New("not a URL")
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return Origin{}, errors.New("scheme must be http or https")
	case u.Host == "" || u.Opaque != "":
		return Origin{}, errors.New("has no host")
	case u.User != nil:
		return Origin{}, errors.New("must not hold user info")
	case u.Path != "" && u.Path != "/", u.RawQuery != "", u.ForceQuery, u.Fragment != "":
		return Origin{}, errors.New("must be an origin only: no path, query or fragment")
	}
	return NewOrigin(u.Scheme, u.Host), nil
}

// NewOrigin is the origin of scheme and host, lower-cased, without the
// scheme's default port.
func NewOrigin(scheme, host string) Origin {
	scheme, host = strings.ToLower(scheme), strings.ToLower(host)
	switch {
	case scheme == "http" && strings.HasSuffix(host, ":80"):
		host = strings.TrimSuffix(host, ":80")
	case scheme == "https" && strings.HasSuffix(host, ":443"):
		host = strings.TrimSuffix(host, ":443")
	}
	return Origin{scheme: scheme, host: host}
}

// OfRequest is the origin r was sent to: https over TLS, else http, and
// its Host header.
func OfRequest(r *http.Request) Origin {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return NewOrigin(scheme, r.Host)
}

// Resolve returns the absolute URL on origin that raw names, or an error
// wrapping ErrInvalid. raw is either a path on this site
// ("/dashboard?tab=2") or an absolute http(s) URL whose origin is origin.
//
// It is deliberately stricter than a URL parser, because the browser that
// follows the redirect parses differently from Go: it refuses control
// characters, spaces, backslashes and non-ASCII bytes anywhere (browsers
// drop tabs and newlines and read "\" as "/", so "/\t/evil" or "/\evil"
// would become "//evil"); a path that begins "//" (a scheme-relative URL);
// a path holding "//", "." or ".." segments; user info
// ("https://app@evil"); and each of these once percent-decoded, up to three
// times, so that a later decode cannot reveal one either.
func Resolve(raw string, origin Origin) (string, error) {
	bad := func(why string) (string, error) {
		return "", fmt.Errorf("%w: %s", ErrInvalid, why)
	}
	if raw == "" {
		return bad("empty")
	}
	if len(raw) > MaxLen {
		return bad(fmt.Sprintf("longer than %d bytes", MaxLen))
	}
	if i := strings.IndexFunc(raw, unsafeURLRune); i >= 0 {
		return bad("holds a control character, space, backslash or non-ASCII byte")
	}
	path, rest := splitPath(raw)
	if raw[0] != '/' {
		var err error
		if path, rest, err = originPath(raw, origin); err != nil {
			return bad(err.Error())
		}
	}
	if err := checkPath(path); err != nil {
		return bad(err.Error())
	}
	// The query and fragment stay as they are; decoded, they must still be
	// free of what a browser would rewrite.
	if err := checkDecoded(rest); err != nil {
		return bad(err.Error())
	}
	return origin.String() + path + rest, nil
}

// originPath splits an absolute http(s) URL on origin into its path ("/"
// when empty) and the query and fragment after it.
func originPath(raw string, origin Origin) (path, rest string, err error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", "", errors.New("not a URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Opaque != "" || u.Host == "" {
		return "", "", errors.New("neither a path nor an absolute http(s) URL")
	}
	if u.User != nil {
		return "", "", errors.New("holds user info")
	}
	// The scheme and host must be spelled as parsed: no tricks the
	// parser forgave (such as "https:/app.example").
	authority := u.Scheme + "://" + u.Host
	if !strings.HasPrefix(strings.ToLower(raw), strings.ToLower(authority)) {
		return "", "", errors.New("malformed authority")
	}
	if NewOrigin(u.Scheme, u.Host) != origin {
		return "", "", errors.New("not on this site's origin")
	}
	path, rest = splitPath(raw[len(authority):])
	if path == "" {
		path = "/"
	}
	if path[0] != '/' {
		return "", "", errors.New("malformed path")
	}
	return path, rest, nil
}

// unsafeURLRune reports bytes that never belong in a callbackUrl.
func unsafeURLRune(r rune) bool {
	return r <= ' ' || r == 0x7f || r == '\\' || r >= 0x80
}

// splitPath cuts s at its first "?" or "#".
func splitPath(s string) (path, rest string) {
	if i := strings.IndexAny(s, "?#"); i >= 0 {
		return s[:i], s[i:]
	}
	return s, ""
}

// checkPath refuses a path that a browser or a later decode could read as
// another origin or another directory.
func checkPath(p string) error {
	for range 4 {
		if p == "" || p[0] != '/' {
			return errors.New("not a path")
		}
		if strings.Contains(p, "//") {
			return errors.New(`the path holds "//"`)
		}
		for seg := range strings.SplitSeq(p, "/") {
			if seg == "." || seg == ".." {
				return errors.New(`the path holds a "." or ".." segment`)
			}
		}
		if strings.IndexFunc(p, func(r rune) bool { return r < ' ' || r == 0x7f || r == '\\' }) >= 0 {
			return errors.New("the path holds an encoded control character or backslash")
		}
		d, err := url.PathUnescape(p)
		if err != nil {
			return errors.New("the path holds a malformed escape")
		}
		if d == p {
			return nil
		}
		p = d
	}
	return errors.New("the path is encoded too many times")
}

// checkDecoded refuses a query or fragment whose decoded forms hold
// control characters or backslashes.
func checkDecoded(s string) error {
	for range 4 {
		if strings.IndexFunc(s, func(r rune) bool { return r < ' ' || r == 0x7f || r == '\\' }) >= 0 {
			return errors.New("the query holds an encoded control character or backslash")
		}
		d, err := url.QueryUnescape(s)
		if err != nil {
			return errors.New("the query holds a malformed escape")
		}
		if d == s {
			return nil
		}
		s = d
	}
	return errors.New("the query is encoded too many times")
}

// WithQuery is raw with the non-empty values of q set in its query (each
// replacing the values raw had), and raw and false when raw does not
// parse.
func WithQuery(raw string, q url.Values) (string, bool) {
	u, err := url.Parse(raw)
	if err != nil {
		return raw, false
	}
	uq := u.Query()
	for k, v := range q {
		if len(v) > 0 && v[0] != "" {
			uq.Set(k, v[0])
		}
	}
	u.RawQuery = uq.Encode()
	return u.String(), true
}

// LocalPath returns p if it is a path on this site, and "/" for anything a
// browser could read as another origin ("//host", "/\\host", a scheme).
func LocalPath(p string) string {
	if p == "" || p[0] != '/' || (len(p) > 1 && (p[1] == '/' || p[1] == '\\')) || strings.ContainsAny(p, "\r\n") {
		return "/"
	}
	return p
}
