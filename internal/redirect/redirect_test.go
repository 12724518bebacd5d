package redirect

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

func TestResolve(t *testing.T) {
	origin := NewOrigin("https", "app.example")
	for _, tc := range []struct {
		raw, want string
	}{
		{"/", "https://app.example/"},
		{"/dashboard", "https://app.example/dashboard"},
		{"/a/b?x=1&y=%2F%2Fz#frag", "https://app.example/a/b?x=1&y=%2F%2Fz#frag"},
		{"/caf%C3%A9", "https://app.example/caf%C3%A9"},
		{"https://app.example", "https://app.example/"},
		{"https://app.example/x?y", "https://app.example/x?y"},
		{"HTTPS://APP.EXAMPLE:443/x", "https://app.example/x"},
		{"https://app.example?q=1", "https://app.example/?q=1"},
	} {
		t.Run("ok "+tc.raw, func(t *testing.T) {
			got, err := Resolve(tc.raw, origin)
			if err != nil || got != tc.want {
				t.Fatalf("got %q, %v; want %q, nil", got, err, tc.want)
			}
		})
	}
	for _, raw := range []string{
		"", "//evil.example", "///evil.example", "/\\evil.example", "\\/evil.example", "/x\\y",
		"https:evil.example", "https:/evil.example", "https:///evil.example", "http://app.example/",
		"https://evil.example/", "https://app.example.evil.example/", "https://app.example:8443/",
		"https://app.example@evil.example/", "https://evil.example@app.example/", "https://a:b@app.example/",
		"/%2F%2Fevil.example", "/%2fevil.example/..", "/%5Cevil.example", "/%255C%255Cevil", "/%252F%252Fevil",
		"/\t/evil.example", "/\n/evil.example", "/x\r\nSet-Cookie: a=b", " /x", "/x ", "/\x00",
		"/../evil", "/a/./b", "/a//b", "/%2e%2e/x", "/a?x=%0d%0aSet-Cookie:%20a", "/a#%5C",
		"javascript:alert(1)", "data:text/html,x", "evil.example", "relative/path", "?x=1", "#frag",
		"/\u00e9", "https://app.example\u3002evil/", "/%zz", "/" + string(make([]byte, MaxLen)),
	} {
		t.Run("bad "+raw, func(t *testing.T) {
			got, err := Resolve(raw, origin)
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("got %q, %v; want ErrInvalid", got, err)
			}
		})
	}
}

func TestParseOrigin(t *testing.T) {
	for _, tc := range []struct {
		raw  string
		want string // "" for an error
	}{
		{"https://app.example", "https://app.example"},
		{"https://App.Example/", "https://app.example"},
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080"},
		{"http://localhost:80", "http://localhost"},
		{"https://app.example/base", ""},
		{"https://app.example?x", ""},
		{"https://u@app.example", ""},
		{"ftp://app.example", ""},
		{"app.example", ""},
		{"https://app.example\\", ""},
		{"", ""},
	} {
		t.Run(tc.raw, func(t *testing.T) {
			o, err := ParseOrigin(tc.raw)
			switch {
			case tc.want == "" && err == nil:
				t.Fatalf("got %q, want an error", o)
			case tc.want != "" && (err != nil || o.String() != tc.want):
				t.Fatalf("got %q, %v; want %q", o, err, tc.want)
			}
		})
	}
}

// FuzzCallbackURL checks that whatever Resolve accepts is an
// absolute URL on the application's origin that a browser cannot read as
// another origin.
func FuzzCallbackURL(f *testing.F) {
	for _, s := range []string{"/", "/a?b=c#d", "https://app.example/x", "//evil", "/\\evil", "https:evil",
		"/%2F%2Fevil", "/\t/evil", "https://app.example@evil/", "/..%2F..%2Fevil", "HTTPS://APP.EXAMPLE:443"} {
		f.Add(s)
	}
	origin := NewOrigin("https", "app.example")
	f.Fuzz(func(t *testing.T, raw string) {
		got, err := Resolve(raw, origin)
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

func TestLocalPath(t *testing.T) {
	tests := map[string]string{
		"/a?b=c": "/a?b=c", "/": "/", "": "/", "a": "/", "https://evil.example/": "/",
		"//evil.example": "/", "/\\evil.example": "/", "/a\r\nSet-Cookie: x": "/",
	}
	for in, want := range tests {
		if got := LocalPath(in); got != want {
			t.Errorf("LocalPath(%q): got %q, want %q", in, got, want)
		}
	}
}

func TestWithQuery(t *testing.T) {
	tests := []struct {
		raw  string
		q    url.Values
		want string
		ok   bool
	}{
		{"/api/auth/signin", url.Values{"callbackUrl": {"/a?b=c"}}, "/api/auth/signin?callbackUrl=%2Fa%3Fb%3Dc", true},
		{"https://app.example/login?x=1&error=old", url.Values{"callbackUrl": {"/"}, "error": {"E"}, "empty": {""}, "none": nil},
			"https://app.example/login?callbackUrl=%2F&error=E&x=1", true},
		{"https://app.example/%zz", url.Values{"callbackUrl": {"/"}}, "https://app.example/%zz", false},
	}
	for _, tt := range tests {
		if got, ok := WithQuery(tt.raw, tt.q); got != tt.want || ok != tt.ok {
			t.Errorf("WithQuery(%q, %v): got %q, %v; want %q, %v", tt.raw, tt.q, got, ok, tt.want, tt.ok)
		}
	}
}
