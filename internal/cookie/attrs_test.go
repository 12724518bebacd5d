package cookie

import (
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
