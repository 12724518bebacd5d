package e2e

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/sessionkit/sessionkit"
	"github.com/sessionkit/sessionkit/devoidc"
	"github.com/sessionkit/sessionkit/internal/testclock"
)

const (
	rfClientID     = "app"
	rfClientSecret = "app-secret"
	rfRedirectURI  = "http://127.0.0.1:9/callback"
)

// fault is what the token proxy does to refresh requests.
type fault int32

const (
	passThrough fault = iota
	status500
	hang
	malformedJSON
	forgedIDToken
)

// tokenProxy forwards the token endpoint to the provider, injecting faults
// into refresh_token requests.
type tokenProxy struct {
	*httptest.Server
	fault atomic.Int32
	// rewriteIDToken replaces the id_token of a refresh response when
	// fault is forgedIDToken.
	rewriteIDToken func(string) string
}

func newTokenProxy(t *testing.T, upstream string) *tokenProxy {
	t.Helper()
	u, _ := url.Parse(upstream)
	rp := httputil.NewSingleHostReverseProxy(u)
	p := &tokenProxy{}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(strings.NewReader(string(body)))
		q, _ := url.ParseQuery(string(body))
		if q.Get("grant_type") != "refresh_token" {
			rp.ServeHTTP(w, r)
			return
		}
		switch fault(p.fault.Load()) {
		case status500:
			http.Error(w, `{"error":"server_error"}`, http.StatusInternalServerError)
		case hang:
			select {
			case <-r.Context().Done():
			case <-time.After(10 * time.Second):
			}
		case malformedJSON:
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"access_token": "x", "expires_in": `)
		case forgedIDToken:
			rec := httptest.NewRecorder()
			rp.ServeHTTP(rec, r)
			out := rec.Body.String()
			if i := strings.Index(out, `"id_token":"`); i >= 0 {
				start := i + len(`"id_token":"`)
				end := start + strings.IndexByte(out[start:], '"')
				out = out[:start] + p.rewriteIDToken(out[start:end]) + out[end:]
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(rec.Code)
			io.WriteString(w, out)
		default:
			rp.ServeHTTP(w, r)
		}
	}))
	t.Cleanup(p.Server.Close)
	return p
}

// world is a provider, a token proxy in front of it and a Manager that
// refreshes through the proxy.
type world struct {
	t     *testing.T
	op    *devoidc.Server
	proxy *tokenProxy
	m     *sessionkit.Manager
	clk   *testclock.Clock // the Manager's: real time (the provider's) plus an offset tests advance
	cb    *cbLog
}

// cbLog records the callbacks that fire.
type cbLog struct {
	mu      sync.Mutex
	names   []string
	errs    []error
	updates []*sessionkit.Session
}

func (l *cbLog) add(name string, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.names = append(l.names, name)
	if err != nil {
		l.errs = append(l.errs, err)
	}
}

func (l *cbLog) take() ([]string, []error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	n, e := l.names, l.errs
	l.names, l.errs = nil, nil
	return n, e
}

func (l *cbLog) callbacks() sessionkit.Callbacks {
	return sessionkit.Callbacks{
		OnSessionUpdate: func(_ context.Context, s *sessionkit.Session) {
			l.mu.Lock()
			l.updates = append(l.updates, s)
			l.mu.Unlock()
			l.add("OnSessionUpdate", nil)
		},
		OnAccessTokenError:   func(_ context.Context, _ *sessionkit.Session, err error) { l.add("OnAccessTokenError", err) },
		OnAccessTokenExpired: func(context.Context, *sessionkit.Session) { l.add("OnAccessTokenExpired", nil) },
		OnIdTokenError:       func(_ context.Context, err error) { l.add("OnIdTokenError", err) },
		OnIdTokenExpired:     func(context.Context, *sessionkit.Session) { l.add("OnIdTokenExpired", nil) },
		OnSessionExpired:     func(context.Context, *sessionkit.Session) { l.add("OnSessionExpired", nil) },
	}
}

type worldOpts struct {
	accessTTL time.Duration
	mod       func(*sessionkit.Config)
}

func newWorld(t *testing.T, o worldOpts) *world {
	t.Helper()
	if o.accessTTL == 0 {
		o.accessTTL = 5 * time.Minute
	}
	op, err := devoidc.Listen("127.0.0.1:0", devoidc.Config{
		Clients:        []devoidc.Client{{ID: rfClientID, Secret: rfClientSecret, RedirectURIs: []string{rfRedirectURI}}},
		AutoLogin:      "ada",
		AccessTokenTTL: o.accessTTL,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { op.Close() })
	w := &world{t: t, op: op, proxy: newTokenProxy(t, op.URL()), clk: testclock.Live(), cb: &cbLog{}}
	keys := []byte(strings.Repeat("k", 32))
	cfg := sessionkit.Config{
		Keys: [][]byte{keys},
		Providers: []sessionkit.Provider{{
			ID: "oidc", Issuer: op.URL(), ClientID: rfClientID, ClientSecret: rfClientSecret,
			TokenURL: w.proxy.URL + "/oauth/token",
			Scopes:   []string{"openid", "profile", "email", "offline_access"},
		}},
		Now:            w.clk.Now,
		RefreshTimeout: 2 * time.Second,
		FetchTimeout:   3 * time.Second, // a hung exchange ends at 3 s; requests stop waiting at 2 s
		Callbacks:      w.cb.callbacks(),
		Logger:         slog.New(slog.DiscardHandler),
	}
	if o.mod != nil {
		o.mod(&cfg)
	}
	w.m, err = sessionkit.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.m.Close() })
	return w
}

// signIn runs the authorization-code flow with PKCE against the provider
// and signs the result in; it returns the session cookies.
func (w *world) signIn() []*http.Cookie { return w.signInExpiring(0) }

// signInExpiring is signIn with the access token's expiry moved to d from
// now when d is not 0, as if the token had been issued earlier (the
// provider keeps real time, so the Manager's clock is not moved instead).
func (w *world) signInExpiring(d time.Duration) []*http.Cookie {
	t := w.t
	t.Helper()
	conf := &oauth2.Config{
		ClientID: rfClientID, ClientSecret: rfClientSecret, RedirectURL: rfRedirectURI,
		Endpoint: oauth2.Endpoint{AuthURL: w.op.URL() + "/authorize", TokenURL: w.op.URL() + "/oauth/token"},
		Scopes:   []string{"openid", "profile", "email", "offline_access"},
	}
	verifier := oauth2.GenerateVerifier()
	browser := &http.Client{CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if strings.HasPrefix(req.URL.String(), rfRedirectURI) {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	defer browser.CloseIdleConnections()
	resp, err := browser.Get(conf.AuthCodeURL("state-1", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("nonce", "nonce-1")))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || loc.Query().Get("code") == "" {
		t.Fatalf("authorize: got %d %q, want a redirect with a code", resp.StatusCode, resp.Header.Get("Location"))
	}
	tok, err := conf.Exchange(context.Background(), loc.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	if d != 0 {
		tok.Expiry = w.clk.Now().Add(d)
	}
	rec := httptest.NewRecorder()
	if _, err := w.m.SignIn(rec, httptest.NewRequest(http.MethodGet, "https://app.example/", nil),
		sessionkit.SignInParams{Token: tok, Nonce: "nonce-1", Provider: "oidc"}); err != nil {
		t.Fatal(err)
	}
	cookies := rec.Result().Cookies()
	if len(cookies) == 0 {
		t.Fatal("sign-in set no cookie")
	}
	w.cb.take()
	return cookies
}

// seen is what a handler behind the middleware observed.
type seen struct {
	session *sessionkit.Session
	ok      bool
	cookies []*http.Cookie // Set-Cookie of the response
	status  int
}

// peek decodes the session of cookies without the middleware (no refresh).
func (w *world) peek(cookies []*http.Cookie) *sessionkit.Session {
	w.t.Helper()
	req := httptest.NewRequest(http.MethodGet, "https://app.example/", nil)
	for _, c := range cookies {
		req.AddCookie(c)
	}
	s, err := w.m.GetServerSession(req)
	if err != nil {
		w.t.Fatal(err)
	}
	return s
}

// get sends one request with cookies through the middleware.
func (w *world) get(ctx context.Context, cookies []*http.Cookie) seen {
	var out seen
	h := w.m.Middleware(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		out.session, out.ok = sessionkit.FromContext(r.Context())
		if !out.ok {
			out.session, _ = w.m.GetServerSession(r)
		}
	}))
	req := httptest.NewRequest(http.MethodGet, "https://app.example/", nil).WithContext(ctx)
	for _, c := range cookies {
		req.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	out.cookies = rec.Result().Cookies()
	out.status = rec.Code
	return out
}

// merge applies Set-Cookie results to a cookie jar held as a slice.
func merge(jar, set []*http.Cookie) []*http.Cookie {
	byName := map[string]*http.Cookie{}
	var order []string
	for _, c := range jar {
		byName[c.Name] = c
		order = append(order, c.Name)
	}
	for _, c := range set {
		if _, ok := byName[c.Name]; !ok {
			order = append(order, c.Name)
		}
		byName[c.Name] = c
	}
	var out []*http.Cookie
	for _, n := range order {
		c := byName[n]
		if c.MaxAge < 0 || c.Value == "" {
			continue
		}
		out = append(out, &http.Cookie{Name: c.Name, Value: c.Value})
	}
	return out
}
