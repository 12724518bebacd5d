// Package safeurl checks the URLs the library fetches from, renders them
// for logs and errors without their secrets (the password of the userinfo
// and the query, which may hold an API key), and builds the HTTP client
// that fetches them: bounded response bodies, cautious redirects.
package safeurl

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
)

// Check accepts absolute https URLs, and http URLs to loopback hosts. Its
// errors show the URL redacted.
func Check(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("not a URL")
	}
	shown := Redact(raw)
	switch {
	case u.Host == "":
		return fmt.Errorf("%s is not an absolute URL", shown)
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && IsLoopbackHost(u.Hostname()):
		return nil
	case u.Scheme == "http":
		return fmt.Errorf("%s must use https (http is accepted for loopback hosts only)", shown)
	}
	return fmt.Errorf("%s must be an http(s) URL", shown)
}

// IsLoopbackHost reports whether host is "localhost", a name under
// ".localhost", or a loopback IP address (brackets allowed).
func IsLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// Redact hides the userinfo and the query of a URL.
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	u.User = nil
	if u.RawQuery != "" {
		u.RawQuery = "redacted"
	}
	return u.String()
}

// RedactErr renders err without the password or the query of raw, which
// net/http errors may quote.
func RedactErr(err error, raw string) string {
	msg := err.Error()
	u, perr := url.Parse(raw)
	if perr != nil {
		return msg
	}
	if u.RawQuery != "" {
		msg = strings.ReplaceAll(msg, u.RawQuery, "redacted")
	}
	if p, ok := u.User.Password(); ok && p != "" {
		msg = strings.ReplaceAll(msg, p, "redacted")
	}
	return msg
}
