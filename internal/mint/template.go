package mint

import (
	"github.com/sessionkit/sessionkit/internal/fielderr"

	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Bounds of a template's lifetime.
const (
	// DefaultLifetime is the lifetime of a template that sets none.
	DefaultLifetime = 60 * time.Second
	minLifetime     = time.Second
	maxLifetime     = 24 * time.Hour
)

// DefaultIssuer is the "iss" of tokens when none is configured: the
// application's URL (without a trailing slash) and base path, or
// "sessionkit" without a URL.
func DefaultIssuer(appURL, basePath string) string {
	if appURL == "" {
		return "sessionkit"
	}
	return strings.TrimRight(appURL, "/") + basePath
}

// reserved are the claims the minter sets itself, which no template may.
var reserved = map[string]bool{"sub": true, "sid": true, "iss": true, "aud": true, "iat": true,
	"nbf": true, "exp": true, "jti": true, "act": true, "org_id": true, "workspace_id": true}

// Reserved reports whether claim is one the minter sets itself: sub, sid,
// iss, aud, iat, nbf, exp, jti, act, org_id or workspace_id.
func Reserved(claim string) bool { return reserved[claim] }

// Template is the declarative part of a token template: what it adds to
// a token besides the claims the minter sets.
type Template struct {
	// Lifetime is how long a token lives: DefaultLifetime when zero.
	Lifetime time.Duration
	// Audience is the token's "aud": required, no value empty.
	Audience []string
	// Fields maps claim names to the names of session fields.
	Fields map[string]string
	// Static claims are added as they are.
	Static map[string]any
}

// Check applies the default lifetime and validates t: an audience (a
// token without "aud" is accepted by every service that trusts the JWK
// Set), a lifetime between 1 s and 24 h, no reserved claim, Fields that
// name only session fields known reports, Static values that encode to
// JSON. It returns the first fault, or nil.
func (t *Template) Check(known func(field string) bool) *fielderr.Error {
	if len(t.Audience) == 0 {
		return fielderr.New("Audience", "is required: a token without \"aud\" is accepted by every service that trusts the JWK Set")
	}
	for i, a := range t.Audience {
		if a == "" {
			return fielderr.New(fmt.Sprintf("Audience[%d]", i), "must not be empty")
		}
	}
	if t.Lifetime == 0 {
		t.Lifetime = DefaultLifetime
	}
	if t.Lifetime < minLifetime || t.Lifetime > maxLifetime {
		return fielderr.New("Lifetime", "must be between %s and %s, got %s", minLifetime, maxLifetime, t.Lifetime)
	}
	for claim, f := range t.Fields {
		if reserved[claim] {
			return fielderr.New("Fields", "claim %q is set by the Manager", claim)
		}
		if !known(f) {
			return fielderr.New("Fields", "claim %q names unknown session field %q", claim, f)
		}
	}
	for claim, v := range t.Static {
		if reserved[claim] {
			return fielderr.New("Static", "claim %q is set by the Manager", claim)
		}
		if _, err := json.Marshal(v); err != nil {
			return fielderr.Wrap("Static", fmt.Sprintf("claim %q does not encode to JSON", claim), err)
		}
	}
	return nil
}

// Claims returns a new map of t's claims: its Fields, read with value
// and left out when empty, then its Static claims.
func (t *Template) Claims(value func(field string) string) map[string]any {
	claims := make(map[string]any, len(t.Fields)+len(t.Static))
	for claim, f := range t.Fields {
		if v := value(f); v != "" {
			claims[claim] = v
		}
	}
	for claim, v := range t.Static {
		claims[claim] = v
	}
	return claims
}

// Add copies extra into claims, or returns an error naming the first
// reserved claim of extra.
func Add(claims, extra map[string]any) error {
	for claim, v := range extra {
		if reserved[claim] {
			return fmt.Errorf("claim %q is set by the Manager", claim)
		}
		claims[claim] = v
	}
	return nil
}

// Scope are the claims the minter sets besides the registered ones; each
// is left out when empty.
type Scope struct {
	// SessionID is "sid".
	SessionID string
	// Organization is "org_id".
	Organization string
	// Workspace is "workspace_id".
	Workspace string
	// Actor is the "sub" of "act", the impersonating subject.
	Actor string
}

// Set sets sc's claims in claims.
func (sc Scope) Set(claims map[string]any) {
	for _, c := range [...]struct{ name, v string }{{"sid", sc.SessionID}, {"org_id", sc.Organization}, {"workspace_id", sc.Workspace}} {
		if c.v != "" {
			claims[c.name] = c.v
		}
	}
	if sc.Actor != "" {
		claims["act"] = map[string]any{"sub": sc.Actor}
	}
}
