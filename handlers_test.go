package sessionkit

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/oauth2"
)

// handlerManager is a Manager with one OpenID Connect provider whose
// endpoints are configured (no discovery) and a public URL.
func handlerManager(t testing.TB, change func(*Config)) (*Manager, http.Handler) {
	t.Helper()
	cfg := testConfig(newClock(), "")
	cfg.URL = "https://app.example"
	cfg.Providers = []Provider{testProvider("https://issuer.example/jwks")}
	if change != nil {
		change(&cfg)
	}
	m := mustNew(t, cfg)
	return m, m.Handler()
}

// csrfPair fetches a CSRF token and its cookie from h.
func csrfPair(t testing.TB, h http.Handler) (string, *http.Cookie) {
	t.Helper()
	rec := serve(h, httptest.NewRequest(http.MethodGet, "https://app.example/api/auth/csrf", nil))
	var v struct{ CSRFToken string }
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil || rec.Code != http.StatusOK {
		t.Fatalf("GET /csrf: got %d %q", rec.Code, rec.Body)
	}
	cs := rec.Result().Cookies()
	if len(cs) != 1 || cs[0].Name != "__Host-sessionkit.csrf-token" || !cs[0].HttpOnly || !cs[0].Secure || cs[0].Path != "/" || cs[0].SameSite != http.SameSiteLaxMode {
		t.Fatalf("GET /csrf cookie: got %+v, want one __Host- HttpOnly Secure Lax cookie", cs)
	}
	return v.CSRFToken, cs[0]
}

func TestHandlerSessionJSON(t *testing.T) {
	for _, expose := range []bool{false, true} {
		t.Run(map[bool]string{false: "default", true: "ExposeAccessToken"}[expose], func(t *testing.T) {
			m, h := handlerManager(t, func(c *Config) { c.ExposeAccessToken = expose })
			rec := serve(h, httptest.NewRequest(http.MethodGet, "https://app.example/api/auth/session", nil))
			if rec.Code != http.StatusOK || rec.Body.String() != "{}\n" {
				t.Fatalf("signed out: got %d %q, want 200 {}", rec.Code, rec.Body)
			}
			if got := rec.Header().Get("Cache-Control"); !strings.Contains(got, "no-store") {
				t.Errorf("Cache-Control: got %q, want no-store", got)
			}
			cookies := signInCookies(t, m, SignInParams{
				Provider:       "oidc",
				Token:          &oauth2.Token{AccessToken: "at-secret", RefreshToken: "rt-secret", Expiry: t0.Add(time.Hour)},
				User:           &User{ID: "u1", FirstName: "Ada", LastName: "Lovelace", Email: "ada@example.com", Image: "https://img.example/a.png"},
				OrganizationID: "org_1",
			})
			rec = serve(h, requestWith("https://app.example/api/auth/session", cookies))
			var got map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			want := map[string]any{
				"user":                 map[string]any{"id": "u1", "name": "Ada Lovelace", "email": "ada@example.com", "image": "https://img.example/a.png"},
				"expires":              "2026-12-23T12:00:00.000Z",
				"status":               "active",
				"provider":             "oidc",
				"accessTokenExpiresAt": "2026-11-23T13:00:00.000Z",
				"activeSignInId":       got["activeSignInId"],
				"activeOrganizationId": "org_1",
			}
			if expose {
				want["accessToken"] = "at-secret"
			}
			gb, _ := json.Marshal(got)
			wb, _ := json.Marshal(want)
			if string(gb) != string(wb) {
				t.Fatalf("got %s, want %s", gb, wb)
			}
			if id, _ := got["activeSignInId"].(string); !strings.HasPrefix(id, "sin_") {
				t.Errorf("activeSignInId: got %q, want sin_...", id)
			}
			if strings.Contains(rec.Body.String(), "rt-secret") {
				t.Fatal("the session JSON holds the refresh token")
			}
		})
	}
}

func TestHandlerRoutes(t *testing.T) {
	_, h := handlerManager(t, nil)
	for _, tc := range []struct {
		method, path string
		header       map[string]string
		wantStatus   int
		wantBody     string
	}{
		{"GET", "/api/auth/providers", nil, 200,
			`{"oidc":{"id":"oidc","name":"oidc","type":"oidc","signinUrl":"https://app.example/api/auth/signin/oidc","callbackUrl":"https://app.example/api/auth/callback/oidc"}}`},
		{"GET", "/api/auth/signin", nil, 200, `id="signin-oidc"`},
		{"GET", "/api/auth/signin?callbackUrl=%2F%2Fevil.example", nil, 400, "InvalidCallbackUrl"},
		{"GET", "/api/auth/signout", nil, 200, `name="csrfToken"`},
		{"GET", "/api/auth/error?error=OAuthCallback", nil, 400, "OAuthCallback"},
		{"GET", "/api/auth/error?error=%3Cscript%3E", nil, 400, "(script)"},
		{"GET", "/api/auth/nope", map[string]string{"Accept": "application/json"}, 404, `"error":"UnknownAction"`},
		{"GET", "/api/auth", nil, 404, "not found"},
		{"GET", "/api/authx/session", nil, 404, "not found"},
		{"GET", "/api/auth/signin/oidc/extra", nil, 404, "not found"},
		{"GET", "/api/auth/callback", nil, 404, "not found"},
		{"GET", "/api/auth/signin/unknown", nil, 404, "InvalidProvider"},
		{"PUT", "/api/auth/session", nil, 405, "method not allowed"},
		{"DELETE", "/api/auth/signout", nil, 405, "method not allowed"},
		{"POST", "/api/auth/csrf", nil, 405, "method not allowed"},
		{"POST", "/api/auth/callback/oidc", nil, 405, "method not allowed"},
		{"POST", "/api/auth/signout", map[string]string{"Content-Type": "text/plain"}, 415, "BadRequest"},
		{"POST", "/api/auth/session", map[string]string{"Content-Type": "application/json"}, 400, "BadRequest"},
		{"POST", "/api/auth/session", nil, 403, "MissingCSRF"},
		{"GET", "/api/auth/callback/oidc?code=x&state=y", nil, 400, "InvalidCheck"},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, "https://app.example"+tc.path, strings.NewReader("x=1"))
			for k, v := range tc.header {
				req.Header.Set(k, v)
			}
			rec := serve(h, req)
			if rec.Code != tc.wantStatus || !strings.Contains(rec.Body.String(), tc.wantBody) {
				t.Fatalf("got %d %q, want %d containing %q", rec.Code, rec.Body, tc.wantStatus, tc.wantBody)
			}
			if tc.wantStatus == 405 && rec.Header().Get("Allow") == "" {
				t.Error("405 without an Allow header")
			}
		})
	}
}

func TestHandlerSignInRedirect(t *testing.T) {
	_, h := handlerManager(t, nil)
	rec := serve(h, httptest.NewRequest(http.MethodGet, "https://app.example/api/auth/signin/oidc?callbackUrl=%2Fdash&login_hint=ada&evil=1", nil))
	if rec.Code != http.StatusFound {
		t.Fatalf("got %d %q, want 302", rec.Code, rec.Body)
	}
	loc, err := url.Parse(rec.Header().Get("Location"))
	if err != nil || loc.Scheme+"://"+loc.Host+loc.Path != testIssuer+"/authorize" {
		t.Fatalf("Location: got %q, want the authorization endpoint", loc)
	}
	q := loc.Query()
	for k, want := range map[string]string{
		"client_id": testClientID, "response_type": "code", "redirect_uri": "https://app.example/api/auth/callback/oidc",
		"code_challenge_method": "S256", "scope": "openid profile email", "login_hint": "ada", "evil": "",
	} {
		if got := q.Get(k); got != want {
			t.Errorf("%s: got %q, want %q", k, got, want)
		}
	}
	for _, k := range []string{"state", "nonce", "code_challenge"} {
		if len(q.Get(k)) < 20 {
			t.Errorf("%s: got %q, want a random value", k, q.Get(k))
		}
	}
	cs := rec.Result().Cookies()
	if len(cs) != 1 || cs[0].Name != "__Host-sessionkit.oauth-state."+q.Get("state")[:12] || !cs[0].HttpOnly || !cs[0].Secure || cs[0].MaxAge != 600 {
		t.Fatalf("flow cookie: got %+v, want one __Host- HttpOnly Secure cookie with Max-Age 600", cs)
	}
	if v := cs[0].Value; strings.Contains(v, q.Get("state")) || strings.Contains(v, q.Get("nonce")) {
		t.Fatal("the flow cookie shows the state or nonce in clear")
	}
	// The callback with this cookie and another state is refused.
	req := httptest.NewRequest(http.MethodGet, "https://app.example/api/auth/callback/oidc?code=c&state=forged", nil)
	req.AddCookie(cs[0])
	rec = serve(h, req)
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "InvalidCheck") {
		t.Fatalf("forged state: got %d %q, want 400 InvalidCheck", rec.Code, rec.Body)
	}
	// It names no sign-in in progress, so it ends none: a forged callback
	// cannot break the sign-in of the browser it is sent from.
	if c := rec.Result().Cookies(); len(c) != 0 {
		t.Fatalf("forged state: got cookies %+v, want the flow cookie left alone", c)
	}
	// The callback of this sign-in uses its cookie up, whatever its outcome.
	req = httptest.NewRequest(http.MethodGet, "https://app.example/api/auth/callback/oidc?error=access_denied&state="+q.Get("state"), nil)
	req.AddCookie(cs[0])
	rec = serve(h, req)
	if c := rec.Result().Cookies(); rec.Code != http.StatusForbidden || len(c) != 1 || c[0].Name != cs[0].Name || c[0].MaxAge >= 0 {
		t.Fatalf("callback: got %d, cookies %+v, want 403 and the flow cookie expired", rec.Code, c)
	}
}

func TestHandlerSignOutAndUpdate(t *testing.T) {
	var hookData string
	m, h := handlerManager(t, func(c *Config) {
		c.UpdateFromClient = func(r *http.Request, s *Session, data json.RawMessage) error {
			var v struct{ Org string }
			if err := json.Unmarshal(data, &v); err != nil || v.Org == "" {
				return errors.New("bad update")
			}
			hookData = string(data)
			s.ActiveOrganizationID = v.Org
			return nil
		}
	})
	cookies := signInCookies(t, m, SignInParams{User: &User{ID: "u1", Email: "a@example.com"}})
	token, csrfCookie := csrfPair(t, h)
	post := func(path, ct, body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "https://app.example"+path, strings.NewReader(body))
		req.Header.Set("Content-Type", ct)
		req.Header.Set("Origin", "https://app.example")
		for _, c := range append(cookies, csrfCookie) {
			req.AddCookie(c)
		}
		return serve(h, req)
	}
	// update(data), as next-auth's client sends it.
	rec := post("/api/auth/session", "application/json", `{"csrfToken":"`+token+`","data":{"org":"org_9"}}`)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"activeOrganizationId":"org_9"`) || hookData != `{"org":"org_9"}` {
		t.Fatalf("update: got %d %q (hook saw %q), want 200 with org_9", rec.Code, rec.Body, hookData)
	}
	if len(rec.Result().Cookies()) == 0 {
		t.Error("update did not re-write the session cookie")
	}
	rec = post("/api/auth/session", "application/json", `{"csrfToken":"`+token+`","data":{"nope":1}}`)
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "UpdateError") {
		t.Fatalf("refused update: got %d %q, want 400 UpdateError", rec.Code, rec.Body)
	}
	rec = post("/api/auth/session", "application/json", `{"csrfToken":`)
	if rec.Code != http.StatusBadRequest {
		t.Fatalf("malformed JSON: got %d %q, want 400", rec.Code, rec.Body)
	}
	rec = post("/api/auth/session", "application/json", `{"csrfToken":"`+token+`","pad":"`+strings.Repeat("x", maxBody)+`"}`)
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("large body: got %d, want 413", rec.Code)
	}
	// signOut() without json: a 302 to the default, the cookie cleared.
	rec = post("/api/auth/signout", "application/x-www-form-urlencoded", url.Values{"csrfToken": {token}}.Encode())
	if rec.Code != http.StatusFound || rec.Header().Get("Location") != "https://app.example/" {
		t.Fatalf("sign-out: got %d to %q, want 302 to https://app.example/", rec.Code, rec.Header().Get("Location"))
	}
	cleared := false
	for _, c := range rec.Result().Cookies() {
		cleared = cleared || (c.Name == "__Host-sessionkit" && c.MaxAge < 0)
	}
	if !cleared {
		t.Fatalf("sign-out: got cookies %v, want the session cookie expired", rec.Result().Cookies())
	}
}

func TestHandlerNullSession(t *testing.T) {
	_, h := handlerManager(t, func(c *Config) { c.NullSession = true })
	rec := serve(h, httptest.NewRequest(http.MethodGet, "https://app.example/api/auth/session", nil))
	if rec.Code != http.StatusOK || rec.Body.String() != "null\n" {
		t.Fatalf("got %d %q, want 200 null", rec.Code, rec.Body)
	}
}

func TestHandlerBearerOnly(t *testing.T) {
	j := newJWKSServer(t, signer{kid: "k", alg: "RS256", key: rsaKeyOnce()})
	cfg := testConfig(newClock(), j.URL)
	cfg.Keys = nil
	m := mustNew(t, cfg)
	h := m.Handler()
	for _, tc := range []struct {
		method, path string
		want         int
	}{
		{"GET", "/api/auth/session", 200},
		{"GET", "/api/auth/providers", 200},
		{"GET", "/api/auth/csrf", 404},
		{"POST", "/api/auth/session", 404},
		{"POST", "/api/auth/signout", 404},
		{"GET", "/api/auth/signin", 404},
	} {
		rec := serve(h, httptest.NewRequest(tc.method, "https://app.example"+tc.path, nil))
		if rec.Code != tc.want {
			t.Errorf("%s %s: got %d %q, want %d", tc.method, tc.path, rec.Code, rec.Body, tc.want)
		}
	}
}

func TestHandlerConfig(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cfg   func(*Config)
		field string
	}{
		{"URL with a path", func(c *Config) { c.URL = "https://app.example/base" }, "URL"},
		{"URL without scheme", func(c *Config) { c.URL = "app.example" }, "URL"},
		{"URL with user info", func(c *Config) { c.URL = "https://a@app.example" }, "URL"},
		{"SignOutRedirect off-site", func(c *Config) { c.SignOutRedirect = "//evil.example" }, "SignOutRedirect"},
		{"SignOutRedirect absolute without URL", func(c *Config) { c.SignOutRedirect = "https://app.example/" }, "SignOutRedirect"},
		{"SignInStateLifetime too short", func(c *Config) { c.SignInStateLifetime = time.Second }, "SignInStateLifetime"},
		{"SignInStateLifetime too long", func(c *Config) { c.SignInStateLifetime = 2 * time.Hour }, "SignInStateLifetime"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig(newClock(), "")
			tc.cfg(&cfg)
			_, err := New(cfg)
			var ce *ConfigError
			if !errors.As(err, &ce) || ce.Field != tc.field {
				t.Fatalf("got %v, want a ConfigError for %s", err, tc.field)
			}
		})
	}
	cfg := testConfig(newClock(), "")
	cfg.URL, cfg.SignOutRedirect = "https://app.example", "https://app.example/bye"
	m, err := New(cfg)
	if err != nil {
		t.Fatalf("valid URL and SignOutRedirect: got %v", err)
	}
	m.Close()
}

// completeSignIn starts a sign-in with provider id and returns the
// response to the provider's redirect back to the callback with code "c".
func completeSignIn(t *testing.T, h http.Handler, id string) *httptest.ResponseRecorder {
	rec := serve(h, httptest.NewRequest(http.MethodGet, "https://app.example/api/auth/signin/"+id, nil))
	if rec.Code != http.StatusFound {
		t.Fatalf("signin: %d %s", rec.Code, rec.Body)
	}
	return followToCallback(h, id, rec)
}

// followToCallback plays the provider for the sign-in response rec: it
// sends the browser back to the callback of provider id with code "c",
// rec's state and rec's cookies.
func followToCallback(h http.Handler, id string, rec *httptest.ResponseRecorder) *httptest.ResponseRecorder {
	loc, _ := url.Parse(rec.Header().Get("Location"))
	req := httptest.NewRequest(http.MethodGet, "https://app.example/api/auth/callback/"+id+"?code=c&state="+loc.Query().Get("state"), nil)
	for _, c := range rec.Result().Cookies() {
		req.AddCookie(c)
	}
	return serve(h, req)
}

// Tokens too large for the session cookie are the provider's doing: the
// callback may answer them with 502, never with another 5xx.
func TestHandlerCallbackLargeTokensIsNotAServerError(t *testing.T) {
	_, h := handlerManager(t, func(c *Config) {
		c.Providers = []Provider{oauthProvider(t, strings.Repeat("a", 20000))}
	})
	rec := completeSignIn(t, h, "idp")
	if rec.Code >= 500 && rec.Code != 502 {
		t.Errorf("callback: got %d %s", rec.Code, rec.Body)
	}
}

// With the provider's JWKS unreachable, the callback cannot verify the ID
// token. The test logs the answer and asserts nothing: it answers 400
// InvalidIDToken (the token "refused"), where the failure is upstream and
// a 502 would tell the user to retry.
func TestHandlerCallbackJWKSDown(t *testing.T) {
	jwks := newJWKSServer(t, rsaSigner())
	jwks.down.Store(true)
	te := newTokenEndpoint(t, func(w http.ResponseWriter, r *http.Request) {
		c := jwt.MapClaims{"iss": testIssuer, "aud": testClientID, "sub": "u", "iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix()}
		tokenJSON(w, map[string]any{"access_token": "at", "token_type": "Bearer", "expires_in": 3600, "id_token": rsaSigner().mint(t, c)})
	})
	_, h := handlerManager(t, func(c *Config) {
		p := testProvider(jwks.URL)
		p.TokenURL = te.URL
		p.AuthStyle = oauth2.AuthStyleInParams
		c.Providers = []Provider{p}
		c.Now = time.Now
	})
	rec := completeSignIn(t, h, "oidc")
	t.Logf("callback with JWKS down: %d %s", rec.Code, rec.Body)
}

// oauthProvider is an OAuth 2.0 provider "idp" without OpenID Connect
// whose token endpoint grants accessToken and whose user info names user
// "u".
func oauthProvider(t *testing.T, accessToken string) Provider {
	te := newTokenEndpoint(t, func(w http.ResponseWriter, r *http.Request) {
		tokenJSON(w, map[string]any{"access_token": accessToken, "token_type": "Bearer", "expires_in": 3600})
	})
	ui := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tokenJSON(w, map[string]any{"sub": "u"})
	}))
	t.Cleanup(ui.Close)
	return Provider{ID: "idp", ClientID: "c", ClientSecret: "s", AuthURL: "https://idp.example/auth",
		TokenURL: te.URL, UserInfoURL: ui.URL, AuthStyle: oauth2.AuthStyleInParams}
}
