package e2e

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit"
	"github.com/sessionkit/sessionkit/devoidc"
	"github.com/sessionkit/sessionkit/internal/testclock"
	"github.com/sessionkit/sessionkit/memstore"
)

// logBuffer collects a Manager's log lines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func (l *logBuffer) logger() *slog.Logger { return slog.New(slog.NewTextHandler(l, nil)) }

// serverSession is the app's session of b's cookies, read without the
// middleware.
func (b *browser) serverSession(a *signInApp) *sessionkit.Session {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, a.URL+"/", nil)
	for _, c := range b.c.Jar.Cookies(req.URL) {
		req.AddCookie(c)
	}
	s, err := a.m.GetServerSession(req)
	if err != nil {
		b.t.Fatalf("GetServerSession: %v", err)
	}
	return s
}

// A provider that keeps the profile out of the ID token (oidc-provider's
// default) is asked at its userinfo endpoint, unless UserInfo is "never".
func TestSignInUserInfoWhenIDTokenLacksProfile(t *testing.T) {
	for _, tc := range []struct {
		mode      string
		wantEmail string
	}{{"", "ada@example.com"}, {"always", "ada@example.com"}, {"never", ""}} {
		t.Run("UserInfo "+tc.mode, func(t *testing.T) {
			a := startApp(t, appOptions{
				idp:    func(c *devoidc.Config) { c.IDTokenWithoutProfile = true },
				config: func(c *sessionkit.Config) { c.Providers[0].UserInfo = tc.mode },
			})
			b := newBrowser(t)
			b.signIn(a, "/")
			user, _ := b.session(a)["user"].(map[string]any)
			if user["id"] != "user_ada" || (user["email"] != nil) != (tc.wantEmail != "") || (tc.wantEmail != "" && user["email"] != tc.wantEmail) {
				t.Fatalf("session user: got %v, want id user_ada, email %q", user, tc.wantEmail)
			}
		})
	}
}

// Asking for offline_access sends prompt=consent, without which a
// conformant provider grants no refresh token; when none is granted, a
// warning is logged.
func TestSignInOfflineAccess(t *testing.T) {
	logs := &logBuffer{}
	a := startApp(t, appOptions{
		idp:    func(c *devoidc.Config) { c.OfflineAccessNeedsConsent = true },
		config: func(c *sessionkit.Config) { c.Logger = logs.logger() },
	})
	b := newBrowser(t)
	b.signIn(a, "/")
	reqs := a.idp.AuthorizeRequests()
	if len(reqs) != 1 || reqs[0].Get("prompt") != "consent" || !strings.Contains(reqs[0].Get("scope"), "offline_access") {
		t.Fatalf("authorization requests: got %v, want one with prompt=consent and offline_access", reqs)
	}
	if s := b.serverSession(a); s.RefreshToken == "" {
		t.Fatal("no refresh token after sign-in with offline_access and consent")
	}
	if strings.Contains(logs.String(), "no refresh token") {
		t.Fatalf("warning logged for a granted refresh token: %s", logs)
	}

	// A prompt without consent: the provider drops offline_access.
	b2 := newBrowser(t)
	cb := b2.authorize(a, replaceParam(t, b2.startSignIn(a, "/"), "prompt", "login"))
	if r := b2.get(cb); r.status != http.StatusFound {
		t.Fatalf("callback: got %d %s, want 302", r.status, r.body)
	}
	if s := b2.serverSession(a); s.RefreshToken != "" {
		t.Fatal("refresh token granted without consent")
	}
	if !strings.Contains(logs.String(), "no refresh token granted") {
		t.Fatalf("no warning when offline access was not granted; logs: %s", logs)
	}
}

// A session whose access token expired with no refresh token says so:
// error RefreshAccessTokenError, and OnAccessTokenExpired fires. Times in
// the session JSON are whole seconds.
func TestExpiredAccessTokenWithoutRefreshToken(t *testing.T) {
	clk := testclock.Live()
	var expired sync.WaitGroup
	expired.Add(1)
	var once sync.Once
	a := startApp(t, appOptions{config: func(c *sessionkit.Config) {
		c.Now = clk.Now
		c.Providers[0].Scopes = []string{"openid", "profile", "email"}
		c.Callbacks.OnAccessTokenExpired = func(context.Context, *sessionkit.Session) { once.Do(expired.Done) }
	}})
	b := newBrowser(t)
	b.signIn(a, "/")
	s := b.session(a)
	if s["error"] != nil {
		t.Fatalf("fresh session: got error %v, want none", s["error"])
	}
	exp, _ := s["accessTokenExpiresAt"].(string)
	if _, err := time.Parse(time.RFC3339, exp); err != nil || !strings.HasSuffix(exp, ".000Z") {
		t.Fatalf("accessTokenExpiresAt: got %q, want whole seconds (.000Z)", exp)
	}
	clk.Advance(10 * time.Minute) // devoidc's access tokens live 5 minutes
	s = b.session(a)
	if s["status"] != "active" || s["error"] != sessionkit.RefreshAccessTokenError {
		t.Fatalf("expired access token: got status %v, error %v; want active, %s", s["status"], s["error"], sessionkit.RefreshAccessTokenError)
	}
	expired.Wait()
}

// RFC 9207: with a provider that sends iss in its authorization
// responses, a response naming another issuer, or none, is refused.
func TestSignInResponseIssuer(t *testing.T) {
	a := startApp(t, appOptions{idp: func(c *devoidc.Config) { c.AuthorizationResponseIss = true }})
	b := newBrowser(t)
	cb := b.authorize(a, b.startSignIn(a, "/"))
	if got := param(t, cb, "iss"); got != a.idp.URL() {
		t.Fatalf("devoidc's response: got iss %q, want %q", got, a.idp.URL())
	}
	if r := b.get(cb); r.status != http.StatusFound {
		t.Fatalf("callback with the right iss: got %d %s, want 302", r.status, r.body)
	}
	for _, tc := range []struct{ name, iss, want string }{
		{"another issuer", "https://evil.example", "another issuer"},
		{"no iss", "", "carries no iss"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBrowser(t)
			cb := b.authorize(a, b.startSignIn(a, "/"))
			r := b.get(replaceParam(t, cb, "iss", tc.iss))
			if r.status != http.StatusBadRequest || !strings.Contains(r.body, "InvalidCheck") || !strings.Contains(r.body, tc.want) {
				t.Fatalf("got %d %q, want 400 InvalidCheck saying %q", r.status, r.body, tc.want)
			}
			if s := b.session(a); len(s) != 0 {
				t.Fatalf("session after a refused response: got %v, want {}", s)
			}
		})
	}
}

// A logout token without exp, as Ory Hydra sends, ends the session when
// the provider allows it, once; otherwise it is refused, and the refusal
// logged with its reason.
func TestBackChannelLogoutWithoutExp(t *testing.T) {
	for _, allow := range []bool{true, false} {
		t.Run("allowed "+map[bool]string{true: "yes", false: "no"}[allow], func(t *testing.T) {
			logs := &logBuffer{}
			st, err := memstore.New(memstore.Config{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			a := startApp(t, appOptions{config: func(c *sessionkit.Config) {
				c.Store, c.Logger = st, logs.logger()
				c.Providers[0].AllowLogoutTokenWithoutExp = allow
			}})
			b := newBrowser(t)
			b.signIn(a, "/")
			tok, err := a.idp.LogoutToken(clientID, "user_ada", "", false)
			if err != nil {
				t.Fatal(err)
			}
			post := func() response {
				return newBrowser(t).post(a.URL+"/api/auth/backchannel-logout", url.Values{"logout_token": {tok}}, nil)
			}
			r := post()
			if !allow {
				if r.status != http.StatusBadRequest || !strings.Contains(logs.String(), "logout token refused") || !strings.Contains(logs.String(), "exp") {
					t.Fatalf("got %d %q, logs %q; want 400 and the reason logged", r.status, r.body, logs)
				}
				if strings.Contains(logs.String(), tok[:20]) {
					t.Fatal("the log holds the token")
				}
				if s := b.session(a); s["status"] != "active" {
					t.Fatalf("session after a refused logout token: got %v, want active", s)
				}
				return
			}
			if r.status != http.StatusOK {
				t.Fatalf("got %d %q, want 200", r.status, r.body)
			}
			if s := b.session(a); len(s) != 0 {
				t.Fatalf("session after back-channel logout: got %v, want {}", s)
			}
			if r := post(); r.status != http.StatusBadRequest || !strings.Contains(logs.String(), "replayed") {
				t.Fatalf("replayed token: got %d %q, logs %q; want 400 and replayed logged", r.status, r.body, logs)
			}
		})
	}
}

// accessTokenExpiresAt is whole seconds after a refresh too, as at sign-in.
func TestRefreshedExpiryWholeSeconds(t *testing.T) {
	w := newWorld(t, worldOpts{})
	jar := w.signInExpiring(-time.Second)
	got := w.get(context.Background(), jar)
	if n := w.op.Refreshes(); n != 1 || got.session == nil {
		t.Fatalf("refreshes: got %d, want 1 and a session", n)
	}
	if exp := got.session.AccessTokenExpiresAt; exp.IsZero() || exp.Nanosecond() != 0 {
		t.Fatalf("AccessTokenExpiresAt after a refresh: got %v, want whole seconds", exp)
	}
}
