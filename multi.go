package sessionkit

import (
	"errors"
	"net/http"
	"slices"
	"time"
)

// ErrSignInNotFound means the session holds no sign-in with the given ID.
var ErrSignInNotFound = errors.New("sessionkit: no such sign-in in the session")

// errLastSignIn: the sign-in SignOutOne drops is the last one.
var errLastSignIn = errors.New("sessionkit: last sign-in")

// addSignIn is AddSignIn.
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
	s, cw, err := v.updateFrom(r, cur, func(s *Session) error {
		all := slices.DeleteFunc(s.SignIns(), func(old SignIn) bool { return old.User.ID == in.User.ID })
		s.setSignIns(append(all, in), len(all))
		return s.checkSignIns()
	}, ownedPSID{SignIn: in.ID, ID: psid}, false)
	if err != nil {
		return nil, cw, err
	}
	v.hooks.obs.SignIn(r.Context())
	v.hooks.session(r.Context(), "OnSignIn", v.hooks.cb.OnSignIn, s)
	return s, cw, nil
}

// switchSignIn is SwitchSignIn.
func (v *verbs) switchSignIn(r *http.Request, id string) (*Session, cookieWrite, error) {
	return v.update(r, func(s *Session) error {
		if !s.switchTo(id) {
			return ErrSignInNotFound
		}
		return nil
	}, false)
}

// signOutOne is SignOutOne: when the last sign-in leaves, it signs out,
// and ended is the session that ended (s is then nil). Without a Store it
// revokes the refresh token of the sign-in it drops (a stored session's
// save does).
func (v *verbs) signOutOne(r *http.Request, id string) (s, ended *Session, cw cookieWrite, err error) {
	var gone []SignIn
	s, cw, err = v.update(r, func(s *Session) error {
		gone = slices.DeleteFunc(s.SignIns(), func(in SignIn) bool { return in.ID != id })
		switch dropped, left := s.dropSignIns(func(in *SignIn) bool { return in.ID == id }); {
		case dropped == 0:
			return ErrSignInNotFound
		case left == 0:
			return errLastSignIn
		}
		return nil
	}, false)
	if errors.Is(err, errLastSignIn) {
		ended, cw, err = v.signOut(r)
		return nil, ended, cw, err
	}
	if err == nil && v.store == nil {
		v.sessions.revoke(gone)
	}
	return s, nil, cw, err
}
