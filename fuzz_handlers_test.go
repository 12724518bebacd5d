package sessionkit

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzCallbackURL checks that whatever safeCallbackURL accepts is an
// absolute URL on the application's origin that a browser cannot read as
// another origin.
func FuzzCallbackURL(f *testing.F) {
	for _, s := range []string{"/", "/a?b=c#d", "https://app.example/x", "//evil", "/\\evil", "https:evil",
		"/%2F%2Fevil", "/\t/evil", "https://app.example@evil/", "/..%2F..%2Fevil", "HTTPS://APP.EXAMPLE:443"} {
		f.Add(s)
	}
	origin := appOrigin{scheme: "https", host: "app.example"}
	f.Fuzz(func(t *testing.T, raw string) {
		got, err := safeCallbackURL(raw, origin)
		if err != nil {
			if got != "" {
				t.Fatalf("error %v with a URL %q", err, got)
			}
			return
		}
		if !strings.HasPrefix(got, "https://app.example/") {
			t.Fatalf("%q: got %q, want a URL under https://app.example/", raw, got)
		}
		if strings.ContainsFunc(got, func(r rune) bool { return r <= ' ' || r == 0x7f || r == '\\' || r >= 0x80 }) {
			t.Fatalf("%q: got %q with a byte a browser rewrites", raw, got)
		}
		u, err := url.Parse(got)
		if err != nil || u.Host != "app.example" || u.User != nil || u.Scheme != "https" {
			t.Fatalf("%q: got %q, which parses as %v, %v", raw, got, u, err)
		}
		path, _ := splitPath(got[len("https://app.example"):])
		if strings.Contains(path, "//") {
			t.Fatalf("%q: got %q, whose path holds //", raw, got)
		}
		if dec, err := url.PathUnescape(path); err == nil && (strings.HasPrefix(dec, "//") || strings.HasPrefix(dec, "/\\")) {
			t.Fatalf("%q: got %q, whose decoded path %q starts like another origin", raw, got, dec)
		}
	})
}

// FuzzCSRFToken checks that a CSRF check passes only for the token of a
// cookie the guard minted, and never panics.
func FuzzCSRFToken(f *testing.F) {
	g, err := newCSRFGuard([]KeyPair{{HashKey: []byte(strings.Repeat("h", 32)), BlockKey: []byte(strings.Repeat("b", 32))}}, "")
	if err != nil {
		f.Fatal(err)
	}
	token, cookie := g.issue()
	f.Add(cookie, token)
	f.Add(cookie, "")
	f.Add(token+"|", token)
	f.Add("|", "")
	f.Add(strings.ToUpper(cookie), strings.ToUpper(token))
	f.Fuzz(func(t *testing.T, cookie, submitted string) {
		if !g.verify(cookie, submitted) {
			return
		}
		tok, mac, _ := strings.Cut(cookie, "|")
		if tok != submitted || mac != g.mac(g.secrets[0], tok) || len(tok) != 64 {
			t.Fatalf("verify(%q, %q) passed for a cookie the guard did not mint", cookie, submitted)
		}
	})
}
