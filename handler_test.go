package sessionkit

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/sessionkit/sessionkit/internal/postbody"
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
	rec = post("/api/auth/session", "application/json", `{"csrfToken":"`+token+`","pad":"`+strings.Repeat("x", postbody.MaxBytes)+`"}`)
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

func TestHandlerBearerOnly(t *testing.T) {
	j := newJWKSServer(t, signer{KID: "k", Alg: "RS256", Key: rsaKeyOnce()})
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
