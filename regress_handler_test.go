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

func reviewCallback(t *testing.T, h http.Handler, id string) *httptest.ResponseRecorder {
	rec := serve(h, httptest.NewRequest(http.MethodGet, "https://app.example/api/auth/signin/"+id, nil))
	if rec.Code != http.StatusFound {
		t.Fatalf("signin: %d %s", rec.Code, rec.Body)
	}
	loc, _ := url.Parse(rec.Header().Get("Location"))
	req := httptest.NewRequest(http.MethodGet, "https://app.example/api/auth/callback/"+id+"?code=c&state="+loc.Query().Get("state"), nil)
	for _, c := range rec.Result().Cookies() {
		req.AddCookie(c)
	}
	return serve(h, req)
}

// H1: a provider answering with large tokens makes the callback answer 500.
func TestRegressionCallbackLargeTokens500(t *testing.T) {
	te := newTokenEndpoint(t, func(w http.ResponseWriter, r *http.Request) {
		tokenJSON(w, map[string]any{"access_token": strings.Repeat("a", 20000), "token_type": "Bearer", "expires_in": 3600})
	})
	ui := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tokenJSON(w, map[string]any{"sub": "u"})
	}))
	defer ui.Close()
	_, h := handlerManager(t, func(c *Config) {
		c.Providers = []Provider{{ID: "idp", ClientID: "c", ClientSecret: "s", AuthURL: "https://idp.example/auth",
			TokenURL: te.URL, UserInfoURL: ui.URL, AuthStyle: oauth2.AuthStyleInParams}}
	})
	rec := reviewCallback(t, h, "idp")
	if rec.Code >= 500 && rec.Code != 502 {
		t.Errorf("callback: got %d %s", rec.Code, rec.Body)
	}
}

// H2: JWKS unreachable at the callback: the ID token is "refused" with 400
// (InvalidIDToken), not an upstream 502.
func TestRegressionCallbackJWKSDown(t *testing.T) {
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
	rec := reviewCallback(t, h, "oidc")
	t.Logf("callback with JWKS down: %d %s", rec.Code, rec.Body)
}
