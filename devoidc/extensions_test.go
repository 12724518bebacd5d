package devoidc_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/sessionkit/sessionkit/devoidc"
)

// claimsOf decodes the payload of a compact JWT, unverified.
func claimsOf(t *testing.T, raw string) map[string]any {
	t.Helper()
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		t.Fatalf("not a compact JWT: %.20q", raw)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	var c map[string]any
	if err != nil || json.Unmarshal(b, &c) != nil {
		t.Fatalf("payload: %v", err)
	}
	return c
}

func TestExtensions(t *testing.T) {
	s := start(t, devoidc.Config{AutoLogin: "ada", IDTokenWithoutProfile: true, AuthorizationResponseIss: true, OfflineAccessNeedsConsent: true})
	resp, err := http.Get(s.URL() + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	err = json.NewDecoder(resp.Body).Decode(&doc)
	resp.Body.Close()
	if err != nil || doc["authorization_response_iss_parameter_supported"] != true || doc["issuer"] != s.URL() {
		t.Fatalf("discovery: got %v, %v; want iss support advertised", doc, err)
	}
	conf := &oauth2.Config{ClientID: "web", ClientSecret: "secret", RedirectURL: redirect,
		Endpoint: oauth2.Endpoint{AuthURL: s.URL() + "/authorize", TokenURL: s.URL() + "/oauth/token"},
		Scopes:   []string{"openid", "profile", "email", "offline_access"}}
	for _, prompt := range []string{"", "consent"} {
		verifier := oauth2.GenerateVerifier()
		q := authorize(t, conf.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("prompt", prompt)))
		if q.Get("iss") != s.URL() {
			t.Fatalf("prompt %q: authorization response iss: got %q, want %q", prompt, q.Get("iss"), s.URL())
		}
		tok, err := conf.Exchange(context.Background(), q.Get("code"), oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatal(err)
		}
		if (tok.RefreshToken != "") != (prompt == "consent") {
			t.Errorf("prompt %q: got refresh token %v, want %v", prompt, tok.RefreshToken != "", prompt == "consent")
		}
		idt, _ := tok.Extra("id_token").(string)
		if c := claimsOf(t, idt); c["sub"] != "user_ada" || c["email"] != nil || c["name"] != nil {
			t.Errorf("ID token: got %v, want sub alone of the user", c)
		}
	}
	if reqs := s.AuthorizeRequests(); len(reqs) != 2 || reqs[1].Get("prompt") != "consent" {
		t.Fatalf("recorded requests: got %v, want 2, the second with prompt=consent", reqs)
	}
	for _, exp := range []bool{true, false} {
		raw, err := s.LogoutToken("web", "user_ada", "sid-1", exp)
		if err != nil {
			t.Fatal(err)
		}
		c := claimsOf(t, raw)
		events, _ := c["events"].(map[string]any)
		if c["iss"] != s.URL() || c["aud"] != "web" || c["sid"] != "sid-1" || c["jti"] == "" || events == nil || (c["exp"] != nil) != exp {
			t.Errorf("logout token (exp %v): got %v", exp, c)
		}
	}
}
