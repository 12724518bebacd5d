package sessionkit

import (
	"net/http"
	"sync/atomic"
	"testing"
)

// A1: an OpenID Connect provider with all endpoints configured (no
// discovery) and no AuthStyle refreshes with AuthStyleAutoDetect: one
// failed token call is repeated at once with the same refresh token.
func TestRegressionAutoDetectSendsRefreshTokenTwice(t *testing.T) {
	var sent atomic.Int64
	te := newTokenEndpoint(t, func(w http.ResponseWriter, r *http.Request) {
		if r.PostFormValue("refresh_token") == "rt-1" {
			sent.Add(1)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		w.Write([]byte(`{"error":"invalid_grant"}`))
	})
	jwks := newJWKSServer(t, rsaSigner())
	clk := newClock()
	cfg := testConfig(clk, "")
	p := testProvider(jwks.URL)
	p.TokenURL = te.URL
	cfg.Providers = []Provider{p}
	m := mustNew(t, cfg)
	cookies := signInCookies(t, m, SignInParams{Token: tokenOf("at-1", "rt-1", t0), Provider: "oidc", User: &User{ID: "u"}})
	through(m, requestWith("https://app.example/", cookies))
	if n := sent.Load(); n != 1 {
		t.Errorf("one refresh sent rt-1 %d times", n)
	}
}
