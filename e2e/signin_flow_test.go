package e2e

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/sessionkit/sessionkit"
)

func TestSignInFlow(t *testing.T) {
	a := startApp(t, appOptions{})
	b := newBrowser(t)

	// Signed out: {} (next-auth v4 reads it as no session) and a redirect
	// from the protected page.
	if s := b.session(a); len(s) != 0 {
		t.Fatalf("session before sign-in: got %v, want {}", s)
	}
	r := b.get(a.URL + "/protected")
	if r.status != http.StatusSeeOther || !strings.HasPrefix(r.location, "/api/auth/signin?callbackUrl=%2Fprotected") {
		t.Fatalf("protected page signed out: got %d to %q, want 303 to the sign-in page", r.status, r.location)
	}

	if got, want := b.signIn(a, "/protected?tab=1"), a.URL+"/protected?tab=1"; got != want {
		t.Fatalf("after sign-in: got redirect to %q, want %q", got, want)
	}
	if r := b.get(a.URL + "/protected"); r.status != http.StatusOK || r.body != "hello ada@example.com" {
		t.Fatalf("protected page: got %d %q, want 200 hello ada@example.com", r.status, r.body)
	}
	if got := a.idp.CodeExchanges(); got != 1 {
		t.Errorf("code exchanges: got %d, want 1", got)
	}

	s := b.session(a)
	user, _ := s["user"].(map[string]any)
	if user["email"] != "ada@example.com" || user["name"] != "Ada Lovelace" || user["id"] != "user_ada" {
		t.Errorf("session user: got %v, want Ada Lovelace <ada@example.com>, id user_ada", user)
	}
	for _, k := range []string{"expires", "accessTokenExpiresAt", "activeSignInId", "status", "provider"} {
		if _, ok := s[k]; !ok {
			t.Errorf("session JSON lacks %q: %v", k, s)
		}
	}
	if s["status"] != "active" || s["provider"] != "oidc" {
		t.Errorf("session status/provider: got %v/%v, want active/oidc", s["status"], s["provider"])
	}
	for _, k := range []string{"accessToken", "refreshToken", "idToken"} {
		if _, ok := s[k]; ok {
			t.Errorf("session JSON exposes %q", k)
		}
	}

	// Sign out as next-auth's signOut({redirect: false}) does.
	token := b.csrf(a)
	r = b.post(a.URL+"/api/auth/signout", url.Values{"csrfToken": {token}, "callbackUrl": {"/bye"}, "json": {"true"}}, nil)
	if r.status != http.StatusOK || r.body != `{"url":"`+a.URL+`/bye"}`+"\n" {
		t.Fatalf("sign-out: got %d %q, want 200 {\"url\":%q}", r.status, r.body, a.URL+"/bye")
	}
	if !clearsSession(r.header) {
		t.Errorf("sign-out did not clear the session cookie: %v", r.header["Set-Cookie"])
	}
	if s := b.session(a); len(s) != 0 {
		t.Fatalf("session after sign-out: got %v, want {}", s)
	}
}

// clearsSession reports whether the response expires the session cookie.
func clearsSession(h http.Header) bool {
	for _, c := range (&http.Response{Header: h}).Cookies() {
		if c.Name == "__Host-sessionkit" && c.MaxAge < 0 {
			return true
		}
	}
	return false
}

func TestSignInCallbackRejects(t *testing.T) {
	a := startApp(t, appOptions{})
	for _, tc := range []struct {
		name string
		// run returns the response of the callback request to judge.
		run        func(t *testing.T, b *browser) response
		wantStatus int
		wantCode   string
		// signedIn: run signs in once on the way, so a session exists.
		signedIn bool
	}{
		{"bad state", func(t *testing.T, b *browser) response {
			cb := b.authorize(a, b.startSignIn(a, "/"))
			return b.get(replaceParam(t, cb, "state", "forged"))
		}, http.StatusBadRequest, "InvalidCheck", false},
		{"no state cookie", func(t *testing.T, b *browser) response {
			cb := b.authorize(a, b.startSignIn(a, "/"))
			return newBrowser(t).get(cb)
		}, http.StatusBadRequest, "InvalidCheck", false},
		{"replayed callback", func(t *testing.T, b *browser) response {
			cb := b.authorize(a, b.startSignIn(a, "/"))
			if r := b.get(cb); r.status != http.StatusFound {
				t.Fatalf("first callback: got %d %s, want 302", r.status, r.body)
			}
			return b.get(cb)
		}, http.StatusBadRequest, "InvalidCheck", true},
		{"replayed code", func(t *testing.T, b *browser) response {
			// A second sign-in in the same browser, with the code of
			// the first: the state matches, the provider refuses the code.
			cb := b.authorize(a, b.startSignIn(a, "/"))
			if r := b.get(cb); r.status != http.StatusFound {
				t.Fatalf("first callback: got %d %s, want 302", r.status, r.body)
			}
			auth2 := b.startSignIn(a, "/")
			state2 := param(t, auth2, "state")
			return b.get(replaceParam(t, cb, "state", state2))
		}, http.StatusBadRequest, "OAuthCallback", true},
		{"code of another sign-in", func(t *testing.T, b *browser) response {
			// An attacker's code (their PKCE, their nonce) with the
			// victim's state: the PKCE verifier does not match.
			attacker := newBrowser(t)
			evil := attacker.authorize(a, attacker.startSignIn(a, "/"))
			auth := b.startSignIn(a, "/")
			return b.get(replaceParam(t, evil, "state", param(t, auth, "state")))
		}, http.StatusBadRequest, "OAuthCallback", false},
		{"wrong nonce", func(t *testing.T, b *browser) response {
			// The provider issues an ID token for another nonce.
			auth := b.startSignIn(a, "/")
			return b.get(b.authorize(a, replaceParam(t, auth, "nonce", "attackers-nonce")))
		}, http.StatusBadRequest, "InvalidIDToken", false},
		{"no code", func(t *testing.T, b *browser) response {
			cb := b.authorize(a, b.startSignIn(a, "/"))
			return b.get(replaceParam(t, cb, "code", ""))
		}, http.StatusBadRequest, "InvalidCheck", false},
		{"provider error", func(t *testing.T, b *browser) response {
			auth := b.startSignIn(a, "/")
			return b.get(a.URL + "/api/auth/callback/oidc?error=access_denied&state=" + param(t, auth, "state"))
		}, http.StatusForbidden, "OAuthCallbackError", false},
		{"unknown provider", func(t *testing.T, b *browser) response {
			return b.get(a.URL + "/api/auth/callback/nope?code=x&state=y")
		}, http.StatusNotFound, "InvalidProvider", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBrowser(t)
			r := tc.run(t, b)
			if r.status != tc.wantStatus || !strings.Contains(r.body, tc.wantCode) {
				t.Fatalf("got %d %q, want %d with %s", r.status, r.body, tc.wantStatus, tc.wantCode)
			}
			if s := b.session(a); len(s) != 0 && !tc.signedIn {
				t.Fatalf("session after a refused callback: got %v, want {}", s)
			}
		})
	}
}

func TestSignInOpenRedirect(t *testing.T) {
	a := startApp(t, appOptions{})
	b := newBrowser(t)
	for _, cb := range []string{
		"//evil.example/", "https://evil.example/", "https:evil.example", "/\\evil.example", "\\\\evil.example",
		"/%2F%2Fevil.example", "/%5Cevil.example", "/\t/evil.example", "/x\r\nLocation: https://evil.example",
		"https://" + strings.TrimPrefix(a.URL, "http://") + "@evil.example/", "http://evil.example@" + strings.TrimPrefix(a.URL, "http://") + "/",
		"javascript:alert(1)", "data:text/html,x", a.URL + ".evil.example/", "/../../evil", "%2F%2Fevil.example",
	} {
		t.Run(cb, func(t *testing.T) {
			r := b.get(a.URL + "/api/auth/signin/oidc?callbackUrl=" + url.QueryEscape(cb))
			if r.status != http.StatusBadRequest || r.location != "" || !strings.Contains(r.body, "InvalidCallbackUrl") {
				t.Fatalf("got %d to %q, want 400 InvalidCallbackUrl", r.status, r.location)
			}
			token := b.csrf(a)
			r = b.post(a.URL+"/api/auth/signout", url.Values{"csrfToken": {token}, "callbackUrl": {cb}, "json": {"true"}}, nil)
			if r.status != http.StatusBadRequest || strings.Contains(r.body, "evil") {
				t.Fatalf("sign-out: got %d %q, want 400 without the URL", r.status, r.body)
			}
		})
	}
}

func TestSignInCSRF(t *testing.T) {
	a := startApp(t, appOptions{})
	b := newBrowser(t)
	b.signIn(a, "/")
	token := b.csrf(a)
	other := newBrowser(t).csrf(a) // valid, but another browser's
	for _, path := range []string{"/api/auth/signout", "/api/auth/session", "/api/auth/signin/oidc"} {
		for _, tc := range []struct {
			name   string
			form   url.Values
			header map[string]string
		}{
			{"no token", url.Values{"json": {"true"}}, nil},
			{"wrong token", url.Values{"csrfToken": {strings.Repeat("0", 64)}, "json": {"true"}}, nil},
			{"another browser's token", url.Values{"csrfToken": {other}, "json": {"true"}}, nil},
			{"cross-site fetch", url.Values{"csrfToken": {token}, "json": {"true"}}, map[string]string{"Sec-Fetch-Site": "cross-site"}},
			{"foreign origin", url.Values{"csrfToken": {token}, "json": {"true"}}, map[string]string{"Origin": "https://evil.example"}},
		} {
			t.Run(path+"/"+tc.name, func(t *testing.T) {
				r := b.post(a.URL+path, tc.form, tc.header)
				if r.status != http.StatusForbidden || !strings.Contains(r.body, "MissingCSRF") {
					t.Fatalf("got %d %q, want 403 MissingCSRF", r.status, r.body)
				}
				if clearsSession(r.header) {
					t.Fatal("a refused request cleared the session")
				}
			})
		}
	}
	if s := b.session(a); s["status"] != "active" {
		t.Fatalf("session after refused requests: got %v, want still active", s)
	}
	// The same-origin fetch with the right token passes.
	r := b.post(a.URL+"/api/auth/session", url.Values{"csrfToken": {token}}, map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": a.URL})
	if r.status != http.StatusOK || !strings.Contains(r.body, `"status":"active"`) {
		t.Fatalf("POST /session: got %d %q, want 200 and the session", r.status, r.body)
	}
}

func TestSignInProviderUnavailable(t *testing.T) {
	a := startApp(t, appOptions{config: func(c *sessionkit.Config) {
		c.Providers[0].Issuer = "http://127.0.0.1:1" // nothing listens there
	}})
	b := newBrowser(t)
	r := b.get(a.URL + "/api/auth/signin/oidc?callbackUrl=/")
	if r.status != http.StatusBadGateway || !strings.Contains(r.body, "could not be reached") {
		t.Fatalf("got %d %q, want 502 with a clear message", r.status, r.body)
	}
	r = b.post(a.URL+"/api/auth/signin/oidc", url.Values{"csrfToken": {b.csrf(a)}, "json": {"true"}}, nil)
	if r.status != http.StatusBadGateway || !strings.Contains(r.body, "ProviderUnavailable") {
		t.Fatalf("POST: got %d %q, want 502 ProviderUnavailable", r.status, r.body)
	}
}

func param(t *testing.T, raw, k string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get(k)
}

func replaceParam(t *testing.T, raw, k, v string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if v == "" {
		q.Del(k)
	} else {
		q.Set(k, v)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// TestSignInForm signs in as next-auth's signIn("oidc", {redirect: false})
// does (a form with csrfToken, callbackUrl and json=true, answered with
// {"url"}) and signs out as Auth.js v5's client does (X-Auth-Return-Redirect).
func TestSignInForm(t *testing.T) {
	a := startApp(t, appOptions{})
	b := newBrowser(t)
	token := b.csrf(a)
	r := b.post(a.URL+"/api/auth/signin/oidc", url.Values{"csrfToken": {token}, "callbackUrl": {a.URL + "/protected"}, "json": {"true"}},
		map[string]string{"Origin": a.URL, "Sec-Fetch-Site": "same-origin"})
	var v struct{ URL string }
	if err := json.Unmarshal([]byte(r.body), &v); err != nil || r.status != http.StatusOK || !strings.HasPrefix(v.URL, a.idp.URL()+"/authorize?") {
		t.Fatalf("POST /signin/oidc: got %d %q, want 200 {\"url\": the provider}", r.status, r.body)
	}
	if r := b.get(b.authorize(a, v.URL)); r.status != http.StatusFound || r.location != a.URL+"/protected" {
		t.Fatalf("callback: got %d to %q, want 302 to /protected", r.status, r.location)
	}
	if s := b.session(a); s["status"] != "active" {
		t.Fatalf("session: got %v, want active", s)
	}
	r = b.post(a.URL+"/api/auth/signout", url.Values{"csrfToken": {token}, "callbackUrl": {"/"}}, map[string]string{"X-Auth-Return-Redirect": "1"})
	if r.status != http.StatusOK || r.body != `{"url":"`+a.URL+`/"}`+"\n" || !clearsSession(r.header) {
		t.Fatalf("v5 sign-out: got %d %q, want 200 {\"url\"} and the cookie cleared", r.status, r.body)
	}
	// Without json, a plain form post is answered with a redirect.
	b.signIn(a, "/")
	r = b.post(a.URL+"/api/auth/signout", url.Values{"csrfToken": {token}}, nil)
	if r.status != http.StatusFound || r.location != a.URL+"/" {
		t.Fatalf("form sign-out: got %d to %q, want 302 to %s/", r.status, r.location, a.URL)
	}
}
