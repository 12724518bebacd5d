package safeurl

import (
	"errors"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	tests := []struct {
		raw string
		ok  bool
	}{
		{"https://idp.example/jwks", true},
		{"http://localhost:8080/jwks", true},
		{"http://app.localhost/jwks", true},
		{"http://127.0.0.1/jwks", true},
		{"http://[::1]:9000/jwks", true},
		{"http://idp.example/jwks", false},
		{"ftp://idp.example/", false},
		{"/relative", false},
		{"://", false},
	}
	for _, tt := range tests {
		if err := Check(tt.raw); (err == nil) != tt.ok {
			t.Errorf("Check(%q): got %v, want ok %v", tt.raw, err, tt.ok)
		}
	}
	if err := Check("ftp://user:hunter2@idp.example/?api_key=s3cr3t"); strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "s3cr3t") {
		t.Errorf("the error leaks the URL's secrets: %v", err)
	}
}

func TestRedact(t *testing.T) {
	raw := "https://user:hunter2@idp.example/keys?api_key=s3cr3t"
	tests := []struct{ name, got, want string }{
		{"Redact", Redact(raw), "https://idp.example/keys?redacted"},
		{"Redact unparsable", Redact("%zz"), "(unparsable URL)"},
		{"RedactErr", RedactErr(errors.New(`Get "`+raw+`": refused`), raw), `Get "https://user:redacted@idp.example/keys?redacted": refused`},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, tt.got, tt.want)
		}
	}
}
