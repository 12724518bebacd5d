package sessionkit_test

import (
	"crypto/rand"
	"crypto/rsa"
	"net/http"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

// FuzzLogoutToken posts fuzzed logout_token values to the back-channel
// logout endpoint: never a panic, never anything but 200 or 400, and 200
// only for a token that the provider's key really signed.
func FuzzLogoutToken(f *testing.F) {
	idp := newBCLProvider(f)
	h := newBCLManager(f, idp).Handler()

	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		f.Fatal(err)
	}
	signWith := func(key *rsa.PrivateKey, c jwt.MapClaims) string { return sign(f, key, c) }
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
		rec := postLogout(h, token)
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
