package sessionkit

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sessionkit/sessionkit/internal/mint"
)

// The token cache's bounds (see TokenConfig).
const (
	tokenCacheLeeway   = 10 * time.Second
	tokenCacheSessions = 10000
)

// ErrTemplate means GetToken could not mint a token from the template:
// TokenConfig.Templates does not hold it, or its Claims function failed or
// returned a claim the Manager sets itself.
var ErrTemplate = errors.New("sessionkit: token template failed")

// TokenConfig configures the short-lived JWTs that GetToken mints and GET
// {BasePath}/token serves (Clerk's getToken({template})), and the JWK Set
// that publishes their keys at GET {BasePath}/jwks.json.
//
// A token is cached per session and template (for at most 10,000
// sessions) and served until 10 s, or half its lifetime when shorter,
// before it expires: a caller always gets a token valid that long.
type TokenConfig struct {
	// Keys sign the tokens (see StaticKey for the key types): the first
	// signs, every one is published in the JWK Set, so a key is rotated by
	// putting the new one first and keeping the old one for the longest
	// template Lifetime. Required: at least one, each with a unique ID.
	Keys []StaticKey
	// Templates are the token templates by name, each with an Audience.
	// The empty name is the session token of GetToken(ctx, s, "") and GET
	// {BasePath}/token without ?template= (Clerk's getToken()): unless
	// defined here, it has no claims of its own, the default lifetime and
	// Issuer as its audience (a token for the application itself).
	Templates map[string]TokenTemplate
	// Issuer is the "iss" of every token. Default Config.URL + BasePath,
	// or "sessionkit" without Config.URL.
	Issuer string

	// maxCachedSessions overrides the token cache's bound when set (tests
	// lower it).
	maxCachedSessions int
}

// TokenTemplate describes one kind of token.
type TokenTemplate struct {
	// Lifetime is how long a token lives. Default 60 s; at most 24 h.
	Lifetime time.Duration
	// Audience is the token's "aud". Required: a token without "aud" is
	// accepted by every service that trusts the JWK Set.
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

// templateFields reads the session fields a TokenTemplate.Fields value
// names.
var templateFields = map[string]func(*Session) string{
	"user.id":        func(s *Session) string { return s.User.ID },
	"user.name":      func(s *Session) string { return s.User.Name },
	"user.email":     func(s *Session) string { return s.User.Email },
	"user.image":     func(s *Session) string { return s.User.Image },
	"user.username":  func(s *Session) string { return s.User.Username },
	"user.firstName": func(s *Session) string { return s.User.FirstName },
	"user.lastName":  func(s *Session) string { return s.User.LastName },
	"organization":   func(s *Session) string { return s.ActiveOrganizationID },
	"workspace":      func(s *Session) string { return s.ActiveWorkspaceID },
	"provider":       func(s *Session) string { return s.Provider },
	"signInId":       func(s *Session) string { return s.SignIn.ID },
	"actor":          actorSubject,
}

func actorSubject(s *Session) string {
	if s.Actor == nil {
		return ""
	}
	return s.Actor.Subject
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
	templates map[string]tokenTemplate
	issuer    string
	hooks     *hooks // runs the templates' Claims functions
}

// tokenTemplate is a checked TokenTemplate.
type tokenTemplate struct {
	mint.Template
	claims func(s *Session) (map[string]any, error)
}

// newMinter checks c and builds the minter.
func newMinter(c *TokenConfig, s *settings, h *hooks) (*minter, error) {
	signer, err := newSigner(c.Keys)
	if err != nil {
		return nil, err
	}
	mt := &minter{signer: signer, cache: mint.NewCache(cmp.Or(c.maxCachedSessions, tokenCacheSessions)),
		templates: map[string]tokenTemplate{}, issuer: cmp.Or(c.Issuer, mint.DefaultIssuer(s.URL, s.BasePath)), hooks: h}
	if _, ok := c.Templates[""]; !ok {
		mt.templates[""] = tokenTemplate{Template: mint.Template{Lifetime: mint.DefaultLifetime, Audience: []string{mt.issuer}}}
	}
	for name, t := range c.Templates {
		tpl := mint.Template{Lifetime: t.Lifetime, Audience: t.Audience, Fields: t.Fields, Static: t.Static}
		if te := tpl.Check(func(f string) bool { return templateFields[f] != nil }); te != nil {
			return nil, fieldConfigErr(fmt.Sprintf("Tokens.Templates[%q].", name), te)
		}
		mt.templates[name] = tokenTemplate{Template: tpl, claims: t.Claims}
	}
	return mt, nil
}

// newSigner checks the signing keys (at least one) and returns their
// signer, or a *ConfigError naming the key at fault.
func newSigner(keys []StaticKey) (*mint.Signer, error) {
	mk := make([]mint.Key, len(keys))
	for i, k := range keys {
		mk[i] = mint.Key{ID: k.ID, Signer: k.Key}
	}
	signer, err := mint.NewSigner(mk)
	if err != nil {
		return nil, fieldConfigErr("Tokens.", err)
	}
	return signer, nil
}

// fingerprint identifies the state of a session tokens are minted from, so
// that a token cached before a change of sign-in, user, scope, actor or
// tokens is never served after it, on any instance. (UpdateSession and
// SignOut also drop the session's tokens on their instance, which covers
// what a Claims function reads beyond these fields.)
func fingerprint(s *Session) string {
	return mint.Fingerprint(s.SignIn.ID, s.User.ID, s.User.Email, s.User.Name, s.User.Image, s.User.Username,
		s.User.FirstName, s.User.LastName, s.ActiveOrganizationID, s.ActiveWorkspaceID, actorSubject(s), s.AccessToken,
		s.IDToken, s.Provider, string(s.Status))
}

// forget drops the cached tokens of session id.
func (mt *minter) forget(id string) {
	if mt != nil && id != "" {
		mt.cache.Forget(id)
	}
}

// GetToken returns a short-lived JWT for s from the named template of
// Config.Tokens, signed with its first key: "sub" is the user's ID, "sid"
// the session's ID, with "iss", "aud", "iat", "nbf", "exp", "jti", "org_id"
// and "workspace_id" (when set), "act" (impersonation) and the template's
// claims. A token is cached (see TokenConfig) until the session changes
// (sign-in, scope, actor, refreshed tokens, sign-out); SkipCache forces a
// new one. Without an active session it returns ErrNoSession or
// ErrSessionExpired, never an empty token. It mints for bearer sessions
// too; GET {BasePath}/token serves cookie sessions only, so that a
// presented JWT cannot be exchanged for a fresh one. It is safe for
// concurrent use.
func (m *Manager) GetToken(ctx context.Context, s *Session, template string, opts ...TokenOption) (string, error) {
	return m.minter.token(ctx, s, template, m.cfg.Now(), opts)
}

// token is GetToken at now; mt is nil without Config.Tokens.
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
	caching := s.ID != ""
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
	mt.hooks.obs.TokenMinted(ctx)
	if caching {
		mt.cache.Put(s.ID, fp, template, raw, exp.Add(-min(tokenCacheLeeway, t.Lifetime/2)), now)
	}
	return raw, nil
}

// template returns the named template if tokens can be minted for s.
func (mt *minter) template(s *Session, name string) (tokenTemplate, error) {
	if mt == nil {
		return tokenTemplate{}, errTokensDisabled
	}
	if s == nil {
		return tokenTemplate{}, ErrNoSession
	}
	if s.Status != StatusActive {
		return tokenTemplate{}, fmt.Errorf("%w: session %s", ErrSessionExpired, s.Status)
	}
	if s.User.ID == "" {
		return tokenTemplate{}, fmt.Errorf("%w: no user", ErrNoSession)
	}
	t, ok := mt.templates[name]
	if !ok {
		return tokenTemplate{}, fmt.Errorf("%w: no template %q", ErrTemplate, name)
	}
	return t, nil
}

// mint signs a new token for s from template t: its Fields and Static
// claims, then what its Claims function returns, then the claims the
// Manager sets.
func (mt *minter) mint(ctx context.Context, s *Session, t tokenTemplate, now time.Time) (string, time.Time, error) {
	claims := t.Claims(func(f string) string { return templateFields[f](s) })
	if t.claims != nil {
		var extra map[string]any
		var err error
		if !mt.hooks.safely(ctx, "TokenTemplate.Claims", func() { extra, err = t.claims(s.Clone()) }) {
			return "", time.Time{}, fmt.Errorf("%w: Claims panicked", ErrTemplate)
		}
		if err == nil {
			err = mint.Add(claims, extra)
		}
		if err != nil {
			return "", time.Time{}, fmt.Errorf("%w: %w", ErrTemplate, err)
		}
	}
	mint.Scope{SessionID: s.ID, Organization: s.ActiveOrganizationID, Workspace: s.ActiveWorkspaceID,
		Actor: actorSubject(s)}.Set(claims)
	raw, exp, err := mt.signer.Mint(claims, mint.Registered{Issuer: mt.issuer, Subject: s.User.ID,
		Audience: t.Audience, IssuedAt: now, Lifetime: t.Lifetime})
	if err != nil {
		return "", time.Time{}, fmt.Errorf("%w: signing: %w", ErrTemplate, err)
	}
	return raw, exp, nil
}
