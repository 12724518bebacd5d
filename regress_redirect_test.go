package sessionkit

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

// S1: the outgoing client follows redirects: a 307 from the token endpoint
// re-posts refresh_token and client_secret to wherever Location points
// (checkFetchURL is applied to configured/discovered URLs only).
func TestRegressionTokenEndpointRedirectForwardsSecrets(t *testing.T) {
	var got atomic.Value
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.Store(r.PostFormValue("refresh_token") + " " + r.PostFormValue("client_secret"))
		w.WriteHeader(500)
	}))
	defer other.Close()
	te := newTokenEndpoint(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/steal", http.StatusTemporaryRedirect)
	})
	clk := newClock()
	m := mustNew(t, refreshConfig(clk, te.URL, nil))
	cookies := signInCookies(t, m, SignInParams{Token: tokenOf("at-1", "rt-1", t0), Provider: "idp", User: &User{ID: "u"}})
	through(m, requestWith("https://app.example/", cookies))
	if v, _ := got.Load().(string); v != "" {
		t.Errorf("redirect target received %q", v)
	}
}
