package sessionkit

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/oauth2"

	"github.com/sessionkit/sessionkit/internal/testclock"
)

func TestRefreshDue(t *testing.T) {
	m := mustNew(t, refreshConfig(newClock(), "https://idp.example/token", nil))
	session := func(mod func(*Session)) *Session {
		s := &Session{Status: StatusActive, Source: SourceCookie, SignIn: SignIn{ID: "a", Provider: "idp", RefreshToken: "rt",
			AccessTokenExpiresAt: t0.Add(time.Hour), AccessTokenIssuedAt: t0}}
		if mod != nil {
			mod(s)
		}
		return s
	}
	tests := []struct {
		name string
		s    *Session
		now  time.Time
		want bool
	}{
		{"fresh token", session(nil), t0, false},
		{"just outside the leeway", session(nil), t0.Add(time.Hour - time.Minute - time.Second), false},
		{"within the leeway", session(nil), t0.Add(time.Hour - time.Minute), true},
		{"expired", session(nil), t0.Add(2 * time.Hour), true},
		{"no refresh token", session(func(s *Session) { s.RefreshToken = "" }), t0.Add(2 * time.Hour), false},
		{"no expiry", session(func(s *Session) { s.AccessTokenExpiresAt = time.Time{} }), t0.Add(2 * time.Hour), false},
		{"bearer session", session(func(s *Session) { s.Source = SourceBearer }), t0.Add(2 * time.Hour), false},
		{"ended session", session(func(s *Session) { s.Status = StatusEnded }), t0.Add(2 * time.Hour), false},
		{"unconfigured provider", session(func(s *Session) { s.Provider = "gone" }), t0.Add(2 * time.Hour), false},
		{"20 s token at 9 s: leeway capped at 10 s", session(func(s *Session) { s.AccessTokenExpiresAt = t0.Add(20 * time.Second) }), t0.Add(9 * time.Second), false},
		{"20 s token at 10 s", session(func(s *Session) { s.AccessTokenExpiresAt = t0.Add(20 * time.Second) }), t0.Add(10 * time.Second), true},
		{"issue time unknown: full leeway", session(func(s *Session) {
			s.AccessTokenExpiresAt = t0.Add(20 * time.Second)
			s.SignIn.AccessTokenIssuedAt = time.Time{}
		}), t0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := m.refresher.due(tt.s, tt.now); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
	off := mustNew(t, refreshConfig(newClock(), "https://idp.example/token", func(c *Config) { c.RefreshLeeway = -1 }))
	if off.refresher.due(session(nil), t0.Add(2*time.Hour)) {
		t.Error("a negative RefreshLeeway did not turn refreshing off")
	}
}

// through runs req through m's middleware and returns the handler's
// snapshot (the active session, or the one GetServerSession reports).
func through(m *Manager, req *http.Request) *Session {
	c := &capture{}
	serve(m.Middleware(c.handler(m)), req)
	if c.session != nil {
		return c.session
	}
	return c.srvSess
}

// tokenEndpoint is a token endpoint that answers refresh requests with
// respond and counts them.
type tokenEndpoint struct {
	*httptest.Server
	calls   atomic.Int64
	respond func(w http.ResponseWriter, r *http.Request)
}

func newTokenEndpoint(t *testing.T, respond func(w http.ResponseWriter, r *http.Request)) *tokenEndpoint {
	te := &tokenEndpoint{respond: respond}
	te.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		te.calls.Add(1)
		te.respond(w, r)
	}))
	t.Cleanup(te.Close)
	return te
}

func tokenJSON(w http.ResponseWriter, v map[string]any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// refreshConfig is a cookie Manager with one plain OAuth 2.0 provider "idp"
// whose token endpoint is tokenURL.
func refreshConfig(clk *testclock.Clock, tokenURL string, mod func(*Config)) Config {
	cfg := testConfig(clk, "")
	cfg.Providers = []Provider{{ID: "idp", ClientID: "c", ClientSecret: "s",
		AuthURL: "https://idp.example/auth", TokenURL: tokenURL, AuthStyle: oauth2.AuthStyleInParams}}
	if mod != nil {
		mod(&cfg)
	}
	return cfg
}

func TestRefreshKeepsRefreshTokenWhenNotRotated(t *testing.T) {
	te := newTokenEndpoint(t, func(w http.ResponseWriter, r *http.Request) {
		if r.PostFormValue("grant_type") != "refresh_token" || r.PostFormValue("refresh_token") != "rt-1" {
			http.Error(w, `{"error":"invalid_request"}`, http.StatusBadRequest)
			return
		}
		tokenJSON(w, map[string]any{"access_token": "at-2", "token_type": "Bearer", "expires_in": 3600})
	})
	clk := newClock()
	m := mustNew(t, refreshConfig(clk, te.URL, nil))
	cookies := signInCookies(t, m, SignInParams{Token: tokenOf("at-1", "rt-1", t0.Add(time.Minute)), Provider: "idp", User: &User{ID: "u"}})
	clk.Advance(30 * time.Second) // half the token's lifetime
	s := through(m, requestWith("https://app.example/", cookies))
	if s.AccessToken != "at-2" || s.RefreshToken != "rt-1" || s.Error != "" {
		t.Fatalf("got access %q refresh %q error %q, want at-2, rt-1 kept, no error", s.AccessToken, s.RefreshToken, s.Error)
	}
	if got := te.calls.Load(); got != 1 {
		t.Fatalf("token calls: got %d, want 1", got)
	}
}

func TestRefreshHook(t *testing.T) {
	var got atomic.Value
	hook := func(ctx context.Context, conf *oauth2.Config, cur *oauth2.Token) (*oauth2.Token, error) {
		got.Store(conf.Endpoint.TokenURL + " " + cur.RefreshToken)
		return &oauth2.Token{AccessToken: "hooked", RefreshToken: "rt-2", Expiry: t0.Add(time.Hour)}, nil
	}
	clk := newClock()
	m := mustNew(t, refreshConfig(clk, "https://idp.example/token", func(c *Config) { c.Providers[0].Refresh = hook }))
	cookies := signInCookies(t, m, SignInParams{Token: tokenOf("at-1", "rt-1", t0), Provider: "idp", User: &User{ID: "u"}})
	s := through(m, requestWith("https://app.example/", cookies))
	if s.AccessToken != "hooked" || s.RefreshToken != "rt-2" {
		t.Fatalf("got %q %q, want the hook's tokens", s.AccessToken, s.RefreshToken)
	}
	if got.Load() != "https://idp.example/token rt-1" {
		t.Fatalf("hook saw %q", got.Load())
	}
}

func TestRefreshHookPanicIsATransientFailure(t *testing.T) {
	logger, logs := quietLogger()
	clk := newClock()
	m := mustNew(t, refreshConfig(clk, "https://idp.example/token", func(c *Config) {
		c.Logger = logger
		c.Providers[0].Refresh = func(context.Context, *oauth2.Config, *oauth2.Token) (*oauth2.Token, error) {
			panic("secret-in-panic")
		}
	}))
	cookies := signInCookies(t, m, SignInParams{Token: tokenOf("at-1", "rt-1", t0), Provider: "idp", User: &User{ID: "u"}})
	rec := serve(m.Middleware(http.NotFoundHandler()), requestWith("https://app.example/", cookies))
	if rec.Code != http.StatusNotFound {
		t.Fatalf("status: got %d, want the handler's 404", rec.Code)
	}
	s := through(m, requestWith("https://app.example/", cookies))
	if s.Error != RefreshAccessTokenError || s.RefreshToken != "rt-1" {
		t.Fatalf("got error %q refresh %q, want the error and the token kept", s.Error, s.RefreshToken)
	}
	if out := logs.String(); !strings.Contains(out, "Provider.Refresh") || strings.Contains(out, "secret-in-panic") {
		t.Fatalf("log: %s", out)
	}
}

// The token endpoint's error body may echo what it was sent; the error
// handed to callbacks carries only the status and the OAuth error code.
func TestRefreshErrorQuotesNoResponseBody(t *testing.T) {
	te := newTokenEndpoint(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(`{"error":"temporarily_unavailable","error_description":"echo ` + r.PostFormValue("refresh_token") + `"}`))
	})
	var cbErr atomic.Value
	clk := newClock()
	m := mustNew(t, refreshConfig(clk, te.URL, func(c *Config) {
		c.Callbacks.OnAccessTokenError = func(_ context.Context, _ *Session, err error) { cbErr.Store(err) }
	}))
	cookies := signInCookies(t, m, SignInParams{Token: tokenOf("at-1", "rt-secret", t0), Provider: "idp", User: &User{ID: "u"}})
	through(m, requestWith("https://app.example/", cookies))
	err, _ := cbErr.Load().(error)
	if !errors.Is(err, ErrRefreshFailed) || errors.Is(err, ErrRefreshTokenInvalid) {
		t.Fatalf("got %v, want a transient ErrRefreshFailed", err)
	}
	if msg := err.Error(); strings.Contains(msg, "rt-secret") || !strings.Contains(msg, "503") || !strings.Contains(msg, "temporarily_unavailable") {
		t.Fatalf("error text: %q", err)
	}
}

// A bearer session is never refreshed and never gets a cookie.
func TestRefreshNeverOnBearer(t *testing.T) {
	te := newTokenEndpoint(t, func(w http.ResponseWriter, r *http.Request) { t.Error("token endpoint called") })
	clk := newClock()
	jwks := newJWKSServer(t, rsaSigner())
	cfg := refreshConfig(clk, te.URL, nil)
	cfg.Bearer = testConfig(clk, jwks.URL).Bearer
	m := mustNew(t, cfg)
	claims := claimsFor(t0)
	claims["exp"] = t0.Add(time.Second).Unix()
	req := requestWith("https://app.example/", nil)
	req.Header.Set("Authorization", "Bearer "+rsaSigner().Mint(t, claims))
	rec := serve(m.Middleware(http.NotFoundHandler()), req)
	if len(rec.Result().Cookies()) != 0 {
		t.Fatal("a bearer request got a cookie")
	}
}

// A token response that arrives after the requests stopped waiting is still
// recorded: the provider has rotated the refresh token, so the next request
// must use that answer, not send the rotated-out token again (found by the
// soak test).
func TestRefreshLateAnswerIsKept(t *testing.T) {
	var calls atomic.Int64
	te := newTokenEndpoint(t, func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		time.Sleep(400 * time.Millisecond)
		tokenJSON(w, map[string]any{"access_token": "at-2", "refresh_token": "rt-2", "token_type": "Bearer", "expires_in": 3600})
	})
	clk := newClock()
	m := mustNew(t, refreshConfig(clk, te.URL, func(c *Config) {
		c.RefreshTimeout = 100 * time.Millisecond
		c.FetchTimeout = 2 * time.Second
	}))
	cookies := signInCookies(t, m, SignInParams{Token: tokenOf("at-1", "rt-1", t0.Add(-time.Second)), Provider: "idp", User: &User{ID: "u"}})
	if s := through(m, requestWith("https://app.example/", cookies)); s.AccessToken != "at-1" || s.Error != RefreshAccessTokenError {
		t.Fatalf("first request: got %q %q, want the old token, flagged, after RefreshTimeout", s.AccessToken, s.Error)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		s := through(m, requestWith("https://app.example/", cookies))
		if s.AccessToken == "at-2" && s.RefreshToken == "rt-2" && s.Error == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the late answer was never used: got %q %q", s.AccessToken, s.Error)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got := calls.Load(); got != 1 {
		t.Fatalf("token calls: got %d, want 1 (the old refresh token sent again)", got)
	}
}

// An OpenID Connect provider with all endpoints configured (no discovery)
// and no AuthStyle must not refresh with oauth2.AuthStyleAutoDetect, which
// repeats a failed token call at once with the same refresh token: a
// provider that detects refresh token reuse would then end the grant.
func TestRefreshSendsRefreshTokenOnceWithoutAuthStyle(t *testing.T) {
	var sent atomic.Int64
	te := newTokenEndpoint(t, func(w http.ResponseWriter, r *http.Request) {
		if r.PostFormValue("refresh_token") == "rt-1" {
			sent.Add(1)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		w.Write([]byte(`{"error":"invalid_grant"}`))
	})
	jwks := newJWKSServer(t, rsaSigner())
	clk := newClock()
	cfg := testConfig(clk, "")
	p := testProvider(jwks.URL)
	p.TokenURL = te.URL
	cfg.Providers = []Provider{p}
	m := mustNew(t, cfg)
	cookies := signInCookies(t, m, SignInParams{Token: tokenOf("at-1", "rt-1", t0), Provider: "oidc", User: &User{ID: "u"}})
	through(m, requestWith("https://app.example/", cookies))
	if n := sent.Load(); n != 1 {
		t.Errorf("one refresh sent rt-1 %d times", n)
	}
}

// A Provider.Refresh hook (or a custom HTTPClient transport) may ignore
// its ctx; RefreshTimeout must still bound how long a request waits for it.
func TestRefreshTimeoutBoundsAHookThatIgnoresCtx(t *testing.T) {
	unblock := make(chan struct{})
	defer close(unblock)
	clk := newClock()
	m := mustNew(t, refreshConfig(clk, "https://idp.example/token", func(c *Config) {
		c.RefreshTimeout = 100 * time.Millisecond
		c.Providers[0].Refresh = func(ctx context.Context, _ *oauth2.Config, _ *oauth2.Token) (*oauth2.Token, error) {
			select {
			case <-unblock:
			case <-time.After(2 * time.Second):
			}
			return nil, context.DeadlineExceeded
		}
	}))
	cookies := signInCookies(t, m, SignInParams{Token: tokenOf("at-1", "rt-1", t0), Provider: "idp", User: &User{ID: "u"}})
	start := time.Now()
	serve(m.Middleware(http.NotFoundHandler()), requestWith("https://app.example/", cookies))
	if d := time.Since(start); d > time.Second {
		t.Errorf("request waited %v with RefreshTimeout 100ms", d)
	}
}

// The provider rotates rt-1 to rt-2 but the new ID token fails
// verification (here: signed by a key not yet in the JWKS, as during a
// provider key rotation while the JWKS re-fetch is rate-limited). If rt-2
// were thrown away and the failure treated as transient, rt-1 would be
// sent again after the backoff, and a provider that detects reuse would
// end the grant: rt-1 must reach the token endpoint at most once.
func TestRefreshIDTokenFailureDoesNotResendRotatedToken(t *testing.T) {
	jwks := newJWKSServer(t, rsaSigner())
	var rt1Sent atomic.Int64
	var te *tokenEndpoint
	te = newTokenEndpoint(t, func(w http.ResponseWriter, r *http.Request) {
		if r.PostFormValue("refresh_token") == "rt-1" {
			rt1Sent.Add(1)
		}
		rotatedTokens(t, w, rsa2Signer())
	})
	clk := newClock()
	m, cookies := oidcRefreshManager(t, clk, jwks.URL, te.URL)
	s := through(m, requestWith("https://app.example/", cookies))
	t.Logf("after 1st: rt=%q err=%q", s.RefreshToken, s.Error)
	clk.Advance(3 * time.Second)
	s = through(m, requestWith("https://app.example/", cookies))
	t.Logf("after 2nd: rt=%q err=%q", s.RefreshToken, s.Error)
	if n := rt1Sent.Load(); n > 1 {
		t.Errorf("rotated-out refresh token rt-1 sent %d times to the token endpoint", n)
	}
}

// Every request waiting on a refresh hangs up (the page navigated away);
// the refresh completes and rotates rt-1, but no response carries the new
// cookie, so the browser's cookie still holds rt-1 when it next comes
// back, 31 s later. rt-1 must not reach the token endpoint again.
func TestRefreshAbandonedByEveryWaiterDoesNotResendRotatedToken(t *testing.T) {
	var rt1Sent atomic.Int64
	release := make(chan struct{})
	te := newTokenEndpoint(t, func(w http.ResponseWriter, r *http.Request) {
		if r.PostFormValue("refresh_token") == "rt-1" {
			if rt1Sent.Add(1) == 1 {
				<-release
				tokenJSON(w, map[string]any{"access_token": "at-2", "token_type": "Bearer", "expires_in": 3600, "refresh_token": "rt-2"})
				return
			}
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(400)
		w.Write([]byte(`{"error":"invalid_grant"}`))
	})
	clk := newClock()
	m := mustNew(t, refreshConfig(clk, te.URL, nil))
	cookies := signInCookies(t, m, SignInParams{Token: tokenOf("at-1", "rt-1", t0), Provider: "idp", User: &User{ID: "u"}})
	ctx, cancel := context.WithCancel(context.Background())
	req := requestWith("https://app.example/", cookies).WithContext(ctx)
	done := make(chan *http.Response)
	go func() { done <- serve(m.Middleware(http.NotFoundHandler()), req).Result() }()
	time.Sleep(100 * time.Millisecond)
	cancel() // client hung up
	resp := <-done
	close(release)
	time.Sleep(100 * time.Millisecond)
	t.Logf("cookies on the abandoned response: %d", len(resp.Cookies()))
	clk.Advance(31 * time.Second)
	s := through(m, requestWith("https://app.example/", cookies))
	t.Logf("after: rt=%q err=%q", s.RefreshToken, s.Error)
	if n := rt1Sent.Load(); n > 1 {
		t.Errorf("rotated-out refresh token rt-1 sent %d times; session lost its refresh token (rt=%q)", n, s.RefreshToken)
	}
}

// A refresh outlives the request that started it: that request stops
// waiting and hands its session to its handler, which may change its copy
// freely. The refresh must not read that copy; the race detector checks.
func TestRefreshFlightDoesNotReadTheHandlersSession(t *testing.T) {
	release := make(chan struct{})
	clk := newClock()
	jwks := newJWKSServer(t, rsaSigner())
	te := newTokenEndpoint(t, func(w http.ResponseWriter, r *http.Request) {
		<-release
		rotatedTokens(t, w, rsaSigner())
	})
	m, cookies := oidcRefreshManager(t, clk, jwks.URL, te.URL)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer wg.Done()
		s, _ := FromContext(r.Context())
		close(release)
		s.User.ID = "changed-by-handler" // allowed: it is this request's copy
	})
	time.AfterFunc(100*time.Millisecond, cancel)
	serve(m.Middleware(h), requestWith("https://app.example/", cookies).WithContext(ctx))
	wg.Wait()
	time.Sleep(300 * time.Millisecond)
}

// rotatedTokens answers a refresh with access token at-2, refresh token
// rt-2 and an ID token for user "u" signed by s.
func rotatedTokens(t *testing.T, w http.ResponseWriter, s signer) {
	c := jwt.MapClaims{"iss": testIssuer, "aud": testClientID, "sub": "u",
		"iat": t0.Unix(), "exp": t0.Add(time.Hour).Unix()}
	tokenJSON(w, map[string]any{"access_token": "at-2", "token_type": "Bearer", "expires_in": 3600,
		"refresh_token": "rt-2", "id_token": s.Mint(t, c)})
}

// oidcRefreshManager is a Manager with the OpenID Connect provider "oidc"
// whose keys are at jwksURL and whose token endpoint, at tokenURL, takes
// the client's credentials in the form. It returns the Manager and the
// cookies of a session of user "u" with at-1 and rt-1, due at t0.
func oidcRefreshManager(t *testing.T, clk *testclock.Clock, jwksURL, tokenURL string) (*Manager, []*http.Cookie) {
	cfg := testConfig(clk, "")
	p := testProvider(jwksURL)
	p.TokenURL = tokenURL
	p.AuthStyle = oauth2.AuthStyleInParams
	cfg.Providers = []Provider{p}
	m := mustNew(t, cfg)
	return m, signInCookies(t, m, SignInParams{Token: tokenOf("at-1", "rt-1", t0), Provider: "oidc", User: &User{ID: "u"}})
}

// An active cookie session whose access token expired with no refresh
// token to renew it carries RefreshAccessTokenError; others are left alone.
func TestMarkUnrefreshable(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	base := func(mod func(*Session)) *Session {
		s := &Session{Status: StatusActive, Source: SourceCookie,
			SignIn: SignIn{AccessToken: "at", AccessTokenExpiresAt: now.Add(-time.Second)}}
		if mod != nil {
			mod(s)
		}
		return s
	}
	tests := []struct {
		name string
		s    *Session
		want string
	}{
		{"expired, no refresh token", base(nil), RefreshAccessTokenError},
		{"expired, refresh token", base(func(s *Session) { s.RefreshToken = "rt" }), ""},
		{"not expired", base(func(s *Session) { s.AccessTokenExpiresAt = now.Add(time.Minute) }), ""},
		{"no expiry known", base(func(s *Session) { s.AccessTokenExpiresAt = time.Time{} }), ""},
		{"no access token", base(func(s *Session) { s.AccessToken = "" }), ""},
		{"bearer", base(func(s *Session) { s.Source = SourceBearer }), ""},
		{"ended", base(func(s *Session) { s.Status = StatusEnded }), ""},
		{"another error kept", base(func(s *Session) { s.Error = "X" }), "X"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			orig := tt.s
			d := decoded{session: tt.s, shared: true, now: now}
			markUnrefreshable(&d)
			if d.session.Error != tt.want {
				t.Fatalf("Error: got %q, want %q", d.session.Error, tt.want)
			}
			if tt.want == RefreshAccessTokenError && (orig.Error != "" || d.refreshErr != errNoRefreshToken) {
				t.Fatalf("shared session changed (%q) or cause %v; want a copy marked, errNoRefreshToken", orig.Error, d.refreshErr)
			}
		})
	}
}
