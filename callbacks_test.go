package sessionkit

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/sessionkit/sessionkit/internal/testclock"
)

// cbRecorder records which callbacks fired, in order.
type cbRecorder struct {
	mu    sync.Mutex
	fired []string
}

func (c *cbRecorder) add(name string) {
	c.mu.Lock()
	c.fired = append(c.fired, name)
	c.mu.Unlock()
}

func (c *cbRecorder) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.fired
	c.fired = nil
	return out
}

func (c *cbRecorder) callbacks() Callbacks {
	s := func(name string) func(contextT, *Session) {
		return func(_ contextT, sess *Session) {
			if sess == nil && name != "OnSignOut" {
				panic(name + " got a nil session")
			}
			c.add(name)
		}
	}
	e := func(name string) func(contextT, error) {
		return func(_ contextT, err error) {
			if err == nil {
				panic(name + " got a nil error")
			}
			c.add(name)
		}
	}
	return Callbacks{
		OnSignIn:             s("OnSignIn"),
		OnSignOut:            s("OnSignOut"),
		OnSessionUpdate:      s("OnSessionUpdate"),
		OnSessionExpired:     s("OnSessionExpired"),
		OnAccessTokenExpired: s("OnAccessTokenExpired"),
		OnAccessTokenError: func(_ contextT, sess *Session, err error) {
			if sess == nil || err == nil {
				panic("OnAccessTokenError args")
			}
			c.add("OnAccessTokenError")
		},
		OnIdTokenExpired: s("OnIdTokenExpired"),
		OnIdTokenError:   e("OnIdTokenError"),
		OnJwtExpired:     s("OnJwtExpired"),
		OnJwtError:       e("OnJwtError"),
		OnUnauthenticated: func(http.ResponseWriter, *http.Request, error) bool {
			c.add("OnUnauthenticated")
			return false
		},
	}
}

func TestCallbacksFireExactlyWhenTheyShould(t *testing.T) {
	type env struct {
		t    *testing.T
		clk  *testclock.Clock
		m    *Manager
		jwks *jwksServer
	}
	https := "https://app.example/"
	get := func(e *env, h http.Handler, cookies []*http.Cookie) *httptest.ResponseRecorder {
		return serve(h, requestWith(https, cookies))
	}
	idToken := func(e *env, exp time.Duration) *oauth2.Token {
		c := claimsFor(e.clk.Now())
		c["aud"] = testClientID
		c["exp"] = e.clk.Now().Add(exp).Unix()
		c["nonce"] = "n-1"
		return tokenOf("at", "rt", e.clk.Now().Add(time.Hour)).WithExtra(map[string]any{"id_token": rsaSigner().Mint(e.t, c)})
	}
	tests := []struct {
		name string
		run  func(e *env)
		want []string
	}{
		{"sign in", func(e *env) {
			signInCookies(e.t, e.m, SignInParams{User: &User{ID: "u"}})
		}, []string{"OnSignIn"}},
		{"active session fires nothing", func(e *env) {
			c := signInCookies(e.t, e.m, SignInParams{Token: tokenOf("at", "rt", t0.Add(time.Hour)), User: &User{ID: "u"}})
			e.clk.Advance(30 * time.Minute)
			get(e, e.m.Middleware(http.NotFoundHandler()), c)
		}, []string{"OnSignIn"}},
		{"no credential fires nothing", func(e *env) {
			get(e, e.m.Middleware(http.NotFoundHandler()), nil)
		}, nil},
		{"sign out with session", func(e *env) {
			c := signInCookies(e.t, e.m, SignInParams{User: &User{ID: "u"}})
			if err := e.m.SignOut(httptest.NewRecorder(), requestWith(https, c)); err != nil {
				e.t.Fatal(err)
			}
		}, []string{"OnSignIn", "OnSignOut"}},
		{"sign out without session", func(e *env) {
			_ = e.m.SignOut(httptest.NewRecorder(), requestWith(https, nil))
		}, []string{"OnSignOut"}},
		{"update", func(e *env) {
			c := signInCookies(e.t, e.m, SignInParams{User: &User{ID: "u"}})
			_, err := e.m.UpdateSession(httptest.NewRecorder(), requestWith(https, c), func(s *Session) error {
				s.ActiveOrganizationID = "org_2"
				return nil
			})
			if err != nil {
				e.t.Fatal(err)
			}
		}, []string{"OnSignIn", "OnSessionUpdate"}},
		{"session expired", func(e *env) {
			c := signInCookies(e.t, e.m, SignInParams{Token: tokenOf("at", "", t0.Add(time.Hour)), User: &User{ID: "u"}})
			e.clk.Advance(defaultLifetime)
			get(e, e.m.Middleware(http.NotFoundHandler()), c)
		}, []string{"OnSignIn", "OnSessionExpired"}},
		{"access token expired", func(e *env) {
			c := signInCookies(e.t, e.m, SignInParams{Token: tokenOf("at", "", t0.Add(time.Hour)), User: &User{ID: "u"}})
			e.clk.Advance(time.Hour)
			get(e, e.m.Middleware(http.NotFoundHandler()), c)
		}, []string{"OnSignIn", "OnAccessTokenExpired"}},
		{"no access token never expires", func(e *env) {
			c := signInCookies(e.t, e.m, SignInParams{User: &User{ID: "u"}})
			e.clk.Advance(24 * time.Hour)
			get(e, e.m.Middleware(http.NotFoundHandler()), c)
		}, []string{"OnSignIn"}},
		{"access token error recorded", func(e *env) {
			c := signInCookies(e.t, e.m, SignInParams{User: &User{ID: "u"}})
			rec := httptest.NewRecorder()
			if _, err := e.m.UpdateSession(rec, requestWith(https, c), func(s *Session) error {
				s.Error = "RefreshAccessTokenError"
				return nil
			}); err != nil {
				e.t.Fatal(err)
			}
			get(e, e.m.Middleware(http.NotFoundHandler()), rec.Result().Cookies())
		}, []string{"OnSignIn", "OnSessionUpdate", "OnAccessTokenError"}},
		{"id token expired", func(e *env) {
			c := signInCookies(e.t, e.m, SignInParams{Token: idToken(e, 10*time.Minute), Nonce: "n-1", Provider: "oidc"})
			e.clk.Advance(11 * time.Minute)
			get(e, e.m.Middleware(http.NotFoundHandler()), c)
		}, []string{"OnSignIn", "OnIdTokenExpired"}},
		{"id token error", func(e *env) {
			_, err := e.m.SignIn(httptest.NewRecorder(), requestWith(https, nil), SignInParams{Token: idToken(e, 10*time.Minute), Nonce: "other", Provider: "oidc"})
			if err == nil {
				e.t.Fatal("SignIn accepted a wrong nonce")
			}
		}, []string{"OnIdTokenError"}},
		{"jwt expired", func(e *env) {
			req := requestWith(https, nil)
			req.Header.Set("Authorization", "Bearer "+rsaSigner().Mint(e.t, claimsFor(t0.Add(-time.Hour))))
			serve(e.m.Middleware(http.NotFoundHandler()), req)
		}, []string{"OnJwtExpired"}},
		{"jwt error", func(e *env) {
			req := requestWith(https, nil)
			req.Header.Set("Authorization", "Bearer a.b.c")
			serve(e.m.Middleware(http.NotFoundHandler()), req)
		}, []string{"OnJwtError"}},
		{"tampered cookie is a jwt error", func(e *env) {
			req := requestWith(https, nil)
			req.Header.Set("Cookie", "__Host-sessionkit=Zm9v")
			serve(e.m.Middleware(http.NotFoundHandler()), req)
		}, []string{"OnJwtError"}},
		{"unauthenticated", func(e *env) {
			serve(e.m.Require(http.NotFoundHandler()), requestWith(https, nil))
		}, []string{"OnUnauthenticated"}},
		{"unauthenticated not fired with a session", func(e *env) {
			c := signInCookies(e.t, e.m, SignInParams{User: &User{ID: "u"}})
			serve(e.m.Require(http.NotFoundHandler()), requestWith(https, c))
		}, []string{"OnSignIn"}},
		{"key rotation re-issue is not an update", func(e *env) {
			c := signInCookies(e.t, e.m, SignInParams{User: &User{ID: "u"}})
			cfg := testConfig(e.clk, "")
			cfg.Keys = append(cfg.Keys, e.m.cfg.Keys...)
			rec := &cbRecorder{}
			cfg.Callbacks = rec.callbacks()
			m2 := mustNew(e.t, cfg)
			out := get(e, m2.Middleware(http.NotFoundHandler()), c)
			if len(out.Result().Cookies()) != 1 {
				e.t.Error("no re-issue")
			}
			if got := rec.take(); len(got) != 0 {
				e.t.Errorf("re-issue fired %v", got)
			}
		}, []string{"OnSignIn"}},
		{"get server session on demand fires", func(e *env) {
			c := signInCookies(e.t, e.m, SignInParams{User: &User{ID: "u"}})
			e.clk.Advance(defaultLifetime)
			if _, err := e.m.GetServerSession(requestWith(https, c)); err == nil {
				e.t.Error("expired session without error")
			}
		}, []string{"OnSignIn", "OnSessionExpired"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &cbRecorder{}
			jwks := newJWKSServer(t, rsaSigner())
			clk := newClock()
			cfg := testConfig(clk, jwks.URL)
			cfg.Providers = []Provider{testProvider(jwks.URL)}
			cfg.Callbacks = rec.callbacks()
			logger, logs := quietLogger()
			cfg.Logger = logger
			e := &env{t: t, clk: clk, m: mustNew(t, cfg), jwks: jwks}
			tt.run(e)
			if got := rec.take(); !slices.Equal(got, tt.want) {
				t.Errorf("fired %v, want %v", got, tt.want)
			}
			if strings.Contains(logs.String(), "panicked") {
				t.Errorf("a callback panicked: %s", logs)
			}
		})
	}
}

func TestCallbackPanicIsContained(t *testing.T) {
	clk := newClock()
	cfg := testConfig(clk, "")
	logger, logs := quietLogger()
	cfg.Logger = logger
	boom := func(contextT, *Session) { panic("callback bug") }
	cfg.Callbacks = Callbacks{OnSignIn: boom, OnSessionExpired: boom, OnAccessTokenExpired: boom, OnSignOut: boom}
	m := mustNew(t, cfg)
	cookies := signInCookies(t, m, SignInParams{Token: tokenOf("at", "", t0.Add(time.Minute)), User: &User{ID: "u"}})
	clk.Advance(2 * time.Minute)
	var c capture
	rec := serve(m.Middleware(c.handler(m)), requestWith("https://app.example/", cookies))
	if rec.Code != 200 || !c.ok {
		t.Fatalf("got %d ok %v, want the request to go on with its session", rec.Code, c.ok)
	}
	clk.Advance(defaultLifetime)
	if rec := serve(m.Middleware(c.handler(m)), requestWith("https://app.example/", cookies)); rec.Code != 200 {
		t.Fatalf("got %d", rec.Code)
	}
	if err := m.SignOut(httptest.NewRecorder(), requestWith("https://app.example/", cookies)); err != nil {
		t.Fatal(err)
	}
	out := logs.String()
	if strings.Count(out, "callback panicked") != 4 {
		t.Errorf("want 4 logged panics, got:\n%s", out)
	}
	if strings.Contains(out, "sessionkit=") || strings.Contains(out, cookies[0].Value[:16]) {
		t.Error("log contains the cookie")
	}
}

// Callbacks receive copies: a callback that mutates its session changes
// nothing the handler sees.
func TestCallbacksReceiveCopies(t *testing.T) {
	clk := newClock()
	cfg := testConfig(clk, "")
	cfg.Callbacks.OnAccessTokenExpired = func(_ contextT, s *Session) { s.User.ID = "hijacked" }
	m := mustNew(t, cfg)
	cookies := signInCookies(t, m, SignInParams{Token: tokenOf("at", "", t0.Add(time.Minute)), User: &User{ID: "u"}})
	clk.Advance(time.Hour)
	var c capture
	serve(m.Middleware(c.handler(m)), requestWith("https://app.example/", cookies))
	if c.session.User.ID != "u" {
		t.Errorf("handler saw %q", c.session.User.ID)
	}
}

// A panic's value can hold a session; only its type reaches the log.
func TestCallbackPanicValueNotLogged(t *testing.T) {
	cfg := testConfig(newClock(), "")
	logger, logs := quietLogger()
	cfg.Logger = logger
	cfg.Callbacks.OnSignIn = func(_ contextT, s *Session) { panic("refresh token: RT-SECRET-VALUE") }
	m := mustNew(t, cfg)
	signInCookies(t, m, SignInParams{User: &User{ID: "u"}})
	if out := logs.String(); strings.Contains(out, "RT-SECRET-VALUE") || !strings.Contains(out, "panic_type=string") {
		t.Errorf("log: %s", out)
	}
}

// Every refused credential is reported once, even when another credential
// of the request yields the session.
func TestOnJwtErrorForLosingCredentials(t *testing.T) {
	rec := &cbRecorder{}
	jwks := newJWKSServer(t, rsaSigner())
	clk := newClock()
	cfg := testConfig(clk, jwks.URL)
	cfg.Callbacks = rec.callbacks()
	m := mustNew(t, cfg)
	cookies := signInCookies(t, m, SignInParams{User: &User{ID: "u"}})
	rec.take()

	// A tampered cookie beside a valid bearer token.
	req := httptest.NewRequest(http.MethodGet, "https://app.example/", nil)
	req.Header.Set("Cookie", "__Host-sessionkit=Zm9v")
	req.Header.Set("Authorization", "Bearer "+rsaSigner().Mint(t, claimsFor(t0)))
	var c capture
	serve(m.Middleware(c.handler(m)), req)
	if got := rec.take(); !c.ok || !slices.Equal(got, []string{"OnJwtError"}) {
		t.Errorf("tampered cookie + bearer: ok %v fired %v", c.ok, got)
	}
	// A forged bearer token beside an expired cookie session.
	clk.Advance(defaultLifetime)
	req = requestWith("https://app.example/", cookies)
	req.Header.Set("Authorization", "Bearer a.b.c")
	var c2 capture
	serve(m.Middleware(c2.handler(m)), req)
	if got := rec.take(); c2.srvSess == nil || c2.srvSess.Source != SourceCookie || !slices.Equal(got, []string{"OnJwtError", "OnSessionExpired"}) {
		t.Errorf("forged bearer + expired cookie: session %v fired %v", c2.srvSess, got)
	}
}
