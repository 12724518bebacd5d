package jwtverify

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"go.uber.org/goleak"

	"github.com/sessionkit/sessionkit/internal/testclock"
	"github.com/sessionkit/sessionkit/internal/testjwt"
)

// TestMain fails the package when a key set's goroutine outlives its test.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const (
	testIssuer   = "https://idp.example"
	testAudience = "api://sessionkit"
)

var t0 = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

// signer is the shared test signing key.
type signer = testjwt.Signer

var (
	rsaKeyOnce    = testjwt.RSAKey
	rsaKey2Once   = testjwt.RSAKey2
	ecKeyOnce     = testjwt.ECKey
	edKeyOnce     = testjwt.EdKey
	newJWKSServer = testjwt.NewServer
	jwksBody      = testjwt.JWKS
)

func randBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return b
}

func rsaSigner() signer  { return signer{KID: "rsa-1", Alg: "RS256", Key: rsaKeyOnce()} }
func rsa2Signer() signer { return signer{KID: "rsa-2", Alg: "RS256", Key: rsaKey2Once()} }
func ecSigner() signer   { return signer{KID: "ec-1", Alg: "ES256", Key: ecKeyOnce()} }
func edSigner() signer   { return signer{KID: "ed-1", Alg: "EdDSA", Key: edKeyOnce()} }

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// claimsFor returns valid claims for the test issuer and audience at now.
func claimsFor(now time.Time, kv ...any) jwt.MapClaims {
	c := jwt.MapClaims{
		"iss": testIssuer,
		"aud": testAudience,
		"sub": "user_1",
		"iat": now.Unix(),
		"nbf": now.Unix(),
		"exp": now.Add(10 * time.Minute).Unix(),
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(c, kv[i].(string))
		} else {
			c[kv[i].(string)] = kv[i+1]
		}
	}
	return c
}

// testConfig is a valid Config at the test clock, with the given JWK Set
// URLs.
func testConfig(clk *testclock.Clock, urls ...string) Config {
	return Config{
		JWKSURLs:           urls,
		Algorithms:         []string{"RS256", "ES256", "EdDSA"},
		Issuer:             testIssuer,
		Audience:           []string{testAudience},
		Leeway:             5 * time.Second,
		RefreshInterval:    time.Hour,
		MinRefreshInterval: time.Minute,
		FetchTimeout:       5 * time.Second,
		Logger:             slog.New(slog.DiscardHandler),
		Name:               "Test",
		Now:                clk.Now,
	}
}

// mustVerifier returns a Verifier for cfg that stops with the test, once
// its first fetch has ended.
func mustVerifier(t testing.TB, cfg Config) *Verifier {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	v, err := New(ctx, cfg)
	if err != nil {
		cancel()
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { cancel(); v.Wait() })
	if ch := v.Fetching(); ch != nil {
		<-ch
	}
	return v
}

func verifyErr(v *Verifier, raw string) error {
	_, _, err := v.Verify(context.Background(), raw)
	return err
}
