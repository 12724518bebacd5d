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

// decodeStoredCookie reads a store-backed session cookie made of parts:
// the cookie names a session and a generation, and the Store holds the
// session. The verified-credential cache keeps only the cookie's
// reference, so the Store is asked on every request.
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
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		d.err = ErrNoSession // ended and gone, expired, or never stored
		return d
	case err != nil:
		d.err = err
		return d
	}
	d.st, d.session = st, s
	if !ss.checkGeneration(ctx, &d, ref.Gen, now) {
		return d
	}
	d.err = storedStatusErr(&d, now)
	return d
}

// checkGeneration compares the generation gen of the request's cookie
// with d's stored session, and reports whether the request goes on with
// it: a cookie of the current generation does, and so does one of a
// generation still accepted (it is re-issued). An older cookie is a copy
// (the session is revoked), a newer one is invalid.
func (ss *storedSessions) checkGeneration(ctx context.Context, d *decoded, gen uint64, now time.Time) bool {
	st := d.st
	switch {
	case gen == st.meta.Gen:
		st.cookieGen = gen
	case gen < st.meta.Gen && gen >= st.meta.AcceptedFrom(now):
		// In flight during a re-issue, or the response that carried the
		// new cookie never reached its client: catch up.
		st.cookieGen = gen
		d.reissue = true
	case gen < st.meta.Gen:
		// A cookie that was replaced long ago: someone kept a copy.
		st.cookieGen = gen
		ss.revokeStolen(ctx, d, now)
		return false
	default:
		d.st, d.session, d.shared = nil, nil, false
		d.err = fmt.Errorf("%w: generation ahead of the store", ErrInvalidCookie)
		return false
	}
	return true
}

// storedStatusErr computes the status of d's stored session at now and
// returns the error a request gets for it: nil when it is active.
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

// decodeMovedCookie reads a cookie whose session moved to a new ID (its
// privileges changed) since the cookie was issued. Such a cookie never
// reaches the moved session: whoever planted it would (fixation). Within
// the grace window of the move (a request in flight), or while no request
// has presented the new cookie (the response that carried it may have
// been lost), the request has no session. Later, the cookie was copied:
// the session it moved to is revoked.
func (ss *storedSessions) decodeMovedCookie(ctx context.Context, ref cookieRef, mv record.Moved, now time.Time) (d decoded) {
	if ref.Gen > mv.Gen {
		d.err = fmt.Errorf("%w: generation ahead of the store", ErrInvalidCookie)
		return d
	}
	s, st, err := ss.followMoved(ctx, mv)
	switch {
	case errors.Is(err, store.ErrNotFound):
		d.err = ErrNoSession
		return d
	case err != nil:
		d.err = err
		return d
	}
	// The moved session's cookie reached its client if a request has
	// presented it, or advanced its generation (which takes presenting it).
	delivered := st.meta.Seen || st.meta.Gen > 1
	if ref.Gen >= mv.From && (now.Before(mv.MovedAt.Add(record.Grace)) || !delivered) {
		d.err = ErrNoSession
		return d
	}
	st.cookieGen = 0
	d.st, d.session = st, s
	ss.revokeStolen(ctx, &d, now)
	return d
}

// revokeStolen handles a copied cookie of d's stored session: an active
// session is revoked, and d reports the theft.
func (ss *storedSessions) revokeStolen(ctx context.Context, d *decoded, now time.Time) {
	if statusAt(d.session, now) == StatusActive {
		if _, _, err := ss.mutate(ctx, d.st.id, setStatus(StatusRevoked)); err != nil && !errors.Is(err, store.ErrNotFound) {
			ss.logger.ErrorContext(ctx, "sessionkit: revoking a session after a cookie replay failed", "error", err.Error())
		}
		d.theft = true
	}
	d.own()
	d.session.Status = StatusRevoked
	d.err = fmt.Errorf("%w: %w", ErrSessionExpired, ErrTokenTheft)
}

// touchInterval is the least time between two activity records of the
// middleware on a stored session.
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

// touchStored records activity on the request's stored session when the
// last record is older than touchInterval, and then starts a new
// generation, so that a copied cookie is found out even in a session that
// is never refreshed. It also records that the current generation's
// cookie reached its client (storeMeta.seen). A lost race or a store error
// leaves the session as it is: both are recorded best-effort.
func (ss *storedSessions) touchStored(ctx context.Context, d *decoded, now time.Time) {
	every := ss.touchInterval()
	cookieGen := d.st.cookieGen
	current := cookieGen == d.st.meta.Gen
	if now.Sub(d.session.LastActiveAt) < every && (!current || d.st.meta.Seen) {
		return
	}
	// The record was loaded for this request a moment ago: start from a
	// copy of it. A lost compare-and-set reloads the record without
	// following a move: the cookie of before a privilege change never
	// reaches the moved session (see decodeMovedCookie), not even to mark
	// it seen.
	cur := *d.st
	cur.meta.PSIDs = slices.Clone(cur.meta.PSIDs)
	s, st, err := ss.mutateAt(ctx, cur.id, false, &loaded{d.session.Clone(), &cur}, func(s *Session, meta *storeMeta, now time.Time) (bool, error) {
		if s.Status != StatusActive || meta.Gen != cookieGen {
			return false, nil // over, or re-issued by another request
		}
		changed := !meta.Seen
		meta.Seen = true
		if now.Sub(s.LastActiveAt) >= every {
			ss.touch(s, now)
			meta.Advance(now)
			changed = true
		}
		return changed, nil
	})
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			ss.logger.WarnContext(ctx, "sessionkit: recording session activity failed", "error", err.Error())
		}
		return
	}
	d.own()
	d.session.LastActiveAt, d.session.ExpireAt = s.LastActiveAt, s.ExpireAt
	d.st.version, d.st.meta = st.version, st.meta
	if st.meta.Gen != cookieGen {
		d.reissue = true
	}
}

// openRef returns the reference a store-backed cookie made of parts
// carries, from the verified-credential cache or by opening it (and then
// caching it, unless rotated: it was sealed with an old key, and is to be
// sealed again).
func (ss *storedSessions) openRef(parts []string, now time.Time) (ref cookieRef, rotated bool, err error) {
	ck := ss.cache.key(parts)
	if ref, ok := ss.cache.getRef(ck, now); ok {
		return ref, false, nil
	}
	value := strings.Join(parts, "")
	payload, rotated, err := ss.cookies.open(value)
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

// requestParts returns the pieces of r's session cookie, and whether it
// has a well-formed one.
func (ss *storedSessions) requestParts(r *http.Request) ([]string, bool) {
	return ss.cookies.parts(r)
}

// requestRef returns the reference of r's store-backed cookie, if it
// carries a valid one.
func (ss *storedSessions) requestRef(r *http.Request) (cookieRef, bool) {
	parts, ok := ss.requestParts(r)
	if !ok {
		return cookieRef{}, false
	}
	ref, _, err := ss.openRef(parts, ss.now())
	return ref, err == nil
}
