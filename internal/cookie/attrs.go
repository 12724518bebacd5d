package cookie

import (
	"net"
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
