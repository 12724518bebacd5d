package sessionkit

import (
	"net/http"
	"strings"
	"testing"
)

func TestJWKSBadResponses(t *testing.T) {
	good := `{"keys":[` + mustJSON(rsaSigner().JWK()) + `]}`
	tests := []struct {
		name    string
		status  int
		body    string
		wantKey bool
	}{
		{"500 with a key set is ignored", http.StatusInternalServerError, good, false},
		{"404 is ignored", http.StatusNotFound, good, false},
		{"one bad key is skipped, the rest kept", 0, `{"keys":[{"kty":"RSA","kid":"broken","n":"!!","e":"AQAB"},{"kty":"weird","kid":"x"},` + mustJSON(rsaSigner().JWK()) + `]}`, true},
		{"not json", 0, `<html>`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			jwks := newJWKSServer(t)
			jwks.Status.Store(int64(tt.status))
			jwks.SetBody([]byte(tt.body))
			m := mustNew(t, testConfig(newClock(), jwks.URL))
			err := verifyErr(m, rsaSigner().Mint(t, claimsFor(t0)))
			if (err == nil) != tt.wantKey {
				t.Errorf("got %v, want key %v", err, tt.wantKey)
			}
		})
	}
}

// The key set's URL never reaches a log line or an error with its password
// or query.
func TestJWKSURLRedacted(t *testing.T) {
	jwks := newJWKSServer(t, rsaSigner())
	jwks.Down.Store(true)
	secretURL := strings.Replace(jwks.URL, "http://", "http://user:hunter2@", 1) + "/keys?api_key=s3cr3t"
	logger, logs := quietLogger()
	cfg := testConfig(newClock(), secretURL)
	cfg.Logger = logger
	mustNew(t, cfg)
	bad := testConfig(newClock(), "ftp://user:hunter2@idp.example/?api_key=s3cr3t")
	_, err := New(bad)
	for name, out := range map[string]string{"log": logs.String(), "error": err.Error()} {
		if strings.Contains(out, "hunter2") || strings.Contains(out, "s3cr3t") {
			t.Errorf("%s leaks the URL's secrets: %s", name, out)
		}
	}
	if !strings.Contains(logs.String(), "JWKS fetch failed") {
		t.Errorf("failure not logged: %s", logs)
	}
}

// A static key without ID verifies a token whose kid the JWK Set does not
// know.
func TestStaticKeyBesideJWKS(t *testing.T) {
	jwks := newJWKSServer(t, rsaSigner())
	cfg := testConfig(newClock(), jwks.URL)
	cfg.Bearer.StaticKeys = []StaticKey{{Key: edSigner().Public()}}
	m := mustNew(t, cfg)
	if err := verifyErr(m, signer{KID: "not-in-jwks", Alg: "EdDSA", Key: edKeyOnce()}.Mint(t, claimsFor(t0))); err != nil {
		t.Fatalf("static key not used: %v", err)
	}
}
