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

// addSignIn is AddSignIn: it returns the session's new cookie.
func (v *verbs) addSignIn(r *http.Request, p SignInParams) (*Session, cookieWrite, error) {
	if v.cookies == nil {
		return nil, cookieWrite{}, errCookiesDisabled
	}
	cur, err := v.reader.serverSession(r)
	if err != nil || cur.Status != StatusActive || cur.Source != SourceCookie {
		return v.signIn(r, p)
	}
	in, psid, err := v.newSignIn(r.Context(), p, v.now().UTC().Truncate(time.Second))
	if err != nil {
		return nil, cookieWrite{}, err
	}
	// cur is r's session as update would read it again.
	s, cw, err := v.updateFrom(r, cur, func(s *Session) error {
		all := slices.DeleteFunc(s.SignIns(), func(old SignIn) bool { return old.User.ID == in.User.ID })
		if len(all) >= maxSignIns {
			return fmt.Errorf("%w: more than %d sign-ins", ErrSessionTooLarge, maxSignIns)
		}
		s.setSignIns(append(all, in), len(all))
		return nil
	}, ownedPSID{SignIn: in.ID, ID: psid}, false)
	if err != nil {
		return nil, cw, err
	}
	v.hooks.session(r.Context(), "OnSignIn", v.hooks.cb.OnSignIn, s)
	return s, cw, nil
}

// switchSignIn is SwitchSignIn: it returns the session's new cookie.
func (v *verbs) switchSignIn(r *http.Request, id string) (*Session, cookieWrite, error) {
	return v.update(r, func(s *Session) error {
		if !s.switchTo(id) {
			return ErrSignInNotFound
		}
		return nil
	}, false)
}

// signOutOne is SignOutOne: it returns the session's new cookie, or the
// write that clears it when the last sign-in left.
func (v *verbs) signOutOne(r *http.Request, id string) (*Session, cookieWrite, error) {
	s, cw, err := v.update(r, func(s *Session) error {
		switch dropped, left := s.dropSignIns(func(in *SignIn) bool { return in.ID == id }); {
		case dropped == 0:
			return ErrSignInNotFound
		case left == 0:
			return errLastSignIn
		}
		return nil
	}, false)
	if errors.Is(err, errLastSignIn) {
		cw, err = v.signOut(r)
		return nil, cw, err
	}
	return s, cw, err
}
