package sessionkit

import (
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sessionkit/sessionkit/internal/mint"
)

// Defaults of TokenConfig and TokenTemplate.
const (
	// defaultTokenLifetime is the default of TokenTemplate.Lifetime.
	defaultTokenLifetime = 60 * time.Second
	// defaultTokenCacheLeeway is the default of TokenConfig.CacheLeeway.
	defaultTokenCacheLeeway = 10 * time.Second
	// defaultTokenCacheSessions is the default of
	// TokenConfig.MaxCachedSessions.
	defaultTokenCacheSessions = 10000
)

// Errors of GetToken.
var (
	// ErrUnknownTemplate means GetToken was asked for a template that
	// TokenConfig.Templates does not hold.
	ErrUnknownTemplate = errors.New("sessionkit: unknown token template")
	// ErrTemplate means a template's Claims function failed or returned a
	// claim the Manager sets itself.
	ErrTemplate = errors.New("sessionkit: token template failed")
)

// TokenConfig configures the short-lived JWTs that GetToken mints and GET
// {BasePath}/token serves (Clerk's getToken({template})), and the JWK Set
// that publishes their keys at GET {BasePath}/jwks.json.
type TokenConfig struct {
	// Keys sign the tokens. The first key signs; every key is published in
	// the JWK Set, so a key is rotated by putting the new one first and
	// keeping the old one until the tokens it signed have expired (the
	// longest template Lifetime). Required: at least one.
	Keys []SigningKey
	// Templates are the token templates by name. The empty name is the
	// session token that GetToken(ctx, s, "") and GET {BasePath}/token
	// without ?template= return (Clerk's getToken()); unless Templates
	// defines it, it is a template with no claims of its own, the default
	// lifetime and Issuer as its audience (a token for the application
	// itself). Every template in Templates must set Audience.
	Templates map[string]TokenTemplate
	// Issuer is the "iss" of every token. Default Config.URL + BasePath,
	// or "sessionkit" without Config.URL.
	Issuer string
	// CacheLeeway is how long before its expiry a cached token stops being
	// served: a caller always gets a token that is valid for at least
	// this long. Default 10 s; it is capped at
	// half of each template's lifetime. A negative value turns caching
	// off.
	CacheLeeway time.Duration
	// MaxCachedSessions bounds how many sessions have cached tokens.
	// Default 10,000.
	MaxCachedSessions int
}

// SigningKey is one token signing key.
type SigningKey struct {
	// ID is the key's "kid". Required and unique.
	ID string
	// Key is an ed25519.PrivateKey (EdDSA, recommended), an
	// *ecdsa.PrivateKey on P-256 (ES256) or an *rsa.PrivateKey of at
	// least 2048 bits (RS256).
	Key crypto.Signer
}

// TokenTemplate describes one kind of token.
type TokenTemplate struct {
	// Lifetime is how long a token lives. Default 60 s; at most 24 h.
	Lifetime time.Duration
	// Audience is the token's "aud". Required: New refuses a template
	// without one, since a token without "aud" is accepted by every
	// service that trusts the JWK Set.
	Audience []string
	// Fields maps claim names to session fields, declaratively: each
	// value is one of "user.id", "user.name", "user.email", "user.image",
	// "user.username", "user.firstName", "user.lastName",
	// "organization", "workspace", "actor", "provider", "signInId". An
	// empty field is left out.
	Fields map[string]string
	// Static claims are added as they are (values must encode to JSON).
	Static map[string]any
	// Claims, when set, returns more claims for the session, after Fields
	// and Static. It receives a copy of the session. It must not return
	// the claims the Manager sets (sub, sid, iss, aud, iat, nbf, exp, jti,
	// act, org_id, workspace_id); that is an error wrapping ErrTemplate.
	Claims func(s *Session) (map[string]any, error)
}

// reservedClaims are the claims a template cannot set.
var reservedClaims = map[string]bool{"sub": true, "sid": true, "iss": true, "aud": true, "iat": true,
	"nbf": true, "exp": true, "jti": true, "act": true, "org_id": true, "workspace_id": true}

// templateFields reads the session fields a TokenTemplate.Fields names.
var templateFields = map[string]func(*Session) any{
	"user.id":        func(s *Session) any { return s.User.ID },
	"user.name":      func(s *Session) any { return s.User.Name },
	"user.email":     func(s *Session) any { return s.User.Email },
	"user.image":     func(s *Session) any { return s.User.Image },
	"user.username":  func(s *Session) any { return s.User.Username },
	"user.firstName": func(s *Session) any { return s.User.FirstName },
	"user.lastName":  func(s *Session) any { return s.User.LastName },
	"organization":   func(s *Session) any { return s.ActiveOrganizationID },
	"workspace":      func(s *Session) any { return s.ActiveWorkspaceID },
	"provider":       func(s *Session) any { return s.Provider },
	"signInId":       func(s *Session) any { return s.SignIn.ID },
	"actor": func(s *Session) any {
		if s.Actor == nil {
			return ""
		}
		return s.Actor.Subject
	},
}

// TokenOption changes one GetToken call.
type TokenOption func(*tokenOptions)

type tokenOptions struct{ skipCache bool }

// SkipCache makes GetToken mint a new token even when a cached one is
// still valid (Clerk's skipCache). The new token replaces the cached one.
func SkipCache() TokenOption { return func(o *tokenOptions) { o.skipCache = true } }

// minter mints the tokens of Config.Tokens: the session-aware side of
// internal/mint's signer and cache.
type minter struct {
	signer    *mint.Signer
	cache     *mint.Cache
	templates map[string]TokenTemplate
	issuer    string
	leeway    time.Duration
	hooks     *hooks // runs the templates' Claims functions
}

// newMinter checks c and builds the minter.
func newMinter(c *TokenConfig, s *settings) (*minter, error) {
	if len(c.Keys) == 0 {
		return nil, configErr("Tokens.Keys", "at least one signing key is required")
	}
	mt := &minter{templates: map[string]TokenTemplate{}, issuer: c.Issuer, leeway: c.CacheLeeway}
	if mt.issuer == "" {
		mt.issuer = "sessionkit"
		if s.URL != "" {
			mt.issuer = strings.TrimRight(s.URL, "/") + s.BasePath
		}
	}
	if mt.leeway == 0 {
		mt.leeway = defaultTokenCacheLeeway
	}
	maxSessions := c.MaxCachedSessions
	if maxSessions == 0 {
		maxSessions = defaultTokenCacheSessions
	}
	if maxSessions < 0 {
		return nil, configErr("Tokens.MaxCachedSessions", "must not be negative")
	}
	mt.cache = mint.NewCache(maxSessions)
	keys := make([]mint.Key, len(c.Keys))
	for i, k := range c.Keys {
		keys[i] = mint.Key{ID: k.ID, Signer: k.Key}
	}
	signer, err := mint.NewSigner(keys)
	if err != nil {
		return nil, keyConfigErr(err)
	}
	mt.signer = signer
	if err := mt.addTemplates(c); err != nil {
		return nil, err
	}
	return mt, nil
}

// keyConfigErr is the *ConfigError of a key that internal/mint refused.
func keyConfigErr(err error) error {
	var ke *mint.KeyError
	if !errors.As(err, &ke) {
		return &ConfigError{Field: "Tokens.Keys", Reason: "unusable signing keys", Err: err}
	}
	return &ConfigError{Field: fmt.Sprintf("Tokens.Keys[%d].%s", ke.Index, ke.Field), Reason: ke.Reason, Err: ke.Err}
}

// addTemplates checks c's templates and adds them, with the default
// session token template unless c defines it.
func (mt *minter) addTemplates(c *TokenConfig) error {
	if _, ok := c.Templates[""]; !ok {
		mt.templates[""] = TokenTemplate{Lifetime: defaultTokenLifetime, Audience: []string{mt.issuer}}
	}
	for name, t := range c.Templates {
		t, err := checkTemplate(fmt.Sprintf("Tokens.Templates[%q]", name), t)
		if err != nil {
			return err
		}
		mt.templates[name] = t
	}
	return nil
}

// checkTemplate validates the template t at field and applies its
// defaults.
func checkTemplate(field string, t TokenTemplate) (TokenTemplate, error) {
	if err := checkAudience(field, t.Audience); err != nil {
		return t, err
	}
	if t.Lifetime == 0 {
		t.Lifetime = defaultTokenLifetime
	}
	if t.Lifetime < time.Second || t.Lifetime > 24*time.Hour {
		return t, configErr(field+".Lifetime", "must be between 1s and 24h, got %s", t.Lifetime)
	}
	for claim, f := range t.Fields {
		if reservedClaims[claim] {
			return t, configErr(field+".Fields", "claim %q is set by the Manager", claim)
		}
		if templateFields[f] == nil {
			return t, configErr(field+".Fields", "claim %q names unknown session field %q", claim, f)
		}
	}
	for claim, v := range t.Static {
		if reservedClaims[claim] {
			return t, configErr(field+".Static", "claim %q is set by the Manager", claim)
		}
		if _, err := json.Marshal(v); err != nil {
			return t, &ConfigError{Field: field + ".Static", Reason: fmt.Sprintf("claim %q does not encode to JSON", claim), Err: err}
		}
	}
	return t, nil
}

// checkAudience refuses a template without an audience: a token without
// "aud" is accepted by every service that trusts the JWK Set.
func checkAudience(field string, aud []string) error {
	if len(aud) == 0 {
		return configErr(field+".Audience", "is required: a token without \"aud\" is accepted by every service that trusts the JWK Set")
	}
	for i, a := range aud {
		if a == "" {
			return configErr(fmt.Sprintf("%s.Audience[%d]", field, i), "must not be empty")
		}
	}
	return nil
}

// fingerprint identifies the state of a session that tokens are minted
// from: any change of sign-in, user, scope, actor or tokens (a refresh)
// gives another fingerprint, so tokens cached before it are never served
// after it, on any instance. (UpdateSession and SignOut also drop the
// session's cached tokens on the instance that runs them, which covers
// what a template's Claims function reads beyond these fields.)
func fingerprint(s *Session) string {
	act := ""
	if s.Actor != nil {
		act = s.Actor.Subject
	}
	return mint.Fingerprint(s.SignIn.ID, s.User.ID, s.User.Email, s.User.Name, s.User.Image, s.User.Username,
		s.User.FirstName, s.User.LastName, s.ActiveOrganizationID, s.ActiveWorkspaceID, act, s.AccessToken, s.IDToken,
		s.Provider, string(s.Status))
}

// forget drops the cached tokens of session id.
func (mt *minter) forget(id string) {
	if mt == nil || id == "" {
		return
	}
	mt.cache.Forget(id)
}

// GetToken returns a short-lived JWT for s, minted from the named template
// of Config.Tokens and signed with its first key: "sub" is the user's ID,
// "sid" the session's ID, with "iss", "aud", "iat", "nbf", "exp", "jti",
// "org_id" and "workspace_id" (when set), "act" (impersonation) and the
// template's claims. A token is cached per session and template and served
// again until shortly before it expires (TokenConfig.CacheLeeway); SkipCache
// forces a new one. Any change of the session (another sign-in,
// organization, workspace, actor, refreshed tokens, sign-out) makes the
// cached tokens unreachable.
//
// Without an active session GetToken returns an error (ErrNoSession or
// ErrSessionExpired), never an empty token. GetToken mints for any active
// session it is given, bearer sessions included; GET {BasePath}/token
// serves cookie sessions only, so that a presented JWT cannot be
// exchanged for a fresh one. It is safe for concurrent use.
func (m *Manager) GetToken(ctx context.Context, s *Session, template string, opts ...TokenOption) (string, error) {
	return m.minter.token(ctx, s, template, m.cfg.Now(), opts)
}

// token is GetToken at now; mt may be nil (no Config.Tokens).
func (mt *minter) token(ctx context.Context, s *Session, template string, now time.Time, opts []TokenOption) (string, error) {
	t, err := mt.template(s, template)
	if err != nil {
		return "", err
	}
	var o tokenOptions
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	caching := mt.leeway >= 0 && s.ID != ""
	var fp string
	if caching {
		fp = fingerprint(s)
	}
	if caching && !o.skipCache {
		if raw, ok := mt.cache.Get(s.ID, fp, template, now); ok {
			return raw, nil
		}
	}
	raw, exp, err := mt.mint(ctx, s, t, now)
	if err != nil {
		return "", err
	}
	if caching {
		mt.cache.Put(s.ID, fp, template, raw, exp.Add(-min(mt.leeway, t.Lifetime/2)), now)
	}
	return raw, nil
}

// template returns the named template if tokens can be minted for s.
func (mt *minter) template(s *Session, name string) (TokenTemplate, error) {
	if mt == nil {
		return TokenTemplate{}, errTokensDisabled
	}
	if s == nil {
		return TokenTemplate{}, ErrNoSession
	}
	if !s.Active() {
		return TokenTemplate{}, fmt.Errorf("%w: session %s", ErrSessionExpired, s.Status)
	}
	if s.User.ID == "" {
		return TokenTemplate{}, fmt.Errorf("%w: no user", ErrNoSession)
	}
	t, ok := mt.templates[name]
	if !ok {
		return TokenTemplate{}, fmt.Errorf("%w: %q", ErrUnknownTemplate, name)
	}
	return t, nil
}

// mint signs a new token for s from template t.
func (mt *minter) mint(ctx context.Context, s *Session, t TokenTemplate, now time.Time) (string, time.Time, error) {
	claims, err := mt.templateClaims(ctx, s, t)
	if err != nil {
		return "", time.Time{}, err
	}
	if s.ID != "" {
		claims["sid"] = s.ID
	}
	if s.ActiveOrganizationID != "" {
		claims["org_id"] = s.ActiveOrganizationID
	}
	if s.ActiveWorkspaceID != "" {
		claims["workspace_id"] = s.ActiveWorkspaceID
	}
	if s.Actor != nil && s.Actor.Subject != "" {
		claims["act"] = map[string]any{"sub": s.Actor.Subject}
	}
	raw, exp, err := mt.signer.Mint(claims, mint.Registered{Issuer: mt.issuer, Subject: s.User.ID,
		Audience: t.Audience, IssuedAt: now, Lifetime: t.Lifetime})
	if err != nil {
		return "", time.Time{}, fmt.Errorf("%w: signing: %w", ErrTemplate, err)
	}
	return raw, exp, nil
}

// templateClaims are the claims t adds for s: its Fields, its Static
// claims, then what its Claims function returns.
func (mt *minter) templateClaims(ctx context.Context, s *Session, t TokenTemplate) (map[string]any, error) {
	claims := map[string]any{}
	for claim, f := range t.Fields {
		if v := templateFields[f](s); v != "" {
			claims[claim] = v
		}
	}
	for claim, v := range t.Static {
		claims[claim] = v
	}
	if t.Claims == nil {
		return claims, nil
	}
	var extra map[string]any
	var err error
	if !mt.hooks.safely(ctx, "TokenTemplate.Claims", func() { extra, err = t.Claims(s.Clone()) }) {
		return nil, fmt.Errorf("%w: Claims panicked", ErrTemplate)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrTemplate, err)
	}
	for claim, v := range extra {
		if reservedClaims[claim] {
			return nil, fmt.Errorf("%w: claim %q is set by the Manager", ErrTemplate, claim)
		}
		claims[claim] = v
	}
	return claims, nil
}

// JWKS returns the JWK Set (RFC 7517) of Config.Tokens' public keys, as
// GET {BasePath}/jwks.json serves it, or nil without Config.Tokens.
func (m *Manager) JWKS() []byte {
	if m.minter == nil {
		return nil
	}
	return append([]byte(nil), m.minter.signer.JWKS()...)
}
