package bench

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	mrand "math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// The session every peer holds, as BENCHMARKS.md's goals set it: a
// 900-byte access token, a 100-byte refresh token, a 1000-byte ID token,
// the user's id, email and name, and expiries.
const (
	accessLen  = 900
	refreshLen = 100
	idLen      = 1000

	userID    = "user_2bench0000000000000000"
	userEmail = "ada.lovelace@example.com"
	userName  = "Ada Lovelace"

	issuer   = "https://issuer.example"
	audience = "api://bench"
	sid      = "sess_2bench0000000000000000"
)

// fixture holds the keys, tokens and JWKS endpoint every peer shares. It is
// built once per test binary: RSA key generation is slow.
type fixture struct {
	now                            time.Time // when the fixture was made; tokens are valid for an hour from it
	accessToken, refreshToken, idT string
	accessExpiry                   time.Time // the access token's expiry: now + 1h
	sessionExpiry                  time.Time // the session's: now + 30 days

	hashKey, blockKey []byte // cookie keys, shared by every cookie peer

	rsa *rsa.PrivateKey
	ec  *ecdsa.PrivateKey
	ed  ed25519.PrivateKey

	jwksJSON []byte            // the public keys as a JWK Set, with kid and alg
	jwks     *httptest.Server  // serves jwksJSON on loopback
	bearer   map[string]string // alg -> a valid JWT for the user
}

var (
	fixtureOnce sync.Once
	theFixture  *fixture
)

// getFixture returns the shared fixture. Its JWKS server lives as long as
// the test binary.
func getFixture(tb testing.TB) *fixture {
	tb.Helper()
	fixtureOnce.Do(func() { theFixture = newFixture() })
	return theFixture
}

func newFixture() *fixture {
	f := &fixture{now: time.Now().Truncate(time.Second)}
	// Tokens are opaque base64url text of those sizes, the same bytes
	// for every peer (deterministic, so cookie sizes are reproducible).
	rng := mrand.New(mrand.NewChaCha8([32]byte{'s', 'e', 's', 's', 'i', 'o', 'n', 'k', 'i', 't'}))
	f.accessToken = opaque(rng, accessLen)
	f.refreshToken = opaque(rng, refreshLen)
	f.idT = opaque(rng, idLen)
	f.accessExpiry = f.now.Add(time.Hour)
	f.sessionExpiry = f.now.Add(30 * 24 * time.Hour)
	f.hashKey, f.blockKey = randBytes(32), randBytes(32)

	var err error
	if f.rsa, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		panic(err)
	}
	if f.ec, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
		panic(err)
	}
	if _, f.ed, err = ed25519.GenerateKey(rand.Reader); err != nil {
		panic(err)
	}
	f.jwksJSON = f.jwkSet()
	f.jwks = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(f.jwksJSON)
	}))
	f.bearer = map[string]string{}
	for alg, key := range map[string]any{"RS256": f.rsa, "ES256": f.ec, "EdDSA": f.ed} {
		f.bearer[alg] = f.mint(alg, key)
	}
	return f
}

// kid names each algorithm's key.
func kid(alg string) string { return "bench-" + alg }

// claims are the bearer token's claims: what Auth.js or Clerk put in a
// session token, checked by every JWT peer (iss, aud where the peer checks
// it, exp, nbf, iat).
func (f *fixture) claims() jwt.MapClaims {
	return jwt.MapClaims{
		"iss":   issuer,
		"aud":   audience,
		"sub":   userID,
		"sid":   sid,
		"email": userEmail,
		"name":  userName,
		"iat":   f.now.Unix(),
		"nbf":   f.now.Unix(),
		"exp":   f.accessExpiry.Unix(),
	}
}

func (f *fixture) mint(alg string, key any) string {
	t := jwt.NewWithClaims(jwt.GetSigningMethod(alg), f.claims())
	t.Header["kid"] = kid(alg)
	raw, err := t.SignedString(key)
	if err != nil {
		panic(err)
	}
	return raw
}

func (f *fixture) jwkSet() []byte {
	b64 := base64.RawURLEncoding.EncodeToString
	x, y := f.ec.X.FillBytes(make([]byte, 32)), f.ec.Y.FillBytes(make([]byte, 32))
	keys := []map[string]string{
		{"kty": "RSA", "kid": kid("RS256"), "alg": "RS256", "use": "sig",
			"n": b64(f.rsa.N.Bytes()), "e": b64(big.NewInt(int64(f.rsa.E)).Bytes())},
		{"kty": "EC", "kid": kid("ES256"), "alg": "ES256", "use": "sig", "crv": "P-256", "x": b64(x), "y": b64(y)},
		{"kty": "OKP", "kid": kid("EdDSA"), "alg": "EdDSA", "use": "sig", "crv": "Ed25519", "x": b64(f.ed.Public().(ed25519.PublicKey))},
	}
	b, err := json.Marshal(map[string]any{"keys": keys})
	if err != nil {
		panic(err)
	}
	return b
}

func opaque(rng *mrand.Rand, n int) string {
	raw := make([]byte, n)
	for i := range raw {
		raw[i] = byte(rng.Uint32())
	}
	return base64.RawURLEncoding.EncodeToString(raw)[:n]
}

func randBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return b
}

// seen is what a handler read from its session: the same fields for every
// peer, so a peer that decoded nothing is caught.
type seen struct {
	UserID, Email, Name                string
	AccessToken, RefreshToken, IDToken string
	AccessExpiry, SessionExpiry        time.Time
	bearer                             bool // a JWT peer: only the claims' user fields
}

// want is what a handler of a cookie peer must read.
func (f *fixture) want() seen {
	return seen{UserID: userID, Email: userEmail, Name: userName,
		AccessToken: f.accessToken, RefreshToken: f.refreshToken, IDToken: f.idT,
		AccessExpiry: f.accessExpiry, SessionExpiry: f.sessionExpiry}
}

// wantBearer is what a handler of a JWT peer must read.
func wantBearer() seen {
	return seen{UserID: userID, Email: userEmail, Name: userName, bearer: true}
}
