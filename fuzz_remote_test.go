package sessionkit

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/sessionkit/sessionkit/internal/safeurl"
	"golang.org/x/oauth2"
)

// What a hostile network or a compromised provider controls: the bytes of
// the discovery document, the JWK Set and the token endpoint's answers.
// These targets serve fuzzed bytes through an in-process transport (no
// socket, so a fuzzed URL never reaches the network).

const fuzzIssuer = "https://idp.example"

// fuzzStatus maps a fuzzed number to an HTTP status, mostly 200.
func fuzzStatus(n uint16) int {
	if n%4 != 0 {
		return http.StatusOK
	}
	return 100 + int(n/4)%500
}

// FuzzDiscoveryDocument resolves a provider whose discovery document is
// fuzzed: never a panic, and a document that is accepted names exactly the
// configured issuer, https (or loopback http) endpoints and a JWKS, so that
// ID tokens can be verified.
func FuzzDiscoveryDocument(f *testing.F) {
	good := map[string]any{
		"issuer": fuzzIssuer, "authorization_endpoint": fuzzIssuer + "/authorize", "token_endpoint": fuzzIssuer + "/token",
		"jwks_uri": fuzzIssuer + "/keys", "userinfo_endpoint": fuzzIssuer + "/userinfo", "end_session_endpoint": fuzzIssuer + "/logout",
		"code_challenge_methods_supported":      []string{"S256"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"},
	}
	with := func(k string, v any) string {
		d := map[string]any{}
		for k, v := range good {
			d[k] = v
		}
		if v == nil {
			delete(d, k)
		} else {
			d[k] = v
		}
		return mustJSON(d)
	}
	for _, seed := range []string{
		mustJSON(good),
		with("issuer", fuzzIssuer+"/"),
		with("issuer", "https://evil.example"),
		with("issuer", nil),
		with("token_endpoint", "http://idp.example/token"),
		with("token_endpoint", "http://127.0.0.1:1/token"),
		with("token_endpoint", "javascript:alert(1)"),
		with("jwks_uri", nil),
		with("jwks_uri", "//evil.example/keys"),
		with("userinfo_endpoint", "ftp://idp.example/u"),
		with("token_endpoint_auth_methods_supported", []string{"private_key_jwt"}),
		with("token_endpoint_auth_methods_supported", "client_secret_basic"),
		with("code_challenge_methods_supported", nil),
		`{"issuer":"` + fuzzIssuer + `","issuer":"https://evil.example"}`,
		`[]`, `null`, `{`, "", strings.Repeat("[", 5000),
	} {
		f.Add(uint16(1), []byte(seed))
	}
	f.Add(uint16(4*(500-100)), []byte(mustJSON(good)))
	keys := jwksBody(rsaSigner())

	f.Fuzz(func(t *testing.T, status uint16, doc []byte) {
		tr := newInprocTransport()
		tr.serve("/.well-known/openid-configuration", fuzzStatus(status), "application/json", doc)
		tr.serve("/keys", http.StatusOK, "application/json", keys)
		m, err := New(Config{
			Keys:       [][]byte{cookieKeyGen()},
			Providers:  []Provider{{ID: "oidc", Issuer: fuzzIssuer, ClientID: "c", ClientSecret: "s"}},
			HTTPClient: tr.client(),
			Logger:     discardLogger(),
			Now:        newClock().Now,
		})
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		p, _ := m.provider("oidc")
		r, err := p.resolve(context.Background())
		if err != nil {
			if !errors.Is(err, ErrProviderUnavailable) {
				t.Fatalf("refusal does not match ErrProviderUnavailable: %v", err)
			}
			return
		}
		if fuzzStatus(status) != http.StatusOK {
			t.Fatalf("a document served with status %d was used", fuzzStatus(status))
		}
		if r.meta.Issuer != fuzzIssuer {
			t.Fatalf("accepted issuer %q", r.meta.Issuer)
		}
		for name, u := range map[string]string{"token": r.oauth2.Endpoint.TokenURL, "auth": r.oauth2.Endpoint.AuthURL, "jwks": r.meta.JWKSURI} {
			if err := safeurl.Check(u); err != nil {
				t.Fatalf("accepted %s endpoint %q: %v", name, u, err)
			}
		}
		if r.idToken == nil {
			t.Fatal("resolved without an ID token verifier")
		}
	})
}

// FuzzTokenResponse refreshes a session against a token endpoint whose
// status, content type and body are fuzzed: never a panic, never anything
// but the handler's answer, the session is never lost nor handed to
// another user, and it either carries new tokens or the refresh error.
func FuzzTokenResponse(f *testing.F) {
	idp := edSigner()
	tr := newInprocTransport()
	tr.serve("/keys", http.StatusOK, "application/json", jwksBody(idp))
	var resp atomic.Pointer[func() *http.Response]
	tr.handle("/token", func(*http.Request) *http.Response { return (*resp.Load())() })
	clk := newClock()
	m, err := New(Config{
		Keys: [][]byte{cookieKeyGen()},
		Providers: []Provider{{ID: "idp", ClientID: "c", ClientSecret: "s", AuthURL: fuzzIssuer + "/authorize",
			TokenURL: fuzzIssuer + "/token", JWKSURL: fuzzIssuer + "/keys", AuthStyle: oauth2.AuthStyleInParams}},
		HTTPClient: tr.client(),
		Logger:     discardLogger(),
		Now:        clk.Now,
	})
	if err != nil {
		f.Fatal(err)
	}
	defer m.Close()

	idToken := func(sub string) string {
		return idp.Mint(f, jwt.MapClaims{"aud": "c", "sub": sub, "iat": t0.Unix(), "exp": t0.Add(time.Hour).Unix()})
	}
	contentTypes := []string{"application/json", "application/x-www-form-urlencoded", "text/plain", "", "application/json; charset=utf-8"}
	for _, seed := range []struct {
		status uint16
		ct     byte
		body   string
	}{
		{1, 0, `{"access_token":"at-2","token_type":"Bearer","expires_in":3600,"refresh_token":"rt-2"}`},
		{1, 0, `{"access_token":"at-2","token_type":"Bearer","expires_in":3600,"id_token":"` + idToken("u") + `"}`},
		{1, 0, `{"access_token":"at-2","token_type":"Bearer","expires_in":3600,"id_token":"` + idToken("mallory") + `"}`},
		{1, 0, `{"access_token":"at-2","id_token":"a.b.c"}`},
		{1, 0, `{"access_token":"","expires_in":3600}`},
		{1, 0, `{"access_token":"at-2","expires_in":"3600"}`},
		{1, 0, `{"access_token":"at-2","expires_in":-3600}`},
		{1, 0, `{"access_token":"at-2","expires_in":1e300}`},
		{1, 0, `{"access_token":"at-2","expires_in":9223372036854775807}`},
		{1, 0, `{"access_token":42}`},
		{1, 0, `{"access_token": "x", "expires_in": `},
		{1, 0, `null`},
		{1, 0, ``},
		{1, 1, `access_token=at-2&token_type=bearer&expires_in=60&refresh_token=rt-2`},
		{1, 2, `access_token=at-2&expires_in=abc`},
		{1, 1, `error=invalid_grant`},
		{4 * (400 - 100), 0, `{"error":"invalid_grant","error_description":"reused"}`},
		{4 * (400 - 100), 0, `{"error":["invalid_grant"]}`},
		{4 * (401 - 100), 1, `error=invalid_client`},
		{4 * (500 - 100), 0, `{"error":"server_error"}`},
		{4 * (503 - 100), 3, `<html>busy</html>`},
		{4 * (302 - 100), 0, ``},
		{4 * (204 - 100), 0, ``},
		{4 * (199 - 100), 0, `{"access_token":"at-2"}`},
	} {
		f.Add(seed.status, seed.ct, []byte(seed.body))
	}
	var n atomic.Int64
	f.Fuzz(func(t *testing.T, status uint16, ct byte, body []byte) {
		code, ctype := fuzzStatus(status), contentTypes[int(ct)%len(contentTypes)]
		answer := func() *http.Response { return response(code, ctype, body) }
		resp.Store(&answer)
		// A fresh refresh token each time, so that no earlier outcome is
		// taken from the grace window.
		rt := fmt.Sprintf("rt-%d", n.Add(1))
		cookies := signInCookies(t, m, SignInParams{Token: tokenOf("at-1", rt, clk.Now().Add(-time.Second)), Provider: "idp", User: &User{ID: "u"}})
		var c capture
		rec := serve(m.Middleware(c.handler(m)), requestWith("https://app.example/", cookies))
		if rec.Code != http.StatusOK {
			t.Fatalf("status %d, want the handler's 200", rec.Code)
		}
		if !c.ok || c.session.User.ID != "u" {
			t.Fatalf("session lost or changed hands: ok %v user %v err %v", c.ok, c.session, c.srvErr)
		}
		s := c.session
		switch s.Error {
		case "":
			// A provider may hand the same access token back; it may not
			// hand back none.
			if s.AccessToken == "" {
				t.Fatal("refresh reported success without an access token")
			}
		case RefreshAccessTokenError:
			// Either nothing of the answer was used, or its tokens were
			// used and only its ID token was refused (the old one stays).
			if s.AccessToken != "at-1" && (s.AccessToken == "" || s.IDToken != "") {
				t.Fatalf("a failed refresh left access token %q, ID token %q", s.AccessToken, s.IDToken)
			}
		default:
			t.Fatalf("Session.Error %q", s.Error)
		}
	})
}
