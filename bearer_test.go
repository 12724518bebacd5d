package sessionkit

import (
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/golang-jwt/jwt/v5"

	"github.com/sessionkit/sessionkit/internal/jwtverify"
	"github.com/sessionkit/sessionkit/internal/safeurl"
	"github.com/sessionkit/sessionkit/internal/testclock"
)

// bearerFixture is a Manager that trusts a live JWKS server.
type bearerFixture struct {
	clk  *testclock.Clock
	jwks *jwksServer
	m    *Manager
	// callbacks seen
	jwtErr     error
	jwtExpired *Session
}

func newBearerFixture(t *testing.T, mod func(*Config)) *bearerFixture {
	t.Helper()
	f := &bearerFixture{clk: newClock()}
	f.jwks = newJWKSServer(t, rsaSigner(), ecSigner(), edSigner())
	cfg := testConfig(f.clk, f.jwks.URL)
	cfg.Callbacks.OnJwtError = func(_ contextT, err error) { f.jwtErr = err }
	cfg.Callbacks.OnJwtExpired = func(_ contextT, s *Session) { f.jwtExpired = s }
	if mod != nil {
		mod(&cfg)
	}
	f.m = mustNew(t, cfg)
	return f
}

// do sends a request with the given Authorization header through the
// middleware and returns what the handler saw.
func (f *bearerFixture) do(authz string) *capture {
	f.jwtErr, f.jwtExpired = nil, nil
	req := httptest.NewRequest(http.MethodGet, "https://api.example/v1/me", nil)
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	var c capture
	serve(f.m.Middleware(c.handler(f.m)), req)
	return &c
}

func TestBearerValid(t *testing.T) {
	f := newBearerFixture(t, nil)
	for _, s := range []signer{rsaSigner(), ecSigner(), edSigner()} {
		t.Run(s.Alg, func(t *testing.T) {
			claims := claimsFor(t0)
			claims["org_id"] = "org_7"
			claims["act"] = map[string]any{"sub": "admin_1"}
			claims["email_verified"] = true
			raw := s.Mint(t, claims)
			c := f.do("Bearer " + raw)
			if !c.ok {
				t.Fatalf("got no session: %v", c.srvErr)
			}
			got := c.session
			checks := []struct {
				name      string
				got, want any
			}{
				{"Source", got.Source, SourceBearer},
				{"ID", got.ID, "sess_bearer_1"},
				{"User.ID", got.User.ID, "user_1"},
				{"User.Email", got.User.Email, "ada@example.com"},
				{"User.EmailVerified", got.User.EmailVerified, true},
				{"JWT", got.JWT, raw},
				{"AccessToken", got.AccessToken, raw},
				{"ExpireAt", got.ExpireAt, t0.Add(10 * time.Minute)},
				{"CreatedAt", got.CreatedAt, t0},
				{"ActiveOrganizationID", got.ActiveOrganizationID, "org_7"},
				{"Actor", got.Actor.Subject, "admin_1"},
				{"Claims().sub", got.Claims()["sub"], "user_1"},
			}
			for _, ch := range checks {
				if ch.got != ch.want {
					t.Errorf("%s: got %v, want %v", ch.name, ch.got, ch.want)
				}
			}
			if f.jwtErr != nil {
				t.Errorf("OnJwtError fired: %v", f.jwtErr)
			}
		})
	}
}

func TestBearerRejects(t *testing.T) {
	f := newBearerFixture(t, func(c *Config) { c.Bearer.AuthorizedParties = []string{"web-app"} })
	rs := rsaSigner()
	good := func() jwt.MapClaims { c := claimsFor(t0); c["azp"] = "web-app"; return c }
	with := func(k string, v any) jwt.MapClaims { c := good(); c[k] = v; return c }
	without := func(k string) jwt.MapClaims { c := good(); delete(c, k); return c }
	pubDER, _ := x509.MarshalPKIXPublicKey(&rsaKeyOnce().PublicKey)
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	other := signer{KID: "rsa-1", Alg: "RS256", Key: rsaKey2Once()} // right kid, wrong key

	noneToken := func() string {
		tok := jwt.NewWithClaims(jwt.SigningMethodNone, good())
		tok.Header["kid"] = "rsa-1"
		raw, _ := tok.SignedString(jwt.UnsafeAllowNoneSignatureType)
		return raw
	}
	hsWithPublicKey := func(secret []byte) string {
		tok := jwt.NewWithClaims(jwt.SigningMethodHS256, good())
		tok.Header["kid"] = "rsa-1"
		raw, _ := tok.SignedString(secret)
		return raw
	}
	headerToken := func(h map[string]any) string {
		tok := jwt.NewWithClaims(jwt.SigningMethodRS256, good())
		for k, v := range h {
			tok.Header[k] = v
		}
		raw, _ := tok.SignedString(rsaKeyOnce())
		return raw
	}
	valid := rs.Mint(t, good())
	parts := strings.Split(valid, ".")

	tests := []struct {
		name  string
		token string
	}{
		{"alg none", noneToken()},
		{"HS256 with RSA public key PEM", hsWithPublicKey(pubPEM)},
		{"HS256 with RSA public key DER", hsWithPublicKey(pubDER)},
		{"signed by another key, same kid", other.Mint(t, good())},
		{"wrong issuer", rs.Mint(t, with("iss", "https://evil.example"))},
		{"no issuer", rs.Mint(t, without("iss"))},
		{"wrong audience", rs.Mint(t, with("aud", "api://other"))},
		{"audience list without ours", rs.Mint(t, with("aud", []string{"a", "b"}))},
		{"no audience", rs.Mint(t, without("aud"))},
		{"wrong azp (token for another client)", rs.Mint(t, with("azp", "other-app"))},
		{"no azp", rs.Mint(t, without("azp"))},
		{"no exp", rs.Mint(t, without("exp"))},
		{"nbf past leeway", rs.Mint(t, with("nbf", t0.Add(defaultLeeway+time.Second).Unix()))},
		{"iat past leeway", rs.Mint(t, with("iat", t0.Add(defaultLeeway+time.Second).Unix()))},
		{"exp as string", rs.Mint(t, with("exp", "tomorrow"))},
		{"unknown kid", signer{KID: "nope", Alg: "RS256", Key: rsaKeyOnce()}.Mint(t, good())},
		{"kid path traversal", headerToken(map[string]any{"kid": "../../../../etc/passwd"})},
		{"kid sql", headerToken(map[string]any{"kid": "x' OR '1'='1"})},
		{"kid absurdly long", headerToken(map[string]any{"kid": strings.Repeat("k", 10000)})},
		{"kid not a string", headerToken(map[string]any{"kid": 42})},
		{"crit header", headerToken(map[string]any{"kid": "rsa-1", "crit": []string{"exp"}})},
		{"jku to attacker keys", other.Mint(t, good(), "jku", "https://evil.example/jwks")},
		{"x5u to attacker keys", other.Mint(t, good(), "x5u", "https://evil.example/cert")},
		{"ES256 signature on RS256 header", parts[0] + "." + parts[1] + "." + strings.Split(ecSigner().Mint(t, good()), ".")[2]},
		{"payload swapped", parts[0] + "." + strings.Split(rs.Mint(t, with("sub", "admin")), ".")[1] + "." + parts[2]},
		{"signature stripped", parts[0] + "." + parts[1] + "."},
		{"two parts", parts[0] + "." + parts[1]},
		{"garbage", "not.a.jwt"},
		{"too long", strings.Repeat("a", jwtverify.MaxTokenLen+1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := f.do("Bearer " + tt.token)
			if c.ok || c.srvSess != nil {
				t.Fatalf("got a session, want none")
			}
			if !errors.Is(c.srvErr, ErrInvalidToken) {
				t.Errorf("error: got %v, want ErrInvalidToken", c.srvErr)
			}
			if !errors.Is(f.jwtErr, ErrInvalidToken) {
				t.Errorf("OnJwtError: got %v, want ErrInvalidToken", f.jwtErr)
			}
			if f.jwtExpired != nil {
				t.Error("OnJwtExpired fired")
			}
		})
	}
	if c := f.do("Bearer " + valid); !c.ok {
		t.Fatalf("control token refused: %v", c.srvErr)
	}
}

func TestBearerLeewayEdges(t *testing.T) {
	f := newBearerFixture(t, nil)
	rs := rsaSigner()
	l := defaultLeeway
	tests := []struct {
		name        string
		claim       string
		at          time.Time
		wantActive  bool
		wantExpired bool
	}{
		{"exp inside leeway", "exp", t0.Add(-l + time.Second), true, false},
		{"exp at leeway", "exp", t0.Add(-l), false, true},
		{"exp long ago", "exp", t0.Add(-time.Hour), false, true},
		{"nbf inside leeway", "nbf", t0.Add(l - time.Second), true, false},
		{"nbf past leeway", "nbf", t0.Add(l + time.Second), false, false},
		{"iat inside leeway", "iat", t0.Add(l - time.Second), true, false},
		{"iat past leeway", "iat", t0.Add(l + time.Second), false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			claims := claimsFor(t0)
			if tt.claim == "exp" {
				claims["iat"], claims["nbf"] = t0.Add(-2*time.Hour).Unix(), t0.Add(-2*time.Hour).Unix()
			}
			claims[tt.claim] = tt.at.Unix()
			c := f.do("Bearer " + rs.Mint(t, claims))
			if c.ok != tt.wantActive {
				t.Fatalf("active: got %v, want %v (%v)", c.ok, tt.wantActive, c.srvErr)
			}
			if tt.wantExpired {
				if c.srvSess == nil || c.srvSess.Status != StatusExpired {
					t.Fatalf("got %v, want an expired session", c.srvSess)
				}
				for _, want := range []error{ErrSessionExpired, ErrTokenExpired, ErrInvalidToken} {
					if !errors.Is(c.srvErr, want) {
						t.Errorf("error %v does not match %v", c.srvErr, want)
					}
				}
				if f.jwtExpired == nil || f.jwtExpired.User.ID != "user_1" {
					t.Error("OnJwtExpired did not fire with the session")
				}
				if f.jwtErr != nil {
					t.Errorf("OnJwtError fired for an expired token: %v", f.jwtErr)
				}
			} else if f.jwtExpired != nil {
				t.Error("OnJwtExpired fired")
			}
		})
	}
}

func TestBearerAuthorizationHeader(t *testing.T) {
	f := newBearerFixture(t, nil)
	raw := rsaSigner().Mint(t, claimsFor(t0))
	tests := []struct {
		name      string
		header    []string
		wantOK    bool
		wantError bool
	}{
		{"none", nil, false, false},
		{"bearer", []string{"Bearer " + raw}, true, false},
		{"lowercase scheme", []string{"bearer " + raw}, true, false},
		{"extra spaces", []string{"Bearer    " + raw}, true, false},
		{"basic is not ours", []string{"Basic dXNlcjpwYXNz"}, false, false},
		{"scheme only", []string{"Bearer"}, false, true},
		{"empty token", []string{"Bearer   "}, false, true},
		{"space inside token", []string{"Bearer " + raw + " x"}, false, true},
		{"control char", []string{"Bearer " + raw + "\x01"}, false, true},
		{"two headers", []string{"Bearer " + raw, "Bearer " + raw}, false, true},
		{"padding only", []string{"Bearer ===="}, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "https://api.example/", nil)
			req.Header["Authorization"] = tt.header
			var c capture
			f.jwtErr = nil
			rec := serve(f.m.Middleware(c.handler(f.m)), req)
			if rec.Code != http.StatusOK {
				t.Fatalf("got %d, want 200", rec.Code)
			}
			if c.ok != tt.wantOK {
				t.Errorf("ok: got %v, want %v (%v)", c.ok, tt.wantOK, c.srvErr)
			}
			if gotErr := errors.Is(c.srvErr, ErrInvalidToken); gotErr != tt.wantError {
				t.Errorf("ErrInvalidToken: got %v (%v), want %v", gotErr, c.srvErr, tt.wantError)
			}
			if !tt.wantOK && !tt.wantError && !errors.Is(c.srvErr, ErrNoSession) {
				t.Errorf("got %v, want ErrNoSession", c.srvErr)
			}
		})
	}
}

func TestBearerJWKSDownKeepsCachedKeys(t *testing.T) {
	f := newBearerFixture(t, nil)
	raw := rsaSigner().Mint(t, claimsFor(t0))
	if c := f.do("Bearer " + raw); !c.ok {
		t.Fatalf("before outage: %v", c.srvErr)
	}
	f.jwks.Down.Store(true)
	for _, s := range []signer{rsaSigner(), ecSigner(), edSigner()} {
		if c := f.do("Bearer " + s.Mint(t, claimsFor(t0))); !c.ok {
			t.Errorf("%s during outage: %v", s.Alg, c.srvErr)
		}
	}
	// Garbage from the endpoint does not replace the cached keys either.
	f.jwks.Down.Store(false)
	f.jwks.SetBody([]byte(`{"keys": [ not json`))
	if c := f.do("Bearer " + signer{KID: "unknown", Alg: "RS256", Key: rsaKeyOnce()}.Mint(t, claimsFor(t0))); c.ok {
		t.Error("unknown kid accepted")
	}
	if c := f.do("Bearer " + raw); !c.ok {
		t.Errorf("after garbage JWKS: %v", c.srvErr)
	}
}

func TestBearerUnknownKIDRefreshIsRateLimited(t *testing.T) {
	f := newBearerFixture(t, nil)
	start := f.jwks.Hits.Load()
	// The provider rotates in a new key; a token signed with it triggers one
	// refresh and is accepted.
	f.jwks.SetSigners(rsaSigner(), rsa2Signer())
	if c := f.do("Bearer " + rsa2Signer().Mint(t, claimsFor(t0))); !c.ok {
		t.Fatalf("rotated key not picked up: %v", c.srvErr)
	}
	if got := f.jwks.Hits.Load() - start; got != 1 {
		t.Errorf("JWKS fetches for the new kid: got %d, want 1", got)
	}
	// A flood of unknown kids right after costs no further fetch and no
	// wait.
	began := time.Now()
	for i := 0; i < 20; i++ {
		forged := signer{KID: "forged-" + string(rune('a'+i)), Alg: "RS256", Key: rsaKeyOnce()}
		if c := f.do("Bearer " + forged.Mint(t, claimsFor(t0))); c.ok {
			t.Fatal("forged kid accepted")
		}
	}
	if got := f.jwks.Hits.Load() - start; got != 1 {
		t.Errorf("JWKS fetches after the flood: got %d, want still 1", got)
	}
	if d := time.Since(began); d > 5*time.Second {
		t.Errorf("flood of unknown kids took %v; the rate limit must refuse, not wait", d)
	}
}

func TestBearerJWKSDownAtStart(t *testing.T) {
	jwks := newJWKSServer(t, rsaSigner())
	jwks.Down.Store(true)
	clk := newClock()
	cfg := testConfig(clk, jwks.URL)
	m := mustNew(t, cfg) // starts although the provider is down
	raw := rsaSigner().Mint(t, claimsFor(t0))
	req := func() *capture {
		r := httptest.NewRequest(http.MethodGet, "https://api.example/", nil)
		r.Header.Set("Authorization", "Bearer "+raw)
		var c capture
		serve(m.Middleware(c.handler(m)), r)
		return &c
	}
	if c := req(); c.ok {
		t.Fatal("accepted a token with no keys")
	}
	jwks.Down.Store(false)
	// The unknown-kid refresh was spent on the failed attempt; the next one
	// is allowed after the minimum refresh interval. Use a manager with a short one.
	cfg.Bearer.jwksMinWait = time.Millisecond
	m2 := mustNew(t, cfg)
	r := httptest.NewRequest(http.MethodGet, "https://api.example/", nil)
	r.Header.Set("Authorization", "Bearer "+raw)
	var c capture
	serve(m2.Middleware(c.handler(m2)), r)
	if !c.ok {
		t.Fatalf("after recovery: %v", c.srvErr)
	}
}

func TestBearerSlowJWKSIsBounded(t *testing.T) {
	jwks := newJWKSServer(t, rsaSigner())
	cfg := testConfig(newClock(), jwks.URL)
	cfg.FetchTimeout = 300 * time.Millisecond
	m := mustNew(t, cfg)
	jwks.Delay.Store(int64(10 * time.Second))
	began := time.Now()
	req := httptest.NewRequest(http.MethodGet, "https://api.example/", nil)
	req.Header.Set("Authorization", "Bearer "+signer{KID: "new", Alg: "RS256", Key: rsaKeyOnce()}.Mint(t, claimsFor(t0)))
	var c capture
	serve(m.Middleware(c.handler(m)), req)
	if c.ok {
		t.Fatal("accepted")
	}
	if d := time.Since(began); d > 3*time.Second {
		t.Errorf("a slow JWKS held the request for %v, want about FetchTimeout", d)
	}
	jwks.Delay.Store(0)
}

func TestBearerFromCookie(t *testing.T) {
	f := newBearerFixture(t, func(c *Config) { c.Bearer.CookieName = "__session" })
	raw := edSigner().Mint(t, claimsFor(t0))
	req := httptest.NewRequest(http.MethodGet, "https://api.example/", nil)
	req.AddCookie(&http.Cookie{Name: "__session", Value: raw})
	var c capture
	serve(f.m.Middleware(c.handler(f.m)), req)
	if !c.ok || c.session.Source != SourceJWTCookie {
		t.Fatalf("got ok %v source %v err %v, want a jwt_cookie session", c.ok, c.session, c.srvErr)
	}
	// A forged JWT cookie is refused like a forged header.
	req = httptest.NewRequest(http.MethodGet, "https://api.example/", nil)
	req.AddCookie(&http.Cookie{Name: "__session", Value: "x.y.z"})
	var c2 capture
	serve(f.m.Middleware(c2.handler(f.m)), req)
	if c2.ok || !errors.Is(c2.srvErr, ErrInvalidToken) {
		t.Fatalf("forged JWT cookie: got ok %v err %v", c2.ok, c2.srvErr)
	}
}

func TestBearerSessionFromClaimsHook(t *testing.T) {
	f := newBearerFixture(t, func(c *Config) {
		c.Bearer.SessionFromClaims = func(claims map[string]any, s *Session) error {
			switch claims["role"] {
			case "banned":
				return errors.New("user is banned")
			case "panic":
				panic("hook bug")
			}
			s.ActiveWorkspaceID, _ = claims["ws"].(string)
			return nil
		}
	})
	rs := rsaSigner()
	claims := claimsFor(t0)
	claims["ws"] = "ws_9"
	if c := f.do("Bearer " + rs.Mint(t, claims)); !c.ok || c.session.ActiveWorkspaceID != "ws_9" {
		t.Fatalf("hook not applied: %v", c.srvErr)
	}
	for _, role := range []string{"banned", "panic"} {
		claims["role"] = role
		c := f.do("Bearer " + rs.Mint(t, claims))
		if c.ok || !errors.Is(c.srvErr, ErrInvalidToken) {
			t.Errorf("%s: got ok %v err %v, want refused", role, c.ok, c.srvErr)
		}
	}
}

func TestBearerStaticKeys(t *testing.T) {
	secret := randBytes(32)
	clk := newClock()
	m := mustNew(t, Config{
		Now: clk.Now,
		Bearer: &JWTConfig{
			StaticKeys: []StaticKey{{ID: "ed", Key: edSigner().Public()}, {Key: secret}},
			Algorithms: []string{"EdDSA", "HS256"},
			Issuer:     testIssuer,
			Audience:   []string{testAudience},
		},
	})
	do := func(raw string) *capture {
		req := httptest.NewRequest(http.MethodGet, "https://api.example/", nil)
		req.Header.Set("Authorization", "Bearer "+raw)
		var c capture
		serve(m.Middleware(c.handler(m)), req)
		return &c
	}
	tests := []struct {
		name   string
		raw    string
		wantOK bool
	}{
		{"eddsa by kid", signer{KID: "ed", Alg: "EdDSA", Key: edKeyOnce()}.Mint(t, claimsFor(t0)), true},
		{"eddsa no kid", signer{Alg: "EdDSA", Key: edKeyOnce()}.Mint(t, claimsFor(t0)), true},
		{"hs256 shared secret", signer{Alg: "HS256", Key: secret}.Mint(t, claimsFor(t0)), true},
		{"hs256 wrong secret", signer{Alg: "HS256", Key: randBytes(32)}.Mint(t, claimsFor(t0)), false},
		{"hs256 keyed with the ed25519 public key", signer{Alg: "HS256", Key: []byte(edSigner().Public().(ed25519.PublicKey))}.Mint(t, claimsFor(t0)), false},
		{"rs256 not allowed", rsaSigner().Mint(t, claimsFor(t0)), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if c := do(tt.raw); c.ok != tt.wantOK {
				t.Errorf("got ok %v (%v), want %v", c.ok, c.srvErr, tt.wantOK)
			}
		})
	}
}

func TestCookieWinsOverBearer(t *testing.T) {
	f := newBearerFixture(t, nil)
	cookies := signInCookies(t, f.m, SignInParams{User: &User{ID: "cookie_user"}})
	req := requestWith("https://app.example/", cookies)
	req.Header.Set("Authorization", "Bearer "+rsaSigner().Mint(t, claimsFor(t0)))
	var c capture
	serve(f.m.Middleware(c.handler(f.m)), req)
	if !c.ok || c.session.User.ID != "cookie_user" {
		t.Fatalf("got %v, want the cookie session", c.session)
	}
	// An expired cookie session gives way to a valid bearer token.
	f.clk.Advance(defaultLifetime)
	req = requestWith("https://app.example/", cookies)
	claims := claimsFor(f.clk.Now())
	req.Header.Set("Authorization", "Bearer "+rsaSigner().Mint(t, claims))
	var c2 capture
	serve(f.m.Middleware(c2.handler(f.m)), req)
	if !c2.ok || c2.session.Source != SourceBearer {
		t.Fatalf("got %v %v, want the bearer session", c2.session, c2.srvErr)
	}
}

func TestBearerSeveralJWKSURLs(t *testing.T) {
	a := newJWKSServer(t, rsaSigner())
	b := newJWKSServer(t, edSigner())
	cfg := testConfig(newClock(), a.URL)
	cfg.Bearer.JWKSURLs = append(cfg.Bearer.JWKSURLs, b.URL)
	m := mustNew(t, cfg)
	for _, s := range []signer{rsaSigner(), edSigner()} {
		req := httptest.NewRequest(http.MethodGet, "https://api.example/", nil)
		req.Header.Set("Authorization", "Bearer "+s.Mint(t, claimsFor(t0)))
		var c capture
		serve(m.Middleware(c.handler(m)), req)
		if !c.ok {
			t.Errorf("%s from the JWKS at %s refused: %v", s.Alg, map[string]string{"RS256": a.URL, "EdDSA": b.URL}[s.Alg], c.srvErr)
		}
	}
}

func TestJWKSResponseSizeIsCapped(t *testing.T) {
	jwks := newJWKSServer(t, rsaSigner())
	jwks.SetBody([]byte(`{"keys":[` + strings.Repeat(" ", safeurl.MaxBody) + `]}`))
	logger, logs := quietLogger()
	cfg := testConfig(newClock(), jwks.URL)
	cfg.Logger = logger
	m := mustNew(t, cfg)
	req := httptest.NewRequest(http.MethodGet, "https://api.example/", nil)
	req.Header.Set("Authorization", "Bearer "+rsaSigner().Mint(t, claimsFor(t0)))
	var c capture
	serve(m.Middleware(c.handler(m)), req)
	if c.ok {
		t.Fatal("key from an oversized JWKS accepted")
	}
	if !strings.Contains(logs.String(), "exceeds 1 MiB") {
		t.Errorf("oversized JWKS not reported: %s", logs)
	}
}

// verifyErr runs raw through m's bearer verifier directly and returns the
// error, so tests can assert the precise cause.
func verifyErr(m *Manager, raw string) error {
	if _, _, err := m.bearer.Verify(context.Background(), raw); err != nil {
		return tokenErr(err)
	}
	return nil
}

// The allow-list alone refuses an algorithm whose key is available.
func TestBearerAllowListAlone(t *testing.T) {
	f := newBearerFixture(t, func(c *Config) { c.Bearer.Algorithms = []string{"RS256"} })
	err := verifyErr(f.m, ecSigner().Mint(t, claimsFor(t0)))
	if !errors.Is(err, jwt.ErrTokenSignatureInvalid) || !strings.Contains(err.Error(), "signing method ES256 is invalid") {
		t.Fatalf("got %v, want the allow-list refusal", err)
	}
}

func TestBearerKeyFamilyGuards(t *testing.T) {
	secret := randBytes(32)
	octSecret := randBytes(32)
	jwks := newJWKSServer(t)
	jwks.SetBody([]byte(`{"keys":[` +
		`{"kty":"oct","kid":"oct-1","k":"` + b64(octSecret) + `"},` +
		mustJSON(ecSigner().JWK()) + `,` + mustJSON(rsaSigner().JWK()) + `]}`))
	clk := newClock()
	cfg := testConfig(clk, jwks.URL)
	cfg.Bearer.Algorithms = []string{"RS256", "ES256", "EdDSA", "HS256"}
	cfg.Bearer.StaticKeys = []StaticKey{{Key: secret}, {ID: "static-rsa", Key: rsaSigner().Public()}}
	m := mustNew(t, cfg)

	tests := []struct {
		name string
		raw  string
		want error
	}{
		// A JWK Set never supplies an HMAC secret, even when HS256 is allowed.
		{"hs256 with the JWKS oct key", signer{KID: "oct-1", Alg: "HS256", Key: octSecret}.Mint(t, claimsFor(t0)), jwt.ErrTokenSignatureInvalid},
		// A JWKS key of another family is refused before verification.
		{"rs256 naming an EC key", signer{KID: "ec-1", Alg: "RS256", Key: rsaKeyOnce()}.Mint(t, claimsFor(t0)), jwtverify.ErrKeyType},
		// A static key of another family is never offered.
		{"eddsa naming a static RSA key", signer{KID: "static-rsa", Alg: "EdDSA", Key: edKeyOnce()}.Mint(t, claimsFor(t0)), jwtverify.ErrNoKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := verifyErr(m, tt.raw); !errors.Is(err, tt.want) || !errors.Is(err, ErrInvalidToken) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
	// Controls: the right keys still work.
	for _, raw := range []string{
		signer{Alg: "HS256", Key: secret}.Mint(t, claimsFor(t0)),
		signer{KID: "static-rsa", Alg: "RS256", Key: rsaKeyOnce()}.Mint(t, claimsFor(t0)),
		ecSigner().Mint(t, claimsFor(t0)),
	} {
		if err := verifyErr(m, raw); err != nil {
			t.Errorf("control refused: %v", err)
		}
	}
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// A token is reported expired only when its age is its only fault.
func TestBearerExpiredPlusAnotherFault(t *testing.T) {
	f := newBearerFixture(t, func(c *Config) {
		c.Bearer.AuthorizedParties = []string{"web-app"}
		c.Bearer.SessionFromClaims = func(claims map[string]any, s *Session) error {
			if claims["banned"] == true {
				return errors.New("banned")
			}
			return nil
		}
	})
	expired := func(k string, v any) string {
		c := claimsFor(t0.Add(-time.Hour))
		c["azp"] = "web-app"
		if k != "" {
			c[k] = v
		}
		return rsaSigner().Mint(t, c)
	}
	tests := []struct {
		name        string
		raw         string
		wantExpired bool
	}{
		{"expired only", expired("", nil), true},
		{"expired and wrong aud", expired("aud", "api://other"), false},
		{"expired and wrong iss", expired("iss", "https://evil.example"), false},
		{"expired and wrong azp", expired("azp", "other-app"), false},
		{"expired and refused by the hook", expired("banned", true), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := f.do("Bearer " + tt.raw)
			if c.ok {
				t.Fatal("active")
			}
			if got := c.srvSess != nil && errors.Is(c.srvErr, ErrTokenExpired); got != tt.wantExpired {
				t.Fatalf("expired session: got %v (%v), want %v", got, c.srvErr, tt.wantExpired)
			}
			if (f.jwtExpired != nil) != tt.wantExpired || (f.jwtErr != nil) == tt.wantExpired {
				t.Errorf("callbacks: expired %v error %v", f.jwtExpired != nil, f.jwtErr)
			}
		})
	}
}

func TestBearerInputCauses(t *testing.T) {
	f := newBearerFixture(t, nil)
	valid := rsaSigner().Mint(t, claimsFor(t0))
	// A signature whose last base64url character carries non-zero padding
	// bits decodes to the same bytes in lenient mode; strict mode refuses it.
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	last := strings.IndexByte(alphabet, valid[len(valid)-1])
	malleable := valid[:len(valid)-1] + string(alphabet[last|1])
	if malleable == valid {
		malleable = valid[:len(valid)-1] + string(alphabet[last|2])
	}
	kidToken := func(kid any) string {
		tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claimsFor(t0))
		tok.Header["kid"] = kid
		raw, _ := tok.SignedString(rsaKeyOnce())
		return raw
	}
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"too long", verifyErr(f.m, strings.Repeat("a", jwtverify.MaxTokenLen+1)), jwtverify.ErrTooLong},
		{"kid too long", verifyErr(f.m, kidToken(strings.Repeat("k", jwtverify.MaxKIDLen+1))), jwtverify.ErrBadKID},
		{"kid empty", verifyErr(f.m, kidToken("")), jwtverify.ErrBadKID},
		{"kid number", verifyErr(f.m, kidToken(7)), jwtverify.ErrBadKID},
		{"non-canonical base64", verifyErr(f.m, malleable), jwt.ErrTokenMalformed},
		{"header too long", headerErr("Bearer " + strings.Repeat("a", jwtverify.MaxTokenLen+1)), jwtverify.ErrTooLong},
		{"header bad chars", headerErr("Bearer a b"), errMalformedAuthz},
		{"header empty", headerErr("Bearer "), errMalformedAuthz},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !errors.Is(tt.err, tt.want) || !errors.Is(tt.err, ErrInvalidToken) {
				t.Fatalf("got %v, want %v", tt.err, tt.want)
			}
		})
	}
	if err := verifyErr(f.m, valid); err != nil {
		t.Fatalf("control: %v", err)
	}
}

func headerErr(h string) error {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Authorization", h)
	tok, err := bearerToken(r)
	if err == nil && tok != "" {
		if err = jwtverify.CheckB64Token(tok); err != nil { // decodeJWT's check when the cache misses
			err = tokenErr(err)
		}
	}
	return err
}

// A requester that hangs up does not cancel the refresh it started, so it
// cannot starve the refresh of a rotated key.
func TestBearerRefreshSurvivesCanceledRequester(t *testing.T) {
	f := newBearerFixture(t, nil)
	f.jwks.SetSigners(rsaSigner(), rsa2Signer())
	f.jwks.Delay.Store(int64(200 * time.Millisecond))
	ctx, cancel := context.WithCancel(context.Background())
	req := httptest.NewRequestWithContext(ctx, http.MethodGet, "https://api.example/", nil)
	req.Header.Set("Authorization", "Bearer "+signer{KID: "junk", Alg: "RS256", Key: rsaKeyOnce()}.Mint(t, claimsFor(t0)))
	go func() { time.Sleep(20 * time.Millisecond); cancel() }()
	serve(f.m.Middleware(http.NotFoundHandler()), req)
	settle(f.m)
	f.jwks.Delay.Store(0)
	// The refresh completed: the rotated key is known without another fetch.
	if c := f.do("Bearer " + rsa2Signer().Mint(t, claimsFor(t0))); !c.ok {
		t.Fatalf("rotated key refused after a canceled requester: %v", c.srvErr)
	}
}

// With a minimum interval shorter than FetchTimeout a forged kid is still
// refused at once, never held until the limiter allows.
func TestBearerForgedKIDNotHeld(t *testing.T) {
	f := newBearerFixture(t, func(c *Config) { c.Bearer.jwksMinWait = 3 * time.Second })
	forged := func(i int) string {
		return signer{KID: fmt.Sprintf("forged-%d", i), Alg: "RS256", Key: rsaKeyOnce()}.Mint(t, claimsFor(t0))
	}
	f.do("Bearer " + forged(0)) // spends the limiter
	settle(f.m)
	for i := 1; i < 4; i++ {
		began := time.Now()
		f.do("Bearer " + forged(i))
		if d := time.Since(began); d > time.Second {
			t.Fatalf("forged kid %d held for %v", i, d)
		}
	}
}

// A token without kid triggers a fetch when no key is held (the provider
// was down at start-up).
func TestBearerNoKIDFetchesWhenEmpty(t *testing.T) {
	jwks := newJWKSServer(t, edSigner())
	jwks.Down.Store(true)
	m := mustNew(t, testConfig(newClock(), jwks.URL))
	jwks.Down.Store(false)
	req := httptest.NewRequest(http.MethodGet, "https://api.example/", nil)
	req.Header.Set("Authorization", "Bearer "+signer{Alg: "EdDSA", Key: edKeyOnce()}.Mint(t, claimsFor(t0)))
	var c capture
	serve(m.Middleware(c.handler(m)), req)
	if !c.ok {
		t.Fatalf("kid-less token after recovery: %v", c.srvErr)
	}
}

// A JWK marked for encryption never verifies a signature.
func TestBearerSkipsEncryptionKeys(t *testing.T) {
	jwks := newJWKSServer(t)
	k := edSigner().JWK()
	k["use"] = "enc"
	jwks.SetBody([]byte(`{"keys":[` + mustJSON(k) + `]}`))
	m := mustNew(t, testConfig(newClock(), jwks.URL))
	for _, s := range []signer{edSigner(), {Alg: "EdDSA", Key: edKeyOnce()}} {
		if err := verifyErr(m, s.Mint(t, claimsFor(t0))); err == nil {
			t.Errorf("kid %q: verified with a use=enc key", s.KID)
		}
	}
}

// Close stops every background goroutine of a Manager with JWK Sets, even
// while a fetch hangs.
func TestCloseStopsBackgroundWork(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	jwks := newJWKSServer(t, rsaSigner())
	jwks.Delay.Store(int64(time.Hour))
	cfg := testConfig(newClock(), jwks.URL)
	cfg.Providers = []Provider{testProvider(jwks.URL)}
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := m.provider("oidc")
	if _, err := p.resolve(context.Background()); err != nil { // starts the provider's key set
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = m.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return while a JWKS fetch hung")
	}
	jwks.Delay.Store(0)
	jwks.Close() // before goleak looks: t.Cleanup would run after it
}

// The JWT cookie is not read when the request has an Authorization header
// of any scheme.
func TestJWTCookieIgnoredWithAuthorizationHeader(t *testing.T) {
	f := newBearerFixture(t, func(c *Config) { c.Bearer.CookieName = "__session" })
	req := httptest.NewRequest(http.MethodGet, "https://api.example/", nil)
	req.AddCookie(&http.Cookie{Name: "__session", Value: edSigner().Mint(t, claimsFor(t0))})
	req.Header.Set("Authorization", "Basic dXNlcjpwYXNz")
	var c capture
	serve(f.m.Middleware(c.handler(f.m)), req)
	if c.ok {
		t.Fatal("JWT cookie read despite an Authorization header")
	}
}

// The hook may fill fields, not change what the token is.
func TestSessionFromClaimsCannotForgeStatus(t *testing.T) {
	f := newBearerFixture(t, func(c *Config) {
		c.Bearer.SessionFromClaims = func(_ map[string]any, s *Session) error {
			s.Status, s.Source, s.JWT = StatusRevoked, SourceCookie, "other"
			return nil
		}
	})
	raw := rsaSigner().Mint(t, claimsFor(t0))
	c := f.do("Bearer " + raw)
	if !c.ok || c.session.Source != SourceBearer || c.session.JWT != raw {
		t.Fatalf("hook changed the token's identity: %v", c.session)
	}
}

// mintTyped signs claims with s under a "typ" header ("" for none).
func mintTyped(t *testing.T, s signer, typ string, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.GetSigningMethod(s.Alg), claims)
	tok.Header["kid"] = s.KID
	if typ == "" {
		delete(tok.Header, "typ")
	} else {
		tok.Header["typ"] = typ
	}
	raw, err := tok.SignedString(s.Key)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// The bearer path takes access tokens, never an ID token of a configured
// provider, even one whose audience the bearer configuration accepts; with
// RequireAccessTokenType only RFC 9068 tokens.
func TestBearerAccessTokensOnly(t *testing.T) {
	idToken := func(mod func(jwt.MapClaims)) jwt.MapClaims {
		c := claimsFor(t0)
		c["aud"] = testClientID
		mod(c)
		return c
	}
	set := func(kv ...any) func(jwt.MapClaims) {
		return func(c jwt.MapClaims) {
			for i := 0; i < len(kv); i += 2 {
				c[kv[i].(string)] = kv[i+1]
			}
		}
	}
	api := func(kv ...any) jwt.MapClaims { c := claimsFor(t0); set(kv...)(c); return c }
	tests := []struct {
		name    string
		require bool
		typ     string
		claims  jwt.MapClaims
		wantOK  bool
	}{
		{"an API token without marks", false, "JWT", api(), true},
		{"an API token without typ", false, "", api(), true},
		{"an ID token with nonce", false, "JWT", idToken(set("nonce", "n-1")), false},
		{"an ID token without nonce", false, "JWT", idToken(set()), false},
		{"an ID token naming the client in azp", false, "JWT", api("azp", testClientID), false},
		{"an ID token in an aud list", false, "JWT", api("aud", []any{testAudience, testClientID}), false},
		{"nonce on another audience", false, "JWT", api("nonce", "n-1"), false},
		{"at_hash on another audience", false, "JWT", api("at_hash", "x"), false},
		{"c_hash on another audience", false, "JWT", api("c_hash", "x"), false},
		{"typ claim ID", false, "JWT", api("typ", "ID"), false},
		{"token_use id", false, "JWT", api("token_use", "id"), false},
		{"the client's token with client_id", false, "JWT", idToken(set("client_id", testClientID)), true},
		{"the client's token with scope", false, "JWT", idToken(set("scope", "openid api")), true},
		{"the client's token with scp", false, "JWT", idToken(set("scp", []any{"api"})), true},
		{"typ claim Bearer with nonce", false, "JWT", idToken(set("typ", "Bearer", "nonce", "n")), true},
		{"token_use access", false, "JWT", idToken(set("token_use", "access")), true},
		{"at+jwt header on the client's audience", false, "at+jwt", idToken(set()), true},
		{"application/AT+JWT header", false, "application/AT+JWT", idToken(set()), true},
		{"required: at+jwt", true, "at+jwt", api(), true},
		{"required: application/at+jwt", true, "application/at+jwt", api(), true},
		{"required: JWT with scope", true, "JWT", api("scope", "api"), false},
		{"required: no typ", true, "", api("client_id", "c"), false},
		{"required: at+jwt+x", true, "at+jwt+x", api(), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newBearerFixture(t, func(c *Config) {
				c.Providers = []Provider{testProvider(c.Bearer.JWKSURLs[0])}
				c.Bearer.Audience = []string{testAudience, testClientID}
				c.Bearer.RequireAccessTokenType = tt.require
			})
			c := f.do("Bearer " + mintTyped(t, rsaSigner(), tt.typ, tt.claims))
			if c.ok != tt.wantOK {
				t.Fatalf("got session %v (%v), want %v", c.ok, c.srvErr, tt.wantOK)
			}
			if !tt.wantOK && !errors.Is(f.jwtErr, ErrInvalidToken) {
				t.Errorf("OnJwtError: got %v, want ErrInvalidToken", f.jwtErr)
			}
		})
	}
}

// An expired ID token is refused as an ID token, not reported as expired.
func TestBearerExpiredIDTokenIsNotExpiredSession(t *testing.T) {
	f := newBearerFixture(t, func(c *Config) {
		c.Providers = []Provider{testProvider(c.Bearer.JWKSURLs[0])}
		c.Bearer.Audience = []string{testClientID}
	})
	claims := claimsFor(t0.Add(-time.Hour))
	claims["aud"], claims["nonce"] = testClientID, "n-1"
	c := f.do("Bearer " + rsaSigner().Mint(t, claims))
	if c.session != nil || f.jwtExpired != nil {
		t.Fatalf("got session %v, OnJwtExpired %v; want neither", c.session, f.jwtExpired)
	}
}
