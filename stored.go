package sessionkit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/sessionkit/sessionkit/internal/record"
	"github.com/sessionkit/sessionkit/store"
)

// Errors of the store-backed session verbs.
var (
	// ErrStoreUnavailable means the Store failed with a system error (an
	// unreachable Redis, a timeout). The Manager fails closed: the request
	// has no session, and Require answers 503.
	ErrStoreUnavailable = errors.New("sessionkit: session store unavailable")
	// ErrTokenTheft, wrapped with ErrSessionExpired, means a session cookie
	// of an older generation was presented after the grace window: it was
	// copied, and the session has been revoked.
	ErrTokenTheft = errors.New("sessionkit: a superseded session cookie was presented again (theft suspected)")
)

const (
	// defaultTouchInterval is how often, at most, the middleware records
	// activity without Config.IdleTimeout (with it, a tenth of it).
	defaultTouchInterval = 5 * time.Minute
	// casRetries bounds the rounds of a write losing compare-and-set races.
	casRetries = 8
	// saveTimeout bounds writes that must outlive the request, such as
	// tokens the provider has already rotated.
	saveTimeout = 10 * time.Second
	// refCacheLife bounds how long a cookie's reference stays cached.
	refCacheLife = 24 * time.Hour
)

// storedSessions keeps the records of a Manager's Config.Store and reads
// the cookies that refer to them; without one, only touch* are of use.
type storedSessions struct {
	store   store.Store
	cache   *credCache   // nil when disabled
	cookies *cookieCodec // nil when Config.Keys is empty
	now     func() time.Time
	logger  *slog.Logger
	idle    time.Duration // Config.IdleTimeout
	revoke  func(ended []SignIn)
}

func newStoredSessions(cfg *settings, cache *credCache, cookies *cookieCodec) *storedSessions {
	return &storedSessions{store: cfg.Store, cache: cache, cookies: cookies, now: cfg.Now, logger: cfg.Logger, idle: cfg.IdleTimeout}
}

// capability returns the Store as T, or ErrNotConfigured naming name.
func capability[T any](s store.Store, name string) (T, error) {
	var zero T
	if s == nil {
		return zero, errStoreRequired
	}
	c, ok := s.(T)
	if !ok {
		return zero, fmt.Errorf("%w: the Store does not implement store.%s", ErrNotConfigured, name)
	}
	return c, nil
}

// storeState is what a request knows of its stored session beside it.
type storeState struct {
	id        string
	version   uint64
	meta      storeMeta
	cookieGen uint64 // the generation the request's cookie carries
}

// storeErr wraps a Store's system error; ErrNotFound and ErrConflict pass.
func storeErr(err error) error {
	if err == nil || errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrConflict) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrStoreUnavailable, err)
}

// fromRecord decodes a stored session, sharing rec.Data: the caller's own,
// or bytes a Store shares with readers (store.SharedLoad), never changed.
func fromRecord(rec store.Record) (*Session, *storeState, error) {
	if record.IsMoved(rec.Data) {
		mv, err := record.DecodeMoved(rec.Data)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: stored session: %w", ErrInvalidSession, err)
		}
		return nil, nil, &errMoved{mv}
	}
	var s *Session
	meta, rest, err := record.DecodeMeta(rec.Data)
	if err == nil {
		s, err = decodePayload(rest)
	}
	if err == nil && (s.SignIn.ID == "" || s.User.ID == "") {
		err = errMalformedPayload
	}
	if err != nil {
		return nil, nil, fmt.Errorf("%w: stored session: %w", ErrInvalidSession, err)
	}
	s.ID = rec.ID
	return s, &storeState{id: rec.ID, version: rec.Version, meta: meta, cookieGen: meta.Gen}, nil
}

// loadRecord loads session id; a forwarding stub returns an *errMoved.
func (ss *storedSessions) loadRecord(ctx context.Context, id string) (*Session, *storeState, error) {
	rec, err := ss.store.Load(ctx, id)
	if err != nil {
		return nil, nil, storeErr(err)
	}
	return fromRecord(rec)
}

// readRecord is loadRecord for the middleware: sharing the Store's bytes
// costs no more than copying a cached decoded session would.
func (ss *storedSessions) readRecord(ctx context.Context, id string) (*Session, *storeState, error) {
	return ss.loadRecord(store.WithSharedLoad(ctx, ss.store), id)
}

// load loads session id; a moved one is followed if follow, else not found.
func (ss *storedSessions) load(ctx context.Context, id string, follow bool) (*Session, *storeState, error) {
	s, st, err := ss.loadRecord(ctx, id)
	var mv *errMoved
	switch {
	case !errors.As(err, &mv):
		return s, st, err
	case follow:
		return ss.followMoved(ctx, mv.Moved)
	}
	return nil, nil, store.ErrNotFound
}

// followMoved loads the session a stub leads to, at most MaxMoves away.
func (ss *storedSessions) followMoved(ctx context.Context, mv record.Moved) (*Session, *storeState, error) {
	for range record.MaxMoves {
		s, st, err := ss.loadRecord(ctx, mv.To)
		var next *errMoved
		if !errors.As(err, &next) {
			return s, st, err
		}
		mv = next.Moved
	}
	return nil, nil, fmt.Errorf("%w: too many moves", ErrInvalidSession)
}

// recordExpiry is when the store may drop s.
func recordExpiry(s *Session) time.Time {
	if !s.ExpireAt.IsZero() {
		return s.ExpireAt
	}
	return s.AbandonAt
}

// saveState writes s at st's version (0 creates it), returning the new one.
func (ss *storedSessions) saveState(ctx context.Context, s *Session, st *storeState) (uint64, error) {
	if err := s.checkSignIns(); err != nil {
		return 0, err
	}
	v, err := ss.store.Save(ctx, store.Record{
		ID:                 st.id,
		UserID:             s.User.ID,
		OtherUserIDs:       otherUserIDs(s),
		ProviderSessionIDs: st.meta.PrunePSIDs(s.hasSignIn),
		Version:            st.version,
		ExpireAt:           recordExpiry(s),
		Data:               appendStored(make([]byte, 0, 512), st.meta, s),
	})
	return v, storeErr(err)
}

// mutation changes s and meta at now, reporting whether anything changed.
type mutation func(s *Session, meta *storeMeta, now time.Time) (bool, error)

// mutate applies f to session id (following a move) and saves it with
// compare-and-set, retrying conflicts; with meta.Rotate, under a new ID.
func (ss *storedSessions) mutate(ctx context.Context, id string, f mutation) (*Session, *storeState, error) {
	return ss.mutateAt(ctx, id, true, nil, f)
}

// loaded is a stored session a caller has just loaded and hands over.
type loaded struct {
	s  *Session
	st *storeState
}

// mutateLoaded is mutate starting from l instead of loading it again.
func (ss *storedSessions) mutateLoaded(ctx context.Context, l loaded, f mutation) (*Session, *storeState, error) {
	return ss.mutateAt(ctx, l.st.id, true, &l, f)
}

// mutateAt runs the rounds of mutate, from first if given. A cookie's
// session is not followed (follow false): the moved one is not its own.
func (ss *storedSessions) mutateAt(ctx context.Context, id string, follow bool, first *loaded, f mutation) (*Session, *storeState, error) {
	for range casRetries {
		cur := first
		first = nil
		if cur == nil {
			s, st, err := ss.load(ctx, id, follow)
			if err != nil {
				return nil, nil, err
			}
			cur = &loaded{s, st}
		}
		s, st, done, err := ss.mutateOnce(ctx, cur, f)
		if done {
			return s, st, err
		}
	}
	return nil, nil, fmt.Errorf("%w: session %s kept changing", store.ErrConflict, id)
}

// mutateOnce is one round of mutateAt; it is not done when it lost a race.
func (ss *storedSessions) mutateOnce(ctx context.Context, cur *loaded, f mutation) (s *Session, st *storeState, done bool, err error) {
	s, st = cur.s, cur.st
	now := ss.now()
	s.Status = statusAt(s, now)
	prev, held := st.meta, []SignIn(nil)
	if s.Status == StatusActive {
		held = s.SignIns()
	}
	changed, err := f(s, &st.meta, now)
	if err != nil || !changed {
		return s, st, true, err
	}
	if st.meta.Rotate {
		st, err = ss.moveState(ctx, s, st, prev, now)
	} else {
		st.version, err = ss.saveState(ctx, s, st)
	}
	switch {
	case err == nil:
		ss.revoke(s.ended(held))
		return s, st, true, nil
	case errors.Is(err, store.ErrConflict):
		return nil, nil, false, nil
	}
	return nil, nil, true, err
}

// moveState saves s under a new ID, then turns st's record (prev its meta)
// into a stub to it with compare-and-set, or deletes the new one; once that
// exists the move goes on even if ctx ends: nothing is left half-moved.
func (ss *storedSessions) moveState(ctx context.Context, s *Session, st *storeState, prev storeMeta, now time.Time) (*storeState, error) {
	s.ID = newSessionID()
	meta := record.New(now)
	meta.RetryAt, meta.Failures, meta.PSIDs = st.meta.RetryAt, st.meta.Failures, slices.Clone(st.meta.PSIDs)
	nst := &storeState{id: s.ID, meta: meta}
	v, err := ss.saveState(ctx, s, nst)
	if err != nil {
		s.ID = st.id
		return nil, err
	}
	nst.version = v
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), saveTimeout)
	defer cancel()
	stub := store.Record{ID: st.id, UserID: s.User.ID, Version: st.version, ExpireAt: record.StubExpiry(recordExpiry(s), now)}
	if err := record.WriteStub(wctx, ss.store, stub, record.Moved{To: s.ID, Gen: prev.Gen, From: prev.AcceptedFrom(now), MovedAt: now}); err != nil {
		if derr := ss.store.Delete(wctx, s.ID); derr != nil {
			ss.logger.WarnContext(ctx, "sessionkit: removing the record of a failed session move failed", "error", derr.Error())
		}
		s.ID = st.id
		return nil, storeErr(err)
	}
	return nst, nil
}

// lock takes the Store's lock named key for at most ttl (store.Locker);
// without one every caller gets it, and only in-process flights join.
func (ss *storedSessions) lock(ctx context.Context, key string, ttl time.Duration) (unlock func(context.Context) error, err error) {
	if l, ok := ss.store.(store.Locker); ok {
		return l.Lock(ctx, key, ttl)
	}
	return func(context.Context) error { return nil }, nil
}

// setStatus is a mutation giving an active session the terminal status to.
func setStatus(to Status) mutation {
	return func(s *Session, _ *storeMeta, _ time.Time) (bool, error) {
		if s.Status != StatusActive {
			return false, nil
		}
		s.Status = to
		return true, nil
	}
}
