package sessionkit_test

import (
	"crypto/rand"
	"crypto/rsa"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/sessionkit/sessionkit"
	"github.com/sessionkit/sessionkit/memstore"
)

// FuzzLogoutToken posts fuzzed logout_token values to the back-channel
// logout endpoint: never a panic, never anything but 200 or 400, and 200
// only for a token that the provider's key really signed.
func FuzzLogoutToken(f *testing.F) {
	idp := newBCLProvider(f)
	store, err := memstore.New(memstore.Config{})
	if err != nil {
		f.Fatal(err)
	}
	defer store.Close()
	keys, _ := sessionkit.KeyPairFromSecret(rand.Text() + rand.Text())
	m, err := sessionkit.New(sessionkit.Config{
		Keys:   []sessionkit.KeyPair{keys},
		Store:  store,
		Logger: slog.New(slog.DiscardHandler),
		Providers: []sessionkit.Provider{{ID: "oidc", Issuer: bclIssuer, ClientID: bclClientID,
			AuthURL: bclIssuer + "/authorize", TokenURL: bclIssuer + "/token", JWKSURL: idp.jwks.URL}},
	})
	if err != nil {
		f.Fatal(err)
	}
	defer m.Close()
	h := m.Handler()

	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		f.Fatal(err)
	}
	signWith := func(key *rsa.PrivateKey, c jwt.MapClaims) string {
		tok := jwt.NewWithClaims(jwt.SigningMethodRS256, c)
		tok.Header["kid"] = "k1"
		raw, err := tok.SignedString(key)
		if err != nil {
			f.Fatal(err)
		}
		return raw
	}
	good := signWith(idp.key, logoutClaims(nil))
	f.Add(good)
	f.Add(signWith(other, logoutClaims(nil)))
	f.Add(signWith(idp.key, logoutClaims(func(c jwt.MapClaims) { c["nonce"] = "n" })))
	f.Add(signWith(idp.key, logoutClaims(func(c jwt.MapClaims) { delete(c, "events") })))
	f.Add(signWith(idp.key, logoutClaims(func(c jwt.MapClaims) { c["aud"] = "someone-else" })))
	f.Add(strings.Replace(good, ".", "..", 1))
	f.Add("")
	f.Add("a.b.c")
	f.Add(strings.Repeat("A", 9000))

	pub := &idp.key.PublicKey
	f.Fuzz(func(t *testing.T, token string) {
		req := httptest.NewRequest(http.MethodPost, "https://app.example/api/auth/backchannel-logout",
			strings.NewReader(url.Values{"logout_token": {token}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		switch rec.Code {
		case http.StatusOK:
			if _, err := jwt.Parse(token, func(*jwt.Token) (any, error) { return pub, nil }, jwt.WithValidMethods([]string{"RS256"})); err != nil {
				t.Fatalf("accepted a logout token the provider did not sign: %v", err)
			}
		case http.StatusBadRequest:
		default:
			t.Fatalf("status %d, want 200 or 400", rec.Code)
		}
	})
}
