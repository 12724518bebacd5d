package oidc

import (
	"net/url"
	"slices"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

func TestPassThrough(t *testing.T) {
	conf := &oauth2.Config{Endpoint: oauth2.Endpoint{AuthURL: "https://idp.example/auth"}}
	tests := []struct {
		name  string
		q     url.Values
		want  []string
		never []string
	}{
		{"none", nil, nil, passThrough},
		{"all", url.Values{"login_hint": {"ada"}, "prompt": {"none"}, "ui_locales": {"fr"}, "max_age": {"0"}, "acr_values": {"x"}},
			passThrough, nil},
		{"others and empty and long ones dropped", url.Values{"redirect_uri": {"https://evil.example"}, "prompt": {""},
			"login_hint": {strings.Repeat("a", 257)}, "max_age": {"60"}}, []string{"max_age"}, []string{"redirect_uri", "prompt", "login_hint"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := url.Parse(conf.AuthCodeURL("s", PassThrough(tt.q)...))
			if err != nil {
				t.Fatal(err)
			}
			got := u.Query()
			for _, k := range tt.want {
				if got.Get(k) != tt.q.Get(k) {
					t.Errorf("%s: got %q, want %q", k, got.Get(k), tt.q.Get(k))
				}
			}
			for _, k := range tt.never {
				if got.Has(k) {
					t.Errorf("%s: got %q, want it absent", k, got.Get(k))
				}
			}
		})
	}
}

func TestAuthParams(t *testing.T) {
	const idp = "https://idp.example"
	offline := []string{"openid", "offline_access"}
	tests := []struct {
		name       string
		issuer     string
		scopes     []string
		q          url.Values
		wantScope  string
		wantPrompt string
		wantAccess string
	}{
		{"no offline access", idp, []string{"openid"}, nil, "openid", "", ""},
		{"offline access asks for consent", idp, offline, nil, "openid offline_access", "consent", ""},
		{"consent added to the request's prompt", idp, offline, url.Values{"prompt": {"login"}}, "openid offline_access", "login consent", ""},
		{"consent kept once", idp, offline, url.Values{"prompt": {"consent login"}}, "openid offline_access", "consent login", ""},
		{"prompt none left alone", idp, offline, url.Values{"prompt": {"none"}}, "openid offline_access", "none", ""},
		{"Google: access_type, no offline_access scope", googleIssuer, offline, nil, "openid", "consent", "offline"},
		{"Google without offline access", googleIssuer, []string{"openid"}, nil, "openid", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := slices.Clone(tt.scopes)
			scopes, opts := AuthParams(tt.issuer, tt.scopes, tt.q)
			conf := &oauth2.Config{Endpoint: oauth2.Endpoint{AuthURL: "https://idp.example/auth"}, Scopes: scopes}
			u, err := url.Parse(conf.AuthCodeURL("s", opts...))
			if err != nil {
				t.Fatal(err)
			}
			q := u.Query()
			if got := q.Get("scope"); got != tt.wantScope {
				t.Errorf("scope: got %q, want %q", got, tt.wantScope)
			}
			if got := q.Get("prompt"); got != tt.wantPrompt {
				t.Errorf("prompt: got %q, want %q", got, tt.wantPrompt)
			}
			if got := q.Get("access_type"); got != tt.wantAccess {
				t.Errorf("access_type: got %q, want %q", got, tt.wantAccess)
			}
			if !slices.Equal(in, tt.scopes) {
				t.Errorf("the configured scopes changed: got %v, want %v", tt.scopes, in)
			}
		})
	}
}
