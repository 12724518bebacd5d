package sessionkit

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/sessionkit/sessionkit/internal/redirect"
)

// A callbackUrl within redirect.MaxLen may still make the sealed flow
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
// "no sign-in is in progress". The lengths run up to redirect.MaxLen, past
// the point where the sealed sign-in state outgrows a cookie, for an
// OpenID Connect provider (whose state holds a nonce too) and a plain
// OAuth 2.0 one, "idp", whose sign-in is then finished.
func TestCallbackURLLongFlowCookieFitsTheBrowser(t *testing.T) {
	_, h := handlerManager(t, func(c *Config) { c.Providers = append(c.Providers, oauthProvider(t, "at")) })
	cases := []string{"/" + strings.Repeat("a", 1500), "/?" + strings.Repeat("&", 400)}
	for n := redirect.MaxLen - 256; n < redirect.MaxLen; n++ {
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
