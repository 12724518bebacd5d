package page

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sessionkit/sessionkit/internal/authjs"
)

func TestIsAPI(t *testing.T) {
	tests := []struct {
		name    string
		method  string
		headers map[string]string
		want    bool
	}{
		{"plain get", "GET", nil, false},
		{"browser navigation", "GET", map[string]string{"Accept": "text/html,application/xhtml+xml", "Sec-Fetch-Mode": "navigate"}, false},
		{"json accept", "GET", map[string]string{"Accept": "application/json"}, true},
		{"json and html accept", "GET", map[string]string{"Accept": "text/html, application/json"}, false},
		{"curl", "GET", map[string]string{"Accept": "*/*"}, true},
		{"browser without fetch metadata", "GET", map[string]string{"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}, false},
		{"xhr", "GET", map[string]string{"X-Requested-With": "XMLHttpRequest"}, true},
		{"fetch", "GET", map[string]string{"Sec-Fetch-Mode": "cors"}, true},
		{"authorization", "GET", map[string]string{"Authorization": "Bearer x"}, true},
		{"post", "POST", nil, true},
		{"head", "HEAD", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, "/", nil)
			for k, v := range tt.headers {
				req.Header.Set(k, v)
			}
			if got := IsAPI(req); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestSanitizeCode(t *testing.T) {
	tests := map[string]string{
		"access_denied": "access_denied", "": "error", "<script>": "script", "\r\n": "error",
		strings.Repeat("a", 100): strings.Repeat("a", 64), "a.b-c_D9": "a.b-c_D9",
	}
	for in, want := range tests {
		if got := SanitizeCode(in); got != want {
			t.Errorf("SanitizeCode(%q): got %q, want %q", in, got, want)
		}
	}
}

// The pages render their data, escaped.
func TestHTML(t *testing.T) {
	tests := []struct {
		name string
		page interface{ HTML() ([]byte, error) }
		want []string
	}{
		{"error", Error{Status: 400, StatusText: "Bad Request", Code: "InvalidCheck", Message: "a <b>", SignIn: "/api/auth/signin"},
			[]string{"<title>Bad Request</title>", `data-code="InvalidCheck">a &lt;b&gt;</p>`, `href="/api/auth/signin"`}},
		{"sign-in", SignIn{Providers: []authjs.Provider{{ID: "oidc", Name: "OIDC", SignInURL: "/api/auth/signin/oidc"}}, CSRFToken: "tok", Callback: "/x", Error: "failed"},
			[]string{`action="/api/auth/signin/oidc"`, `value="tok"`, `value="/x"`, `id="signin-oidc"`, `id="error">failed`}},
		{"sign-in without providers", SignIn{}, []string{"No identity provider is configured."}},
		{"sign-out", SignOut{Action: "/api/auth/signout", CSRFToken: "tok", Callback: "/"},
			[]string{`action="/api/auth/signout"`, `value="tok"`, `id="signout"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := tt.page.HTML()
			if err != nil || !strings.HasPrefix(string(b), "<!doctype html>") {
				t.Fatalf("got %q, %v", b, err)
			}
			for _, w := range tt.want {
				if !strings.Contains(string(b), w) {
					t.Errorf("got %s, want it to contain %q", b, w)
				}
			}
		})
	}
}

func TestIsCrossSite(t *testing.T) {
	for _, tt := range []struct {
		site string
		want bool
	}{{"", false}, {"same-origin", false}, {"same-site", false}, {"none", false}, {"cross-site", true}} {
		r := httptest.NewRequest("GET", "/", nil)
		if tt.site != "" {
			r.Header.Set("Sec-Fetch-Site", tt.site)
		}
		if got := IsCrossSite(r); got != tt.want {
			t.Errorf("Sec-Fetch-Site %q: got %v, want %v", tt.site, got, tt.want)
		}
	}
}
