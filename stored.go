package sessionkit

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/sessionkit/sessionkit/internal/cookie"
)

// Errors of the store-backed session verbs.
var (
	// ErrStoreRequired is returned by the methods that need server-side
	// state (Touch, End, Remove, Revoke, RevokeUser, ListSessions) when
	// the Manager has no Config.Store.
	ErrStoreRequired = errors.New("sessionkit: a session store is required (Config.Store)")

	// ErrStoreUnavailable means the Store failed with a system error (an
	// unreachable Redis, a timeout). The Manager fails closed: the request
	// has no session, and Require answers 503.
	ErrStoreUnavailable = errors.New("sessionkit: session store unavailable")

	// ErrTokenTheft means a session cookie of an older generation was
	// presented after the grace window: the cookie was copied, and the
	// session has been revoked. It is reported wrapped with
	// ErrSessionExpired.
	ErrTokenTheft = errors.New("sessionkit: a superseded session cookie was presented again (theft suspected)")
)

const (
	// TheftGrace is how long after a session's cookie is re-issued
	// (refresh, update, recorded activity) the cookie of the previous
	// generation is still accepted, for requests that were in flight.
	// Past it, once a request has presented the new cookie, that cookie is
	// taken for a copy: the session is revoked.
	TheftGrace = 30 * time.Second
	// DefaultTouchInterval is how often, at most, the middleware records
	// activity (LastActiveAt) on a store-backed session when
	// Config.IdleTimeout is not set; with it, the interval is a tenth of
	// the timeout.
	DefaultTouchInterval = 5 * time.Minute

	// casRetries bounds the reload-and-reapply rounds of a write that
	// keeps losing compare-and-set races.
	casRetries = 8
	// saveTimeout bounds writes that must not be lost with the request's
	// context, such as saving tokens the provider has already rotated.
	saveTimeout = 10 * time.Second
	// refCacheLife bounds how long a store-backed cookie's reference is
	// kept in the verified-credential cache.
	refCacheLife = 24 * time.Hour
)

// storeState is what a request knows of its stored session beside the
// session itself.
type storeState struct {
	id        string
	version   uint64
	meta      storeMeta
	cookieGen uint64 // the generation the request's cookie carries
}

// storeErr wraps a system error of the Store; ErrNotFound and ErrConflict
// pass as they are.
func storeErr(err error) error {
	if err == nil || errors.Is(err, ErrNotFound) || errors.Is(err, ErrConflict) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrStoreUnavailable, err)
}

// fromRecord decodes a stored session.
func fromRecord(rec Record) (*Session, *storeState, error) {
	if len(rec.Data) > 0 && rec.Data[0] == storeMovedV1 {
		mv, err := decodeMoved(rec.Data)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: stored session: %w", ErrInvalidSession, err)
		}
		return nil, nil, &errMoved{mv}
	}
	meta, s, err := decodeStored(rec.Data)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: stored session: %w", ErrInvalidSession, err)
	}
	s.ID = rec.ID
	return s, &storeState{id: rec.ID, version: rec.Version, meta: meta, cookieGen: meta.gen}, nil
}

// loadRecord loads and decodes session id. For a forwarding stub (the
// session moved to a new ID) it returns an *errMoved.
func (m *Manager) loadRecord(ctx context.Context, id string) (*Session, *storeState, error) {
	rec, err := m.cfg.Store.Load(ctx, id)
	if err != nil {
		return nil, nil, storeErr(err)
	}
	return fromRecord(rec)
}

// readRecord is loadRecord for the middleware's read of a stored session.
// A record read again byte for byte is not decoded again: its session
// comes from the verified-credential cache, shared with other requests
// (shared is true), and must be copied before any change. The stored state
// is the request's own.
func (m *Manager) readRecord(ctx context.Context, id string, now time.Time) (s *Session, st *storeState, shared bool, err error) {
	// The record is only read here, and what is decoded from it (which
	// shares its bytes) is never changed in place.
	rec, err := m.cfg.Store.Load(WithSharedLoad(ctx, m.cfg.Store), id)
	if err != nil {
		return nil, nil, false, storeErr(err)
	}
	// Only sessions go through the cache: a forwarding stub (or a
	// malformed record) is decoded, and refused, every time.
	if m.cache == nil || len(rec.Data) == 0 || rec.Data[0] != storeDataVersion {
		s, st, err := fromRecord(rec)
		return s, st, false, err
	}
	data := stringOf(rec.Data) // only compared
	if cs, cst := m.cache.getRecord(&rec, data, now); cs != nil {
		st := *cst
		st.version = rec.Version
		// Mutations may edit psids in place (prunePSIDs).
		st.meta.psids = slices.Clone(cst.meta.psids)
		return cs, &st, true, nil
	}
	if s, st, err = fromRecord(rec); err != nil || statusAt(s, now) != StatusActive {
		return s, st, false, err
	}
	m.cache.putRecord(&rec, data, s, st, cacheUntil(s), now)
	return s, st, false, nil
}

// loadOwn loads session id, which is not found if it moved.
func (m *Manager) loadOwn(ctx context.Context, id string) (*Session, *storeState, error) {
	s, st, err := m.loadRecord(ctx, id)
	var mv *errMoved
	if errors.As(err, &mv) {
		return nil, nil, ErrNotFound
	}
	return s, st, err
}

// loadLive loads session id, following it to its new ID if it moved.
func (m *Manager) loadLive(ctx context.Context, id string) (*Session, *storeState, error) {
	s, st, err := m.loadRecord(ctx, id)
	var mv *errMoved
	if errors.As(err, &mv) {
		return m.followMoved(ctx, mv.moved)
	}
	return s, st, err
}

// recordExpiry is when the store may drop s.
func recordExpiry(s *Session) time.Time {
	if !s.ExpireAt.IsZero() {
		return s.ExpireAt
	}
	return s.AbandonAt
}

// saveState writes s with st's version (0 creates it) and returns the new
// version.
func (m *Manager) saveState(ctx context.Context, s *Session, st *storeState) (uint64, error) {
	if err := s.checkSignIns(); err != nil {
		return 0, err
	}
	v, err := m.cfg.Store.Save(ctx, Record{
		ID:                 st.id,
		UserID:             s.User.ID,
		OtherUserIDs:       otherUserIDs(s),
		ProviderSessionIDs: st.meta.prunePSIDs(s),
		Version:            st.version,
		ExpireAt:           recordExpiry(s),
		Data:               appendStored(make([]byte, 0, 512), st.meta, s),
	})
	return v, storeErr(err)
}

// mutate applies f to the stored session id (to the session it moved to,
// if it did) and saves the result with compare-and-set; on a conflict it
// reloads and applies f again, to the newer record. f gets the session with
// its status computed at now, and reports whether it changed anything; an
// error from f is returned as it is, with nothing written. When f sets
// meta.rotate, the session is saved under a new ID (see rotate.go), which
// the returned session and state carry.
func (m *Manager) mutate(ctx context.Context, id string, f func(s *Session, meta *storeMeta, now time.Time) (bool, error)) (*Session, *storeState, error) {
	return m.mutateAt(ctx, id, true, nil, f)
}

// loaded is a stored session as a caller has just loaded it, handed to
// mutateLoaded, which then owns it.
type loaded struct {
	s  *Session
	st *storeState
}

// mutateLoaded is mutate for a session the caller has just loaded (and
// hands over): the first round applies f to it without loading it again;
// only a lost compare-and-set reloads.
func (m *Manager) mutateLoaded(ctx context.Context, l loaded, f func(s *Session, meta *storeMeta, now time.Time) (bool, error)) (*Session, *storeState, error) {
	return m.mutateAt(ctx, l.st.id, true, &l, f)
}

// mutateOwn is mutate for a session named by a request's cookie: a session
// that moved to a new ID is not followed (ErrNotFound), since the cookie of
// before the move must not reach it (see decodeMovedCookie).
func (m *Manager) mutateOwn(ctx context.Context, id string, f func(s *Session, meta *storeMeta, now time.Time) (bool, error)) (*Session, *storeState, error) {
	return m.mutateAt(ctx, id, false, nil, f)
}

func (m *Manager) mutateAt(ctx context.Context, id string, follow bool, first *loaded, f func(s *Session, meta *storeMeta, now time.Time) (bool, error)) (*Session, *storeState, error) {
	load := m.loadLive
	if !follow {
		load = m.loadOwn
	}
	for range casRetries {
		var s *Session
		var st *storeState
		if first != nil {
			s, st, first = first.s, first.st, nil
		} else {
			var err error
			if s, st, err = load(ctx, id); err != nil {
				return nil, nil, err
			}
		}
		now := m.cfg.Now()
		s.Status = statusAt(s, now)
		prev := st.meta
		changed, err := f(s, &st.meta, now)
		if err != nil || !changed {
			return s, st, err
		}
		if st.meta.rotate {
			nst, err := m.moveState(ctx, s, st, prev, now)
			if err == nil {
				return s, nst, nil
			}
			if !errors.Is(err, ErrConflict) {
				return nil, nil, err
			}
			continue
		}
		v, err := m.saveState(ctx, s, st)
		if err == nil {
			st.version = v
			return s, st, nil
		}
		if !errors.Is(err, ErrConflict) {
			return nil, nil, err
		}
	}
	return nil, nil, fmt.Errorf("%w: session %s kept changing", ErrConflict, id)
}

// stubExpiry is when the forwarding stub of a session s that moved at now
// expires: stubLife later, or with the session if that is sooner.
func stubExpiry(s *Session, now time.Time) time.Time {
	if end := recordExpiry(s); end.Before(now.Add(stubLife)) {
		return end
	}
	return now.Add(stubLife)
}

// moveState saves s, read from st, under a new ID at generation 1, and then
// turns st's record into a stub forwarding to it, with compare-and-set on
// the version st read. prev is st's meta as read. If the stub cannot be
// written, the new record is deleted and the error (ErrConflict when
// another writer got there first) returned: no half-moved session remains.
// Once the new record exists, the move goes on even if ctx ends, so that a
// request that goes away mid-move leaves no orphan.
func (m *Manager) moveState(ctx context.Context, s *Session, st *storeState, prev storeMeta, now time.Time) (*storeState, error) {
	s.ID = newSessionID()
	meta := storeMeta{gen: 1, floor: 1, rotatedAt: now, retryAt: st.meta.retryAt, failures: st.meta.failures,
		psids: slices.Clone(st.meta.psids)}
	nst := &storeState{id: s.ID, meta: meta}
	v, err := m.saveState(ctx, s, nst)
	if err != nil {
		s.ID = st.id
		return nil, err
	}
	nst.version = v
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), saveTimeout)
	defer cancel()
	_, err = m.cfg.Store.Save(wctx, Record{
		ID:       st.id,
		UserID:   s.User.ID,
		Version:  st.version,
		ExpireAt: stubExpiry(s, now),
		Data:     appendMoved(nil, moved{to: s.ID, gen: prev.gen, from: prev.acceptedFrom(now), movedAt: now}),
	})
	if err != nil && !errors.Is(err, ErrConflict) {
		// The write may have landed all the same (a reply lost).
		_, _, lerr := m.loadRecord(wctx, st.id)
		var mv *errMoved
		if errors.As(lerr, &mv) && mv.to == s.ID {
			err = nil
		}
	}
	if err != nil {
		if derr := m.cfg.Store.Delete(wctx, s.ID); derr != nil {
			m.cfg.Logger.WarnContext(ctx, "sessionkit: removing the record of a failed session move failed", "error", derr.Error())
		}
		s.ID = st.id
		return nil, storeErr(err)
	}
	return nst, nil
}

// decodeStoredCookie reads a store-backed session cookie made of parts:
// the cookie names a session and a generation, and the Store holds the
// session. The verified-credential cache keeps only the cookie's
// reference, so the Store is asked on every request.
func (m *Manager) decodeStoredCookie(ctx context.Context, parts []string, now time.Time) (d decoded) {
	ref, rotated, err := m.openRef(parts, now)
	if err != nil {
		d.err = err
		return d
	}
	d.reissue = rotated // sealed with an old key: sealed again
	s, st, shared, err := m.readRecord(ctx, ref.id, now)
	if err != nil { // mv escapes: declared only here, it costs nothing otherwise
		if mv := (*errMoved)(nil); errors.As(err, &mv) {
			return m.decodeMovedCookie(ctx, ref, mv.moved, now)
		}
	}
	switch {
	case errors.Is(err, ErrNotFound):
		d.err = ErrNoSession // ended and gone, expired, or never stored
		return d
	case err != nil:
		d.err = err
		return d
	}
	d.st, d.session, d.shared = st, s, shared
	switch {
	case ref.gen == st.meta.gen:
		st.cookieGen = ref.gen
	case ref.gen < st.meta.gen && ref.gen >= st.meta.acceptedFrom(now):
		// In flight during a re-issue, or the response that carried the
		// new cookie never reached its client: catch up.
		st.cookieGen = ref.gen
		d.reissue = true
	case ref.gen < st.meta.gen:
		// A cookie that was replaced long ago: someone kept a copy.
		st.cookieGen = ref.gen
		m.revokeStolen(ctx, &d, now)
		return d
	default:
		d.st, d.session, d.shared = nil, nil, false
		d.err = fmt.Errorf("%w: generation ahead of the store", ErrInvalidCookie)
		return d
	}
	if status := statusAt(d.session, now); status != d.session.Status {
		d.own()
		d.session.Status = status
	}
	switch d.session.Status {
	case StatusActive:
	case StatusExpired, StatusAbandoned:
		d.err = ErrSessionExpired
	default:
		d.err = fmt.Errorf("%w: session %s", ErrSessionExpired, d.session.Status)
	}
	return d
}

// decodeMovedCookie reads a cookie whose session moved to a new ID (its
// privileges changed) since the cookie was issued. Such a cookie never
// reaches the moved session: whoever planted it would (fixation). Within
// the grace window of the move (a request in flight), or while no request
// has presented the new cookie (the response that carried it may have
// been lost), the request has no session. Later, the cookie was copied:
// the session it moved to is revoked.
func (m *Manager) decodeMovedCookie(ctx context.Context, ref cookieRef, mv moved, now time.Time) (d decoded) {
	if ref.gen > mv.gen {
		d.err = fmt.Errorf("%w: generation ahead of the store", ErrInvalidCookie)
		return d
	}
	s, st, err := m.followMoved(ctx, mv)
	switch {
	case errors.Is(err, ErrNotFound):
		d.err = ErrNoSession
		return d
	case err != nil:
		d.err = err
		return d
	}
	// The moved session's cookie reached its client if a request has
	// presented it, or advanced its generation (which takes presenting it).
	delivered := st.meta.seen || st.meta.gen > 1
	if ref.gen >= mv.from && (now.Before(mv.movedAt.Add(TheftGrace)) || !delivered) {
		d.err = ErrNoSession
		return d
	}
	st.cookieGen = 0
	d.st, d.session = st, s
	m.revokeStolen(ctx, &d, now)
	return d
}

// revokeStolen handles a copied cookie of d's stored session: an active
// session is revoked, and d reports the theft.
func (m *Manager) revokeStolen(ctx context.Context, d *decoded, now time.Time) {
	if statusAt(d.session, now) == StatusActive {
		if _, _, err := m.mutate(ctx, d.st.id, setStatus(StatusRevoked)); err != nil && !errors.Is(err, ErrNotFound) {
			m.cfg.Logger.ErrorContext(ctx, "sessionkit: revoking a session after a cookie replay failed", "error", err.Error())
		}
		d.theft = true
	}
	d.own()
	d.session.Status = StatusRevoked
	d.err = fmt.Errorf("%w: %w", ErrSessionExpired, ErrTokenTheft)
}

// setStatus returns a mutation that gives an active session the terminal
// status to; an inactive session is left as it is.
func setStatus(to Status) func(*Session, *storeMeta, time.Time) (bool, error) {
	return func(s *Session, _ *storeMeta, _ time.Time) (bool, error) {
		if s.Status != StatusActive {
			return false, nil
		}
		s.Status = to
		return true, nil
	}
}

// touchInterval is the least time between two activity records of the
// middleware on a stored session.
func (m *Manager) touchInterval() time.Duration {
	if m.cfg.IdleTimeout > 0 {
		return m.cfg.IdleTimeout / 10
	}
	return DefaultTouchInterval
}

// touch records activity on s at now: LastActiveAt, and with an idle
// timeout ExpireAt, never past AbandonAt.
func (m *Manager) touch(s *Session, now time.Time) {
	s.LastActiveAt = now.UTC().Truncate(time.Second)
	if idle := m.cfg.IdleTimeout; idle > 0 {
		s.ExpireAt = s.LastActiveAt.Add(idle)
		if !s.AbandonAt.IsZero() && s.ExpireAt.After(s.AbandonAt) {
			s.ExpireAt = s.AbandonAt
		}
	}
}

// touchStored records activity on the request's stored session when the
// last record is older than touchInterval, and then starts a new
// generation, so that a copied cookie is found out even in a session that
// is never refreshed. It also records that the current generation's
// cookie reached its client (storeMeta.seen). A lost race or a store error
// leaves the session as it is: both are recorded best-effort.
func (m *Manager) touchStored(ctx context.Context, d *decoded, now time.Time) {
	every := m.touchInterval()
	cookieGen := d.st.cookieGen
	current := cookieGen == d.st.meta.gen
	if now.Sub(d.session.LastActiveAt) < every && (!current || d.st.meta.seen) {
		return
	}
	// The record was loaded for this request a moment ago: start from a
	// copy of it. A lost compare-and-set reloads the record without
	// following a move: the cookie of before a privilege change never
	// reaches the moved session (see decodeMovedCookie), not even to mark
	// it seen.
	cur := *d.st
	cur.meta.psids = slices.Clone(cur.meta.psids)
	s, st, err := m.mutateAt(ctx, cur.id, false, &loaded{d.session.Clone(), &cur}, func(s *Session, meta *storeMeta, now time.Time) (bool, error) {
		if s.Status != StatusActive || meta.gen != cookieGen {
			return false, nil // over, or re-issued by another request
		}
		changed := !meta.seen
		meta.seen = true
		if now.Sub(s.LastActiveAt) >= every {
			m.touch(s, now)
			meta.advance(now)
			changed = true
		}
		return changed, nil
	})
	if err != nil {
		if !errors.Is(err, ErrNotFound) {
			m.cfg.Logger.WarnContext(ctx, "sessionkit: recording session activity failed", "error", err.Error())
		}
		return
	}
	d.own()
	d.session.LastActiveAt, d.session.ExpireAt = s.LastActiveAt, s.ExpireAt
	d.st.version, d.st.meta = st.version, st.meta
	if st.meta.gen != cookieGen {
		d.reissue = true
	}
}

// writeRef writes the cookie that refers to stored session id at
// generation gen, living until the session's absolute end.
func (m *Manager) writeRef(w http.ResponseWriter, r *http.Request, id string, gen uint64, s *Session) error {
	expires := s.AbandonAt
	if expires.IsZero() {
		expires = s.ExpireAt
	}
	if expires.IsZero() {
		return errors.New("sessionkit: session has no expiry")
	}
	return m.cookies.sealWrite(w, r, func(b []byte) []byte { return appendRef(b, id, gen) }, expires, m.cfg.Now())
}

// openRef returns the reference a store-backed cookie made of parts
// carries, from the verified-credential cache or by opening it (and then
// caching it, unless rotated: it was sealed with an old key, and is to be
// sealed again).
func (m *Manager) openRef(parts []string, now time.Time) (ref cookieRef, rotated bool, err error) {
	if ref, ok := m.cache.getRef(parts, now); ok {
		return ref, false, nil
	}
	value := strings.Join(parts, "")
	payload, rotated, err := m.cookies.open(value)
	if err != nil {
		return cookieRef{}, false, err
	}
	if ref, err = decodeRef(payload); err != nil {
		return cookieRef{}, false, fmt.Errorf("%w: %w", ErrInvalidCookie, err)
	}
	if !rotated {
		m.cache.putRef(parts, ref, now.Add(refCacheLife), now)
	}
	return ref, rotated, nil
}

// requestParts returns the pieces of r's session cookie, and whether it
// has a well-formed one.
func (m *Manager) requestParts(r *http.Request) ([]string, bool) {
	var found cookie.Found
	parts, present, err := m.cookies.read(r, &found)
	return parts, present && err == nil
}

// requestRef returns the reference of r's store-backed cookie, if it
// carries a valid one.
func (m *Manager) requestRef(r *http.Request) (cookieRef, bool) {
	parts, ok := m.requestParts(r)
	if !ok {
		return cookieRef{}, false
	}
	ref, _, err := m.openRef(parts, m.cfg.Now())
	return ref, err == nil
}

// Touch records activity on the stored session id: LastActiveAt becomes
// now and, with Config.IdleTimeout, ExpireAt slides to now + IdleTimeout,
// never past AbandonAt. It returns an error wrapping ErrSessionExpired for
// a session that is not active, ErrNotFound for one the Store does not
// hold, and ErrStoreRequired without a Store. The middleware records
// activity by itself, at most once per DefaultTouchInterval (a tenth of
// IdleTimeout when set); Touch is for activity it does not see.
func (m *Manager) Touch(ctx context.Context, id string) error {
	if m.cfg.Store == nil {
		return ErrStoreRequired
	}
	_, _, err := m.mutate(ctx, id, func(s *Session, _ *storeMeta, now time.Time) (bool, error) {
		if s.Status != StatusActive {
			return false, fmt.Errorf("%w: session %s", ErrSessionExpired, s.Status)
		}
		m.touch(s, now)
		return true, nil
	})
	return err
}

// End ends the stored session id (status ended), as signing out does.
// Requests that present its cookie get no active session, and
// OnSessionExpired fires for them. Ending a session that is not active
// changes nothing and is not an error; one the Store does not hold
// returns ErrNotFound; without a Store, ErrStoreRequired.
func (m *Manager) End(ctx context.Context, id string) error {
	return m.setStatusOf(ctx, id, StatusEnded)
}

// Remove removes the stored session id from its client (status removed),
// as End does otherwise.
func (m *Manager) Remove(ctx context.Context, id string) error {
	return m.setStatusOf(ctx, id, StatusRemoved)
}

// Revoke revokes the stored session id (status revoked): the application
// or an administrator ended it. Otherwise as End.
func (m *Manager) Revoke(ctx context.Context, id string) error {
	return m.setStatusOf(ctx, id, StatusRevoked)
}

func (m *Manager) setStatusOf(ctx context.Context, id string, to Status) error {
	if m.cfg.Store == nil {
		return ErrStoreRequired
	}
	_, _, err := m.mutate(ctx, id, setStatus(to))
	return err
}

// RevokeUser signs userID out everywhere. Every active session where
// userID is the only account signed in is revoked (status revoked); from a
// session signed in to several accounts only userID's sign-in is removed,
// and the first remaining one becomes active if it was. The session keeps
// its ID and generation: its holder's cookie stays valid for the other
// accounts. RevokeUser goes on past a session it cannot change, and
// returns the errors joined.
func (m *Manager) RevokeUser(ctx context.Context, userID string) error {
	if m.cfg.Store == nil {
		return ErrStoreRequired
	}
	recs, err := m.cfg.Store.ListByUser(ctx, userID)
	if err != nil {
		return storeErr(err)
	}
	return m.signOutAccounts(ctx, recs, func(_ *storeMeta, in *SignIn) bool { return in.User.ID == userID })
}

// signOutAccounts removes the sign-ins for which match reports true from
// each active session of recs, as RevokeUser describes: a session left with none is
// revoked instead. It goes on past a session it cannot change, and returns
// the errors joined.
func (m *Manager) signOutAccounts(ctx context.Context, recs []Record, match func(meta *storeMeta, in *SignIn) bool) error {
	var errs []error
	for _, rec := range recs {
		if len(rec.Data) > 0 && rec.Data[0] == storeMovedV1 {
			continue // a forwarding stub: its session is listed under its new ID
		}
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
		// The listing holds the records as they are: start from them.
		var err error
		if ls, lst, derr := fromRecord(rec); derr == nil {
			_, _, err = m.mutateLoaded(ctx, loaded{ls, lst}, signOut)
		} else {
			_, _, err = m.mutate(ctx, rec.ID, signOut)
		}
		if err != nil && !errors.Is(err, ErrNotFound) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// ListSessions returns the stored sessions userID is signed in to, most
// recently active first, each with its status computed now: active ones,
// and those ended, revoked, ... that the Store still holds. A session
// signed in to several accounts is listed for each of them, whichever is
// active (Session.User is the active one; Session.SignIns lists them all),
// and Revoke ends it for all of them: RevokeUser signs one account out
// and leaves the others. The sessions carry their tokens (in fields that
// JSON encoding skips); they are the caller's own.
func (m *Manager) ListSessions(ctx context.Context, userID string) ([]*Session, error) {
	if m.cfg.Store == nil {
		return nil, ErrStoreRequired
	}
	recs, err := m.cfg.Store.ListByUser(ctx, userID)
	if err != nil {
		return nil, storeErr(err)
	}
	now := m.cfg.Now()
	out := make([]*Session, 0, len(recs))
	for _, rec := range recs {
		s, _, err := fromRecord(rec)
		if err != nil {
			continue
		}
		s.Status = statusAt(s, now)
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b *Session) int {
		if c := b.LastActiveAt.Compare(a.LastActiveAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}
