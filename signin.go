package sessionkit

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/http"
	"time"

	"golang.org/x/oauth2"

	"github.com/sessionkit/sessionkit/internal/record"
	"github.com/sessionkit/sessionkit/store"
)

// SignInParams is what SignIn makes a session from: an OAuth token, a user,
// or both.
type SignInParams struct {
	// Token holds the provider's tokens. Its "id_token" extra, if any, is
	// verified against the provider named by Provider (signature, iss,
	// aud, azp, exp, iat, Nonce) and its claims fill the user.
	Token *oauth2.Token
	// Nonce, when set, is the nonce the ID token must carry.
	Nonce string
	// User sets the user, or adds to an ID token's claims: its non-empty
	// fields win, but an ID must equal the token's "sub".
	User *User
	// Provider is the ID of the Config.Providers entry that issued (and
	// refreshes) the tokens; it must be configured when Token has an ID token.
	Provider string
	// Actor marks an impersonated session.
	Actor *Actor
	// OrganizationID sets the initial organization scope.
	OrganizationID string
	// WorkspaceID sets the initial workspace scope.
	WorkspaceID string
}

// verbs are the session verbs without their HTTP face: each fires its
// callbacks and returns the cookie to write. Safe for concurrent use.
type verbs struct {
	now       func() time.Time
	lifetime  time.Duration // Config.Lifetime
	store     store.Store   // nil without Config.Store
	sessions  *storedSessions
	cookies   *cookieCodec // nil when Config.Keys is empty (bearer-only)
	reader    *reader
	hooks     *hooks
	minter    *minter // nil without Config.Tokens
	providers providerLookup
	// authorizeScope is Config.AuthorizeScope.
	authorizeScope func(ctx context.Context, s *Session, kind ScopeKind, id string) error
}

func newVerbs(m *Manager) *verbs {
	return &verbs{now: m.cfg.Now, lifetime: m.cfg.Lifetime, store: m.cfg.Store, cookies: m.cookies, reader: m.reader,
		hooks: m.hooks, minter: m.minter, providers: m.findProvider, authorizeScope: m.cfg.AuthorizeScope, sessions: m.stored}
}

// signIn is SignIn.
func (v *verbs) signIn(r *http.Request, p SignInParams) (*Session, cookieWrite, error) {
	if v.cookies == nil {
		return nil, cookieWrite{}, errCookiesDisabled
	}
	ctx := r.Context()
	now := v.now().UTC().Truncate(time.Second)
	in, psid, err := v.newSignIn(ctx, p, now)
	if err != nil {
		return nil, cookieWrite{}, err
	}
	s := v.newSession(in, now)
	var cw cookieWrite
	if v.store != nil {
		cw, err = v.signInStored(r, s, psid)
	} else {
		cw, err = v.cookies.sessionCookie(r, s, v.now())
	}
	if err != nil {
		return nil, cw, err
	}
	v.hooks.obs.SignIn(ctx)
	v.hooks.session(ctx, "OnSignIn", v.hooks.cb.OnSignIn, s)
	return s, cw, nil
}

// newSession starts a session of the sign-in in at now.
func (v *verbs) newSession(in SignIn, now time.Time) *Session {
	s := &Session{
		ID:           newSessionID(),
		Status:       StatusActive,
		Source:       SourceCookie,
		CreatedAt:    now,
		LastActiveAt: now,
		AbandonAt:    now.Add(v.lifetime),
		SignIn:       in,
	}
	s.ExpireAt = s.AbandonAt
	if v.sessions.idle > 0 {
		s.ExpireAt = now.Add(v.sessions.idle)
	}
	return s
}

// newSignIn makes p's sign-in and returns its ID token's provider session.
func (v *verbs) newSignIn(ctx context.Context, p SignInParams, now time.Time) (in SignIn, psid string, err error) {
	in = SignIn{
		ID:                   "sin_" + rand.Text(),
		Provider:             p.Provider,
		Actor:                cloneActor(p.Actor),
		ActiveOrganizationID: p.OrganizationID,
		ActiveWorkspaceID:    p.WorkspaceID,
		CreatedAt:            now,
	}
	if p.Token != nil {
		if psid, err = v.signInTokens(ctx, &in, p, now); err != nil {
			v.hooks.err(ctx, "OnIdTokenError", v.hooks.cb.OnIdTokenError, err)
			return SignIn{}, "", err
		}
	}
	if p.User != nil {
		if in.User.ID != "" && p.User.ID != "" && p.User.ID != in.User.ID {
			return SignIn{}, "", fmt.Errorf("%w: User.ID does not match the ID token's subject", ErrInvalidSession)
		}
		mergeUser(&in.User, p.User)
	}
	if in.User.ID == "" {
		return SignIn{}, "", fmt.Errorf("%w: no user ID (give SignInParams.User.ID or an ID token)", ErrInvalidSession)
	}
	return in, psid, nil
}

// providerLookup finds a configured provider by its ID, or nil.
type providerLookup func(id string) *provider

// get is find(id), or an error wrapping ErrUnknownProvider.
func (find providerLookup) get(id string) (*provider, error) {
	if p := find(id); p != nil {
		return p, nil
	}
	return nil, fmt.Errorf("%w %q", ErrUnknownProvider, id)
}

// signInTokens puts p's tokens, verified, into in (as newSignIn).
func (v *verbs) signInTokens(ctx context.Context, in *SignIn, p SignInParams, now time.Time) (psid string, err error) {
	t := p.Token
	in.AccessToken = t.AccessToken
	in.TokenType = t.Type()
	in.AccessTokenExpiresAt = t.Expiry.UTC().Truncate(time.Second) // whole seconds, as the cookie keeps them
	in.AccessTokenIssuedAt = now
	in.RefreshToken = t.RefreshToken
	raw, _ := t.Extra("id_token").(string)
	switch {
	case raw != "":
		user, exp, sid, err := v.providers.verifyIDToken(ctx, p.Provider, raw, p.Nonce)
		if err != nil {
			return "", err
		}
		in.IDToken, in.IDTokenExpiresAt, in.User = raw, exp, user
		return sid, nil
	case p.Nonce != "":
		return "", fmt.Errorf("%w: a nonce was expected but the token has no id_token", errInvalidIDToken)
	}
	return "", nil
}

// verifyIDToken verifies raw as an ID token of provider id; psid is its sid.
func (find providerLookup) verifyIDToken(ctx context.Context, id, raw, nonce string) (user User, exp time.Time, psid string, err error) {
	p, err := find.get(id)
	if err != nil {
		return User{}, time.Time{}, "", fmt.Errorf("%w: the token carries an id_token but its provider is not configured: %w", errInvalidIDToken, err)
	}
	rp, err := p.resolve(ctx)
	if err != nil {
		return User{}, time.Time{}, "", err
	}
	if rp.idToken == nil {
		return User{}, time.Time{}, "", fmt.Errorf("%w: provider %q has no JWKS URL to verify it with", errInvalidIDToken, id)
	}
	claims, err := rp.idToken.VerifyIDToken(ctx, raw, nonce)
	if err != nil {
		return User{}, time.Time{}, "", fmt.Errorf("%w: %w", errInvalidIDToken, tokenErr(err))
	}
	user = userFromClaims(claims)
	if user.ID == "" {
		return User{}, time.Time{}, "", fmt.Errorf("%w: no sub claim", errInvalidIDToken)
	}
	if e, _ := claims.GetExpirationTime(); e != nil {
		exp = e.UTC()
	}
	if sid, _ := claims["sid"].(string); sid != "" {
		iss, _ := claims["iss"].(string)
		psid = record.ProviderSessionID(iss, sid)
	}
	return user, exp, psid, nil
}

// mergeUser copies the non-empty fields of src over dst.
func mergeUser(dst, src *User) {
	email, phone := dst.Email, dst.PhoneNumber
	d := dst.strings()
	for i, f := range src.strings() {
		if *f != "" {
			*d[i] = *f
		}
	}
	// A verified flag follows the value it vouches for: src's when src
	// replaced it, dst's when both name the same one.
	if src.Email != "" {
		dst.EmailVerified = src.EmailVerified || (dst.EmailVerified && src.Email == email)
	}
	if src.PhoneNumber != "" {
		dst.PhoneVerified = src.PhoneVerified || (dst.PhoneVerified && src.PhoneNumber == phone)
	}
}

// signOut is SignOut; s is the session it ended, or nil.
func (v *verbs) signOut(r *http.Request) (s *Session, cw cookieWrite, serr error) {
	if v.cookies == nil {
		return nil, cookieWrite{}, errCookiesDisabled
	}
	if s = v.signedOut(r); s != nil {
		v.minter.forget(s.ID)
	}
	if parts, ok := v.cookies.parts(r); ok {
		if v.store != nil {
			serr = v.endStored(r.Context(), parts) // revokes its refresh tokens
		}
		v.sessions.cache.evict(parts)
	}
	cw = v.cookies.jar.Clearing(r)
	if s != nil && serr == nil && v.store != nil {
		s.Status = StatusEnded
	} else if s != nil && v.store == nil && s.Status == StatusActive {
		v.sessions.revoke(s.SignIns())
	}
	v.hooks.obs.SignOut(r.Context(), s != nil)
	v.hooks.session(r.Context(), "OnSignOut", v.hooks.cb.OnSignOut, s)
	return s, cw, serr
}

// signedOut is r's cookie session, its own copy, or nil.
func (v *verbs) signedOut(r *http.Request) *Session {
	var s *Session
	if st := stateFrom(r.Context()); st != nil {
		s = st.load()
	} else if d := (decoded{}); v.reader.decodeCookie(r, v.now(), &d) {
		d.own() // from the verified-credential cache, shared: its Status is set by signOut
		s = d.session
	}
	if s != nil && s.Source != SourceCookie {
		return nil
	}
	return s
}

// endStored ends the stored session of the cookie parts: copies die too.
func (v *verbs) endStored(ctx context.Context, parts []string) error {
	ref, _, err := v.sessions.openRef(parts, v.now())
	if err != nil {
		return nil
	}
	_, _, err = v.sessions.mutateAt(ctx, ref.ID, false, nil, setStatus(StatusEnded))
	return ignoreNotFound(err)
}

// update is UpdateSession, and with rotate RotateSession.
func (v *verbs) update(r *http.Request, update func(*Session) error, rotate bool) (*Session, cookieWrite, error) {
	if v.cookies == nil {
		return nil, cookieWrite{}, errCookiesDisabled
	}
	cur, err := v.reader.serverSession(r)
	if err != nil {
		return nil, cookieWrite{}, err
	}
	if cur.Source != SourceCookie {
		return nil, cookieWrite{}, fmt.Errorf("%w: only cookie sessions can be updated", ErrInvalidSession)
	}
	return v.updateFrom(r, cur, update, ownedPSID{}, rotate)
}

// updateFrom is update of cur, r's active cookie session (psid: AddSignIn).
func (v *verbs) updateFrom(r *http.Request, cur *Session, update func(*Session) error, psid ownedPSID, rotate bool) (*Session, cookieWrite, error) {
	if v.store != nil {
		return v.updateStored(r, cur, update, psid, rotate)
	}
	s, err := applyUpdate(cur, update)
	if err != nil {
		return nil, cookieWrite{}, err
	}
	if rotate || privilegeChanged(cur, s) {
		s.ID = newSessionID()
	}
	cw, err := v.cookies.sessionCookie(r, s, v.now())
	if err != nil {
		return nil, cw, err
	}
	v.minter.forget(cur.ID)
	v.updated(r, s)
	return s, cw, nil
}

// updated records s as r's session and fires OnSessionUpdate.
func (v *verbs) updated(r *http.Request, s *Session) {
	if st := stateFrom(r.Context()); st != nil {
		st.session.Store(s.Clone())
	}
	v.hooks.session(r.Context(), "OnSessionUpdate", v.hooks.cb.OnSessionUpdate, s)
}

// applyUpdate runs update on a copy of cur, keeping identity and lifetime.
func applyUpdate(cur *Session, update func(*Session) error) (*Session, error) {
	s := cur.Clone()
	if err := update(s); err != nil {
		return nil, err
	}
	s.ID, s.Status, s.Source = cur.ID, cur.Status, cur.Source
	s.CreatedAt, s.LastActiveAt, s.ExpireAt, s.AbandonAt = cur.CreatedAt, cur.LastActiveAt, cur.ExpireAt, cur.AbandonAt
	if err := s.validSignIns(); err != nil {
		return nil, err
	}
	if s.User.ID == "" {
		return nil, fmt.Errorf("%w: no user ID", ErrInvalidSession)
	}
	return s, nil
}

// signInStored saves s, marking the client's previous session replaced.
func (v *verbs) signInStored(r *http.Request, s *Session, psid string) (cookieWrite, error) {
	ctx := r.Context()
	if old, ok := v.sessions.requestRef(r); ok {
		if _, _, err := v.sessions.mutateAt(ctx, old.ID, false, nil, setStatus(StatusReplaced)); ignoreNotFound(err) != nil {
			v.sessions.logger.WarnContext(ctx, "sessionkit: marking the replaced session failed", "error", err.Error())
		}
	}
	now := v.now()
	st := &storeState{id: s.ID, meta: record.New(now)}
	st.meta.AddPSID(s.SignIn.ID, psid)
	if _, err := v.sessions.saveState(ctx, s, st); err != nil {
		return cookieWrite{}, err
	}
	return v.cookies.refCookie(r, s.ID, st.meta.Gen, s, v.now())
}

// updateStored is update with a Store, in a new generation (or under a new
// ID for a privilege change) whose cookie it returns.
func (v *verbs) updateStored(r *http.Request, cur *Session, update func(*Session) error, psid ownedPSID, rotate bool) (*Session, cookieWrite, error) {
	out, st, err := v.sessions.mutate(r.Context(), cur.ID, func(s *Session, meta *storeMeta, now time.Time) (bool, error) {
		if s.Status != StatusActive {
			return false, fmt.Errorf("%w: session %s", ErrSessionExpired, s.Status)
		}
		c, err := applyUpdate(s, update)
		if err != nil {
			return false, err
		}
		meta.AddPSID(psid.SignIn, psid.ID)
		if meta.Rotate = rotate || privilegeChanged(s, c); !meta.Rotate {
			meta.Advance(now)
		}
		*s = *c
		return true, nil
	})
	if err != nil {
		return nil, cookieWrite{}, noSessionIfNotFound(err)
	}
	cw, err := v.cookies.refCookie(r, st.id, st.meta.Gen, out, v.now())
	if err != nil {
		return nil, cw, err
	}
	v.minter.forget(cur.ID)
	v.minter.forget(st.id)
	v.updated(r, out)
	return out.Clone(), cw, nil
}
