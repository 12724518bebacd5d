package sessionkit

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"
)

// ErrSignInNotFound means the session holds no sign-in with the given ID.
var ErrSignInNotFound = errors.New("sessionkit: no such sign-in in the session")

// errLastSignIn tells SignOutOne that the sign-in to drop is the last one.
var errLastSignIn = errors.New("sessionkit: last sign-in")

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
	if m.cookies == nil {
		return nil, ErrCookiesDisabled
	}
	cur, err := m.GetServerSession(r)
	if err != nil || !cur.Active() || cur.Source != SourceCookie {
		return m.SignIn(w, r, p)
	}
	in, psid, err := m.newSignIn(r.Context(), p, m.cfg.Now().UTC().Truncate(time.Second))
	if err != nil {
		return nil, err
	}
	// cur is r's session as updateSession would read it again.
	s, err := m.updateFrom(w, r, cur, func(s *Session) error {
		all := slices.DeleteFunc(s.SignIns(), func(old SignIn) bool { return old.User.ID == in.User.ID })
		if len(all) >= maxSignIns {
			return fmt.Errorf("%w: more than %d sign-ins", ErrSessionTooLarge, maxSignIns)
		}
		s.setSignIns(append(all, in), len(all))
		return nil
	}, ownedPSID{in.ID, psid}, false)
	if err != nil {
		return nil, err
	}
	m.hooks.session(r.Context(), "OnSignIn", m.hooks.cb.OnSignIn, s)
	return s, nil
}

// SwitchSignIn makes the sign-in id of r's active cookie session the
// active one (Clerk's setActive / switchSignIn): the snapshot's user,
// tokens and scope become that sign-in's. It returns an error wrapping
// ErrSignInNotFound when the session holds no such sign-in, and otherwise
// writes the session as UpdateSession does.
func (m *Manager) SwitchSignIn(w http.ResponseWriter, r *http.Request, id string) (*Session, error) {
	return m.UpdateSession(w, r, func(s *Session) error {
		if !s.switchTo(id) {
			return ErrSignInNotFound
		}
		return nil
	})
}

// SignOutOne signs the sign-in id out of r's active cookie session. If
// it was the active one, the first remaining sign-in becomes active. If it
// was the last one, the whole session is signed out, as SignOut does, and
// SignOutOne returns a nil session. It returns an error wrapping
// ErrSignInNotFound when the session holds no such sign-in.
func (m *Manager) SignOutOne(w http.ResponseWriter, r *http.Request, id string) (*Session, error) {
	s, err := m.UpdateSession(w, r, func(s *Session) error {
		switch dropped, left := s.dropSignIns(func(in *SignIn) bool { return in.ID == id }); {
		case dropped == 0:
			return ErrSignInNotFound
		case left == 0:
			return errLastSignIn
		}
		return nil
	})
	if errors.Is(err, errLastSignIn) {
		return nil, m.SignOut(w, r)
	}
	return s, err
}
