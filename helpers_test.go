package sessionkit

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/sessionkit/sessionkit/internal/claimbox"
	"github.com/sessionkit/sessionkit/internal/testclock"
)

const (
	testIssuer   = "https://issuer.example"
	testAudience = "api://sessionkit-test"
	testClientID = "client-123"
)

// t0 is the tests' fixed epoch.
var t0 = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

// newClock returns a fixed clock at t0 for Config.Now.
func newClock() *testclock.Clock { return testclock.New(t0) }

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

// mint signs claims with s, adding kid to the header unless it is empty.
func (s signer) mint(t testing.TB, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.GetSigningMethod(s.alg), claims)
	if s.kid != "" {
		tok.Header["kid"] = s.kid
	}
	raw, err := tok.SignedString(s.key)
	if err != nil {
		t.Fatalf("signing: %v", err)
	}
	return raw
}

// Keys are generated once per test binary: RSA generation is slow.
var (
	rsaKeyOnce   = sync.OnceValue(func() *rsa.PrivateKey { return mustRSA() })
	rsaKey2Once  = sync.OnceValue(func() *rsa.PrivateKey { return mustRSA() })
	ecKeyOnce    = sync.OnceValue(func() *ecdsa.PrivateKey { k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader); return k })
	edKeyOnce    = sync.OnceValue(func() ed25519.PrivateKey { _, k, _ := ed25519.GenerateKey(rand.Reader); return k })
	cookieKeyGen = func() []byte { return randBytes(32) }
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
	j.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
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
		keys := []map[string]any{}
		for _, s := range j.signers {
			keys = append(keys, s.jwk())
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": keys})
	}))
	t.Cleanup(j.Close)
	return j
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
func claimsFor(now time.Time) jwt.MapClaims {
	return jwt.MapClaims{
		"iss":   testIssuer,
		"aud":   testAudience,
		"sub":   "user_1",
		"sid":   "sess_bearer_1",
		"email": "ada@example.com",
		"name":  "Ada Lovelace",
		"iat":   now.Unix(),
		"nbf":   now.Unix(),
		"exp":   now.Add(10 * time.Minute).Unix(),
	}
}

// quietLogger discards log output but records that something was logged.
func quietLogger() (*slog.Logger, *bytes.Buffer) {
	var buf bytes.Buffer
	return slog.New(slog.NewTextHandler(&lockedWriter{w: &buf}, nil)), &buf
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// testConfig is a cookie + bearer config against jwks, with clk as clock.
// testProvider is an OpenID Connect provider with explicit endpoints (no
// discovery) whose ID tokens are verified against jwksURL.
func testProvider(jwksURL string) Provider {
	return Provider{ID: "oidc", Issuer: testIssuer, ClientID: testClientID,
		AuthURL: testIssuer + "/authorize", TokenURL: testIssuer + "/token", JWKSURL: jwksURL}
}

func testConfig(clk *testclock.Clock, jwksURL string) Config {
	logger, _ := quietLogger()
	cfg := Config{
		Keys:   [][]byte{cookieKeyGen()},
		Now:    clk.Now,
		Logger: logger,
	}
	if jwksURL != "" {
		cfg.Bearer = &JWTConfig{
			JWKSURLs: []string{jwksURL},
			Issuer:   testIssuer,
			Audience: []string{testAudience},
		}
	}
	return cfg
}

func mustNew(t testing.TB, cfg Config) *Manager {
	t.Helper()
	m, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = m.Close() })
	settle(m)
	return m
}

// settle waits for the JWKS fetches New started, so tests count fetches
// from a known point.
func settle(m *Manager) {
	m.mu.Lock()
	verifiers := m.verifiers
	m.mu.Unlock()
	for _, v := range verifiers {
		if ch := v.Fetching(); ch != nil {
			<-ch
		}
	}
}

// capture is a handler that records the snapshot it was given.
type capture struct {
	mu       sync.Mutex
	calls    int
	session  *Session
	ok       bool
	srvSess  *Session
	srvErr   error
	mutateFn func(*Session)
}

func (c *capture) handler(m *Manager) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, ok := FromContext(r.Context())
		ss, err := m.GetServerSession(r)
		c.mu.Lock()
		c.calls++
		c.session, c.ok, c.srvSess, c.srvErr = s, ok, ss, err
		if c.mutateFn != nil && s != nil {
			c.mutateFn(s)
		}
		c.mu.Unlock()
		w.WriteHeader(http.StatusOK)
	})
}

// signInCookies signs a user in through m and returns the cookies set.
func signInCookies(t testing.TB, m *Manager, p SignInParams) []*http.Cookie {
	t.Helper()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "https://app.example/", nil)
	if _, err := m.SignIn(rec, req, p); err != nil {
		t.Fatalf("SignIn: %v", err)
	}
	return rec.Result().Cookies()
}

// requestWith builds a request to url carrying cookies.
func requestWith(url string, cookies []*http.Cookie) *http.Request {
	req := httptest.NewRequest(http.MethodGet, url, nil)
	for _, c := range cookies {
		if c.MaxAge >= 0 && c.Value != "" {
			req.AddCookie(c)
		}
	}
	return req
}

// serve runs h for req and returns the recorder.
func serve(h http.Handler, req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// contextT shortens callback signatures in tests.
type contextT = context.Context

func fakeTLS() *tls.ConnectionState { return &tls.ConnectionState{HandshakeComplete: true} }

// idleSession signs user "u" in through a Manager with the given idle
// timeout and returns it, its clock and the session cookies.
func idleSession(t *testing.T, idle time.Duration) (*Manager, *testclock.Clock, []*http.Cookie) {
	t.Helper()
	clk := newClock()
	cfg := testConfig(clk, "")
	cfg.IdleTimeout = idle
	m := mustNew(t, cfg)
	return m, clk, signInCookies(t, m, SignInParams{User: &User{ID: "u"}})
}

// sharedClaims returns a box that shares the verified claims m, which must
// never be changed afterwards.
func sharedClaims(m map[string]any) *claimbox.Box {
	if m == nil {
		return nil
	}
	b := &claimbox.Box{}
	b.Share(m)
	return b
}
