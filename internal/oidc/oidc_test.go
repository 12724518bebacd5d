package oidc

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

// server serves one discovery document (or userinfo answer) built from
// its own URL.
func server(t *testing.T, status int, body func(base string) any) *httptest.Server {
	t.Helper()
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if status != 0 {
			w.WriteHeader(status)
		}
		_ = json.NewEncoder(w).Encode(body(srv.URL))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func doc(mod func(m map[string]any)) func(string) any {
	return func(base string) any {
		m := map[string]any{
			"issuer":                 base,
			"authorization_endpoint": base + "/authorize",
			"token_endpoint":         base + "/token",
			"jwks_uri":               base + "/jwks",
			"userinfo_endpoint":      base + "/userinfo",
		}
		if mod != nil {
			mod(m)
		}
		return m
	}
}

// withEndpoints adds revocation, introspection and end-session endpoints.
func withEndpoints(m map[string]any) {
	base := strings.TrimSuffix(m["token_endpoint"].(string), "/token")
	m["revocation_endpoint"], m["introspection_endpoint"], m["end_session_endpoint"] = base+"/revoke", base+"/introspect", base+"/logout"
}

func TestResolve(t *testing.T) {
	tests := []struct {
		name    string
		status  int
		doc     func(string) any
		set     func(base string) Endpoints
		wantErr string
		check   func(t *testing.T, base string, d Document)
	}{
		{name: "discovered", doc: doc(nil), check: func(t *testing.T, base string, d Document) {
			if d.TokenEndpoint != base+"/token" || d.JWKSURI != base+"/jwks" || d.UserInfoEndpoint != base+"/userinfo" {
				t.Errorf("got %+v", d)
			}
			if len(d.TokenAuthMethods) != 1 || d.TokenAuthMethods[0] != "client_secret_basic" {
				t.Errorf("TokenAuthMethods: got %v, want the Discovery default", d.TokenAuthMethods)
			}
		}},
		{name: "configured endpoints win", doc: doc(nil), set: func(base string) Endpoints {
			return Endpoints{Issuer: base, TokenURL: "https://token.example/t"}
		}, check: func(t *testing.T, base string, d Document) {
			if d.TokenEndpoint != "https://token.example/t" || d.AuthorizationEndpoint != base+"/authorize" {
				t.Errorf("got %+v", d)
			}
		}},
		{name: "all configured: no fetch", status: http.StatusInternalServerError, doc: doc(nil), set: func(base string) Endpoints {
			return Endpoints{Issuer: base, AuthURL: base + "/a", TokenURL: base + "/t", JWKSURL: base + "/k"}
		}, check: func(t *testing.T, base string, d Document) {
			if d.TokenAuthMethods != nil {
				t.Errorf("TokenAuthMethods: got %v, want nil without a document", d.TokenAuthMethods)
			}
		}},
		{name: "another issuer", doc: doc(func(m map[string]any) { m["issuer"] = "https://evil.example" }), wantErr: "names issuer"},
		{name: "not found", status: http.StatusNotFound, doc: doc(nil), wantErr: "404"},
		{name: "token endpoint missing", doc: doc(func(m map[string]any) { delete(m, "token_endpoint") }), wantErr: "token_endpoint"},
		{name: "jwks over plain http", doc: doc(func(m map[string]any) { m["jwks_uri"] = "http://idp.example/jwks" }), wantErr: "jwks_uri"},
		{name: "userinfo not a URL", doc: doc(func(m map[string]any) { m["userinfo_endpoint"] = "/userinfo" }), wantErr: "userinfo_endpoint"},
		{name: "not JSON", doc: func(string) any { return "<html>" }, wantErr: "malformed"},
		{name: "revocation and end session discovered, introspection not asked", doc: doc(withEndpoints), check: func(t *testing.T, base string, d Document) {
			if d.RevocationEndpoint != base+"/revoke" || d.EndSessionEndpoint != base+"/logout" || d.IntrospectionEndpoint != "" {
				t.Errorf("got %+v", d)
			}
		}},
		{name: "introspection discovered", doc: doc(withEndpoints), set: func(base string) Endpoints {
			return Endpoints{Issuer: base, AuthURL: base + "/a", TokenURL: base + "/t", JWKSURL: base + "/k", IntrospectionURL: Discover}
		}, check: func(t *testing.T, base string, d Document) {
			if d.IntrospectionEndpoint != base+"/introspect" || d.TokenEndpoint != base+"/t" {
				t.Errorf("got %+v", d)
			}
		}},
		{name: "introspection configured wins", doc: doc(withEndpoints), set: func(base string) Endpoints {
			return Endpoints{Issuer: base, IntrospectionURL: "https://admin.example/introspect"}
		}, check: func(t *testing.T, base string, d Document) {
			if d.IntrospectionEndpoint != "https://admin.example/introspect" || d.RevocationEndpoint != base+"/revoke" {
				t.Errorf("got %+v", d)
			}
		}},
		{name: "revocation over plain http", doc: doc(func(m map[string]any) { m["revocation_endpoint"] = "http://idp.example/revoke" }), wantErr: "revocation_endpoint"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := server(t, tt.status, tt.doc)
			e := Endpoints{Issuer: srv.URL}
			if tt.set != nil {
				e = tt.set(srv.URL)
			}
			d, err := Resolve(context.Background(), srv.Client(), e)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %v, want an error naming %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, srv.URL, d)
		})
	}
}

func TestDocumentAuthStyleAndS256(t *testing.T) {
	tests := []struct {
		name     string
		d        Document
		style    oauth2.AuthStyle
		want     oauth2.AuthStyle
		wantS256 bool
	}{
		{"no document", Document{}, oauth2.AuthStyleAutoDetect, oauth2.AuthStyleInHeader, true},
		{"post only", Document{TokenAuthMethods: []string{"client_secret_post"}}, oauth2.AuthStyleAutoDetect, oauth2.AuthStyleInParams, true},
		{"both", Document{TokenAuthMethods: []string{"client_secret_post", "client_secret_basic"}}, oauth2.AuthStyleAutoDetect, oauth2.AuthStyleInHeader, true},
		{"configured wins", Document{TokenAuthMethods: []string{"client_secret_post"}}, oauth2.AuthStyleInHeader, oauth2.AuthStyleInHeader, true},
		{"plain PKCE only", Document{CodeChallengeMethods: []string{"plain"}}, oauth2.AuthStyleAutoDetect, oauth2.AuthStyleInHeader, false},
		{"S256 listed", Document{CodeChallengeMethods: []string{"plain", "S256"}}, oauth2.AuthStyleAutoDetect, oauth2.AuthStyleInHeader, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.d.AuthStyle(tt.style); got != tt.want {
				t.Errorf("AuthStyle: got %v, want %v", got, tt.want)
			}
			if got := tt.d.SupportsS256(); got != tt.wantS256 {
				t.Errorf("SupportsS256: got %v, want %v", got, tt.wantS256)
			}
		})
	}
}

func TestFetchUserInfo(t *testing.T) {
	tests := []struct {
		name    string
		status  int
		body    any
		wantSub string
		wantErr error
		idSub   string // the ID token's sub, if any
	}{
		{"sub", 0, map[string]any{"sub": "u1", "id": 7}, "u1", nil, ""},
		{"numeric id", 0, map[string]any{"id": 12345678901}, "12345678901", nil, ""},
		{"string id", 0, map[string]any{"id": "abc"}, "abc", nil, ""},
		{"fractional id", 0, map[string]any{"id": 1.5}, "", ErrNoSubject, ""},
		{"nothing", 0, map[string]any{"name": "Ada"}, "", ErrNoSubject, ""},
		{"401", http.StatusUnauthorized, map[string]any{"sub": "u1"}, "", nil, ""},
		{"the ID token's sub", 0, map[string]any{"sub": "u1"}, "u1", nil, "u1"},
		{"another sub than the ID token's", 0, map[string]any{"sub": "u2"}, "", ErrSubjectMismatch, "u1"},
		{"an id where the ID token has a sub", 0, map[string]any{"id": "u1"}, "", ErrSubjectMismatch, "u1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var auth string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				auth = r.Header.Get("Authorization")
				if tt.status != 0 {
					w.WriteHeader(tt.status)
				}
				_ = json.NewEncoder(w).Encode(tt.body)
			}))
			defer srv.Close()
			_, sub, err := FetchUserInfo(context.Background(), srv.Client(), srv.URL+"/?k=s3cr3t", &oauth2.Token{AccessToken: "at-1"}, tt.idSub)
			if auth != "Bearer at-1" {
				t.Errorf("Authorization: got %q", auth)
			}
			switch {
			case tt.status != 0:
				if err == nil || strings.Contains(err.Error(), "s3cr3t") {
					t.Fatalf("got %v, want an error without the query", err)
				}
			case !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) || sub != tt.wantSub:
				t.Fatalf("got %q, %v; want %q, %v", sub, err, tt.wantSub, tt.wantErr)
			}
		})
	}
}

func TestAuthRequest(t *testing.T) {
	tests := []struct {
		name        string
		pkce, nonce bool
		wantParams  []string
	}{
		{"state only", false, false, nil},
		{"PKCE", true, false, []string{"code_challenge", "code_challenge_method"}},
		{"nonce", false, true, []string{"nonce"}},
		{"both", true, true, []string{"code_challenge", "code_challenge_method", "nonce"}},
	}
	conf := oauth2.Config{ClientID: "c", Endpoint: oauth2.Endpoint{AuthURL: "https://idp.example/authorize"}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := NewAuthRequest(tt.pkce, tt.nonce), NewAuthRequest(tt.pkce, tt.nonce)
			if len(a.State) != StateLen || a.State == b.State {
				t.Errorf("state: got %q then %q, want fresh 26-character values", a.State, b.State)
			}
			if (a.Verifier != "") != tt.pkce || (a.Nonce != "") != tt.nonce || (tt.nonce && a.Nonce == b.Nonce) {
				t.Errorf("got %+v", a)
			}
			u := conf.AuthCodeURL(a.State, a.Options()...)
			for _, p := range []string{"code_challenge", "nonce"} {
				want := false
				for _, w := range tt.wantParams {
					want = want || w == p
				}
				if got := strings.Contains(u, p+"="); got != want {
					t.Errorf("%s in %s: got %v, want %v", p, u, got, want)
				}
			}
			if got := len(ExchangeOptions(a.Verifier)); got != len(tt.wantParams)/2 && tt.pkce {
				t.Errorf("exchange options: got %d", got)
			}
			if !tt.pkce && ExchangeOptions(a.Verifier) != nil {
				t.Error("exchange options without PKCE")
			}
		})
	}
}

func TestEndpointsCheck(t *testing.T) {
	tests := []struct {
		name string
		e    Endpoints
		want string
	}{
		{"issuer", Endpoints{Issuer: "https://idp.example"}, ""},
		{"plain OAuth 2.0", Endpoints{AuthURL: "https://idp.example/a", TokenURL: "https://idp.example/t"}, ""},
		{"nothing", Endpoints{AuthURL: "https://idp.example/a"}, "Issuer"},
		{"http issuer", Endpoints{Issuer: "http://idp.example"}, "Issuer"},
		{"relative token URL", Endpoints{Issuer: "https://idp.example", TokenURL: "/token"}, "TokenURL"},
		{"bad JWKS URL", Endpoints{Issuer: "https://idp.example", JWKSURL: "ftp://idp.example/k"}, "JWKSURL"},
		{"introspection discovered", Endpoints{Issuer: "https://idp.example", IntrospectionURL: Discover}, ""},
		{"introspection URL", Endpoints{Issuer: "https://idp.example", IntrospectionURL: "https://admin.example/i"}, ""},
		{"bad introspection URL", Endpoints{Issuer: "https://idp.example", IntrospectionURL: "admin:4445"}, "IntrospectionURL"},
		{"introspection discovered without issuer", Endpoints{AuthURL: "https://idp.example/a", TokenURL: "https://idp.example/t", IntrospectionURL: Discover}, "IntrospectionURL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ""
			if fe := tt.e.Check(); fe != nil {
				got = fe.Field
			}
			if got != tt.want {
				t.Errorf("Check: got %q (%v), want %q", got, tt.e.Check(), tt.want)
			}
		})
	}
}

func TestDocumentOAuth2(t *testing.T) {
	d := Document{Issuer: "https://idp.example", AuthorizationEndpoint: "https://idp.example/a", TokenEndpoint: "https://idp.example/t"}
	c := d.OAuth2("id", "secret", nil, oauth2.AuthStyleAutoDetect)
	if len(c.Scopes) != 3 || c.Endpoint.AuthStyle != oauth2.AuthStyleInHeader || c.Endpoint.TokenURL != d.TokenEndpoint {
		t.Errorf("OpenID Connect: got %+v, want the default scopes, HTTP Basic and the token endpoint", c)
	}
	d.Issuer = ""
	if c := d.OAuth2("id", "", nil, oauth2.AuthStyleInParams); c.Scopes != nil || c.Endpoint.AuthStyle != oauth2.AuthStyleInParams {
		t.Errorf("plain OAuth 2.0: got %+v, want no scopes and the style given", c)
	}
}
