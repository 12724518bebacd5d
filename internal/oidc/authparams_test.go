package oidc

import (
	"net/url"
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
