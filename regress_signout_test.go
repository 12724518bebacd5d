package sessionkit

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// applyCookies is a minimal browser jar: Set-Cookie headers in order, the
// last one for a name wins, Max-Age<0 deletes.
func applyCookies(jar map[string]*http.Cookie, resp *http.Response) {
	for _, c := range resp.Cookies() {
		if c.MaxAge < 0 || c.Value == "" {
			delete(jar, c.Name)
		} else {
			jar[c.Name] = c
		}
	}
}

func jarList(jar map[string]*http.Cookie) []*http.Cookie {
	var out []*http.Cookie
	for _, c := range jar {
		out = append(out, c)
	}
	return out
}

// H4: POST /signout while the access token is due: the middleware refreshes
// and re-issues the cookie chunked (the refreshed tokens are larger), then
// SignOut clears only the whole cookie and the chunks the request carried.
// The new chunks survive and the user is still signed in.
func TestRegressionSignOutLeavesRefreshedChunks(t *testing.T) {
	te := newTokenEndpoint(t, func(w http.ResponseWriter, r *http.Request) {
		tokenJSON(w, map[string]any{"access_token": strings.Repeat("b", 3000), "token_type": "Bearer", "expires_in": 3600, "refresh_token": "rt-2"})
	})
	clk := newClock()
	cfg := refreshConfig(clk, te.URL, func(c *Config) { c.URL = "https://app.example" })
	m := mustNew(t, cfg)
	h := m.Handler()
	jar := map[string]*http.Cookie{}
	for _, c := range signInCookies(t, m, SignInParams{Token: tokenOf("at-1", "rt-1", t0.Add(time.Hour)), Provider: "idp", User: &User{ID: "u"}}) {
		jar[c.Name] = c
	}
	// CSRF pair
	rec := serve(h, httptest.NewRequest(http.MethodGet, "https://app.example/api/auth/csrf", nil))
	applyCookies(jar, rec.Result())
	tok := strings.SplitN(jar["__Host-sessionkit.csrf-token"].Value, "|", 2)[0]
	clk.Advance(59*time.Minute + 30*time.Second) // access token due
	req := httptest.NewRequest(http.MethodPost, "https://app.example/api/auth/signout", strings.NewReader(url.Values{"csrfToken": {tok}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://app.example")
	for _, c := range jar {
		req.AddCookie(c)
	}
	rec = serve(h, req)
	applyCookies(jar, rec.Result())
	t.Logf("signout: %d; cookies left: %v", rec.Code, func() (n []string) {
		for k := range jar {
			n = append(n, k)
		}
		return
	}())
	var c capture
	serve(m.Middleware(c.handler(m)), requestWith("https://app.example/", jarList(jar)))
	if c.ok {
		t.Errorf("still signed in after POST /signout (user %q)", c.session.User.ID)
	}
}
