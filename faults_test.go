package sessionkit

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/sessionkit/sessionkit/internal/jwtverify"
	"github.com/sessionkit/sessionkit/internal/refresh"
	"github.com/sessionkit/sessionkit/internal/testclock"
)

// Fault injection: the provider's endpoints (JWKS, discovery, token) fail
// in every way a network or a provider can, while requests go on. For each
// fault the documented behaviour must hold: no panic, no 5xx from
// Middleware or Require, the session (or the keys) kept where the design
// keeps them, and recovery once the fault clears.

// faultyServer serves a provider's endpoints, each healthy until a test
// injects a fault into it, and counts the requests each path receives.
type faultyServer struct {
	*httptest.Server
	mu      sync.Mutex
	healthy map[string]http.HandlerFunc
	fault   map[string]http.HandlerFunc
	hits    map[string]int
}

func newFaultyServer(t *testing.T) *faultyServer {
	s := &faultyServer{healthy: map[string]http.HandlerFunc{}, fault: map[string]http.HandlerFunc{}, hits: map[string]int{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.hits[r.URL.Path]++
		h := s.fault[r.URL.Path]
		if h == nil {
			h = s.healthy[r.URL.Path]
		}
		s.mu.Unlock()
		if h == nil {
			http.NotFound(w, r)
			return
		}
		h(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *faultyServer) handle(path string, h http.HandlerFunc) {
	s.mu.Lock()
	s.healthy[path] = h
	s.mu.Unlock()
}

// inject makes path answer with f; nil clears the fault.
func (s *faultyServer) inject(path string, f http.HandlerFunc) {
	s.mu.Lock()
	s.fault[path] = f
	s.mu.Unlock()
}

func (s *faultyServer) count(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[path]
}

// The faults, each as a handler.
var (
	faultDown = func(w http.ResponseWriter, r *http.Request) { http.Error(w, "down", http.StatusServiceUnavailable) }
	fault500  = func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = io.WriteString(w, `{"error":"server_error"}`)
	}
	faultHang = func(w http.ResponseWriter, r *http.Request) {
		// Reading the body lets net/http see the client hang up, which
		// ends r's context.
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	}
	faultMalformed = func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"keys": [ {"access_token": "x", "expires_in": `)
	}
	faultHTML = func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = io.WriteString(w, "<html><body>Service temporarily unavailable</body></html>")
	}
	faultHuge = func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"access_token":"`)
		_, _ = w.Write(bytes.Repeat([]byte("a"), 2<<20))
		_, _ = io.WriteString(w, `","token_type":"Bearer","keys":[]}`)
	}
	faultRedirectLoop = func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, r.URL.Path, http.StatusTemporaryRedirect)
	}
	faultDrop = func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			_ = conn.Close()
		}
	}
	faultInvalidGrant = func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, `{"error":"invalid_grant","error_description":"refresh token revoked"}`)
	}
)

// commonFaults are the faults every endpoint is put through.
var commonFaults = []struct {
	name  string
	fault http.HandlerFunc
}{
	{"down (503)", faultDown},
	{"500", fault500},
	{"slow past the timeout", faultHang},
	{"malformed JSON", faultMalformed},
	{"an HTML page with 200", faultHTML},
	{"a body over 1 MiB", faultHuge},
	{"a redirect loop", faultRedirectLoop},
	{"connection dropped", faultDrop},
}

// healthyToken answers refresh_token grants with a new access token valid
// for an hour of clk's time (expires_in is relative to the real clock,
// which golang.org/x/oauth2 reads).
func healthyToken(clk *testclock.Clock, n *int, mu *sync.Mutex) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.PostFormValue("grant_type") != "refresh_token" || r.PostFormValue("refresh_token") == "" {
			faultInvalidGrant(w, r)
			return
		}
		mu.Lock()
		*n++
		at := "at-fresh-" + itoa(*n)
		mu.Unlock()
		tokenJSON(w, map[string]any{"access_token": at, "token_type": "Bearer", "expires_in": expiresIn(clk, time.Hour)})
	}
}

// expiresIn is the expires_in that makes golang.org/x/oauth2, which adds
// it to the real clock, compute an expiry d after clk's now. It is never 0,
// which would mean "no expiry".
func expiresIn(clk *testclock.Clock, d time.Duration) int {
	s := int(clk.Now().Add(d).Sub(time.Now()).Seconds())
	if s == 0 {
		s = 1
	}
	return s
}

// mergeCookies applies the Set-Cookie lines of resp to jar, as a browser
// would.
func mergeCookies(jar []*http.Cookie, set []*http.Cookie) []*http.Cookie {
	out := map[string]*http.Cookie{}
	var order []string
	for _, c := range slices.Concat(jar, set) {
		if _, ok := out[c.Name]; !ok {
			order = append(order, c.Name)
		}
		out[c.Name] = c
	}
	var res []*http.Cookie
	for _, n := range order {
		if c := out[n]; c.MaxAge >= 0 && c.Value != "" {
			res = append(res, c)
		}
	}
	return res
}

// refreshStep sends one request with cookies through m's middleware and
// returns what the handler saw, the callbacks fired and the cookie jar
// after the response.
func refreshStep(t *testing.T, m *Manager, rec *advRecorder, cookies []*http.Cookie) (*capture, []advCall, []*http.Cookie) {
	t.Helper()
	var c capture
	resp := serve(m.Middleware(c.handler(m)), requestWith("https://app.example/", cookies))
	if resp.Code != http.StatusOK {
		t.Fatalf("Middleware answered %d, want the handler's 200", resp.Code)
	}
	if !c.ok || c.session.User.ID != "u" {
		t.Fatalf("session lost: ok %v session %v err %v", c.ok, c.session, c.srvErr)
	}
	return &c, rec.take(), mergeCookies(cookies, resp.Result().Cookies())
}

// expectRefreshFailed checks a request that met a failed refresh.
func expectRefreshFailed(t *testing.T, step string, c *capture, fired []advCall, refused bool) {
	t.Helper()
	s := c.session
	if s.Error != RefreshAccessTokenError || s.AccessToken != "at-0" {
		t.Errorf("%s: got error %q access token %q, want %q and the old token", step, s.Error, s.AccessToken, RefreshAccessTokenError)
	}
	wantRT := "rt-0"
	if refused {
		wantRT = ""
	}
	if s.RefreshToken != wantRT {
		t.Errorf("%s: refresh token %q, want %q", step, s.RefreshToken, wantRT)
	}
	if got, want := names0(fired), []string{"OnAccessTokenError", "OnAccessTokenExpired"}; !slices.Equal(got, want) {
		t.Errorf("%s: callbacks %v, want %v", step, got, want)
	}
	for _, f := range fired {
		if f.name != "OnAccessTokenError" || f.err == nil {
			continue
		}
		if !errors.Is(f.err, ErrRefreshFailed) {
			t.Errorf("%s: OnAccessTokenError got %v, want ErrRefreshFailed", step, f.err)
		}
		if f.err != errRefreshRecorded && errors.Is(f.err, ErrRefreshTokenInvalid) != refused {
			t.Errorf("%s: OnAccessTokenError got %v, want ErrRefreshFailed (refused token: %v)", step, f.err, refused)
		}
	}
}

// TestFaultsTokenEndpoint: the token endpoint fails while a session is due
// for refresh. The request goes on with its session, flagged; the failure
// is not retried before the backoff; a refused refresh token is dropped for
// good, any other failure is retried and recovers once the fault clears.
func TestFaultsTokenEndpoint(t *testing.T) {
	faults := append(slices.Clone(commonFaults), struct {
		name  string
		fault http.HandlerFunc
	}{"invalid_grant", faultInvalidGrant})
	for _, tt := range faults {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			refused := tt.name == "invalid_grant"
			clk := newClock()
			srv := newFaultyServer(t)
			var n int
			var mu sync.Mutex
			srv.handle("/token", healthyToken(clk, &n, &mu))
			rec := &advRecorder{}
			m := mustNew(t, refreshConfig(clk, srv.URL+"/token", func(c *Config) {
				// Requests stop waiting at 300 ms; a hung exchange ends at
				// the client's 500 ms timeout and records its failure.
				c.RefreshTimeout = 300 * time.Millisecond
				c.FetchTimeout = 500 * time.Millisecond
				c.Callbacks = rec.callbacks()
			}))
			jar := signInCookies(t, m, SignInParams{Token: tokenOf("at-0", "rt-0", t0.Add(-time.Second)), Provider: "idp", User: &User{ID: "u"}})
			rec.take()

			srv.inject("/token", tt.fault)
			began := time.Now()
			c, fired, jar := refreshStep(t, m, rec, jar)
			if d := time.Since(began); d > 5*time.Second {
				t.Errorf("the failing refresh held the request for %v", d)
			}
			expectRefreshFailed(t, "during the fault", c, fired, refused)
			if srv.count("/token") == 0 {
				t.Fatal("the token endpoint was never asked")
			}

			// Within the backoff (or with the token dropped) the provider
			// is not asked again.
			calls := srv.count("/token")
			c, fired, jar = refreshStep(t, m, rec, jar)
			expectRefreshFailed(t, "right after", c, fired, refused)
			if got := srv.count("/token"); got != calls {
				t.Errorf("right after: %d more token calls, want none", got-calls)
			}

			// The failing exchange may still be reading its answer (a
			// request stops waiting at RefreshTimeout, the exchange goes
			// on): let it end before the provider heals, or the next
			// request would join it and fail with it.
			m.refresher.cookies.Wait()
			srv.inject("/token", nil)
			clk.Advance(refresh.BackoffMin)
			c, fired, _ = refreshStep(t, m, rec, jar)
			if refused {
				if got := srv.count("/token"); got != calls {
					t.Errorf("a refused refresh token was sent again (%d calls)", got-calls)
				}
				if c.session.Error != RefreshAccessTokenError || c.session.RefreshToken != "" {
					t.Errorf("after the fault: error %q refresh token %q, want the flag and no token", c.session.Error, c.session.RefreshToken)
				}
				return
			}
			if !strings.HasPrefix(c.session.AccessToken, "at-fresh-") || c.session.Error != "" {
				t.Errorf("after the fault: access token %q error %q, want a fresh token and no error", c.session.AccessToken, c.session.Error)
			}
			if got := names0(fired); !slices.Equal(got, []string{"OnSessionUpdate"}) {
				t.Errorf("after the fault: callbacks %v, want [OnSessionUpdate]", got)
			}
		})
	}
}

// discoveryDocFor is a healthy discovery document for the faulty server.
func discoveryDocFor(base string) map[string]any {
	return map[string]any{
		"issuer": base, "authorization_endpoint": base + "/authorize", "token_endpoint": base + "/token",
		"jwks_uri": base + "/keys", "token_endpoint_auth_methods_supported": []string{"client_secret_post"},
	}
}

// TestFaultsDiscovery: the discovery document fails while a session of a
// discovered provider is due for refresh. The request goes on, flagged;
// once the fault clears and the retry pause has passed, the provider is
// discovered and the session refreshed.
func TestFaultsDiscovery(t *testing.T) {
	faults := append(slices.Clone(commonFaults), struct {
		name  string
		fault http.HandlerFunc
	}{"another issuer", func(w http.ResponseWriter, r *http.Request) {
		tokenJSON(w, discoveryDocFor("https://evil.example"))
	}}, struct {
		name  string
		fault http.HandlerFunc
	}{"a plain-http token endpoint off loopback", func(w http.ResponseWriter, r *http.Request) {
		d := discoveryDocFor("http://" + r.Host)
		d["token_endpoint"] = "http://idp.example/token"
		tokenJSON(w, d)
	}})
	for _, tt := range faults {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clk := newClock()
			srv := newFaultyServer(t)
			var n int
			var mu sync.Mutex
			srv.handle("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
				tokenJSON(w, discoveryDocFor("http://"+r.Host))
			})
			srv.handle("/token", healthyToken(clk, &n, &mu))
			srv.handle("/keys", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(jwksBody(rsaSigner())) })
			rec := &advRecorder{}
			cfg := testConfig(clk, "")
			// Discovery gives up before the refresh that waits for it, so
			// that the failure is recorded when the request ends.
			cfg.FetchTimeout = 300 * time.Millisecond
			cfg.RefreshTimeout = 3 * time.Second
			cfg.Callbacks = rec.callbacks()
			cfg.Providers = []Provider{{ID: "idp", Issuer: srv.URL, ClientID: "c", ClientSecret: "s"}}
			m := mustNew(t, cfg)
			jar := signInCookies(t, m, SignInParams{Token: tokenOf("at-0", "rt-0", t0.Add(-time.Second)), Provider: "idp", User: &User{ID: "u"}})
			rec.take()

			srv.inject("/.well-known/openid-configuration", tt.fault)
			began := time.Now()
			c, fired, jar := refreshStep(t, m, rec, jar)
			if d := time.Since(began); d > 5*time.Second {
				t.Errorf("the failing discovery held the request for %v", d)
			}
			expectRefreshFailed(t, "during the fault", c, fired, false)
			for _, f := range fired {
				if f.name == "OnAccessTokenError" && !errors.Is(f.err, ErrProviderUnavailable) {
					t.Errorf("OnAccessTokenError got %v, want ErrProviderUnavailable", f.err)
				}
			}
			if srv.count("/token") != 0 {
				t.Error("the token endpoint was asked although discovery failed")
			}

			srv.inject("/.well-known/openid-configuration", nil)
			clk.Advance(discoveryRetry)
			c, _, _ = refreshStep(t, m, rec, jar)
			if !strings.HasPrefix(c.session.AccessToken, "at-fresh-") || c.session.Error != "" {
				t.Errorf("after the fault: access token %q error %q, want a fresh token", c.session.AccessToken, c.session.Error)
			}
		})
	}
}

// TestFaultsJWKS: the JWKS endpoint fails after the keys were fetched,
// while the provider rotates a new key in. Tokens by the held keys go on
// verifying, tokens by the new key are refused with a 401 (never a 5xx, and
// quickly), and the new key is picked up once the fault clears.
func TestFaultsJWKS(t *testing.T) {
	faults := append(slices.Clone(commonFaults),
		struct {
			name  string
			fault http.HandlerFunc
		}{"404", http.NotFound},
	)
	type row struct {
		name  string
		fault http.HandlerFunc
	}
	var rows []row
	for _, f := range faults {
		rows = append(rows, row{name: f.name, fault: f.fault})
	}
	rows = append(rows,
		row{"an empty key set with 200", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, `{"keys":[]}`) }},
		row{"only unusable keys with 200", func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, `{"keys":[{"kty":"RSA","kid":"rsa-1","n":"!!","e":"AQAB"},{"kty":"weird"}]}`)
		}},
	)
	for _, tt := range rows {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newFaultyServer(t)
			var mu sync.Mutex
			signers := []signer{rsaSigner()}
			srv.handle("/jwks", func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				defer mu.Unlock()
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write(jwksBody(signers...))
			})
			clk := newClock()
			cfg := testConfig(clk, srv.URL+"/jwks")
			cfg.FetchTimeout = 300 * time.Millisecond
			cfg.Bearer.jwksMinWait = 20 * time.Millisecond
			m := mustNew(t, cfg)
			held := rsaSigner().Mint(t, claimsFor(t0))
			rotated := rsa2Signer().Mint(t, claimsFor(t0))
			require := func(raw string) int {
				req := httptest.NewRequest(http.MethodGet, "https://api.example/", nil)
				req.Header.Set("Authorization", "Bearer "+raw)
				return serve(m.Require(http.NotFoundHandler()), req).Code
			}
			if code := require(held); code != http.StatusNotFound {
				t.Fatalf("before the fault: got %d, want the handler's 404", code)
			}

			srv.inject("/jwks", tt.fault)
			mu.Lock()
			signers = []signer{rsaSigner(), rsa2Signer()}
			mu.Unlock()
			fetches := srv.count("/jwks")
			began := time.Now()
			if code := require(rotated); code != http.StatusUnauthorized {
				t.Errorf("new key during the fault: got %d, want 401", code)
			}
			if d := time.Since(began); d > 5*time.Second {
				t.Errorf("the failing JWKS held the request for %v", d)
			}
			settle(m)
			if srv.count("/jwks") == fetches {
				t.Error("the unknown kid caused no fetch")
			}
			if code := require(held); code != http.StatusNotFound {
				t.Errorf("held key after a failed fetch: got %d, want the handler's 404", code)
			}

			srv.inject("/jwks", nil)
			deadline := time.Now().Add(5 * time.Second)
			for {
				code := require(rotated)
				if code == http.StatusNotFound {
					break
				}
				if code != http.StatusUnauthorized || time.Now().After(deadline) {
					t.Fatalf("after the fault: got %d, want the new key accepted", code)
				}
				settle(m)
				time.Sleep(5 * time.Millisecond) // the rate limit runs on the real clock
			}
		})
	}
}

// A key removed from the JWK Set stops verifying once the set is fetched
// again (here, because a token names a new key).
func TestFaultsJWKSRotatedOutKeyStopsVerifying(t *testing.T) {
	jwks := newJWKSServer(t, rsaSigner())
	m := mustNew(t, testConfig(newClock(), jwks.URL))
	old := rsaSigner().Mint(t, claimsFor(t0))
	if err := verifyErr(m, old); err != nil {
		t.Fatalf("before rotation: %v", err)
	}
	jwks.SetSigners(rsa2Signer())
	if err := verifyErr(m, rsa2Signer().Mint(t, claimsFor(t0))); err != nil {
		t.Fatalf("new key: %v", err)
	}
	if err := verifyErr(m, old); !errors.Is(err, ErrInvalidToken) || !errors.Is(err, jwtverify.ErrNoKey) {
		t.Fatalf("rotated-out key: got %v, want ErrInvalidToken (no key)", err)
	}
}

// Redirects from a provider's endpoints must not defeat the https rule the
// configured URLs obey, nor carry a token request's secrets to another
// origin. The transport is in process: no request leaves the machine.
func TestFaultsRedirectPolicy(t *testing.T) {
	t.Run("JWKS redirected to plain http", func(t *testing.T) {
		tr := newInprocTransport()
		tr.handle("/keys", func(r *http.Request) *http.Response {
			resp := response(http.StatusFound, "", nil)
			resp.Header.Set("Location", "http://plain.example/keys-in-the-clear")
			return resp
		})
		tr.serve("/keys-in-the-clear", http.StatusOK, "application/json", jwksBody(rsaSigner()))
		cfg := testConfig(newClock(), "https://idp.example/keys")
		cfg.HTTPClient = tr.client()
		m := mustNew(t, cfg)
		if err := verifyErr(m, rsaSigner().Mint(t, claimsFor(t0))); err == nil {
			t.Error("a token verified with a key fetched over plain http")
		}
	})
	t.Run("discovery redirected to plain http", func(t *testing.T) {
		tr := newInprocTransport()
		tr.handle("/.well-known/openid-configuration", func(r *http.Request) *http.Response {
			resp := response(http.StatusFound, "", nil)
			resp.Header.Set("Location", "http://plain.example/doc")
			return resp
		})
		tr.serve("/doc", http.StatusOK, "application/json", []byte(mustJSON(map[string]any{
			"issuer": fuzzIssuer, "authorization_endpoint": fuzzIssuer + "/authorize", "token_endpoint": fuzzIssuer + "/token", "jwks_uri": fuzzIssuer + "/keys"})))
		cfg := testConfig(newClock(), "")
		cfg.HTTPClient = tr.client()
		cfg.Providers = []Provider{{ID: "idp", Issuer: fuzzIssuer, ClientID: "c"}}
		m := mustNew(t, cfg)
		p, _ := m.provider("idp")
		if _, err := p.resolve(context.Background()); err == nil {
			t.Error("a discovery document fetched over plain http was used")
		}
	})
	t.Run("token request redirected to another origin", func(t *testing.T) {
		tr := newInprocTransport()
		tr.handle("/token", func(r *http.Request) *http.Response {
			resp := response(http.StatusTemporaryRedirect, "", nil)
			resp.Header.Set("Location", "https://collector.example/steal")
			return resp
		})
		var leaked []string
		var mu sync.Mutex
		tr.handle("/steal", func(r *http.Request) *http.Response {
			mu.Lock()
			if r.PostFormValue("refresh_token") != "" || r.PostFormValue("client_secret") != "" {
				leaked = append(leaked, r.URL.Host)
			}
			mu.Unlock()
			return response(http.StatusBadRequest, "application/json", []byte(`{"error":"invalid_request"}`))
		})
		clk := newClock()
		cfg := refreshConfig(clk, fuzzIssuer+"/token", func(c *Config) { c.HTTPClient = tr.client() })
		cfg.Providers[0].AuthStyle = oauth2.AuthStyleInParams
		m := mustNew(t, cfg)
		jar := signInCookies(t, m, SignInParams{Token: tokenOf("at-0", "rt-0", t0.Add(-time.Second)), Provider: "idp", User: &User{ID: "u"}})
		through(m, requestWith("https://app.example/", jar))
		mu.Lock()
		defer mu.Unlock()
		if len(leaked) != 0 {
			t.Errorf("the refresh token and client secret were re-posted to %v", leaked)
		}
	})
}

// A 307 from the token endpoint would make an HTTP client re-post the
// refresh_token and client_secret to wherever Location points; the
// refresh must not follow it. Unlike TestFaultsRedirectPolicy, the
// endpoints here are real loopback servers behind the default client.
func TestFaultsTokenRedirectForwardsNoSecrets(t *testing.T) {
	var got atomic.Value
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.Store(r.PostFormValue("refresh_token") + " " + r.PostFormValue("client_secret"))
		w.WriteHeader(500)
	}))
	defer other.Close()
	te := newTokenEndpoint(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/steal", http.StatusTemporaryRedirect)
	})
	clk := newClock()
	m := mustNew(t, refreshConfig(clk, te.URL, nil))
	cookies := signInCookies(t, m, SignInParams{Token: tokenOf("at-1", "rt-1", t0), Provider: "idp", User: &User{ID: "u"}})
	through(m, requestWith("https://app.example/", cookies))
	if v, _ := got.Load().(string); v != "" {
		t.Errorf("redirect target received %q", v)
	}
}
