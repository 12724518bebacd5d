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
// Connect Back-Channel Logout 1.0): it verifies logoutToken, signs out the
// sign-ins through its provider whose ID token carried its "sid" (and
// whose user is its "sub", if set), or with "sub" alone every sign-in of
// that user through that provider, then consumes its "jti" (a token is
// accepted once). A session left with no account is revoked. Without the
// Store capabilities it needs (store.Consumer, and
// store.ProviderSessionLister for "sid" or store.UserLister for "sub"),
// the error wraps ErrNotConfigured and nothing is done; other errors wrap
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
	m.hooks.obs.BackchannelLogout(ctx)
	recs, err := list(ctx)
	if err != nil {
		return storeErr(err)
	}
	psid := record.ProviderSessionID(lt.iss, lt.SID)
	err = m.stored.signOutAccounts(ctx, recs, func(meta *storeMeta, in *SignIn) bool {
		if in.Provider != lt.provider || (lt.Sub != "" && in.User.ID != lt.Sub) {
			return false
		}
		return lt.SID == "" || slices.Contains(meta.PSIDs, ownedPSID{SignIn: in.ID, ID: psid})
	})
	if err != nil {
		return err
	}
	// The jti is consumed once the sign-out is done, so that the
	// provider's retry after a failure is not taken for a replay; a
	// replay signs out again only what its token names, then is refused.
	first, err := consumer.Consume(ctx, "backchannel-logout:"+lt.iss+" "+lt.JTI, lt.ttl)
	if err != nil {
		return storeErr(err)
	}
	if !first {
		return badLogoutToken("replayed (jti seen before)")
	}
	return nil
}

// logoutToken is what a verified logout token says.
type logoutToken struct {
	oidc.Logout
	provider, iss string        // the issuing Provider's ID and issuer
	ttl           time.Duration // how long the JTI is remembered
}

func badLogoutToken(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errInvalidLogoutToken, fmt.Sprintf(format, args...))
}

// logoutListing returns the listing of the sessions lt names.
func (ss *storedSessions) logoutListing(lt logoutToken) (func(context.Context) ([]store.Record, error), error) {
	if lt.SID != "" {
		l, err := capability[store.ProviderSessionLister](ss.store, "ProviderSessionLister")
		if err != nil {
			return nil, err
		}
		psid := record.ProviderSessionID(lt.iss, lt.SID)
		return func(ctx context.Context) ([]store.Record, error) { return l.ListByProviderSession(ctx, psid) }, nil
	}
	l, err := capability[store.UserLister](ss.store, "UserLister")
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context) ([]store.Record, error) { return l.ListByUser(ctx, lt.Sub) }, nil
}

// verifyLogoutToken verifies raw with the keys of the provider whose Issuer
// is its "iss", as that provider's ID tokens (signature, iss, aud =
// ClientID, azp, exp unless AllowLogoutTokenWithoutExp), and checks the
// claims of a logout token: "iat", "jti", the back-channel logout event,
// "sid" or "sub", no "nonce".
func verifyLogoutToken(ctx context.Context, providers []*provider, raw string, now time.Time) (logoutToken, error) {
	if raw == "" || len(raw) > jwtverify.MaxTokenLen {
		return logoutToken{}, badLogoutToken("missing or too long")
	}
	iss, err := oidc.UnverifiedIssuer(raw)
	if err != nil {
		return logoutToken{}, badLogoutToken("%s", err)
	}
	i := slices.IndexFunc(providers, func(p *provider) bool { return iss != "" && p.cfg.Issuer == iss })
	if i < 0 {
		return logoutToken{}, badLogoutToken("no configured provider has this issuer")
	}
	p := providers[i]
	rp, err := p.resolve(ctx)
	if err != nil {
		return logoutToken{}, fmt.Errorf("%w: %w", errInvalidLogoutToken, err)
	}
	if rp.idToken == nil {
		return logoutToken{}, badLogoutToken("provider %q has no keys to verify it with", p.cfg.ID)
	}
	claims, err := rp.idToken.VerifyLogoutToken(ctx, raw, oidc.NoExpMaxAge(p.cfg.AllowLogoutTokenWithoutExp))
	if err != nil {
		return logoutToken{}, fmt.Errorf("%w: %w", errInvalidLogoutToken, tokenErr(err))
	}
	said, err := oidc.LogoutClaims(claims)
	if err != nil {
		return logoutToken{}, badLogoutToken("%s", err)
	}
	return logoutToken{Logout: said, provider: p.cfg.ID, iss: iss, ttl: oidc.JTIMemory(claims, defaultLeeway, now)}, nil
}
