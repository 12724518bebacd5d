package sessionkit

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/oauth2"
)

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
	jwks.Down.Store(true)
	te := newTokenEndpoint(t, func(w http.ResponseWriter, r *http.Request) {
		c := jwt.MapClaims{"iss": testIssuer, "aud": testClientID, "sub": "u", "iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix()}
		tokenJSON(w, map[string]any{"access_token": "at", "token_type": "Bearer", "expires_in": 3600, "id_token": rsaSigner().Mint(t, c)})
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
