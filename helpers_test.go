package sessionkit

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/internal/testjwt"

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
// signer and jwksServer are the shared test keys and JWK Set server.
type (
	signer     = testjwt.Signer
	jwksServer = testjwt.Server
)

// Keys are generated once per test binary: RSA generation is slow.
var (
	rsaKeyOnce    = testjwt.RSAKey
	rsaKey2Once   = testjwt.RSAKey2
	ecKeyOnce     = testjwt.ECKey
	edKeyOnce     = testjwt.EdKey
	newJWKSServer = testjwt.NewServer
	cookieKeyGen  = func() []byte { return randBytes(32) }
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

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
