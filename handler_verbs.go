package sessionkit

import (
	"fmt"
	"net/http"
)

// The session verbs' HTTP face: each decides through its verb what to
// write, then applies the session cookie write to w, whatever the outcome
// (a failed write still drops the cookie's lines set earlier in w).

// SignIn starts a new session from p and writes its cookie to w. The session
// always gets a new random ID, whatever r carried, so a session ID planted
// before sign-in is never promoted (no fixation). It fires OnSignIn, or
// OnIdTokenError when the ID token is refused, and returns the new session.
func (m *Manager) SignIn(w http.ResponseWriter, r *http.Request, p SignInParams) (*Session, error) {
	s, cw, err := m.verbs.signIn(r, p)
	cw.Apply(w.Header())
	return s, err
}

// SignOut clears the session cookie of r, every chunk of it, and fires
// OnSignOut with the session that was signed out (nil if r carried no
// readable one). With a Config.Store it also ends the stored session
// (status ended); if the Store fails, the cookie is cleared all the same
// and the error, wrapping ErrStoreUnavailable, is returned. A bearer JWT
// cannot be signed out: it stays valid until it expires.
func (m *Manager) SignOut(w http.ResponseWriter, r *http.Request) error {
	_, cw, err := m.verbs.signOut(r)
	cw.Apply(w.Header())
	return err
}

// UpdateSession changes the active cookie session of r with update, which
// receives a copy, writes the result to w, fires OnSessionUpdate and
// returns the new snapshot. update may change the user, tokens, error,
// actor, scope and sign-ins; the lifetime and state (Status, Source,
// CreatedAt, LastActiveAt, ExpireAt, AbandonAt) stay as they were. The ID
// stays too, unless update changes the session's privileges (its active
// sign-in or user, the accounts signed in, the actor, the organization or
// workspace): then the session gets a new random ID, so that an ID known
// before the change is worth nothing after it. An error from update is
// returned as it is and nothing is written. Without an active cookie
// session UpdateSession returns the error GetServerSession would.
//
// With a Config.Store the change is saved with compare-and-set: if another
// instance wrote the session in between, update runs again on the newer
// session, so it may run more than once and must only change the session
// it is given. The session's generation advances, or on a change of
// privileges the session moves to its new ID (the old one forwards to it
// for requests in flight), and its cookie is re-issued.
func (m *Manager) UpdateSession(w http.ResponseWriter, r *http.Request, update func(*Session) error) (*Session, error) {
	s, cw, err := m.verbs.update(r, update, false)
	cw.Apply(w.Header())
	return s, err
}

// RotateSession gives r's active cookie session a new random ID and writes
// its cookie to w, as UpdateSession does by itself when the session's
// privileges change. Call it after a change of privileges the session does
// not show, such as a step-up authentication or roles the application
// keeps elsewhere: the cookie of before then no longer reaches the session
// (with a Store; see UpdateSession). It returns the session under its new
// ID, and fires OnSessionUpdate.
func (m *Manager) RotateSession(w http.ResponseWriter, r *http.Request) (*Session, error) {
	s, cw, err := m.verbs.update(r, func(*Session) error { return nil }, true)
	cw.Apply(w.Header())
	return s, err
}

// AddSignIn signs another account in to r's active cookie session (a
// browser signed in to several accounts) and makes it the active sign-in;
// the other sign-ins stay, each with its own tokens and scope. p is
// verified as SignIn verifies it. When r has no active cookie session,
// AddSignIn is SignIn. A session holds at most 16 sign-ins; past that, or
// past Config.MaxCookieSize for a stateless cookie, it returns an error
// wrapping ErrSessionTooLarge and changes nothing. If the account is
// already signed in to the session, its sign-in is replaced by the new
// one. It fires OnSignIn with the resulting session.
//
// With a Config.Store the session is listed under every account signed in
// to it (Record.OtherUserIDs), and the provider session ID ("sid") of each
// sign-in's ID token is recorded, so that RevokeUser and back-channel
// logout reach an account that is not the active one; they sign that
// account out of the session and leave the others signed in.
func (m *Manager) AddSignIn(w http.ResponseWriter, r *http.Request, p SignInParams) (*Session, error) {
	s, cw, err := m.verbs.addSignIn(r, p)
	cw.Apply(w.Header())
	return s, err
}

// SwitchSignIn makes the sign-in id of r's active cookie session the
// active one (Clerk's setActive / switchSignIn): the snapshot's user,
// tokens and scope become that sign-in's. It returns an error wrapping
// ErrSignInNotFound when the session holds no such sign-in, and otherwise
// writes the session as UpdateSession does.
func (m *Manager) SwitchSignIn(w http.ResponseWriter, r *http.Request, id string) (*Session, error) {
	s, cw, err := m.verbs.switchSignIn(r, id)
	cw.Apply(w.Header())
	return s, err
}

// SignOutOne signs the sign-in id out of r's active cookie session. If
// it was the active one, the first remaining sign-in becomes active. If it
// was the last one, the whole session is signed out, as SignOut does, and
// SignOutOne returns a nil session. It returns an error wrapping
// ErrSignInNotFound when the session holds no such sign-in.
func (m *Manager) SignOutOne(w http.ResponseWriter, r *http.Request, id string) (*Session, error) {
	s, _, cw, err := m.verbs.signOutOne(r, id)
	cw.Apply(w.Header())
	return s, err
}

// SwitchScope makes id the active organization (kind ScopeOrganization)
// or workspace (ScopeWorkspace) of r's active sign-in, after
// Config.AuthorizeScope allowed it, and writes the session as
// UpdateSession does (Clerk's setActive({organization})). Switching to
// another organization clears the active workspace, which belonged to the
// previous one. An empty id leaves the organization (the personal account)
// or the workspace. A refused switch, or another kind, returns an error
// wrapping ErrScopeForbidden and changes nothing; without an active cookie
// session it returns the error GetServerSession would.
func (m *Manager) SwitchScope(w http.ResponseWriter, r *http.Request, kind ScopeKind, id string) (*Session, error) {
	if kind != ScopeOrganization && kind != ScopeWorkspace {
		return nil, fmt.Errorf("%w: unknown scope kind %q", ErrScopeForbidden, kind)
	}
	s, cw, err := m.verbs.switchScope(r, kind, id)
	cw.Apply(w.Header())
	return s, err
}

// ExchangeTicket redeems a ticket from MintTicket: it starts a new
// session for the ticket's user, as SignIn does (new session ID, cookie
// written to w, OnSignIn fired), and returns it. A ticket is redeemed at
// most once across every instance sharing the Store. A second exchange,
// a late, forged or malformed ticket return an error wrapping
// ErrInvalidTicket that says which; a Store failure returns
// an error wrapping ErrStoreUnavailable (and the ticket may be spent), a
// Store that cannot record one-time keys (store.Consumer) one wrapping
// ErrNotConfigured. An impersonation session is audit-logged (actor and
// user, never the ticket).
func (m *Manager) ExchangeTicket(w http.ResponseWriter, r *http.Request, ticket string) (*Session, error) {
	s, cw, err := m.exchangeTicket(r, ticket)
	cw.Apply(w.Header())
	return s, err
}
