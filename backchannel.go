package sessionkit

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// backChannelEvent is the member of a logout token's "events" claim that
// makes it one (OpenID Connect Back-Channel Logout 1.0, section 2.4).
const backChannelEvent = "http://schemas.openid.net/event/backchannel-logout"

// ErrInvalidLogoutToken means a back-channel logout token failed
// verification: no configured provider issued it, its signature or a
// claim check failed, or it was presented before (its "jti" is spent).
var ErrInvalidLogoutToken = errors.New("sessionkit: invalid logout token")

// The bounds of how long a logout token's "jti" is remembered.
const (
	minJTIMemory = time.Minute
	maxJTIMemory = 7 * 24 * time.Hour
)

// BackChannelLogout verifies an OpenID Connect Back-Channel Logout 1.0
// logout token and revokes the sessions it names; the endpoint POST
// {BasePath}/backchannel-logout calls it.
//
// The token must come from a configured Provider with an Issuer (found by
// its "iss"), verify with that provider's keys as its ID tokens do
// (signature, iss, aud = ClientID, azp, exp), carry "iat", "jti", an
// "events" claim holding the back-channel logout event, "sid" or "sub" (or
// both), and no "nonce". Its "jti" is consumed in the Store: a token is
// accepted once. The accounts signed out are the sign-ins through that
// provider whose ID token carried that "sid" (and, when the token has
// both, whose user is "sub"), or, with "sub" alone, every sign-in of that
// user through that provider, in every session. A session left with no
// account is revoked; a session signed in to other accounts too goes on
// with them (see RevokeUser).
//
// Errors wrap ErrInvalidLogoutToken, ErrStoreUnavailable, or are
// ErrStoreRequired without a Config.Store.
func (m *Manager) BackChannelLogout(ctx context.Context, logoutToken string) error {
	if m.cfg.Store == nil {
		return ErrStoreRequired
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidLogoutToken, fmt.Sprintf(format, args...))
	}
	if logoutToken == "" || len(logoutToken) > maxTokenLen {
		return bad("missing or too long")
	}
	unverified := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(logoutToken, unverified); err != nil {
		return bad("malformed")
	}
	iss, _ := unverified["iss"].(string)
	var p *provider
	for _, cand := range m.providers {
		if iss != "" && cand.cfg.Issuer == iss {
			p = cand
			break
		}
	}
	if p == nil {
		return bad("no configured provider has this issuer")
	}
	rp, err := p.resolve(ctx)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidLogoutToken, err)
	}
	if rp.idToken == nil {
		return bad("provider %q has no keys to verify it with", p.cfg.ID)
	}
	claims, err := rp.verifyIDToken(ctx, logoutToken, "")
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidLogoutToken, err)
	}
	if iat, _ := claims.GetIssuedAt(); iat == nil {
		return bad("no iat")
	}
	events, _ := claims["events"].(map[string]any)
	if _, ok := events[backChannelEvent].(map[string]any); !ok {
		return bad("the events claim holds no back-channel logout event")
	}
	if _, ok := claims["nonce"]; ok {
		return bad("a logout token must not carry a nonce")
	}
	sid, _ := claims["sid"].(string)
	sub, _ := claims["sub"].(string)
	if sid == "" && sub == "" {
		return bad("neither sid nor sub")
	}
	jti, _ := claims["jti"].(string)
	if jti == "" {
		return bad("no jti")
	}
	ttl := minJTIMemory
	if exp, _ := claims.GetExpirationTime(); exp != nil {
		ttl = min(max(exp.Sub(m.cfg.Now())+p.cfg.Leeway, minJTIMemory), maxJTIMemory)
	}
	first, err := m.cfg.Store.Consume(ctx, "backchannel-logout:"+iss+" "+jti, ttl)
	if err != nil {
		return storeErr(err)
	}
	if !first {
		return bad("replayed (jti seen before)")
	}
	var recs []Record
	psid := providerSessionID(iss, sid)
	if sid != "" {
		recs, err = m.cfg.Store.ListByProviderSession(ctx, psid)
	} else {
		recs, err = m.cfg.Store.ListByUser(ctx, sub)
	}
	if err != nil {
		return storeErr(err)
	}
	return m.signOutAccounts(ctx, recs, func(meta *storeMeta, in *SignIn) bool {
		if in.Provider != p.cfg.ID || (sub != "" && in.User.ID != sub) {
			return false
		}
		return sid == "" || slices.Contains(meta.psids, ownedPSID{in.ID, psid})
	})
}

// backchannelLogout serves POST {BasePath}/backchannel-logout: 200 when
// the logout token was accepted, 400 with a JSON error otherwise (section
// 2.8 of the specification), including when the sessions could not be
// revoked.
func (h *authHandler) backchannelLogout(w http.ResponseWriter, r *http.Request, _ string) {
	if h.m.cfg.Store == nil {
		h.fail(w, r, &handlerError{http.StatusNotFound, "UnknownAction", "back-channel logout needs a session store"}, true)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	if err := r.ParseForm(); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request", "error_description": "the body is not a form"})
		return
	}
	err := h.m.BackChannelLogout(r.Context(), r.PostForm.Get("logout_token"))
	switch {
	case err == nil:
		w.WriteHeader(http.StatusOK)
	case errors.Is(err, ErrInvalidLogoutToken):
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request", "error_description": "the logout token is invalid"})
	default:
		h.m.cfg.Logger.ErrorContext(r.Context(), "sessionkit: back-channel logout failed", "error", err.Error())
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "logout_failed", "error_description": "the sessions could not be revoked"})
	}
}
