package sessionkit

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sessionkit/sessionkit/internal/record"
	"github.com/sessionkit/sessionkit/store"
)

// Touch records activity on the stored session id: LastActiveAt becomes
// now and, with Config.IdleTimeout, ExpireAt slides to now + IdleTimeout,
// never past AbandonAt. It returns an error wrapping ErrSessionExpired for
// an inactive session, store.ErrNotFound for one the Store does not hold,
// ErrNotConfigured without a Store. The middleware records activity every
// 5 minutes at most (a tenth of IdleTimeout); Touch is for what it misses.
func (m *Manager) Touch(ctx context.Context, id string) error {
	ss := m.stored
	if ss.store == nil {
		return errStoreRequired
	}
	_, _, err := ss.mutate(ctx, id, func(s *Session, _ *storeMeta, now time.Time) (bool, error) {
		if s.Status != StatusActive {
			return false, fmt.Errorf("%w: session %s", ErrSessionExpired, s.Status)
		}
		ss.touch(s, now)
		return true, nil
	})
	return err
}

// End ends the stored session id (status ended), as signing out does:
// requests with its cookie get no active session, and OnSessionExpired
// fires for them. Ending an inactive session changes nothing and is no
// error; one the Store does not hold returns store.ErrNotFound; without a
// Store, ErrNotConfigured.
func (m *Manager) End(ctx context.Context, id string) error {
	return m.stored.setStatusOf(ctx, id, StatusEnded)
}

// Remove removes the stored session id from its client (status removed;
// Clerk's session.remove): the client dropped it, as when a user takes one
// device off their account list. Otherwise as End.
func (m *Manager) Remove(ctx context.Context, id string) error {
	return m.stored.setStatusOf(ctx, id, StatusRemoved)
}

// Revoke revokes the stored session id (status revoked): the application
// or an administrator ended it. Otherwise as End.
func (m *Manager) Revoke(ctx context.Context, id string) error {
	return m.stored.setStatusOf(ctx, id, StatusRevoked)
}

// RevokeUser signs userID out everywhere: every active session where it is
// the only account signed in is revoked; from one signed in to several,
// only its sign-in is removed (the first remaining one becoming active if
// it was), and the holder's cookie stays valid for the others. It goes on
// past a session it cannot change and returns the errors joined. It needs
// a store.UserLister, or returns an error wrapping ErrNotConfigured.
func (m *Manager) RevokeUser(ctx context.Context, userID string) error {
	recs, err := m.stored.listByUser(ctx, userID)
	if err != nil {
		return err
	}
	return m.stored.signOutAccounts(ctx, recs, func(_ *storeMeta, in *SignIn) bool { return in.User.ID == userID })
}

// ListSessions returns the stored sessions userID is signed in to, most
// recently active first, with their status computed now (ended, revoked,
// ... ones too, while the Store holds them). A session signed in to several
// accounts is listed for each, whichever is active (Session.SignIns lists
// them); Revoke ends it for all, RevokeUser for one. The sessions are the
// caller's own, tokens included (in fields JSON skips). It needs a
// store.UserLister, or returns an error wrapping ErrNotConfigured.
func (m *Manager) ListSessions(ctx context.Context, userID string) ([]*Session, error) {
	recs, err := m.stored.listByUser(ctx, userID)
	if err != nil {
		return nil, err
	}
	now := m.cfg.Now()
	out := make([]*Session, 0, len(recs))
	for _, rec := range recs {
		if s, _, err := fromRecord(rec); err == nil {
			s.Status = statusAt(s, now)
			out = append(out, s)
		}
	}
	slices.SortFunc(out, func(a, b *Session) int {
		return cmp.Or(b.LastActiveAt.Compare(a.LastActiveAt), strings.Compare(a.ID, b.ID))
	})
	return out, nil
}

// setStatusOf gives the active stored session id the terminal status to.
func (ss *storedSessions) setStatusOf(ctx context.Context, id string, to Status) error {
	if ss.store == nil {
		return errStoreRequired
	}
	_, _, err := ss.mutate(ctx, id, setStatus(to))
	return err
}

// listByUser lists the records of userID's sessions (store.UserLister).
func (ss *storedSessions) listByUser(ctx context.Context, userID string) ([]store.Record, error) {
	lister, err := capability[store.UserLister](ss.store, "UserLister")
	if err != nil {
		return nil, err
	}
	recs, err := lister.ListByUser(ctx, userID)
	return recs, storeErr(err)
}

// signOutAccounts is RevokeUser for the sign-ins match reports in recs.
func (ss *storedSessions) signOutAccounts(ctx context.Context, recs []store.Record, match func(meta *storeMeta, in *SignIn) bool) error {
	signOut := func(s *Session, meta *storeMeta, _ time.Time) (bool, error) {
		if s.Status != StatusActive {
			return false, nil
		}
		switch dropped, left := s.dropSignIns(func(in *SignIn) bool { return match(meta, in) }); {
		case dropped == 0:
			return false, nil
		case left == 0:
			s.Status = StatusRevoked
		}
		return true, nil
	}
	var errs []error
	for _, rec := range recs {
		if record.IsMoved(rec.Data) {
			continue // listed under its new ID
		}
		var first *loaded // the listing holds the records as they are: start from them
		if s, st, err := fromRecord(rec); err == nil {
			first = &loaded{s, st}
		}
		if _, _, err := ss.mutateAt(ctx, rec.ID, true, first, signOut); ignoreNotFound(err) != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
