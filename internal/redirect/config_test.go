package redirect

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestCheckConfig(t *testing.T) {
	tests := []struct {
		name                               string
		base, signIn, appURL, signOutRedir string
		wantField                          string
	}{
		{"defaults", "/api/auth", "/api/auth/signin", "", "/", ""},
		{"empty base path", "", "/signin", "", "/", ""},
		{"absolute sign-in and sign-out", "/api/auth", "https://login.example/start", "https://app.example", "https://app.example/bye", ""},
		{"relative base path", "api", "/signin", "", "/", "BasePath"},
		{"script sign-in", "/api/auth", "javascript:alert(1)", "", "/", "SignInURL"},
		{"url with path", "/api/auth", "/signin", "https://app.example/x", "/", "URL"},
		{"off-site sign-out", "/api/auth", "/signin", "", "//evil.example", "SignOutRedirect"},
		{"absolute sign-out without url", "/api/auth", "/signin", "", "https://app.example/", "SignOutRedirect"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fe := CheckConfig(tt.base, tt.signIn, tt.appURL, tt.signOutRedir)
			got := ""
			if fe != nil {
				got = fe.Field
			}
			if got != tt.wantField {
				t.Fatalf("got field %q (%v), want %q", got, fe, tt.wantField)
			}
		})
	}
}

func TestOfRequest(t *testing.T) {
	plain := httptest.NewRequest("GET", "http://app.example:8080/x", nil)
	secure := httptest.NewRequest("GET", "https://App.Example:443/x", nil)
	for _, tt := range []struct {
		name string
		r    *http.Request
		want string
	}{{"plain", plain, "http://app.example:8080"}, {"tls", secure, "https://app.example"}} {
		if got := OfRequest(tt.r).String(); got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
	}
}
