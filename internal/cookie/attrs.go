package cookie

import (
	"github.com/sessionkit/sessionkit/internal/fielderr"

	"net"
	"net/http"
	"strings"
)

// ValidName reports whether name is a cookie name (an RFC 6265 token): one
// or more printable ASCII bytes other than space and the separators.
func ValidName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`()<>@,;:\"/[]?={}`, c) >= 0 {
			return false
		}
	}
	return true
}

// ValidDomain accepts a host name (labels of 1 to 63 letters, digits and
// hyphens, not starting or ending with a hyphen, at most 253 bytes in all,
// an optional leading dot) or an IPv4 address.
func ValidDomain(d string) bool {
	if net.ParseIP(d) != nil {
		return !strings.Contains(d, ":")
	}
	d = strings.TrimPrefix(d, ".")
	if d == "" || len(d) > 253 {
		return false
	}
	for label := range strings.SplitSeq(d, ".") {
		if !validDomainLabel(label) {
			return false
		}
	}
	return true
}

// validDomainLabel accepts 1 to 63 letters, digits and hyphens, not
// starting or ending with a hyphen.
func validDomainLabel(label string) bool {
	if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
		return false
	}
	for i := 0; i < len(label); i++ {
		c := label[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// ValidPath reports whether p holds only the bytes net/http keeps in a
// cookie's Path: printable ASCII other than ';'.
func ValidPath(p string) bool {
	for i := 0; i < len(p); i++ {
		if c := p[i]; c < 0x20 || c > 0x7e || c == ';' {
			return false
		}
	}
	return true
}

// CheckAttrs refuses a configured cookie's name (before any prefix Name
// adds) and attributes where net/http would silently drop them or a
// browser would refuse the cookie. It returns the first fault, naming the
// attribute ("Name", "Path", "Domain" or "SameSite"), or nil.
func CheckAttrs(name, path, domain string, sameSite http.SameSite, secure bool) *fielderr.Error {
	lower := strings.ToLower(name)
	switch {
	case !ValidName(name):
		return fielderr.New("Name", "%q is not a valid cookie name", name)
	case strings.HasPrefix(lower, "__host-") || strings.HasPrefix(lower, "__secure-"):
		return fielderr.New("Name", "must not carry the __Host- or __Secure- prefix: the Manager adds it")
	case len(name) > 256:
		return fielderr.New("Name", "must be at most 256 bytes")
	case !strings.HasPrefix(path, "/") || !ValidPath(path) || len(path) > 1024:
		return fielderr.New("Path", "%q must start with /, hold only printable ASCII other than ';' (net/http would silently drop the rest) and be at most 1024 bytes", path)
	case domain != "" && !ValidDomain(domain):
		return fielderr.New("Domain", "%q is not a valid domain (net/http would silently drop it)", domain)
	}
	switch sameSite {
	case http.SameSiteLaxMode, http.SameSiteStrictMode:
	case http.SameSiteNoneMode:
		if !secure {
			return fielderr.New("SameSite", "SameSite=None requires Secure cookies; it cannot be combined with InsecureCookies")
		}
	default:
		return fielderr.New("SameSite", "unknown value %d", sameSite)
	}
	return nil
}
