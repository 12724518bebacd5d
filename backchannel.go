package sessionkit

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/sessionkit/sessionkit/internal/jwtverify"
	"github.com/sessionkit/sessionkit/internal/oidc"
	"github.com/sessionkit/sessionkit/internal/record"
	"github.com/sessionkit/sessionkit/store"
)

// backChannelLogout serves POST {BasePath}/backchannel-logout (OpenID
// Connect Back-Channel Logout 1.0): it verifies logoutToken as
// verifyLogoutToken describes, consumes its "jti" in the Store (a token is
// accepted once), and signs out the accounts it names: the sign-ins through
// its provider whose ID token carried its "sid" (and whose user is its
// "sub", when it has both), or with "sub" alone every sign-in of that user
// through that provider. A session left with no account is revoked.
//
// The Store must be a store.Consumer, and a store.ProviderSessionLister for
// a token with "sid" or a store.UserLister for "sub" alone; otherwise the
// error wraps ErrNotConfigured and nothing is consumed. Other errors wrap
// ErrInvalidToken or ErrStoreUnavailable.
func (m *Manager) backChannelLogout(ctx context.Context, logoutToken string) error {
	consumer, err := capability[store.Consumer](m.cfg.Store, "Consumer")
	if err != nil {
		return err
	}
	lt, err := verifyLogoutToken(ctx, m.providers, logoutToken, m.cfg.Now())
	if err != nil {
		return err
	}
	list, err := m.stored.logoutListing(lt)
	if err != nil {
		return err
	}
	first, err := consumer.Consume(ctx, "backchannel-logout:"+lt.iss+" "+lt.jti, lt.ttl)
	if err != nil {
		return storeErr(err)
	}
	if !first {
		return badLogoutToken("replayed (jti seen before)")
	}
	recs, err := list(ctx)
	if err != nil {
		return storeErr(err)
	}
	psid := record.ProviderSessionID(lt.iss, lt.sid)
	return m.stored.signOutAccounts(ctx, recs, func(meta *storeMeta, in *SignIn) bool {
		if in.Provider != lt.provider || (lt.sub != "" && in.User.ID != lt.sub) {
			return false
		}
		return lt.sid == "" || slices.Contains(meta.PSIDs, ownedPSID{SignIn: in.ID, ID: psid})
	})
}

// logoutToken is what a verified logout token says.
type logoutToken struct {
	provider, iss string // the issuing Provider's ID and issuer
	sid, sub      string // at least one is set
	jti           string
	ttl           time.Duration // how long jti is remembered
}

// badLogoutToken returns an error wrapping errInvalidLogoutToken.
func badLogoutToken(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errInvalidLogoutToken, fmt.Sprintf(format, args...))
}

// logoutListing returns the listing of the sessions lt names: by provider
// session when it has "sid", by user otherwise.
func (ss *storedSessions) logoutListing(lt logoutToken) (func(context.Context) ([]store.Record, error), error) {
	if lt.sid != "" {
		l, err := capability[store.ProviderSessionLister](ss.store, "ProviderSessionLister")
		if err != nil {
			return nil, err
		}
		psid := record.ProviderSessionID(lt.iss, lt.sid)
		return func(ctx context.Context) ([]store.Record, error) { return l.ListByProviderSession(ctx, psid) }, nil
	}
	l, err := capability[store.UserLister](ss.store, "UserLister")
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context) ([]store.Record, error) { return l.ListByUser(ctx, lt.sub) }, nil
}

// verifyLogoutToken verifies raw with the keys of the provider whose Issuer
// is its "iss", as that provider's ID tokens (signature, iss, aud =
// ClientID, azp, exp), and checks the claims of a logout token: "iat",
// "jti", the back-channel logout event, "sid" or "sub", no "nonce".
func verifyLogoutToken(ctx context.Context, providers []*provider, raw string, now time.Time) (logoutToken, error) {
	if raw == "" || len(raw) > jwtverify.MaxTokenLen {
		return logoutToken{}, badLogoutToken("missing or too long")
	}
	p, iss, err := logoutIssuer(providers, raw)
	if err != nil {
		return logoutToken{}, err
	}
	rp, err := p.resolve(ctx)
	if err != nil {
		return logoutToken{}, fmt.Errorf("%w: %w", errInvalidLogoutToken, err)
	}
	if rp.idToken == nil {
		return logoutToken{}, badLogoutToken("provider %q has no keys to verify it with", p.cfg.ID)
	}
	claims, err := rp.verifyIDToken(ctx, raw, "")
	if err != nil {
		return logoutToken{}, fmt.Errorf("%w: %w", errInvalidLogoutToken, err)
	}
	said, err := oidc.LogoutClaims(claims)
	if err != nil {
		return logoutToken{}, badLogoutToken("%s", err)
	}
	return logoutToken{
		provider: p.cfg.ID, iss: iss, sid: said.SID, sub: said.Sub, jti: said.JTI,
		ttl: oidc.JTIMemory(claims, defaultLeeway, now),
	}, nil
}

// logoutIssuer returns the provider whose Issuer is the "iss" of the
// unverified token raw.
func logoutIssuer(providers []*provider, raw string) (*provider, string, error) {
	iss, err := oidc.UnverifiedIssuer(raw)
	if err != nil {
		return nil, "", badLogoutToken("%s", err)
	}
	for _, p := range providers {
		if iss != "" && p.cfg.Issuer == iss {
			return p, iss, nil
		}
	}
	return nil, "", badLogoutToken("no configured provider has this issuer")
}
