package sessionkit

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sessionkit/sessionkit/internal/jwtverify"
	"github.com/sessionkit/sessionkit/internal/oidc"
	"golang.org/x/oauth2"
)

// Provider is an OAuth 2.0 or OpenID Connect identity provider: users sign
// in with it, SignIn verifies its ID tokens, and the middleware refreshes
// its access tokens. A session names it in Session.Provider.
//
// An OpenID Connect provider needs only ID, Issuer, ClientID and
// ClientSecret: its endpoints and keys are discovered from Issuer +
// "/.well-known/openid-configuration" on first use (not in New), and a
// failed discovery is retried after 10 s, on a later request. A plain
// OAuth 2.0 provider sets AuthURL and TokenURL instead of Issuer.
// Endpoints set explicitly win over discovered ones. A sign-in that ends
// (sign-out; with a Store also Revoke, RevokeUser, theft, back-channel
// logout) has its refresh token revoked (RFC 7009) in the background at the
// discovered revocation_endpoint; none is without discovery.
type Provider struct {
	// ID names the provider in URLs ({BasePath}/signin/{ID}) and in
	// Session.Provider: 1 to 32 characters of a-z, 0-9, '-' and '_'.
	// Required and unique.
	ID string
	// Name is the provider's display name. Default ID.
	Name string

	// Issuer is the OpenID Connect issuer URL. ID tokens must carry it as
	// "iss" and the discovery document must name it exactly.
	Issuer string
	// ClientID is the OAuth client ID; ID tokens must carry it in "aud".
	ClientID string
	// ClientSecret is the OAuth client secret; empty for a public client.
	ClientSecret string
	// Scopes are requested at sign-in. Default "openid", "profile",
	// "email" for an OpenID Connect provider, none otherwise. With
	// "offline_access" (for a refresh token) sign-in sends prompt=consent
	// (OpenID Connect Core 11), to Google access_type=offline instead, and
	// logs a warning when none is granted.
	Scopes []string

	// AuthURL is the authorization endpoint. Default: discovered.
	AuthURL string
	// TokenURL is the token endpoint. Default: discovered.
	TokenURL string
	// UserInfoURL is the userinfo endpoint. Default: discovered.
	UserInfoURL string
	// UserInfo is when sign-in reads the user from UserInfoURL: "" when
	// there is no ID token or it lacks a claim the scopes ask for ("name"
	// for "profile", "email" for "email"), as with oidc-provider; "always";
	// or "never". Its answer must name the ID token's "sub".
	UserInfo string
	// JWKSURL is where the keys that sign ID tokens are. Default:
	// discovered. Without one, a token response holding an ID token is
	// refused.
	JWKSURL string
	// Logout signs out at the provider too (RP-Initiated Logout; Auth0,
	// Keycloak, Okta, Hydra): sign-out goes on to the discovered
	// end_session_endpoint, if any, back to callbackUrl (to register there).
	Logout bool
	// IntrospectionURL verifies opaque bearer tokens (Hydra, oidc-provider)
	// by introspection (RFC 7662) here, or at the discovered endpoint for
	// "discovery"; active answers are cached until exp, 1 minute at most.
	// At most one Provider may set it: an opaque token names no issuer.
	// A token is accepted when the answer names a subject, an access token
	// (token_type, token_use), this issuer (iss) and, as client_id or in
	// aud, ClientID or one of Bearer.Audience. No answer (a failure, the
	// limit of 100 introspections a second) answers 503, not 401.
	IntrospectionURL string
	// AuthStyle is how the client authenticates at the token endpoint.
	// Default: HTTP Basic (which RFC 6749 requires of every server), or
	// the form when discovery lists client_secret_post and not
	// client_secret_basic; never auto-detection (it resends secrets).
	AuthStyle oauth2.AuthStyle

	// IDTokenAlgorithms is the allow-list of ID token "alg" values. Default:
	// the asymmetric algorithms of JWTConfig.Algorithms. ID token times
	// are checked with a leeway of 5 s.
	IDTokenAlgorithms []string
	// AllowLogoutTokenWithoutExp accepts back-channel logout tokens
	// without "exp" (which Ory Hydra omits) issued, by "iat", within the
	// last 2 minutes; "jti" is still never accepted twice.
	AllowLogoutTokenWithoutExp bool

	// Refresh, when set, replaces the standard refresh_token grant for
	// providers that need more. It receives the provider's OAuth
	// configuration (endpoints filled in) and the session's token, and
	// returns the new one: a new refresh token replaces the old, none keeps
	// it, and an "id_token" extra is verified as at sign-in. A dead refresh
	// token is an *oauth2.RetrieveError with ErrorCode "invalid_grant", so
	// that it is not retried.
	Refresh func(ctx context.Context, conf *oauth2.Config, current *oauth2.Token) (*oauth2.Token, error)
}

// discoveryRetry is the least time between a provider's failed discovery
// and the next attempt.
const discoveryRetry = 10 * time.Second

// ErrProviderUnavailable is returned when a provider's endpoints or keys
// cannot be discovered.
var ErrProviderUnavailable = errors.New("sessionkit: identity provider unavailable")

// ErrUnknownProvider is returned for a provider ID that is not configured.
var ErrUnknownProvider = errors.New("sessionkit: unknown provider")

// validate checks p, the provider at field.
func (p *Provider) validate(field string) error {
	if fe := oidc.CheckProvider(p.ID, p.ClientID, p.endpoints(), p.UserInfo, p.IDTokenAlgorithms); fe != nil {
		return fieldConfigErr(field+".", fe)
	}
	return nil
}

// provider is a configured Provider with its endpoints, discovered on
// first use.
type provider struct {
	cfg      Provider
	m        *Manager
	field    string
	resolved oidc.Lazy[resolvedProvider]
}

// resolvedProvider is a provider whose endpoints are known.
type resolvedProvider struct {
	oauth2  oauth2.Config       // RedirectURL is left empty
	meta    oidc.Document       // what discovery said, with overrides applied
	idToken *jwtverify.Verifier // nil without a JWKS URL
}

// provider returns the configured provider with the given ID.
func (m *Manager) provider(id string) (*provider, error) {
	return providerLookup(m.findProvider).get(id)
}

// findProvider returns the configured provider with the given ID, or nil.
func (m *Manager) findProvider(id string) *provider {
	for _, p := range m.providers {
		if p.cfg.ID == id {
			return p
		}
	}
	return nil
}

// resolve returns p's endpoints, discovering them on first use; a failed
// discovery is not tried again for discoveryRetry. The discovery is
// detached from ctx: its result serves every waiter, and later requests.
// Its errors, and ctx's, wrap ErrProviderUnavailable.
func (p *provider) resolve(ctx context.Context) (*resolvedProvider, error) {
	r, err := p.resolved.Get(ctx, p.m.cfg.Now, discoveryRetry, func() (*resolvedProvider, error) {
		fctx, cancel := context.WithTimeout(p.m.ctx, p.m.cfg.FetchTimeout)
		defer cancel()
		return p.discover(fctx)
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrProviderUnavailable, p.cfg.ID, err)
	}
	return r, nil
}

// discover resolves the provider's endpoints (fetching the discovery
// document of an OpenID Connect provider with endpoints left to discovery)
// and starts the ID token verifier.
func (p *provider) discover(ctx context.Context) (*resolvedProvider, error) {
	c := p.cfg
	meta, err := oidc.Resolve(ctx, p.m.client, c.endpoints())
	if err != nil {
		return nil, err
	}
	r := &resolvedProvider{meta: meta, oauth2: meta.OAuth2(c.ClientID, c.ClientSecret, c.Scopes, c.AuthStyle)}
	if meta.JWKSURI != "" {
		if r.idToken, err = p.startIDTokenVerifier(meta.JWKSURI); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// endpoints are the issuer and endpoints p configures.
func (p *Provider) endpoints() oidc.Endpoints {
	return oidc.Endpoints{Issuer: p.Issuer, AuthURL: p.AuthURL, TokenURL: p.TokenURL, UserInfoURL: p.UserInfoURL,
		JWKSURL: p.JWKSURL, IntrospectionURL: p.IntrospectionURL}
}

// endpoint resolves the endpoint pick chooses of p's, with the client's
// authentication there.
func (p *provider) endpoint(pick func(*oidc.Document) string) func(context.Context) (string, oidc.ClientAuth, error) {
	return func(ctx context.Context) (string, oidc.ClientAuth, error) {
		r, err := p.resolve(ctx)
		if err != nil {
			return "", oidc.ClientAuth{}, err
		}
		return pick(&r.meta), oidc.ClientAuthOf(&r.oauth2), nil
	}
}

// revokeRefreshTokens revokes, in the background, the refresh tokens of
// ended sign-ins.
func (m *Manager) revokeRefreshTokens(ended []SignIn) {
	for _, in := range ended {
		if p := m.findProvider(in.Provider); p != nil && in.RefreshToken != "" {
			m.revoker.Revoke(p.cfg.ID, p.endpoint(func(d *oidc.Document) string { return d.RevocationEndpoint }), in.RefreshToken)
		}
	}
}

// endSessionURL is where sign-out sends the browser to end s's sign-in at
// its provider too, back to back (Provider.Logout); "" for none.
func (m *Manager) endSessionURL(ctx context.Context, s *Session, back string) string {
	if p := m.findProvider(s.Provider); p != nil && p.cfg.Logout {
		end, _, _ := p.endpoint(func(d *oidc.Document) string { return d.EndSessionEndpoint })(ctx)
		return oidc.EndSession{IDTokenHint: s.IDToken, ClientID: p.cfg.ClientID, PostLogoutRedirectURI: back}.URL(end)
	}
	return ""
}

// startIDTokenVerifier starts the verifier of the provider's ID tokens,
// whose keys are at jwksURL.
func (p *provider) startIDTokenVerifier(jwksURL string) (*jwtverify.Verifier, error) {
	c := p.cfg
	// Without an issuer (plain OAuth 2.0), the provider's own keys are
	// trusted for it alone.
	jc, err := (&JWTConfig{JWKSURLs: []string{jwksURL}, Algorithms: c.IDTokenAlgorithms, Issuer: c.Issuer,
		Audience: []string{c.ClientID}, SkipIssuerCheck: c.Issuer == ""}).withDefaults(p.field)
	if err != nil {
		return nil, err
	}
	return p.m.startVerifier(jc, p.field)
}

// fetchUserInfo reads the user from a userinfo endpoint; a set wantSub is
// the ID token's "sub", which the answer must name.
func (m *Manager) fetchUserInfo(ctx context.Context, endpoint string, tok *oauth2.Token, wantSub string) (*User, error) {
	claims, sub, err := oidc.FetchUserInfo(ctx, m.client, endpoint, tok, wantSub)
	if err != nil {
		return nil, fmt.Errorf("sessionkit: %w", err)
	}
	u := userFromClaims(claims)
	u.ID = sub
	return &u, nil
}

// oauthContext returns ctx carrying the Manager's size-limited HTTP client
// for golang.org/x/oauth2, its requests marked as token-endpoint calls.
func (m *Manager) oauthContext(ctx context.Context) context.Context {
	return context.WithValue(m.hooks.obs.TokenCall(ctx), oauth2.HTTPClient, m.client)
}
