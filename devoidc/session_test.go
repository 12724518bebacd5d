package devoidc_test

import (
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/sessionkit/sessionkit/devoidc"
)

func TestRememberLoginUntilEndSession(t *testing.T) {
	s := start(t, devoidc.Config{RememberLogin: true, Clients: []devoidc.Client{{ID: "web", Secret: "secret",
		RedirectURIs: []string{redirect}, PostLogoutRedirectURIs: []string{"http://127.0.0.1:9/bye"}}}})
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	defer c.CloseIdleConnections()
	conf := &oauth2.Config{ClientID: "web", ClientSecret: "secret", RedirectURL: redirect, Scopes: []string{"openid"},
		Endpoint: oauth2.Endpoint{AuthURL: s.URL() + "/authorize", TokenURL: s.URL() + "/oauth/token"}}
	// step follows redirects from u until the login page (returned) or the
	// client's redirect URI.
	step := func(u string) (loginPage bool, at string) {
		t.Helper()
		for range 10 {
			if strings.HasPrefix(u, redirect) || strings.HasPrefix(u, "http://127.0.0.1:9/bye") {
				return false, u
			}
			resp, err := c.Get(u)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return true, u
			}
			next, _ := resp.Request.URL.Parse(resp.Header.Get("Location"))
			u = next.String()
		}
		t.Fatalf("too many redirects at %s", u)
		return false, ""
	}
	login, at := step(conf.AuthCodeURL("st1"))
	if !login {
		t.Fatalf("first sign-in: got to %s, want the login page", at)
	}
	resp, err := c.PostForm(s.URL()+"/login", url.Values{"id": {param(at, "id")}, "username": {"ada"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if login, at = step(conf.AuthCodeURL("st2")); login {
		t.Fatal("second sign-in: got the login page, want the remembered login")
	}
	if login, _ = step(conf.AuthCodeURL("st3", oauth2.SetAuthURLParam("prompt", "login"))); !login {
		t.Fatal("prompt=login: got no login page")
	}
	tok, err := conf.Exchange(t.Context(), param(at, "code"))
	if err != nil {
		t.Fatal(err)
	}
	idt, _ := tok.Extra("id_token").(string)
	end := s.URL() + devoidc.EndSessionPath + "?" + url.Values{"id_token_hint": {idt}, "post_logout_redirect_uri": {"http://127.0.0.1:9/bye"}, "state": {"x"}}.Encode()
	if _, at = step(end); at != "http://127.0.0.1:9/bye?state=x" {
		t.Fatalf("end session: got to %s, want the post-logout redirect URI with the state", at)
	}
	if got := s.Received(devoidc.EndSessionPath); len(got) != 1 || got[0].Get("id_token_hint") != idt {
		t.Fatalf("Received: got %v", got)
	}
	if login, _ = step(conf.AuthCodeURL("st4")); !login {
		t.Fatal("after end_session: got no login page")
	}
}

func param(raw, k string) string {
	u, _ := url.Parse(raw)
	return u.Query().Get(k)
}
