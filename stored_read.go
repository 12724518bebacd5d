package sessionkit

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/sessionkit/sessionkit/internal/record"
	"github.com/sessionkit/sessionkit/store"
)

// decodeStoredCookie reads a store-backed cookie (a session ID and a
// generation); only the reference is cached, the Store asked every time.
func (ss *storedSessions) decodeStoredCookie(ctx context.Context, parts []string, now time.Time) (d decoded) {
	ref, rotated, err := ss.openRef(parts, now)
	if err != nil {
		d.err = err
		return d
	}
	d.reissue = rotated // sealed with an old key: sealed again
	s, st, err := ss.readRecord(ctx, ref.ID)
	if err != nil { // mv escapes: declared only here, it costs nothing otherwise
		if mv := (*errMoved)(nil); errors.As(err, &mv) {
			return ss.decodeMovedCookie(ctx, ref, mv.Moved, now)
		}
		d.err = noSessionIfNotFound(err) // ended and gone, expired, or never stored
		return d
	}
	d.st, d.session = st, s
	if !ss.checkGeneration(ctx, &d, ref.Gen, now) {
		return d
	}
	d.err = storedStatusErr(&d, now)
	return d
}

// checkGeneration reports whether the request goes on with its cookie's
// generation gen: an old one still accepted is re-issued, an older one is a
// copy (the session is revoked), a newer one invalid.
func (ss *storedSessions) checkGeneration(ctx context.Context, d *decoded, gen uint64, now time.Time) bool {
	st := d.st
	if gen > st.meta.Gen {
		d.st, d.session, d.shared = nil, nil, false
		d.err = fmt.Errorf("%w: generation ahead of the store", ErrInvalidCookie)
		return false
	}
	st.cookieGen = gen
	if gen < st.meta.AcceptedFrom(now) {
		ss.revokeStolen(ctx, d, now)
		return false
	}
	d.grace = gen < st.meta.Gen
	d.reissue = d.reissue || d.grace
	return true
}

// storedStatusErr updates d's session status and returns its error.
func storedStatusErr(d *decoded, now time.Time) error {
	if status := statusAt(d.session, now); status != d.session.Status {
		d.own()
		d.session.Status = status
	}
	switch d.session.Status {
	case StatusActive:
		return nil
	case StatusExpired, StatusAbandoned:
		return ErrSessionExpired
	default:
		return fmt.Errorf("%w: session %s", ErrSessionExpired, d.session.Status)
	}
}

// decodeMovedCookie reads a cookie whose session moved to a new ID. It
// never reaches the moved session (fixation): it has none, or is a copy
// (record.Moved.Copied) and the moved session is revoked.
func (ss *storedSessions) decodeMovedCookie(ctx context.Context, ref cookieRef, mv record.Moved, now time.Time) (d decoded) {
	if ref.Gen > mv.Gen {
		d.err = fmt.Errorf("%w: generation ahead of the store", ErrInvalidCookie)
		return d
	}
	s, st, err := ss.followMoved(ctx, mv)
	if err != nil {
		d.err = noSessionIfNotFound(err)
		return d
	}
	if !mv.Copied(ref.Gen, &st.meta, now) {
		d.err = ErrNoSession
		return d
	}
	st.cookieGen = 0
	d.st, d.session = st, s
	ss.revokeStolen(ctx, &d, now)
	return d
}

// revokeStolen revokes d's session, whose cookie was copied.
func (ss *storedSessions) revokeStolen(ctx context.Context, d *decoded, now time.Time) {
	if statusAt(d.session, now) == StatusActive {
		if _, _, err := ss.mutate(ctx, d.st.id, setStatus(StatusRevoked)); ignoreNotFound(err) != nil {
			ss.logger.ErrorContext(ctx, "sessionkit: revoking a session after a cookie replay failed", "error", err.Error())
		}
		d.theft = true
	}
	d.own()
	d.session.Status = StatusRevoked
	d.err = fmt.Errorf("%w: %w", ErrSessionExpired, ErrTokenTheft)
}

// touchInterval is the least time between two activity records.
func (ss *storedSessions) touchInterval() time.Duration {
	if ss.idle > 0 {
		return ss.idle / 10
	}
	return defaultTouchInterval
}

// touch records activity on s at now: LastActiveAt, and with an idle
// timeout ExpireAt, never past AbandonAt.
func (ss *storedSessions) touch(s *Session, now time.Time) {
	s.LastActiveAt = now.UTC().Truncate(time.Second)
	if ss.idle > 0 {
		s.ExpireAt = s.LastActiveAt.Add(ss.idle)
		if !s.AbandonAt.IsZero() && s.ExpireAt.After(s.AbandonAt) {
			s.ExpireAt = s.AbandonAt
		}
	}
}

// touchStored records activity on the request's session after
// touchInterval, with a new generation (so a copied cookie is found out
// without refreshes), and that its cookie reached the client (Meta.Seen),
// best-effort: a lost race or a store error changes nothing.
func (ss *storedSessions) touchStored(ctx context.Context, d *decoded, now time.Time) {
	every := ss.touchInterval()
	cookieGen := d.st.cookieGen
	if now.Sub(d.session.LastActiveAt) < every && (cookieGen != d.st.meta.Gen || d.st.meta.Seen) {
		return
	}
	// From the record just loaded; a lost race reloads it, not following a move.
	cur := *d.st
	cur.meta.PSIDs = slices.Clone(cur.meta.PSIDs)
	s, st, err := ss.mutateAt(ctx, cur.id, false, &loaded{d.session.Clone(), &cur}, func(s *Session, meta *storeMeta, now time.Time) (bool, error) {
		if s.Status != StatusActive || meta.Gen != cookieGen {
			return false, nil // over, or re-issued by another request
		}
		due := now.Sub(s.LastActiveAt) >= every
		if due {
			ss.touch(s, now)
		}
		return meta.Visit(now, due), nil
	})
	if err != nil {
		if ignoreNotFound(err) != nil {
			ss.logger.WarnContext(ctx, "sessionkit: recording session activity failed", "error", err.Error())
		}
		return
	}
	d.own()
	d.session.LastActiveAt, d.session.ExpireAt = s.LastActiveAt, s.ExpireAt
	d.st.version, d.st.meta = st.version, st.meta
	d.reissue = d.reissue || st.meta.Gen != cookieGen
}

// openRef returns the reference a store-backed cookie carries, from the
// verified-credential cache or by opening it and caching it (unless it was
// sealed with an old key: rotated, to be sealed again).
func (ss *storedSessions) openRef(parts []string, now time.Time) (ref cookieRef, rotated bool, err error) {
	ck := ss.cache.key(sourceRef, parts)
	if ref, ok := ss.cache.getRef(ck, now); ok {
		return ref, false, nil
	}
	payload, rotated, err := ss.cookies.open(strings.Join(parts, ""))
	if err != nil {
		return cookieRef{}, false, err
	}
	if ref, err = record.DecodeRef(payload); err != nil {
		return cookieRef{}, false, fmt.Errorf("%w: %w", ErrInvalidCookie, err)
	}
	if !rotated {
		ss.cache.putRef(ck, ref, now.Add(refCacheLife), now)
	}
	return ref, rotated, nil
}

// requestRef returns the reference of r's valid store-backed cookie.
func (ss *storedSessions) requestRef(r *http.Request) (cookieRef, bool) {
	parts, ok := ss.cookies.parts(r)
	if !ok {
		return cookieRef{}, false
	}
	ref, _, err := ss.openRef(parts, ss.now())
	return ref, err == nil
}

// noSessionIfNotFound is ErrNoSession for store.ErrNotFound, else err.
func noSessionIfNotFound(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return ErrNoSession
	}
	return err
}

// ignoreNotFound is nil for store.ErrNotFound, else err.
func ignoreNotFound(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	return err
}
