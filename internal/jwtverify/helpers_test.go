package jwtverify

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"go.uber.org/goleak"

	"github.com/sessionkit/sessionkit/internal/testclock"
)

// TestMain fails the package when a key set's goroutine outlives its test.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const (
	testIssuer   = "https://idp.example"
	testAudience = "api://sessionkit"
)

var t0 = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

// signer is one signing key with its kid and alg.
type signer struct {
	kid string
	alg string
	key any // private key or HMAC secret
}

func (s signer) public() any {
	switch k := s.key.(type) {
	case *rsa.PrivateKey:
		return &k.PublicKey
	case *ecdsa.PrivateKey:
		return &k.PublicKey
	case ed25519.PrivateKey:
		return k.Public()
	}
	return s.key
}

// mint signs claims with s, adding kid to the header unless it is empty
// and the extra header fields.
func (s signer) mint(t testing.TB, claims jwt.MapClaims, header ...any) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.GetSigningMethod(s.alg), claims)
	if s.kid != "" {
		tok.Header["kid"] = s.kid
	}
	for i := 0; i+1 < len(header); i += 2 {
		tok.Header[header[i].(string)] = header[i+1]
	}
	raw, err := tok.SignedString(s.key)
	if err != nil {
		t.Fatalf("signing: %v", err)
	}
	return raw
}

// Keys are generated once per test binary: RSA generation is slow.
var (
	rsaKeyOnce  = sync.OnceValue(func() *rsa.PrivateKey { return mustRSA() })
	rsaKey2Once = sync.OnceValue(func() *rsa.PrivateKey { return mustRSA() })
	ecKeyOnce   = sync.OnceValue(func() *ecdsa.PrivateKey { k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader); return k })
	edKeyOnce   = sync.OnceValue(func() ed25519.PrivateKey { _, k, _ := ed25519.GenerateKey(rand.Reader); return k })
)

func mustRSA() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
}

func randBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return b
}

func rsaSigner() signer  { return signer{kid: "rsa-1", alg: "RS256", key: rsaKeyOnce()} }
func rsa2Signer() signer { return signer{kid: "rsa-2", alg: "RS256", key: rsaKey2Once()} }
func ecSigner() signer   { return signer{kid: "ec-1", alg: "ES256", key: ecKeyOnce()} }
func edSigner() signer   { return signer{kid: "ed-1", alg: "EdDSA", key: edKeyOnce()} }

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// jwk renders the public half of s as a JWK.
func (s signer) jwk() map[string]any {
	m := map[string]any{"kid": s.kid, "use": "sig"}
	switch k := s.public().(type) {
	case *rsa.PublicKey:
		m["kty"], m["n"], m["e"] = "RSA", b64(k.N.Bytes()), b64(big.NewInt(int64(k.E)).Bytes())
	case *ecdsa.PublicKey:
		x, y := k.X.FillBytes(make([]byte, 32)), k.Y.FillBytes(make([]byte, 32))
		m["kty"], m["crv"], m["x"], m["y"] = "EC", "P-256", b64(x), b64(y)
	case ed25519.PublicKey:
		m["kty"], m["crv"], m["x"] = "OKP", "Ed25519", b64(k)
	}
	return m
}

// jwksBody is the JWK Set of signers.
func jwksBody(signers ...signer) []byte {
	keys := []map[string]any{}
	for _, s := range signers {
		keys = append(keys, s.jwk())
	}
	return []byte(mustJSON(map[string]any{"keys": keys}))
}

// jwksServer is a real JWK Set endpoint whose key set, availability and
// latency tests change while it runs.
type jwksServer struct {
	*httptest.Server
	mu      sync.Mutex
	signers []signer
	body    []byte // when set, served instead of the key set
	down    atomic.Bool
	delay   atomic.Int64 // nanoseconds
	status  atomic.Int64 // when set, the status served with the key set
	hits    atomic.Int64
}

func newJWKSServer(t testing.TB, signers ...signer) *jwksServer {
	j := &jwksServer{signers: signers}
	j.Server = httptest.NewServer(http.HandlerFunc(j.serve))
	t.Cleanup(j.Close)
	return j
}

func (j *jwksServer) serve(w http.ResponseWriter, r *http.Request) {
	j.hits.Add(1)
	if d := time.Duration(j.delay.Load()); d > 0 {
		select {
		case <-time.After(d):
		case <-r.Context().Done():
			return
		}
	}
	if j.down.Load() {
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if code := j.status.Load(); code != 0 {
		w.WriteHeader(int(code))
	}
	if j.body != nil {
		_, _ = w.Write(j.body)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(jwksBody(j.signers...))
}

func (j *jwksServer) setSigners(s ...signer) {
	j.mu.Lock()
	j.signers = s
	j.mu.Unlock()
}

func (j *jwksServer) setBody(b []byte) {
	j.mu.Lock()
	j.body = b
	j.mu.Unlock()
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
