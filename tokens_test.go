package sessionkit

import (
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"

	"github.com/sessionkit/sessionkit/internal/testclock"
)

const tokenAudience = "https://api.example"

// tokenManager is a handler Manager with an "api" template signed by key,
// whose AuthorizeScope allows organizations "org_a" and "org_b" only.
func tokenManager(t *testing.T, clk *testclock.Clock, keys ...StaticKey) (*Manager, http.Handler) {
	t.Helper()
	if len(keys) == 0 {
		keys = []StaticKey{{ID: "ed-1", Key: edKeyOnce()}}
	}
	cfg := testConfig(clk, "")
	cfg.URL = "https://app.example"
	cfg.Tokens = &TokenConfig{
		Keys: keys,
		Templates: map[string]TokenTemplate{
			"api": {Lifetime: 5 * time.Minute, Audience: []string{tokenAudience},
				Fields: map[string]string{"email": "user.email", "org": "organization"}},
			"custom": {Audience: []string{tokenAudience}, Static: map[string]any{"role": "admin"}, Claims: func(s *Session) (map[string]any, error) {
				return map[string]any{"n": len(s.User.ID)}, nil
			}},
			"bad": {Audience: []string{tokenAudience}, Claims: func(s *Session) (map[string]any, error) { return map[string]any{"sub": "other"}, nil }},
		},
	}
	cfg.AuthorizeScope = func(ctx context.Context, s *Session, kind ScopeKind, id string) error {
		if kind == ScopeOrganization && id != "org_a" && id != "org_b" && id != "" {
			return errors.New("not a member")
		}
		return nil
	}
	m := mustNew(t, cfg)
	return m, m.Handler()
}

// claimsOf decodes a JWT's payload without verifying it.
func claimsOf(t *testing.T, raw string) jwt.MapClaims {
	t.Helper()
	c := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(raw, c); err != nil {
		t.Fatalf("ParseUnverified: %v", err)
	}
	return c
}

func TestGetTokenVerifiesAgainstJWKS(t *testing.T) {
	tests := []struct {
		name string
		key  crypto.Signer
		alg  string
	}{
		{"EdDSA", edKeyOnce(), "EdDSA"},
		{"ES256", ecKeyOnce(), "ES256"},
		{"RS256", rsaKeyOnce(), "RS256"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newClock()
			m, h := tokenManager(t, clk, StaticKey{ID: "k1", Key: tt.key})
			srv := httptest.NewServer(h)
			defer srv.Close()
			s, err := m.SignIn(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "https://app.example/", nil),
				SignInParams{User: &User{ID: "u1", Email: "a@example.com"}, OrganizationID: "org_a", WorkspaceID: "ws_1", Actor: &Actor{Subject: "admin_1"}})
			if err != nil {
				t.Fatal(err)
			}
			raw, err := m.GetToken(context.Background(), s, "api")
			if err != nil {
				t.Fatalf("GetToken: %v", err)
			}
			// A consumer with keyfunc/v3, fed the published JWK Set.
			res, err := http.Get(srv.URL + "/api/auth/jwks.json")
			if err != nil {
				t.Fatal(err)
			}
			var set json.RawMessage
			_ = json.NewDecoder(res.Body).Decode(&set)
			res.Body.Close()
			kf, err := keyfunc.NewJWKSetJSON(set)
			if err != nil {
				t.Fatalf("keyfunc: %v", err)
			}
			tok, err := jwt.Parse(raw, kf.Keyfunc, jwt.WithValidMethods([]string{tt.alg}), jwt.WithTimeFunc(clk.Now),
				jwt.WithAudience(tokenAudience), jwt.WithIssuer("https://app.example/api/auth"))
			if err != nil || !tok.Valid {
				t.Fatalf("keyfunc/v3 verification: got %v, want a valid token", err)
			}
			// The library's own bearer verifier, fetching the JWK Set.
			cfg := testConfig(clk, srv.URL+"/api/auth/jwks.json")
			cfg.Bearer.Issuer = "https://app.example/api/auth"
			cfg.Bearer.Audience = []string{tokenAudience}
			consumer := mustNew(t, cfg)
			req := httptest.NewRequest(http.MethodGet, "https://api.example/", nil)
			req.Header.Set("Authorization", "Bearer "+raw)
			got, err := consumer.GetServerSession(req)
			if err != nil {
				t.Fatalf("bearer verification: %v", err)
			}
			if got.User.ID != "u1" || got.ID != s.ID || got.ActiveOrganizationID != "org_a" || got.Actor == nil || got.Actor.Subject != "admin_1" {
				t.Fatalf("bearer session: got %+v, want u1 in org_a acted by admin_1", got)
			}
			c := claimsOf(t, raw)
			if c["email"] != "a@example.com" || c["org"] != "org_a" || c["workspace_id"] != "ws_1" {
				t.Errorf("claims: got %v, want email, org and workspace_id", c)
			}
			if exp, _ := c.GetExpirationTime(); exp == nil || !exp.Time.Equal(clk.Now().Add(5*time.Minute)) {
				t.Errorf("exp: got %v, want now+5m", exp)
			}
		})
	}
}

func TestTokenKeyRotation(t *testing.T) {
	clk := newClock()
	oldM, _ := tokenManager(t, clk, StaticKey{ID: "old", Key: rsaKeyOnce()})
	newM, h := tokenManager(t, clk, StaticKey{ID: "new", Key: edKeyOnce()}, StaticKey{ID: "old", Key: rsaKeyOnce()})
	s := &Session{ID: "sess_1", Status: StatusActive, SignIn: SignIn{User: User{ID: "u1"}}}
	oldTok, err := oldM.GetToken(context.Background(), s, "api")
	if err != nil {
		t.Fatal(err)
	}
	newTok, err := newM.GetToken(context.Background(), s, "api")
	if err != nil {
		t.Fatal(err)
	}
	rec := serve(h, httptest.NewRequest(http.MethodGet, "https://app.example/api/auth/jwks.json", nil))
	if rec.Code != http.StatusOK || !strings.Contains(rec.Header().Get("Content-Type"), "jwk-set") {
		t.Fatalf("GET /jwks.json: got %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	kf, err := keyfunc.NewJWKSetJSON(rec.Body.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	for name, raw := range map[string]string{"old key": oldTok, "new key": newTok} {
		tok, err := jwt.Parse(raw, kf.Keyfunc, jwt.WithTimeFunc(clk.Now), jwt.WithValidMethods([]string{"EdDSA", "RS256"}))
		if err != nil || !tok.Valid {
			t.Errorf("%s: got %v, want a token the rotated JWK Set verifies", name, err)
		}
	}
	if kid := mustHeader(t, newTok, "kid"); kid != "new" {
		t.Errorf("signing kid: got %q, want new (the first key signs)", kid)
	}
}

func mustHeader(t *testing.T, raw, name string) any {
	t.Helper()
	tok, _, err := jwt.NewParser().ParseUnverified(raw, jwt.MapClaims{})
	if err != nil {
		t.Fatal(err)
	}
	return tok.Header[name]
}

func TestGetTokenCache(t *testing.T) {
	clk := newClock()
	m, _ := tokenManager(t, clk)
	ctx := context.Background()
	s := &Session{ID: "sess_1", Status: StatusActive, SignIn: SignIn{ID: "sin_1", User: User{ID: "u1"}, AccessToken: "at1"}}
	first, _ := m.GetToken(ctx, s, "api")
	if again, _ := m.GetToken(ctx, s, "api"); again != first {
		t.Errorf("second call: got a new token, want the cached one")
	}
	if other, _ := m.GetToken(ctx, s, "custom"); other == first {
		t.Errorf("another template: got the same token")
	}
	skipped, _ := m.GetToken(ctx, s, "api", SkipCache())
	if skipped == first {
		t.Errorf("SkipCache: got the cached token, want a new one")
	}
	if again, _ := m.GetToken(ctx, s, "api"); again != skipped {
		t.Errorf("after SkipCache: got %q, want the token SkipCache minted", again)
	}
	changes := []struct {
		name   string
		change func(*Session)
	}{
		{"organization", func(s *Session) { s.ActiveOrganizationID = "org_b" }},
		{"workspace", func(s *Session) { s.ActiveWorkspaceID = "ws_2" }},
		{"sign-in", func(s *Session) { s.SignIn.ID = "sin_2"; s.User.ID = "u2" }},
		{"refresh", func(s *Session) { s.AccessToken = "at2" }},
		{"actor", func(s *Session) { s.Actor = &Actor{Subject: "admin"} }},
	}
	seen := map[string]bool{skipped: true, first: true}
	for _, c := range changes {
		t.Run(c.name, func(t *testing.T) {
			s2 := s.Clone()
			c.change(s2)
			got, err := m.GetToken(ctx, s2, "api")
			if err != nil || seen[got] {
				t.Fatalf("after a change of %s: got a token minted before it (err %v)", c.name, err)
			}
			seen[got] = true
		})
	}
	// Near expiry (5 min lifetime, 10 s leeway), a new token is minted.
	cur, _ := m.GetToken(ctx, s, "api")
	clk.Advance(5*time.Minute - 9*time.Second)
	if late, _ := m.GetToken(ctx, s, "api"); late == cur {
		t.Errorf("within the leeway of expiry: got the cached token, want a new one")
	}
}

func TestGetTokenErrors(t *testing.T) {
	clk := newClock()
	m, _ := tokenManager(t, clk)
	plain := mustNew(t, testConfig(clk, ""))
	live := &Session{ID: "sess_1", Status: StatusActive, SignIn: SignIn{User: User{ID: "u1"}}}
	tests := []struct {
		name     string
		m        *Manager
		s        *Session
		template string
		want     error
	}{
		{"no session", m, nil, "api", ErrNoSession},
		{"expired", m, &Session{ID: "s", Status: StatusExpired, SignIn: SignIn{User: User{ID: "u1"}}}, "api", ErrSessionExpired},
		{"ended", m, &Session{ID: "s", Status: StatusEnded, SignIn: SignIn{User: User{ID: "u1"}}}, "api", ErrSessionExpired},
		{"unknown template", m, live, "nope", ErrTemplate},
		{"reserved claim", m, live, "bad", ErrTemplate},
		{"not configured", plain, live, "api", errTokensDisabled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.m.GetToken(context.Background(), tt.s, tt.template)
			if !errors.Is(err, tt.want) || got != "" {
				t.Fatalf("got %q, %v; want no token and %v", got, err, tt.want)
			}
		})
	}
	c := claimsOf(t, mustToken(t, m, live, ""))
	if aud, _ := c.GetAudience(); c["sub"] != "u1" || len(aud) != 1 || aud[0] != "https://app.example/api/auth" {
		t.Errorf("default template: got %v, want sub and the issuer as aud", c)
	}
	c = claimsOf(t, mustToken(t, m, live, "custom"))
	if c["role"] != "admin" || c["n"] != float64(2) {
		t.Errorf("custom claims: got %v, want role and n", c)
	}
}

func mustToken(t *testing.T, m *Manager, s *Session, template string) string {
	t.Helper()
	raw, err := m.GetToken(context.Background(), s, template)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestTokenConfigValidation(t *testing.T) {
	aud := []string{tokenAudience}
	tests := []struct {
		name  string
		tc    TokenConfig
		field string
	}{
		{"no keys", TokenConfig{}, "Tokens.Keys"},
		{"no kid", TokenConfig{Keys: []StaticKey{{Key: edKeyOnce()}}}, "Tokens.Keys[0].ID"},
		{"duplicate kid", TokenConfig{Keys: []StaticKey{{ID: "a", Key: edKeyOnce()}, {ID: "a", Key: ecKeyOnce()}}}, "Tokens.Keys[1].ID"},
		{"nil key", TokenConfig{Keys: []StaticKey{{ID: "a"}}}, "Tokens.Keys[0].Key"},
		{"public key", TokenConfig{Keys: []StaticKey{{ID: "a", Key: edKeyOnce().Public()}}}, "Tokens.Keys[0].Key"},
		{"reserved field", TokenConfig{Keys: []StaticKey{{ID: "a", Key: edKeyOnce()}},
			Templates: map[string]TokenTemplate{"t": {Audience: aud, Fields: map[string]string{"sub": "user.email"}}}}, `Tokens.Templates["t"].Fields`},
		{"unknown field", TokenConfig{Keys: []StaticKey{{ID: "a", Key: edKeyOnce()}},
			Templates: map[string]TokenTemplate{"t": {Audience: aud, Fields: map[string]string{"x": "user.password"}}}}, `Tokens.Templates["t"].Fields`},
		{"long lifetime", TokenConfig{Keys: []StaticKey{{ID: "a", Key: edKeyOnce()}},
			Templates: map[string]TokenTemplate{"t": {Audience: aud, Lifetime: 48 * time.Hour}}}, `Tokens.Templates["t"].Lifetime`},
		{"no audience", TokenConfig{Keys: []StaticKey{{ID: "a", Key: edKeyOnce()}},
			Templates: map[string]TokenTemplate{"t": {Lifetime: time.Minute}}}, `Tokens.Templates["t"].Audience`},
		{"no audience on the session token", TokenConfig{Keys: []StaticKey{{ID: "a", Key: edKeyOnce()}},
			Templates: map[string]TokenTemplate{"": {}}}, `Tokens.Templates[""].Audience`},
		{"an empty audience", TokenConfig{Keys: []StaticKey{{ID: "a", Key: edKeyOnce()}},
			Templates: map[string]TokenTemplate{"t": {Audience: []string{"api", ""}}}}, `Tokens.Templates["t"].Audience[1]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig(newClock(), "")
			tc := tt.tc
			cfg.Tokens = &tc
			_, err := New(cfg)
			var ce *ConfigError
			if !errors.As(err, &ce) || ce.Field != tt.field {
				t.Fatalf("got %v, want a ConfigError on %s", err, tt.field)
			}
		})
	}
}

// postJSON posts body (with the CSRF token added) to path with cookies.
func postJSON(h http.Handler, path, csrf string, cookies []*http.Cookie, body map[string]string) *httptest.ResponseRecorder {
	if body == nil {
		body = map[string]string{}
	}
	body["csrfToken"] = csrf
	b, _ := json.Marshal(body)
	req := httptest.NewRequest(http.MethodPost, "https://app.example"+path, strings.NewReader(string(b)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", "https://app.example")
	for _, c := range cookies {
		if c.MaxAge >= 0 && c.Value != "" {
			req.AddCookie(c)
		}
	}
	return serve(h, req)
}

// merge applies the Set-Cookie headers of rec to cookies.
func merge(cookies []*http.Cookie, rec *httptest.ResponseRecorder) []*http.Cookie {
	return mergeCookies(cookies, rec.Result().Cookies())
}

func getTokenHTTP(t *testing.T, h http.Handler, template string, cookies []*http.Cookie) (int, string) {
	t.Helper()
	rec := serve(h, requestWith("https://app.example/api/auth/token?template="+url.QueryEscape(template), cookies))
	var v struct{ JWT string }
	_ = json.Unmarshal(rec.Body.Bytes(), &v)
	return rec.Code, v.JWT
}

func TestTokenEndpoint(t *testing.T) {
	clk := newClock()
	m, h := tokenManager(t, clk)
	if code, _ := getTokenHTTP(t, h, "api", nil); code != http.StatusUnauthorized {
		t.Fatalf("without a session: got %d, want 401", code)
	}
	cookies := signInCookies(t, m, SignInParams{User: &User{ID: "u1"}, OrganizationID: "org_a"})
	if code, _ := getTokenHTTP(t, h, "nope", cookies); code != http.StatusNotFound {
		t.Fatalf("unknown template: got %d, want 404", code)
	}
	code, before := getTokenHTTP(t, h, "api", cookies)
	if code != http.StatusOK || before == "" {
		t.Fatalf("GET /token: got %d %q", code, before)
	}
	if _, again := getTokenHTTP(t, h, "api", cookies); again != before {
		t.Errorf("GET /token again: got a new token, want the cached one")
	}
	// A switch of organization: the token minted before it never comes back.
	csrf, csrfCookie := csrfPair(t, h)
	rec := postJSON(h, "/api/auth/organization", csrf, append(cookies, csrfCookie), map[string]string{"organizationId": "org_b"})
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"activeOrganizationId":"org_b"`) {
		t.Fatalf("POST /organization: got %d %q", rec.Code, rec.Body)
	}
	after := merge(cookies, rec)
	_, tok := getTokenHTTP(t, h, "api", after)
	if tok == before || claimsOf(t, tok)["org_id"] != "org_b" {
		t.Fatalf("after the switch: got %v, want a new token for org_b", claimsOf(t, tok))
	}
	// Sign-out: no token at all.
	rec = postJSON(h, "/api/auth/signout", csrf, append(after, csrfCookie), map[string]string{"json": "true"})
	if code, tok := getTokenHTTP(t, h, "api", merge(after, rec)); code != http.StatusUnauthorized || tok != "" {
		t.Fatalf("after sign-out: got %d %q, want 401", code, tok)
	}
	plain := mustNew(t, testConfig(clk, ""))
	for _, p := range []string{"/api/auth/token", "/api/auth/jwks.json"} {
		if rec := serve(plain.Handler(), requestWith("https://app.example"+p, cookies)); rec.Code != http.StatusNotFound {
			t.Errorf("%s without Config.Tokens: got %d, want 404", p, rec.Code)
		}
	}
}

func BenchmarkGetToken(b *testing.B) {
	clk := newClock()
	cfg := testConfig(clk, "")
	cfg.Tokens = &TokenConfig{Keys: []StaticKey{{ID: "ed", Key: edKeyOnce()}}, Templates: map[string]TokenTemplate{"api": {Audience: []string{tokenAudience}}}}
	m := mustNew(b, cfg)
	s := &Session{ID: "sess_1", Status: StatusActive, SignIn: SignIn{User: User{ID: "u1"}}}
	ctx := context.Background()
	b.Run("cached", func(b *testing.B) {
		for b.Loop() {
			if _, err := m.GetToken(ctx, s, "api"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("mint", func(b *testing.B) {
		for b.Loop() {
			if _, err := m.GetToken(ctx, s, "api", SkipCache()); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func TestTokenEndpointRefusesBearer(t *testing.T) {
	clk := newClock()
	jw := newJWKSServer(t, edSigner())
	cfg := testConfig(clk, jw.URL)
	cfg.Tokens = &TokenConfig{Keys: []StaticKey{{ID: "k", Key: ecKeyOnce()}}, Templates: map[string]TokenTemplate{"api": {Audience: []string{tokenAudience}}}}
	m := mustNew(t, cfg)
	req := requestWith("https://app.example/api/auth/token?template=api", nil)
	req.Header.Set("Authorization", "Bearer "+edSigner().Mint(t, claimsFor(clk.Now())))
	if s, err := m.GetServerSession(req); err != nil || s.Status != StatusActive {
		t.Fatalf("the bearer session: got %v, %v; want an active one", s, err)
	}
	if rec := serve(m.Handler(), req); rec.Code != http.StatusUnauthorized {
		t.Fatalf("GET /token with a bearer JWT: got %d %q, want 401", rec.Code, rec.Body)
	}
}

func TestGetTokenConcurrent(t *testing.T) {
	clk := newClock()
	cfg := testConfig(clk, "")
	cfg.Tokens = &TokenConfig{Keys: []StaticKey{{ID: "k", Key: edKeyOnce()}}, maxCachedSessions: 8}
	m := mustNew(t, cfg)
	done := make(chan string)
	for i := range 32 {
		go func() {
			s := &Session{ID: "sess_" + string(rune('a'+i%16)), Status: StatusActive, SignIn: SignIn{User: User{ID: "u"}}}
			tok, err := m.GetToken(context.Background(), s, "")
			if err != nil {
				tok = ""
			}
			done <- tok
		}()
	}
	for range 32 {
		if tok := <-done; tok == "" {
			t.Error("a concurrent GetToken failed")
		}
	}
	n := m.minter.cache.Len()
	if n > 8 {
		t.Errorf("cache size: got %d sessions, want at most maxCachedSessions (8)", n)
	}
}
