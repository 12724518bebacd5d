package cookie

import (
	"net/http"
	"strings"
	"testing"
)

func TestValidDomain(t *testing.T) {
	tests := map[string]bool{
		"example.com": true, ".example.com": true, "a-b.Example.COM": true, "x1.y2": true, "127.0.0.1": true,
		"::1": false, "a..b": false, "-a.example": false, "a-.example": false, "a_b.example": false,
		strings.Repeat("a", 64) + ".example": false, strings.Repeat(strings.Repeat("a", 63)+".", 4) + "com": false,
		".": false, "": false, "exa mple.com": false,
	}
	for d, want := range tests {
		if got := ValidDomain(d); got != want {
			t.Errorf("ValidDomain(%q): got %v, want %v", d, got, want)
		}
	}
}

func TestValidName(t *testing.T) {
	tests := map[string]bool{
		"sessionkit": true, "__Host-sk": true, "a.b_c-d!#$%&'*+^`|~": true,
		"": false, "a b": false, "a;b": false, "a=b": false, "a\"b": false, "a\x7f": false, "é": false, "a\tb": false,
	}
	for name, want := range tests {
		if got := ValidName(name); got != want {
			t.Errorf("ValidName(%q): got %v, want %v", name, got, want)
		}
	}
}

func TestValidPath(t *testing.T) {
	tests := map[string]bool{
		"/": true, "/a/b c": true, "": true, "/~x": true,
		"/a;b": false, "/a\nb": false, "/\x7f": false, "/é": false,
	}
	for p, want := range tests {
		if got := ValidPath(p); got != want {
			t.Errorf("ValidPath(%q): got %v, want %v", p, got, want)
		}
	}
}

func TestCheckAttrs(t *testing.T) {
	type attrs struct {
		name, path, domain string
		sameSite           http.SameSite
		secure             bool
	}
	ok := attrs{"sk", "/", "", http.SameSiteLaxMode, true}
	tests := []struct {
		name string
		a    attrs
		want string
	}{
		{"valid", ok, ""},
		{"strict host-only", attrs{"sk", "/app", "example.com", http.SameSiteStrictMode, false}, ""},
		{"bad name", attrs{"a;b", "/", "", http.SameSiteLaxMode, true}, "Name"},
		{"prefixed name", attrs{"__secure-sk", "/", "", http.SameSiteLaxMode, true}, "Name"},
		{"long name", attrs{strings.Repeat("n", 257), "/", "", http.SameSiteLaxMode, true}, "Name"},
		{"relative path", attrs{"sk", "app", "", http.SameSiteLaxMode, true}, "Path"},
		{"path with ;", attrs{"sk", "/a;b", "", http.SameSiteLaxMode, true}, "Path"},
		{"long path", attrs{"sk", "/" + strings.Repeat("p", 1024), "", http.SameSiteLaxMode, true}, "Path"},
		{"bad domain", attrs{"sk", "/", "example.com:443", http.SameSiteLaxMode, true}, "Domain"},
		{"None insecure", attrs{"sk", "/", "", http.SameSiteNoneMode, false}, "SameSite"},
		{"None secure", attrs{"sk", "/", "", http.SameSiteNoneMode, true}, ""},
		{"unknown SameSite", attrs{"sk", "/", "", 9, true}, "SameSite"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ""
			ae := CheckAttrs(tt.a.name, tt.a.path, tt.a.domain, tt.a.sameSite, tt.a.secure)
			if ae != nil {
				got = ae.Field
			}
			if got != tt.want {
				t.Errorf("CheckAttrs: got %q (%v), want %q", got, ae, tt.want)
			}
		})
	}
}
