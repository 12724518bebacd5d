package route

import (
	"net/http"
	"testing"
)

func TestMatch(t *testing.T) {
	ep := func(http.ResponseWriter, *http.Request, string) {}
	routes := map[string]Route{"session": {Get: ep}, "signin/*": {Get: ep, Cookies: true}}
	tests := []struct {
		name    string
		path    string
		want    Outcome
		arg     string
		cookies bool
	}{
		{"action", "/api/auth/session", Found, "", false},
		{"argument", "/api/auth/signin/github", Found, "github", true},
		{"base only", "/api/auth", Outside, "", false},
		{"other prefix", "/api/authx/session", Outside, "", false},
		{"elsewhere", "/other", Outside, "", false},
		{"unknown action", "/api/auth/nope", Unknown, "", false},
		{"argument not taken", "/api/auth/session/x", Unknown, "", false},
		{"two segments", "/api/auth/signin/a/b", Unknown, "", false},
		{"argument missing", "/api/auth/signin", Unknown, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rt, arg, o := Match(routes, "/api/auth", tt.path)
			if o != tt.want || arg != tt.arg || rt.Cookies != tt.cookies {
				t.Fatalf("got %v %q %v, want %v %q %v", o, arg, rt.Cookies, tt.want, tt.arg, tt.cookies)
			}
		})
	}
}

func TestFor(t *testing.T) {
	ep := func(http.ResponseWriter, *http.Request, string) {}
	tests := []struct {
		name      string
		rt        Route
		method    string
		wantFound bool
		wantAllow string
	}{
		{"get", Route{Get: ep}, "GET", true, ""},
		{"head as get", Route{Get: ep}, "HEAD", true, ""},
		{"post", Route{Post: ep}, "POST", true, ""},
		{"post to get", Route{Get: ep}, "POST", false, "GET, HEAD"},
		{"get to post", Route{Post: ep}, "GET", false, "POST"},
		{"delete", Route{Get: ep, Post: ep}, "DELETE", false, "GET, HEAD, POST"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, allow := tt.rt.For(tt.method)
			if (f != nil) != tt.wantFound || allow != tt.wantAllow {
				t.Fatalf("got found %v allow %q, want %v %q", f != nil, allow, tt.wantFound, tt.wantAllow)
			}
		})
	}
}
