package sessionkit

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/oauth2"

	"github.com/sessionkit/sessionkit/internal/testclock"
)

// oidcFixture is a Manager that verifies ID tokens for testClientID
// against a live JWKS server.
func oidcFixture(t *testing.T) (*Manager, *testclock.Clock) {
	t.Helper()
	jwks := newJWKSServer(t, rsaSigner(), ecSigner())
	clk := newClock()
	cfg := testConfig(clk, "")
	cfg.Providers = []Provider{testProvider(jwks.URL)}
	return mustNew(t, cfg), clk
}

func idClaims(now time.Time) jwt.MapClaims {
	return jwt.MapClaims{
		"iss": testIssuer, "aud": testClientID, "sub": "oidc_user", "nonce": "nonce-1",
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
		"email": "grace@example.com", "email_verified": true, "name": "Grace Hopper",
		"given_name": "Grace", "family_name": "Hopper", "picture": "https://img.example/g.png",
		"preferred_username": "grace",
	}
}

func withIDToken(raw string) *oauth2.Token {
	return tokenOf("at", "rt", t0.Add(time.Hour)).WithExtra(map[string]any{"id_token": raw})
}

func TestSignInWithIDToken(t *testing.T) {
	m, _ := oidcFixture(t)
	raw := rsaSigner().Mint(t, idClaims(t0))
	rec := httptest.NewRecorder()
	s, err := m.SignIn(rec, httptest.NewRequest(http.MethodGet, "https://app.example/", nil),
		SignInParams{Token: withIDToken(raw), Nonce: "nonce-1", Provider: "oidc", User: &User{Image: "https://img.example/override.png"}})
	if err != nil {
		t.Fatal(err)
	}
	want := User{ID: "oidc_user", Name: "Grace Hopper", Email: "grace@example.com", EmailVerified: true,
		Image: "https://img.example/override.png", FirstName: "Grace", LastName: "Hopper", Username: "grace"}
	if s.User != want {
		t.Errorf("User: got %+v, want %+v", s.User, want)
	}
	if s.IDToken != raw || !s.IDTokenExpiresAt.Equal(t0.Add(time.Hour)) {
		t.Errorf("IDToken: got %q %v", s.IDToken, s.IDTokenExpiresAt)
	}
	var c capture
	serve(m.Middleware(c.handler(m)), requestWith("https://app.example/", rec.Result().Cookies()))
	if !c.ok || c.session.IDToken != raw || c.session.User != want {
		t.Errorf("read back: %+v", c.session)
	}
}

func TestSignInRejectsBadIDTokens(t *testing.T) {
	m, _ := oidcFixture(t)
	rs := rsaSigner()
	with := func(k string, v any) jwt.MapClaims { c := idClaims(t0); c[k] = v; return c }
	without := func(k string) jwt.MapClaims { c := idClaims(t0); delete(c, k); return c }
	tests := []struct {
		name  string
		token *oauth2.Token
		nonce string
		user  *User
		want  error
	}{
		{"bad signature", withIDToken(signer{KID: "rsa-1", Alg: "RS256", Key: rsaKey2Once()}.Mint(t, idClaims(t0))), "nonce-1", nil, errInvalidIDToken},
		{"wrong audience", withIDToken(rs.Mint(t, with("aud", "someone-else"))), "nonce-1", nil, errInvalidIDToken},
		{"wrong issuer", withIDToken(rs.Mint(t, with("iss", "https://evil.example"))), "nonce-1", nil, errInvalidIDToken},
		{"wrong nonce", withIDToken(rs.Mint(t, idClaims(t0))), "nonce-2", nil, errInvalidIDToken},
		{"missing nonce", withIDToken(rs.Mint(t, without("nonce"))), "nonce-1", nil, errInvalidIDToken},
		{"expired", withIDToken(rs.Mint(t, with("exp", t0.Add(-time.Minute).Unix()))), "nonce-1", nil, errInvalidIDToken},
		{"multi aud without azp", withIDToken(rs.Mint(t, with("aud", []string{testClientID, "other"}))), "nonce-1", nil, errInvalidIDToken},
		{"azp another client", withIDToken(rs.Mint(t, with("azp", "other"))), "nonce-1", nil, errInvalidIDToken},
		{"no sub", withIDToken(rs.Mint(t, without("sub"))), "nonce-1", nil, errInvalidIDToken},
		{"nonce expected, no id token", tokenOf("at", "", time.Time{}), "nonce-1", &User{ID: "u"}, errInvalidIDToken},
		{"user id differs from sub", withIDToken(rs.Mint(t, idClaims(t0))), "nonce-1", &User{ID: "someone_else"}, ErrInvalidSession},
		{"no user at all", tokenOf("at", "", time.Time{}), "", nil, ErrInvalidSession},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			_, err := m.SignIn(rec, httptest.NewRequest(http.MethodGet, "https://app.example/", nil),
				SignInParams{Token: tt.token, Nonce: tt.nonce, User: tt.user, Provider: "oidc"})
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			if len(rec.Header()["Set-Cookie"]) != 0 {
				t.Error("a refused sign-in wrote a cookie")
			}
		})
	}
	// multi-audience with our azp is fine
	c := with("aud", []string{testClientID, "other"})
	c["azp"] = testClientID
	if _, err := m.SignIn(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "https://app.example/", nil),
		SignInParams{Token: withIDToken(rs.Mint(t, c)), Nonce: "nonce-1", Provider: "oidc"}); err != nil {
		t.Errorf("multi aud with azp: %v", err)
	}
}

func TestSignInIDTokenWithoutConfig(t *testing.T) {
	m := mustNew(t, testConfig(newClock(), ""))
	_, err := m.SignIn(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "https://app.example/", nil),
		SignInParams{Token: withIDToken(rsaSigner().Mint(t, idClaims(t0))), Provider: "oidc"})
	if !errors.Is(err, errInvalidIDToken) || !errors.Is(err, ErrUnknownProvider) || !strings.Contains(err.Error(), `"oidc"`) {
		t.Fatalf("got %v, want errInvalidIDToken and ErrUnknownProvider naming the provider", err)
	}
}

func TestSignInRotatesSessionID(t *testing.T) {
	m := mustNew(t, testConfig(newClock(), ""))
	first := signInCookies(t, m, SignInParams{User: &User{ID: "u"}})
	var before capture
	serve(m.Middleware(before.handler(m)), requestWith("https://app.example/", first))
	// Signing in on a request that already carries a session (a planted one,
	// say) never keeps its ID.
	rec := httptest.NewRecorder()
	s, err := m.SignIn(rec, requestWith("https://app.example/", first), SignInParams{User: &User{ID: "u"}})
	if err != nil {
		t.Fatal(err)
	}
	if s.ID == before.session.ID || s.SignIn.ID == before.session.SignIn.ID {
		t.Errorf("session or sign-in ID kept across sign-in: %s", s.ID)
	}
}

func TestSignOutClearsEveryChunk(t *testing.T) {
	m := mustNew(t, testConfig(newClock(), ""))
	chunks := signInCookies(t, m, bigSession())
	out := httptest.NewRecorder()
	if err := m.SignOut(out, requestWith("https://app.example/", chunks)); err != nil {
		t.Fatal(err)
	}
	set, expired := splitSetCookies(out.Result().Cookies())
	if len(set) != 0 {
		t.Errorf("sign-out set %v", names(set))
	}
	want := map[string]bool{"__Host-sessionkit": true}
	for _, c := range chunks {
		want[c.Name] = true
	}
	for _, c := range expired {
		delete(want, c.Name)
		if !c.Secure || !c.HttpOnly || c.Path != "/" {
			t.Errorf("%s expired without matching attributes", c.Name)
		}
	}
	if len(want) != 0 {
		t.Errorf("not cleared: %v", want)
	}
}

func TestUpdateSession(t *testing.T) {
	clk := newClock()
	m := mustNew(t, testConfig(clk, ""))
	cookies := signInCookies(t, m, SignInParams{User: &User{ID: "u", Name: "Old"}})
	clk.Advance(time.Minute)
	rec := httptest.NewRecorder()
	req := requestWith("https://app.example/", cookies)
	orig, _ := m.GetServerSession(req)
	s, err := m.UpdateSession(rec, req, func(s *Session) error {
		s.User.Name = "New"
		s.ActiveOrganizationID = "org_9"
		s.AbandonAt = s.AbandonAt.Add(1000 * time.Hour) // not allowed to stick
		s.ID = "chosen"                                 // not allowed to stick
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// A change of scope is a change of privileges: the ID rotates, and
	// never to one the update chose.
	if s.User.Name != "New" || s.ActiveOrganizationID != "org_9" || s.ID == orig.ID || s.ID == "chosen" || !s.AbandonAt.Equal(orig.AbandonAt) {
		t.Errorf("got %+v", s)
	}
	var c capture
	serve(m.Middleware(c.handler(m)), requestWith("https://app.example/", rec.Result().Cookies()))
	if !c.ok || c.session.User.Name != "New" || c.session.SignIn.User.Name != "New" || c.session.ActiveOrganizationID != "org_9" {
		t.Errorf("read back: %+v", c.session)
	}

	// Errors: from the callback, without a session, with a bad result.
	boom := errors.New("no")
	if _, err := m.UpdateSession(httptest.NewRecorder(), requestWith("https://app.example/", cookies), func(*Session) error { return boom }); err != boom {
		t.Errorf("got %v, want the callback's error", err)
	}
	if _, err := m.UpdateSession(httptest.NewRecorder(), requestWith("https://app.example/", nil), func(*Session) error { return nil }); !errors.Is(err, ErrNoSession) {
		t.Errorf("got %v, want ErrNoSession", err)
	}
	if _, err := m.UpdateSession(httptest.NewRecorder(), requestWith("https://app.example/", cookies), func(s *Session) error { s.User.ID = ""; return nil }); !errors.Is(err, ErrInvalidSession) {
		t.Errorf("got %v, want ErrInvalidSession", err)
	}
	if _, err := m.UpdateSession(httptest.NewRecorder(), requestWith("https://app.example/", cookies), func(s *Session) error { s.SignIn.ID = ""; return nil }); !errors.Is(err, ErrInvalidSession) {
		t.Errorf("got %v, want ErrInvalidSession", err)
	}
	dup := func(s *Session) error { s.OtherSignIns = append(s.OtherSignIns, s.SignIn); return nil }
	if _, err := m.UpdateSession(httptest.NewRecorder(), requestWith("https://app.example/", cookies), dup); !errors.Is(err, ErrInvalidSession) {
		t.Errorf("two sign-ins with one ID: got %v, want ErrInvalidSession", err)
	}
}

func TestGetServerSessionWithoutMiddleware(t *testing.T) {
	m, clk, cookies := idleSession(t, time.Hour)
	clk.Advance(30 * time.Minute)
	s, err := m.GetServerSession(requestWith("https://app.example/", cookies))
	if err != nil || s.Status != StatusActive || s.User.ID != "u" {
		t.Fatalf("got %v %v", s, err)
	}
	if _, err := m.GetServerSession(requestWith("https://app.example/", nil)); !errors.Is(err, ErrNoSession) {
		t.Errorf("no cookie: got %v", err)
	}
	if s, ok := FromContext(requestWith("https://app.example/", cookies).Context()); ok || s != nil {
		t.Error("FromContext without middleware returned a session")
	}
}

func TestBearerOnlyManagerWritesNoCookies(t *testing.T) {
	m := mustNew(t, Config{Bearer: &JWTConfig{StaticKeys: []StaticKey{{Key: edSigner().Public()}}, Issuer: testIssuer, Audience: []string{testAudience}}})
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "https://app.example/", nil)
	if _, err := m.SignIn(rec, req, SignInParams{User: &User{ID: "u"}}); !errors.Is(err, errCookiesDisabled) {
		t.Errorf("SignIn: got %v", err)
	}
	if err := m.SignOut(rec, req); !errors.Is(err, errCookiesDisabled) {
		t.Errorf("SignOut: got %v", err)
	}
	req.Header.Set("Cookie", "sessionkit=whatever")
	var c capture
	serve(m.Middleware(c.handler(m)), req)
	if !errors.Is(c.srvErr, ErrNoSession) {
		t.Errorf("cookie read by a bearer-only manager: %v", c.srvErr)
	}
}

// Behind the middleware, UpdateSession replaces the request's snapshot for
// later GetServerSession calls, and SignOut reports no session for a
// bearer request.
func TestUpdateAndSignOutBehindMiddleware(t *testing.T) {
	f := newBearerFixture(t, nil)
	var signedOut []*Session
	f.m.cfg.Callbacks.OnSignOut = func(_ contextT, s *Session) { signedOut = append(signedOut, s) }
	cookies := signInCookies(t, f.m, SignInParams{User: &User{ID: "u"}})
	h := f.m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := f.m.UpdateSession(w, r, func(s *Session) error { s.ActiveWorkspaceID = "ws_new"; return nil }); err != nil {
			t.Fatal(err)
		}
		if s, _ := f.m.GetServerSession(r); s.ActiveWorkspaceID != "ws_new" {
			t.Errorf("GetServerSession after update: %q", s.ActiveWorkspaceID)
		}
	}))
	serve(h, requestWith("https://app.example/", cookies))

	req := httptest.NewRequest(http.MethodGet, "https://api.example/", nil)
	req.Header.Set("Authorization", "Bearer "+rsaSigner().Mint(t, claimsFor(t0)))
	serve(f.m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := f.m.SignOut(w, r); err != nil {
			t.Fatal(err)
		}
	})), req)
	if len(signedOut) != 1 || signedOut[0] != nil {
		t.Errorf("OnSignOut for a bearer request: got %v, want one nil session", signedOut)
	}
}

// applyCookies is a minimal browser jar: Set-Cookie headers in order, the
// last one for a name wins, Max-Age<0 deletes.
func applyCookies(jar map[string]*http.Cookie, resp *http.Response) {
	for _, c := range resp.Cookies() {
		if c.MaxAge < 0 || c.Value == "" {
			delete(jar, c.Name)
		} else {
			jar[c.Name] = c
		}
	}
}

// jarList returns the cookies in jar.
func jarList(jar map[string]*http.Cookie) []*http.Cookie {
	var out []*http.Cookie
	for _, c := range jar {
		out = append(out, c)
	}
	return out
}

// POST /signout while the access token is due: the middleware refreshes
// and re-issues the cookie in chunks (the refreshed tokens are larger)
// before SignOut runs. SignOut must clear those new chunks too, not only
// the cookies the request carried, or the user stays signed in.
func TestSignOutClearsChunksIssuedByRefresh(t *testing.T) {
	te := newTokenEndpoint(t, func(w http.ResponseWriter, r *http.Request) {
		tokenJSON(w, map[string]any{"access_token": strings.Repeat("b", 3000), "token_type": "Bearer", "expires_in": 3600, "refresh_token": "rt-2"})
	})
	clk := newClock()
	cfg := refreshConfig(clk, te.URL, func(c *Config) { c.URL = "https://app.example" })
	m := mustNew(t, cfg)
	h := m.Handler()
	jar := map[string]*http.Cookie{}
	for _, c := range signInCookies(t, m, SignInParams{Token: tokenOf("at-1", "rt-1", t0.Add(time.Hour)), Provider: "idp", User: &User{ID: "u"}}) {
		jar[c.Name] = c
	}
	// CSRF pair
	rec := serve(h, httptest.NewRequest(http.MethodGet, "https://app.example/api/auth/csrf", nil))
	applyCookies(jar, rec.Result())
	tok := strings.SplitN(jar["__Host-sessionkit.csrf-token"].Value, "|", 2)[0]
	clk.Advance(59*time.Minute + 30*time.Second) // access token due
	req := httptest.NewRequest(http.MethodPost, "https://app.example/api/auth/signout", strings.NewReader(url.Values{"csrfToken": {tok}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://app.example")
	for _, c := range jar {
		req.AddCookie(c)
	}
	rec = serve(h, req)
	applyCookies(jar, rec.Result())
	t.Logf("signout: %d; cookies left: %v", rec.Code, func() (n []string) {
		for k := range jar {
			n = append(n, k)
		}
		return
	}())
	var c capture
	serve(m.Middleware(c.handler(m)), requestWith("https://app.example/", jarList(jar)))
	if c.ok {
		t.Errorf("still signed in after POST /signout (user %q)", c.session.User.ID)
	}
}

func TestMergeUserVerifiedFollowsItsValue(t *testing.T) {
	tests := []struct {
		name         string
		dst, src     User
		wantEmail    string
		wantVerified bool
	}{
		{"another email, unverified", User{Email: "a@corp.example", EmailVerified: true}, User{Email: "x@evil.example"}, "x@evil.example", false},
		{"another email, verified", User{Email: "a@corp.example"}, User{Email: "b@corp.example", EmailVerified: true}, "b@corp.example", true},
		{"the same email", User{Email: "a@corp.example", EmailVerified: true}, User{Email: "a@corp.example"}, "a@corp.example", true},
		{"no email in src", User{Email: "a@corp.example", EmailVerified: true}, User{Name: "A"}, "a@corp.example", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := tt.dst
			mergeUser(&dst, &tt.src)
			if dst.Email != tt.wantEmail || dst.EmailVerified != tt.wantVerified {
				t.Fatalf("got %q verified %v, want %q verified %v", dst.Email, dst.EmailVerified, tt.wantEmail, tt.wantVerified)
			}
		})
	}
}
