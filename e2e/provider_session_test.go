package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/sessionkit/sessionkit"
	"github.com/sessionkit/sessionkit/devoidc"
	"github.com/sessionkit/sessionkit/memstore"
)

// current is the session of b's cookies at a, read on the server.
func (b *browser) current(a *signInApp) *sessionkit.Session {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, a.URL+"/", nil)
	u, _ := url.Parse(a.URL)
	for _, c := range b.c.Jar.Cookies(u) {
		req.AddCookie(c)
	}
	s, err := a.m.GetServerSession(req)
	if err != nil {
		b.t.Fatalf("the session: %v", err)
	}
	return s
}

// signOut posts the sign-out as next-auth's signOut() does and returns the
// URL it answers.
func (b *browser) signOut(a *signInApp, callbackURL string) string {
	b.t.Helper()
	r := b.post(a.URL+"/api/auth/signout", url.Values{"csrfToken": {b.csrf(a)}, "callbackUrl": {callbackURL}, "json": {"true"}}, nil)
	var v struct{ URL string }
	if err := json.Unmarshal([]byte(r.body), &v); r.status != http.StatusOK || err != nil {
		b.t.Fatalf("sign-out: got %d %q", r.status, r.body)
	}
	return v.URL
}

// waitReceived waits for the provider to have received n requests at path.
func waitReceived(t *testing.T, idp *devoidc.Server, path string, n int) []url.Values {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if got := idp.Received(path); len(got) >= n {
			return got
		} else if time.Now().After(deadline) {
			t.Fatalf("%s: got %d requests, want %d", path, len(got), n)
		}
	}
}

// refreshAt redeems refreshToken at the provider as the app would.
func refreshAt(a *signInApp, refreshToken string) error {
	conf := &oauth2.Config{ClientID: clientID, ClientSecret: clientSecret,
		Endpoint: oauth2.Endpoint{TokenURL: a.idp.URL() + "/oauth/token", AuthStyle: oauth2.AuthStyleInHeader}}
	_, err := conf.TokenSource(context.Background(), &oauth2.Token{RefreshToken: refreshToken}).Token()
	return err
}

func TestSignOutRevokesTheRefreshToken(t *testing.T) {
	tests := []struct {
		name  string
		store bool
		end   func(t *testing.T, a *signInApp, b *browser, s *sessionkit.Session)
	}{
		{name: "stateless sign-out", end: func(t *testing.T, a *signInApp, b *browser, _ *sessionkit.Session) {
			b.signOut(a, "/bye")
		}},
		{name: "stored sign-out", store: true, end: func(t *testing.T, a *signInApp, b *browser, _ *sessionkit.Session) {
			b.signOut(a, "/bye")
		}},
		{name: "Revoke", store: true, end: func(t *testing.T, a *signInApp, _ *browser, s *sessionkit.Session) {
			if err := a.m.Revoke(context.Background(), s.ID); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "RevokeUser", store: true, end: func(t *testing.T, a *signInApp, _ *browser, s *sessionkit.Session) {
			if err := a.m.RevokeUser(context.Background(), s.User.ID); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := startApp(t, appOptions{config: func(c *sessionkit.Config) {
				if tt.store {
					st, err := memstore.New(memstore.Config{})
					if err != nil {
						t.Fatal(err)
					}
					t.Cleanup(func() { st.Close() })
					c.Store = st
				}
			}})
			b := newBrowser(t)
			b.signIn(a, "/")
			s := b.current(a)
			if s.RefreshToken == "" {
				t.Fatal("no refresh token at sign-in")
			}
			tt.end(t, a, b, s)
			got := waitReceived(t, a.idp, devoidc.RevocationPath, 1)
			if f := got[0]; f.Get("token") != s.RefreshToken || f.Get("token_type_hint") != "refresh_token" || f.Get("client_id") != clientID {
				t.Fatalf("revocation request: got %v", f)
			}
			if err := refreshAt(a, s.RefreshToken); err == nil || !strings.Contains(err.Error(), "invalid_grant") {
				t.Fatalf("refreshing after the revocation: got %v, want invalid_grant", err)
			}
		})
	}
}

func TestSignOutAtTheProvider(t *testing.T) {
	a := startApp(t, appOptions{
		idp: func(c *devoidc.Config) {
			c.Clients[0].PostLogoutRedirectURIs = []string{strings.TrimSuffix(c.Clients[0].RedirectURIs[0], "/api/auth/callback/oidc") + "/bye"}
		},
		config: func(c *sessionkit.Config) { c.Providers[0].Logout = true },
	})
	b := newBrowser(t)
	b.signIn(a, "/")
	s := b.current(a)
	end := b.signOut(a, "/bye")
	if !strings.HasPrefix(end, a.idp.URL()+devoidc.EndSessionPath+"?") {
		t.Fatalf("sign-out: got %q, want the provider's end-session URL", end)
	}
	if got := b.session(a); len(got) != 0 {
		t.Fatalf("session after sign-out: got %v, want {}", got)
	}
	r := b.get(end)
	if r.status != http.StatusFound || !strings.HasPrefix(r.location, a.URL+"/bye?state=") {
		t.Fatalf("end session: got %d to %q, want a redirect to %s/bye with the state", r.status, r.location, a.URL)
	}
	q := a.idp.Received(devoidc.EndSessionPath)[0]
	if q.Get("id_token_hint") != s.IDToken || q.Get("client_id") != clientID || q.Get("post_logout_redirect_uri") != a.URL+"/bye" ||
		q.Get("state") != param(t, r.location, "state") {
		t.Fatalf("end-session request: got %v", q)
	}
}

func TestOpaqueBearerTokenByIntrospection(t *testing.T) {
	a := startApp(t, appOptions{config: func(c *sessionkit.Config) {
		c.Providers[0].IntrospectionURL = "discovery"
		c.CacheBytes = -1 // each request asks the provider
	}})
	b := newBrowser(t)
	b.signIn(a, "/")
	tok := b.current(a).AccessToken
	if strings.Count(tok, ".") == 2 {
		t.Fatalf("devoidc issued a JWT access token %q, want an opaque one", tok)
	}
	api := func() response {
		req, _ := http.NewRequest(http.MethodGet, a.URL+"/protected", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		return newBrowser(t).do(req)
	}
	if r := api(); r.status != http.StatusOK || r.body != "hello ada@example.com" {
		t.Fatalf("active opaque token: got %d %q, want 200 hello ada@example.com", r.status, r.body)
	}
	if got := waitReceived(t, a.idp, devoidc.IntrospectionPath, 1); got[0].Get("token") != tok || got[0].Get("client_id") != clientID {
		t.Fatalf("introspection request: got %v", got[0])
	}
	// Revoked at the provider, it is refused.
	req, _ := http.NewRequest(http.MethodPost, a.idp.URL()+devoidc.RevocationPath, strings.NewReader(url.Values{"token": {tok}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(clientID, clientSecret)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("revoke the access token: %v %v", resp, errors.Join(err))
	} else {
		resp.Body.Close()
	}
	if r := api(); r.status != http.StatusUnauthorized || r.header.Get("WWW-Authenticate") == "" {
		t.Fatalf("revoked opaque token: got %d %q, want 401 with WWW-Authenticate", r.status, r.body)
	}
}
