package devoidc_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
	"golang.org/x/oauth2"

	"github.com/sessionkit/sessionkit/devoidc"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const redirect = "http://127.0.0.1:9/callback"

func start(t *testing.T, cfg devoidc.Config) *devoidc.Server {
	t.Helper()
	if cfg.Clients == nil {
		cfg.Clients = []devoidc.Client{{ID: "web", Secret: "secret", RedirectURIs: []string{redirect}}}
	}
	s, err := devoidc.Listen("127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// authorize follows the provider's redirects from the authorization URL up
// to the client's redirect URI and returns its query.
func authorize(t *testing.T, u string) url.Values {
	t.Helper()
	c := &http.Client{CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if strings.HasPrefix(req.URL.String(), redirect) {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	defer c.CloseIdleConnections()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || !strings.HasPrefix(loc.String(), redirect) {
		t.Fatalf("authorize: got %d to %q, want a redirect to %s", resp.StatusCode, loc, redirect)
	}
	return loc.Query()
}

func TestCodeFlowRefreshAndReuseDetection(t *testing.T) {
	s := start(t, devoidc.Config{AutoLogin: "ada", AccessTokenTTL: 30 * time.Second})
	conf := &oauth2.Config{
		ClientID: "web", ClientSecret: "secret", RedirectURL: redirect,
		Endpoint: oauth2.Endpoint{AuthURL: s.URL() + "/authorize", TokenURL: s.URL() + "/oauth/token", AuthStyle: oauth2.AuthStyleInHeader},
		Scopes:   []string{"openid", "profile", "email", "offline_access"},
	}
	verifier := oauth2.GenerateVerifier()
	q := authorize(t, conf.AuthCodeURL("st4te", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("nonce", "n0nce")))
	if got := q.Get("state"); got != "st4te" {
		t.Fatalf("state: got %q, want st4te", got)
	}
	ctx := context.Background()
	tok, err := conf.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	if tok.RefreshToken == "" || tok.Extra("id_token") == nil {
		t.Fatalf("exchange: got refresh %q, id_token %v; want both", tok.RefreshToken, tok.Extra("id_token"))
	}
	if ttl := time.Until(tok.Expiry); ttl < 25*time.Second || ttl > 31*time.Second {
		t.Fatalf("access token TTL: got %v, want about 30s", ttl)
	}
	refresh := func(rt string) (*oauth2.Token, error) {
		return conf.TokenSource(ctx, &oauth2.Token{RefreshToken: rt}).Token()
	}
	tok2, err := refresh(tok.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	if tok2.RefreshToken == tok.RefreshToken || tok2.AccessToken == tok.AccessToken {
		t.Fatal("refresh did not rotate the tokens")
	}
	// Replaying the rotated-out token is refused and revokes its family.
	for _, rt := range []string{tok.RefreshToken, tok2.RefreshToken} {
		_, err = refresh(rt)
		var re *oauth2.RetrieveError
		if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
			t.Fatalf("refresh after reuse: got %v, want invalid_grant", err)
		}
	}
	if got := s.Refreshes(); got != 3 {
		t.Errorf("Refreshes: got %d, want 3", got)
	}
	if got := s.CodeExchanges(); got != 1 {
		t.Errorf("CodeExchanges: got %d, want 1", got)
	}
}

func TestLoginPage(t *testing.T) {
	s := start(t, devoidc.Config{})
	resp, err := http.Get(s.URL() + "/login?id=x")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(body), `id="login-ada"`) {
		t.Fatalf("login page lacks a button for ada:\n%s", body)
	}
}

func TestNewRejects(t *testing.T) {
	ok := []devoidc.Client{{ID: "a", Secret: "b", RedirectURIs: []string{redirect}}}
	for _, tc := range []struct {
		name, issuer string
		cfg          devoidc.Config
	}{
		{"no clients", "http://127.0.0.1:1", devoidc.Config{}},
		{"issuer with path", "http://127.0.0.1:1/x", devoidc.Config{Clients: ok}},
		{"issuer not a URL", "127.0.0.1", devoidc.Config{Clients: ok}},
		{"short TTL", "http://127.0.0.1:1", devoidc.Config{Clients: ok, AccessTokenTTL: time.Second}},
		{"unknown auto login", "http://127.0.0.1:1", devoidc.Config{Clients: ok, AutoLogin: "nobody"}},
		{"client without secret", "http://127.0.0.1:1", devoidc.Config{Clients: []devoidc.Client{{ID: "a", RedirectURIs: []string{redirect}}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := devoidc.New(tc.issuer, tc.cfg); err == nil {
				t.Fatal("got nil error, want one")
			}
		})
	}
}
