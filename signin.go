package sessionkit

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/sessionkit/sessionkit/store"

	"golang.org/x/oauth2"
)

// SignInParams is what SignIn makes a session from: an OAuth token, a user,
// or both.
type SignInParams struct {
	// Token holds the provider's tokens. Its "id_token" extra, when present,
	// is verified against the Config.Providers entry named by Provider
	// (signature, iss, aud, azp, exp, iat and Nonce) and its claims fill
	// the user.
	Token *oauth2.Token
	// Nonce is the nonce sent in the authorization request; when set, the ID
	// token must carry it.
	Nonce string
	// User sets the user, or, with an ID token, adds to what its claims
	// say: its non-empty fields win, except ID, which must equal the ID
	// token's "sub" if both are given.
	User *User
	// Provider is the ID of the Config.Providers entry the tokens come
	// from; the middleware refreshes the access token through it. It may
	// name no configured provider only when Token carries no ID token.
	Provider string
	// Actor marks an impersonated session.
	Actor *Actor
	// OrganizationID sets the initial organization scope.
	OrganizationID string
	// WorkspaceID sets the initial workspace scope.
	WorkspaceID string
}

// SignIn starts a new session from p and writes its cookie to w. The session
// always gets a new random ID, whatever r carried, so a session ID planted
// before sign-in is never promoted (no fixation). It fires OnSignIn, or
// OnIdTokenError when the ID token is refused, and returns the new session.
func (m *Manager) SignIn(w http.ResponseWriter, r *http.Request, p SignInParams) (*Session, error) {
	if m.cookies == nil {
		return nil, ErrCookiesDisabled
	}
	ctx := r.Context()
	now := m.cfg.Now().UTC().Truncate(time.Second)
	in, psid, err := m.newSignIn(ctx, p, now)
	if err != nil {
		return nil, err
	}
	s := &Session{
		ID:           newSessionID(),
		Status:       StatusActive,
		Source:       SourceCookie,
		CreatedAt:    now,
		LastActiveAt: now,
		AbandonAt:    now.Add(m.cfg.Lifetime),
		SignIn:       in,
	}
	s.ExpireAt = s.AbandonAt
	if m.cfg.IdleTimeout > 0 {
		s.ExpireAt = now.Add(m.cfg.IdleTimeout)
	}
	if m.cfg.Store != nil {
		if err := m.signInStored(w, r, s, psid); err != nil {
			return nil, err
		}
	} else if err := m.writeSession(w, r, s); err != nil {
		return nil, err
	}
	m.hooks.session(ctx, "OnSignIn", m.hooks.cb.OnSignIn, s)
	return s, nil
}

// newSignIn makes the sign-in p describes, verifying its ID token. It
// returns the provider session ID the ID token names, qualified with its
// issuer, or "".
func (m *Manager) newSignIn(ctx context.Context, p SignInParams, now time.Time) (in SignIn, psid string, err error) {
	in = SignIn{
		ID:                   "sin_" + rand.Text(),
		Provider:             p.Provider,
		Actor:                cloneActor(p.Actor),
		ActiveOrganizationID: p.OrganizationID,
		ActiveWorkspaceID:    p.WorkspaceID,
		CreatedAt:            now,
	}
	if t := p.Token; t != nil {
		in.AccessToken = t.AccessToken
		in.TokenType = t.Type()
		in.AccessTokenExpiresAt = t.Expiry.UTC()
		in.AccessTokenIssuedAt = now
		in.RefreshToken = t.RefreshToken
		raw, _ := t.Extra("id_token").(string)
		switch {
		case raw != "":
			user, exp, sid, err := m.verifyIDToken(ctx, p.Provider, raw, p.Nonce)
			if err != nil {
				m.hooks.err(ctx, "OnIdTokenError", m.hooks.cb.OnIdTokenError, err)
				return SignIn{}, "", err
			}
			in.IDToken, in.IDTokenExpiresAt, in.User = raw, exp, user
			psid = sid
		case p.Nonce != "":
			err := fmt.Errorf("%w: a nonce was expected but the token has no id_token", ErrInvalidIDToken)
			m.hooks.err(ctx, "OnIdTokenError", m.hooks.cb.OnIdTokenError, err)
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

// verifyIDToken verifies raw as an ID token of the provider named id. psid
// is the provider's session ID ("sid"), qualified with its issuer, or "".
func (m *Manager) verifyIDToken(ctx context.Context, id, raw, nonce string) (user User, exp time.Time, psid string, err error) {
	p, err := m.provider(id)
	if err != nil {
		return User{}, time.Time{}, "", fmt.Errorf("%w: the token carries an id_token but its provider is not configured: %w", ErrInvalidIDToken, err)
	}
	rp, err := p.resolve(ctx)
	if err != nil {
		return User{}, time.Time{}, "", err
	}
	if rp.idToken == nil {
		return User{}, time.Time{}, "", fmt.Errorf("%w: provider %q has no JWKS URL to verify it with", ErrInvalidIDToken, id)
	}
	claims, err := rp.verifyIDToken(ctx, raw, nonce)
	if err != nil {
		return User{}, time.Time{}, "", fmt.Errorf("%w: %w", ErrInvalidIDToken, err)
	}
	user = userFromClaims(claims)
	if user.ID == "" {
		return User{}, time.Time{}, "", fmt.Errorf("%w: no sub claim", ErrInvalidIDToken)
	}
	if e, _ := claims.GetExpirationTime(); e != nil {
		exp = e.UTC()
	}
	if sid, _ := claims["sid"].(string); sid != "" {
		iss, _ := claims["iss"].(string)
		psid = providerSessionID(iss, sid)
	}
	return user, exp, psid, nil
}

// providerSessionID qualifies an identity provider's session ID with its
// issuer, as Record.ProviderSessionIDs holds it. A NUL byte, which a Store
// refuses, is dropped.
func providerSessionID(iss, sid string) string {
	return strings.ReplaceAll(iss+" "+sid, "\x00", "")
}

// mergeUser copies the non-empty fields of src over dst.
func mergeUser(dst, src *User) {
	set := func(d *string, s string) {
		if s != "" {
			*d = s
		}
	}
	set(&dst.ID, src.ID)
	set(&dst.Name, src.Name)
	set(&dst.Email, src.Email)
	set(&dst.Image, src.Image)
	set(&dst.FirstName, src.FirstName)
	set(&dst.LastName, src.LastName)
	set(&dst.Username, src.Username)
	set(&dst.PhoneNumber, src.PhoneNumber)
	dst.EmailVerified = dst.EmailVerified || src.EmailVerified
	dst.PhoneVerified = dst.PhoneVerified || src.PhoneVerified
}

// SignOut clears the session cookie of r, every chunk of it, and fires
// OnSignOut with the session that was signed out (nil if r carried no
// readable one). With a Config.Store it also ends the stored session
// (status ended); if the Store fails, the cookie is cleared all the same
// and the error, wrapping ErrStoreUnavailable, is returned. A bearer JWT
// cannot be signed out: it stays valid until it expires.
func (m *Manager) SignOut(w http.ResponseWriter, r *http.Request) error {
	if m.cookies == nil {
		return ErrCookiesDisabled
	}
	var s *Session
	if st := stateFrom(r.Context()); st != nil {
		s = st.load()
	} else if d, ok := m.decodeCookie(r, m.cfg.Now()); ok {
		d.own() // from the verified-credential cache, shared: its Status is set below
		s = d.session
	}
	if s != nil && s.Source != SourceCookie {
		s = nil
	}
	if s != nil {
		m.minter.forget(s.ID)
	}
	var serr error
	parts, ok := m.stored.requestParts(r)
	if ok && m.cfg.Store != nil {
		// The stored session is ended, so that a copy of the cookie is
		// worth nothing either.
		if ref, _, err := m.stored.openRef(parts, m.cfg.Now()); err == nil {
			if _, _, err := m.stored.mutateOwn(r.Context(), ref.id, setStatus(StatusEnded)); err != nil && !errors.Is(err, store.ErrNotFound) {
				serr = err
			}
		}
	}
	if ok {
		m.cache.evict(parts)
	}
	if err := m.cookies.clear(w, r); err != nil {
		return err
	}
	if s != nil && serr == nil && m.cfg.Store != nil {
		s.Status = StatusEnded
	}
	m.hooks.session(r.Context(), "OnSignOut", m.hooks.cb.OnSignOut, s)
	return serr
}

// UpdateSession changes the active cookie session of r with update, which
// receives a copy, writes the result to w and fires OnSessionUpdate. It
// returns the new snapshot. update may change the user, tokens, error,
// actor, scope and sign-ins; the session's lifetime and state (Status,
// Source, CreatedAt, LastActiveAt, ExpireAt, AbandonAt) are kept as they
// were. The ID is kept too, unless update changes the session's privileges
// (its active sign-in or user, the accounts signed in, the actor, the
// organization or workspace): then the session gets a new random ID, so
// that an ID known before the change is worth nothing after it. An error from update is returned as it is and nothing is
// written. Without an active cookie session UpdateSession returns the error
// GetServerSession would.
//
// With a Config.Store the change is saved in the Store with
// compare-and-set: if another instance wrote the session in between,
// update runs again on the newer session, so it may run more than once and
// must only change the session it is given. The session's generation
// advances, or on a change of privileges the session moves to its new ID
// (the old one forwards to it for requests in flight), and its cookie is
// re-issued (see theftGrace).
func (m *Manager) UpdateSession(w http.ResponseWriter, r *http.Request, update func(*Session) error) (*Session, error) {
	return m.updateSession(w, r, update, false)
}

// RotateSession gives r's active cookie session a new random ID and writes
// its cookie to w, as UpdateSession does by itself when the session's
// privileges change. Call it after a change of privileges the session does
// not show, such as a step-up authentication or roles the application
// keeps elsewhere: the cookie of before then no longer reaches the session
// (with a Store; see UpdateSession). It returns the session under its new
// ID, and fires OnSessionUpdate.
func (m *Manager) RotateSession(w http.ResponseWriter, r *http.Request) (*Session, error) {
	return m.updateSession(w, r, func(*Session) error { return nil }, true)
}

// updateSession is UpdateSession, and with rotate RotateSession.
func (m *Manager) updateSession(w http.ResponseWriter, r *http.Request, update func(*Session) error, rotate bool) (*Session, error) {
	if m.cookies == nil {
		return nil, ErrCookiesDisabled
	}
	cur, err := m.GetServerSession(r)
	if err != nil {
		return nil, err
	}
	if cur.Source != SourceCookie {
		return nil, fmt.Errorf("%w: only cookie sessions can be updated", ErrInvalidSession)
	}
	return m.updateFrom(w, r, cur, update, ownedPSID{}, rotate)
}

// updateFrom is updateSession of cur, r's active cookie session as
// GetServerSession returned it; with a Store it also records psid, when
// set, as a provider session of the updated session (AddSignIn).
func (m *Manager) updateFrom(w http.ResponseWriter, r *http.Request, cur *Session, update func(*Session) error, psid ownedPSID, rotate bool) (*Session, error) {
	if m.cfg.Store != nil {
		return m.updateStored(w, r, cur, update, psid, rotate)
	}
	s, err := applyUpdate(cur, update)
	if err != nil {
		return nil, err
	}
	if rotate || privilegeChanged(cur, s) {
		s.ID = newSessionID()
	}
	if err := m.writeSession(w, r, s); err != nil {
		return nil, err
	}
	m.minter.forget(cur.ID)
	if st := stateFrom(r.Context()); st != nil {
		st.session.Store(s.Clone())
	}
	m.hooks.session(r.Context(), "OnSessionUpdate", m.hooks.cb.OnSessionUpdate, s)
	return s, nil
}

// applyUpdate runs update on a copy of cur and returns it, with cur's
// identity and lifetime (ID, Status, Source, CreatedAt, LastActiveAt,
// ExpireAt, AbandonAt) kept, after checking that the result still names its
// active sign-in and a user.
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

// signInStored saves the new session s in the Store and writes its
// cookie. A session the client carried before is marked replaced.
func (m *Manager) signInStored(w http.ResponseWriter, r *http.Request, s *Session, psid string) error {
	ctx := r.Context()
	if old, ok := m.stored.requestRef(r); ok {
		if _, _, err := m.stored.mutateOwn(ctx, old.id, setStatus(StatusReplaced)); err != nil && !errors.Is(err, store.ErrNotFound) {
			m.cfg.Logger.WarnContext(ctx, "sessionkit: marking the replaced session failed", "error", err.Error())
		}
	}
	now := m.cfg.Now()
	st := &storeState{id: s.ID, meta: storeMeta{gen: 1, floor: 1, rotatedAt: now}}
	st.meta.addPSID(s.SignIn.ID, psid)
	if _, err := m.stored.saveState(ctx, s, st); err != nil {
		return err
	}
	return m.stored.writeRef(w, r, s.ID, st.meta.gen, s)
}

// updateStored is UpdateSession with a Store: update is applied to the
// stored session (again, to the newer one, if another instance wrote in
// between), the session's generation advances and its cookie is
// re-issued.
func (m *Manager) updateStored(w http.ResponseWriter, r *http.Request, cur *Session, update func(*Session) error, psid ownedPSID, rotate bool) (*Session, error) {
	out, st, err := m.stored.mutate(r.Context(), cur.ID, func(s *Session, meta *storeMeta, now time.Time) (bool, error) {
		if s.Status != StatusActive {
			return false, fmt.Errorf("%w: session %s", ErrSessionExpired, s.Status)
		}
		c, err := applyUpdate(s, update)
		if err != nil {
			return false, err
		}
		meta.addPSID(psid.signIn, psid.psid)
		if meta.rotate = rotate || privilegeChanged(s, c); !meta.rotate {
			meta.advance(now)
		}
		*s = *c
		return true, nil
	})
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, ErrNoSession
		}
		return nil, err
	}
	if err := m.stored.writeRef(w, r, st.id, st.meta.gen, out); err != nil {
		return nil, err
	}
	m.minter.forget(cur.ID)
	m.minter.forget(st.id)
	if rs := stateFrom(r.Context()); rs != nil {
		rs.session.Store(out.Clone())
	}
	m.hooks.session(r.Context(), "OnSessionUpdate", m.hooks.cb.OnSessionUpdate, out)
	return out.Clone(), nil
}

// writeSession seals s into its cookie on w, replacing whatever r carried.
func (m *Manager) writeSession(w http.ResponseWriter, r *http.Request, s *Session) error {
	if err := s.checkSignIns(); err != nil {
		return err
	}
	expires := s.ExpireAt
	if expires.IsZero() {
		expires = s.AbandonAt
	}
	if expires.IsZero() {
		return errors.New("sessionkit: session has no expiry")
	}
	return m.cookies.sealWrite(w, r, func(b []byte) []byte { return appendPayload(b, s) }, expires, m.cfg.Now())
}
