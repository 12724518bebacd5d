package sessionkit

import (
	"errors"
	"testing"
)

func TestSafeCallbackURL(t *testing.T) {
	origin := appOrigin{scheme: "https", host: "app.example"}
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
			got, err := safeCallbackURL(tc.raw, origin)
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
		"/\u00e9", "https://app.example\u3002evil/", "/%zz", "/" + string(make([]byte, maxCallbackURL)),
	} {
		t.Run("bad "+raw, func(t *testing.T) {
			got, err := safeCallbackURL(raw, origin)
			if !errors.Is(err, ErrInvalidCallbackURL) {
				t.Fatalf("got %q, %v; want ErrInvalidCallbackURL", got, err)
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
			o, err := parseOrigin(tc.raw)
			switch {
			case tc.want == "" && err == nil:
				t.Fatalf("got %q, want an error", o)
			case tc.want != "" && (err != nil || o.String() != tc.want):
				t.Fatalf("got %q, %v; want %q", o, err, tc.want)
			}
		})
	}
}
