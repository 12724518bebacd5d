// Package oidc holds the OpenID Connect and OAuth 2.0 mechanisms of
// sign-in, apart from any session: discovery of a provider's endpoints,
// the secrets of one authorization request (state, nonce, PKCE verifier),
// and reading the user from a userinfo endpoint.
package oidc

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"golang.org/x/oauth2"

	"github.com/sessionkit/sessionkit/internal/fielderr"
	"github.com/sessionkit/sessionkit/internal/safeurl"
	"github.com/sessionkit/sessionkit/observe"
)

// Document is the part of an OpenID Provider Metadata document this
// package uses.
type Document struct {
	Issuer                string   `json:"issuer"`
	AuthorizationEndpoint string   `json:"authorization_endpoint"`
	TokenEndpoint         string   `json:"token_endpoint"`
	UserInfoEndpoint      string   `json:"userinfo_endpoint"`
	JWKSURI               string   `json:"jwks_uri"`
	EndSessionEndpoint    string   `json:"end_session_endpoint"`
	RevocationEndpoint    string   `json:"revocation_endpoint"`
	IntrospectionEndpoint string   `json:"introspection_endpoint"`
	CodeChallengeMethods  []string `json:"code_challenge_methods_supported"`
	TokenAuthMethods      []string `json:"token_endpoint_auth_methods_supported"`
	// ResponseIss: the provider puts "iss" in its authorization responses (RFC 9207).
	ResponseIss bool `json:"authorization_response_iss_parameter_supported"`
}

// Endpoints are a provider's configured issuer and endpoints; an empty
// endpoint is left to discovery.
type Endpoints struct {
	Issuer      string
	AuthURL     string
	TokenURL    string
	UserInfoURL string
	JWKSURL     string
	// IntrospectionURL is the introspection endpoint: a URL, Discover for
	// the discovered one, or empty for none.
	IntrospectionURL string
}

// Discover as Endpoints.IntrospectionURL takes the endpoint from discovery.
const Discover = "discovery"

// Resolve returns the provider's metadata: the endpoints configured, the
// others discovered from Issuer + "/.well-known/openid-configuration" when
// there is an issuer and the authorization, token, JWKS or introspection
// endpoint is left to discovery. Without a discovery document,
// TokenAuthMethods is nil and there is no end-session or revocation
// endpoint.
func Resolve(ctx context.Context, client *http.Client, e Endpoints) (Document, error) {
	meta := Document{Issuer: e.Issuer, AuthorizationEndpoint: e.AuthURL, TokenEndpoint: e.TokenURL,
		UserInfoEndpoint: e.UserInfoURL, JWKSURI: e.JWKSURL}
	if e.IntrospectionURL != Discover {
		meta.IntrospectionEndpoint = e.IntrospectionURL
	}
	if e.Issuer == "" || (e.AuthURL != "" && e.TokenURL != "" && e.JWKSURL != "" && e.IntrospectionURL != Discover) {
		return meta, nil
	}
	d, err := Fetch(ctx, client, e)
	if err != nil {
		return Document{}, err
	}
	set := func(dst *string, v string) {
		if *dst == "" {
			*dst = v
		}
	}
	set(&meta.AuthorizationEndpoint, d.AuthorizationEndpoint)
	set(&meta.TokenEndpoint, d.TokenEndpoint)
	set(&meta.UserInfoEndpoint, d.UserInfoEndpoint)
	set(&meta.JWKSURI, d.JWKSURI)
	meta.EndSessionEndpoint, meta.RevocationEndpoint = d.EndSessionEndpoint, d.RevocationEndpoint
	if e.IntrospectionURL == Discover {
		meta.IntrospectionEndpoint = d.IntrospectionEndpoint
	}
	meta.CodeChallengeMethods = d.CodeChallengeMethods
	meta.TokenAuthMethods = d.TokenAuthMethods
	meta.ResponseIss = d.ResponseIss
	if meta.TokenAuthMethods == nil {
		meta.TokenAuthMethods = []string{"client_secret_basic"} // the default of Discovery 1.0, section 3
	}
	return meta, nil
}

// Fetch reads the discovery document of e.Issuer. It refuses a document
// that names another issuer, and endpoints that are not https (or http to
// a loopback host). The endpoints e sets are left empty in the result.
func Fetch(ctx context.Context, client *http.Client, e Endpoints) (*Document, error) {
	u := strings.TrimSuffix(e.Issuer, "/") + "/.well-known/openid-configuration"
	d, err := get(ctx, client, u)
	if err != nil {
		return nil, err
	}
	// OpenID Connect Discovery 1.0, section 4.3: the issuer must be
	// exactly the one asked for, or the document is an impersonation.
	if d.Issuer != e.Issuer {
		return nil, fmt.Errorf("discovery: the document names issuer %q, want %q", d.Issuer, e.Issuer)
	}
	if err := d.checkEndpoints(e); err != nil {
		return nil, err
	}
	return d, nil
}

// get fetches and decodes the document at u.
func get(ctx context.Context, client *http.Client, u string) (*Document, error) {
	req, err := http.NewRequestWithContext(observe.WithCall(ctx, observe.CallDiscovery), http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("discovery: %s", safeurl.RedactErr(err, u))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("discovery: %s answered %s", safeurl.Redact(u), resp.Status)
	}
	var d Document
	if err := json.NewDecoder(resp.Body).Decode(&d); err != nil {
		return nil, fmt.Errorf("discovery: malformed document: %w", err)
	}
	return &d, nil
}

// checkEndpoints requires the endpoints e leaves to discovery, checks
// every URL d names, and empties those e sets.
func (d *Document) checkEndpoints(e Endpoints) error {
	urls := []struct {
		name     string
		dst      *string
		set      bool // configured: the document's is dropped
		required bool
	}{
		{"authorization_endpoint", &d.AuthorizationEndpoint, e.AuthURL != "", true},
		{"token_endpoint", &d.TokenEndpoint, e.TokenURL != "", true},
		{"jwks_uri", &d.JWKSURI, e.JWKSURL != "", true},
		{"userinfo_endpoint", &d.UserInfoEndpoint, false, false},
		{"end_session_endpoint", &d.EndSessionEndpoint, false, false},
		{"revocation_endpoint", &d.RevocationEndpoint, false, false},
		{"introspection_endpoint", &d.IntrospectionEndpoint, e.IntrospectionURL != Discover, false},
	}
	for _, u := range urls {
		switch {
		case u.set:
			*u.dst = ""
		case *u.dst == "" && !u.required:
		default:
			if err := safeurl.Check(*u.dst); err != nil {
				return fmt.Errorf("discovery: %s: %w", u.name, err)
			}
		}
	}
	return nil
}

// SupportsS256 reports whether the provider is known to accept PKCE with
// S256. A provider that does not say is sent PKCE anyway (RFC 9700 2.1.1:
// servers that do not support it ignore the parameters).
func (d *Document) SupportsS256() bool {
	return len(d.CodeChallengeMethods) == 0 || slices.Contains(d.CodeChallengeMethods, "S256")
}

// AuthStyle is the client authentication to use at the token endpoint:
// style when set; otherwise HTTP Basic, which every server must support
// (RFC 6749, 2.3.1) and the default of OpenID Connect Discovery, unless
// the provider lists client_secret_post and not client_secret_basic.
// Auto-detection is never returned: x/oauth2 would send a refused request
// again with the other style, and with it a refresh token or a code.
func (d *Document) AuthStyle(style oauth2.AuthStyle) oauth2.AuthStyle {
	if style != oauth2.AuthStyleAutoDetect {
		return style
	}
	m := d.TokenAuthMethods
	if m != nil && !slices.Contains(m, "client_secret_basic") && slices.Contains(m, "client_secret_post") {
		return oauth2.AuthStyleInParams
	}
	return oauth2.AuthStyleInHeader
}

// Check validates the configured endpoints: an issuer, unless both the
// authorization and token endpoints are set, and URLs that safeurl
// accepts. At a fault it names the Endpoints field; otherwise nil.
func (e Endpoints) Check() *fielderr.Error {
	if e.Issuer == "" && (e.AuthURL == "" || e.TokenURL == "") {
		return fielderr.New("Issuer", "is required unless AuthURL and TokenURL are both set")
	}
	if e.Issuer == "" && e.IntrospectionURL == Discover {
		return fielderr.New("IntrospectionURL", "cannot be discovered without an Issuer")
	}
	for _, u := range [...]struct{ field, raw string }{{"Issuer", e.Issuer}, {"AuthURL", e.AuthURL},
		{"TokenURL", e.TokenURL}, {"UserInfoURL", e.UserInfoURL}, {"JWKSURL", e.JWKSURL}, {"IntrospectionURL", e.IntrospectionURL}} {
		if u.raw == "" || u.raw == Discover {
			continue
		}
		if err := safeurl.Check(u.raw); err != nil {
			return fielderr.Wrap(u.field, "invalid URL", err)
		}
	}
	return nil
}

// OAuth2 is the client configuration of a client of the provider d
// describes: d's endpoints, style resolved by AuthStyle, and scopes,
// which default to "openid", "profile" and "email" for an OpenID Connect
// provider (one with an issuer).
func (d *Document) OAuth2(clientID, secret string, scopes []string, style oauth2.AuthStyle) oauth2.Config {
	if scopes == nil && d.Issuer != "" {
		scopes = []string{"openid", "profile", "email"}
	}
	return oauth2.Config{ClientID: clientID, ClientSecret: secret, Scopes: scopes, Endpoint: oauth2.Endpoint{
		AuthURL: d.AuthorizationEndpoint, TokenURL: d.TokenEndpoint, AuthStyle: d.AuthStyle(style)}}
}
