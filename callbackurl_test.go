package sessionkit

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
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

// A callbackUrl within maxCallbackURL may still make the sealed flow
// cookie too large; GET /signin/{id} must then refuse it as a client
// error, never answer 500.
func TestCallbackURLLongIsNeverAServerError(t *testing.T) {
	_, h := handlerManager(t, nil)
	for _, cb := range []string{"/" + strings.Repeat("a", 2000), "/?" + strings.Repeat("&", 1000)} {
		rec := serve(h, httptest.NewRequest(http.MethodGet, "https://app.example/api/auth/signin/oidc?callbackUrl="+url.QueryEscape(cb), nil))
		if rec.Code >= 500 {
			t.Errorf("callbackUrl of %d bytes: got %d %s", len(cb), rec.Code, rec.Body.String()[:80])
		}
	}
}

// A callbackUrl that safeCallbackURL accepts travels to the callback in
// the sealed flow cookie. Either that cookie fits what a browser keeps
// (name and value within browserCookieLimit) and the sign-in finishes on
// the callbackUrl, or GET /signin/{id} refuses the callbackUrl with 400 and
// sets no cookie. A cookie the browser drops would fail the callback with
// "no sign-in is in progress". The lengths run up to maxCallbackURL, past
// the point where the sealed sign-in state outgrows a cookie, for an
// OpenID Connect provider (whose state holds a nonce too) and a plain
// OAuth 2.0 one, "idp", whose sign-in is then finished.
func TestCallbackURLLongFlowCookieFitsTheBrowser(t *testing.T) {
	_, h := handlerManager(t, func(c *Config) { c.Providers = append(c.Providers, oauthProvider(t, "at")) })
	cases := []string{"/" + strings.Repeat("a", 1500), "/?" + strings.Repeat("&", 400)}
	for n := maxCallbackURL - 256; n < maxCallbackURL; n++ {
		cases = append(cases, "/"+strings.Repeat("a", n))
	}
	longest := map[string]string{} // provider: the longest callbackUrl accepted
	for _, id := range []string{"oidc", "idp"} {
		for _, cb := range cases {
			if flowCookieFits(t, startSignInTo(h, id, cb), len(cb)) && len(cb) > len(longest[id]) {
				longest[id] = cb
			}
		}
	}
	if longest["idp"] == "" {
		t.Fatal("every callbackUrl was refused")
	}
	cb := longest["idp"]
	rec := followToCallback(h, "idp", startSignInTo(h, "idp", cb))
	if loc := rec.Header().Get("Location"); rec.Code != http.StatusFound || loc != "https://app.example"+cb {
		t.Errorf("callback after a sign-in to %d bytes of callbackUrl: got %d to %.40q, want 302 to it", len(cb), rec.Code, loc)
	}
}

// flowCookieFits reports whether rec, the answer to a sign-in with a
// callbackUrl of n bytes, accepted it; it fails t unless rec either sets
// one flow cookie a browser keeps or refuses with 400 and sets none.
func flowCookieFits(t *testing.T, rec *httptest.ResponseRecorder, n int) bool {
	t.Helper()
	switch cs := rec.Result().Cookies(); rec.Code {
	case http.StatusFound:
		if len(cs) != 1 || len(cs[0].Name)+len(cs[0].Value) > browserCookieLimit {
			t.Fatalf("callbackUrl of %d bytes: got %d cookies (first %d bytes), want one flow cookie whose name and value fit in %d bytes",
				n, len(cs), cookieBytes(cs), browserCookieLimit)
		}
		return true
	case http.StatusBadRequest:
		if len(cs) != 0 {
			t.Errorf("callbackUrl of %d bytes refused: got %d cookies, want none", n, len(cs))
		}
	default:
		t.Fatalf("callbackUrl of %d bytes: got %d %s, want 302 or 400", n, rec.Code, rec.Body)
	}
	return false
}

// startSignInTo starts a sign-in with provider id that is to end on
// callbackURL.
func startSignInTo(h http.Handler, id, callbackURL string) *httptest.ResponseRecorder {
	return serve(h, httptest.NewRequest(http.MethodGet, "https://app.example/api/auth/signin/"+id+"?callbackUrl="+url.QueryEscape(callbackURL), nil))
}

// cookieBytes is the size of the first cookie's name and value, 0 if there
// is none.
func cookieBytes(cs []*http.Cookie) int {
	if len(cs) == 0 {
		return 0
	}
	return len(cs[0].Name) + len(cs[0].Value)
}
