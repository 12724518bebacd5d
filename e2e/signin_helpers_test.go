package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit"
	"github.com/sessionkit/sessionkit/devoidc"
)

const (
	clientID     = "web"
	clientSecret = "web-secret"
)

// signInApp is an application on sessionkit with devoidc as its provider,
// both on loopback ports.
type signInApp struct {
	URL string
	srv *httptest.Server
	idp *devoidc.Server
	m   *sessionkit.Manager
}

// appOptions tunes startApp.
type appOptions struct {
	autoLogin string                     // devoidc's AutoLogin; default "ada"
	config    func(c *sessionkit.Config) // changes to the Manager's Config
	idp       func(c *devoidc.Config)    // changes to devoidc's Config
}

// startApp starts devoidc and an application that mounts Handler at
// /api/auth, a protected page at /protected and a protected API at
// /api/me. Everything is closed when the test ends.
func startApp(t *testing.T, o appOptions) *signInApp {
	t.Helper()
	if o.autoLogin == "" {
		o.autoLogin = "ada"
	}
	srv := httptest.NewUnstartedServer(nil)
	a := &signInApp{srv: srv, URL: "http://" + srv.Listener.Addr().String()}
	idpCfg := devoidc.Config{
		Clients:   []devoidc.Client{{ID: clientID, Secret: clientSecret, RedirectURIs: []string{a.URL + "/api/auth/callback/oidc"}}},
		AutoLogin: o.autoLogin,
	}
	if o.idp != nil {
		o.idp(&idpCfg)
	}
	idp, err := devoidc.Listen("127.0.0.1:0", idpCfg)
	if err != nil {
		srv.Close()
		t.Fatal(err)
	}
	a.idp = idp
	keys := []byte(strings.Repeat("e2e sign-in secret ", 3))
	transport := &http.Transport{}
	cfg := sessionkit.Config{
		Keys: [][]byte{keys},
		Providers: []sessionkit.Provider{{
			ID: "oidc", Name: "Dev OIDC", Issuer: idp.URL(), ClientID: clientID, ClientSecret: clientSecret,
			Scopes: []string{"openid", "profile", "email", "offline_access"},
		}},
		HTTPClient:   &http.Client{Transport: transport, Timeout: 5 * time.Second},
		FetchTimeout: 5 * time.Second,
	}
	if o.config != nil {
		o.config(&cfg)
	}
	m, err := sessionkit.New(cfg)
	if err != nil {
		srv.Close()
		idp.Close()
		t.Fatal(err)
	}
	a.m = m
	mux := http.NewServeMux()
	mux.Handle("/api/auth/", m.Handler())
	mux.Handle("GET /protected", m.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := sessionkit.FromContext(r.Context())
		io.WriteString(w, "hello "+s.User.Email)
	})))
	srv.Config.Handler = m.Middleware(mux)
	srv.Start()
	t.Cleanup(func() {
		srv.Close()
		m.Close()
		idp.Close()
		transport.CloseIdleConnections()
	})
	return a
}

// browser is an HTTP client with a cookie jar that does not follow
// redirects, so that tests see each step.
type browser struct {
	t  *testing.T
	c  *http.Client
	tr *http.Transport
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{}
	b := &browser{t: t, tr: tr, c: &http.Client{Jar: jar, Transport: tr, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	t.Cleanup(tr.CloseIdleConnections)
	return b
}

// response is a read and closed HTTP response.
type response struct {
	status   int
	header   http.Header
	body     string
	location string
}

func (b *browser) do(req *http.Request) response {
	b.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: string(body), location: resp.Header.Get("Location")}
}

func (b *browser) get(u string) response {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.do(req)
}

// post sends form as a same-origin browser fetch would.
func (b *browser) post(u string, form url.Values, header map[string]string) response {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	return b.do(req)
}

// follow follows redirects from u until one points at a URL starting with
// stop (returned without being requested) or a non-redirect answer.
func (b *browser) follow(u, stop string) (response, string) {
	b.t.Helper()
	for range 10 {
		if stop != "" && strings.HasPrefix(u, stop) {
			return response{}, u
		}
		r := b.get(u)
		if r.location == "" {
			return r, u
		}
		next, err := url.Parse(u)
		if err != nil {
			b.t.Fatal(err)
		}
		loc, err := next.Parse(r.location)
		if err != nil {
			b.t.Fatal(err)
		}
		u = loc.String()
	}
	b.t.Fatalf("too many redirects from %s", u)
	return response{}, ""
}

// csrf fetches a CSRF token (and its cookie).
func (b *browser) csrf(a *signInApp) string {
	b.t.Helper()
	r := b.get(a.URL + "/api/auth/csrf")
	var v struct{ CSRFToken string }
	if err := json.Unmarshal([]byte(r.body), &v); err != nil || r.status != http.StatusOK || len(v.CSRFToken) != 64 {
		b.t.Fatalf("GET /csrf: got %d %q, want 200 and a 64-character token", r.status, r.body)
	}
	return v.CSRFToken
}

// startSignIn begins a sign-in and returns the provider's authorization
// URL.
func (b *browser) startSignIn(a *signInApp, callbackURL string) string {
	b.t.Helper()
	r := b.get(a.URL + "/api/auth/signin/oidc?callbackUrl=" + url.QueryEscape(callbackURL))
	if r.status != http.StatusFound || !strings.HasPrefix(r.location, a.idp.URL()+"/authorize?") {
		b.t.Fatalf("GET /signin/oidc: got %d to %q, want 302 to the provider", r.status, r.location)
	}
	return r.location
}

// authorize runs the provider's side (auto login) and returns the URL it
// sends the browser back to.
func (b *browser) authorize(a *signInApp, authURL string) string {
	b.t.Helper()
	r, u := b.follow(authURL, a.URL+"/api/auth/callback/oidc")
	if !strings.HasPrefix(u, a.URL+"/api/auth/callback/oidc") {
		b.t.Fatalf("authorize: stopped at %s (%d %s), want the app's callback", u, r.status, r.body)
	}
	return u
}

// signIn runs the whole flow and returns where the app sent the browser.
func (b *browser) signIn(a *signInApp, callbackURL string) string {
	b.t.Helper()
	cb := b.authorize(a, b.startSignIn(a, callbackURL))
	r := b.get(cb)
	if r.status != http.StatusFound {
		b.t.Fatalf("callback: got %d %s, want 302", r.status, r.body)
	}
	return r.location
}

// session is GET /api/auth/session decoded.
func (b *browser) session(a *signInApp) map[string]any {
	b.t.Helper()
	r := b.get(a.URL + "/api/auth/session")
	var v map[string]any
	if err := json.Unmarshal([]byte(r.body), &v); err != nil || r.status != http.StatusOK {
		b.t.Fatalf("GET /session: got %d %q, want 200 and JSON", r.status, r.body)
	}
	return v
}
