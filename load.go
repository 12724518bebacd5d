package sessionkit

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/sessionkit/sessionkit/internal/cookie"
	"github.com/sessionkit/sessionkit/internal/introspect"
	"github.com/sessionkit/sessionkit/internal/jwtverify"
)

// GetServerSession returns the session of r as it is at this moment: the
// snapshot of Middleware or Require when they ran for r, otherwise r's
// credentials decoded on demand (firing the decode callbacks, but neither
// re-issuing a cookie nor recording activity: it writes no response). The
// results are:
//   - an active session and nil;
//   - nil and ErrNoSession when r carries no session credential;
//   - nil and an error wrapping ErrInvalidCookie or ErrInvalidToken when the
//     credential failed verification;
//   - an inactive session (Status says how) and an error wrapping
//     ErrSessionExpired, and for a bearer JWT ErrTokenExpired.
//
// The Session returned belongs to the request: changing it changes no
// other request's snapshot.
func (m *Manager) GetServerSession(r *http.Request) (*Session, error) {
	return m.reader.serverSession(r)
}

func (rd *reader) serverSession(r *http.Request) (*Session, error) {
	if st := stateFrom(r.Context()); st != nil {
		return st.load(), st.err
	}
	var d decoded
	rd.decode(r, &d)
	d.own()
	rd.hooks.decoded(r.Context(), &d)
	return d.session, d.err
}

// decoded is the outcome of reading a request's credentials.
type decoded struct {
	session    *Session    // nil when no credential yielded a session
	err        error       // nil exactly when session is active
	rejected   []error     // failures of the credentials that lost to session's
	reissue    bool        // the cookie must be sealed again (old key, idle expiry moved, refreshed)
	refreshErr error       // why refreshing the access token failed
	updated    bool        // the first request to apply a refresh: OnSessionUpdate fires
	shared     bool        // session is the cache's: own copies it before any change
	calm       bool        // session is an active cookie session that needs nothing now (see calmUntil)
	st         *storeState // a store-backed session's stored state
	theft      bool        // a superseded cookie was presented; the session was revoked for it
	grace      bool        // a superseded cookie within its grace window: its successor is re-issued
	now        time.Time   // when decoded (renewed after a refresh): the clock is read once
	write      cookieWrite // the cookie to re-issue, which the middleware applies,
	writeErr   error       // or why it could not be sealed
}

// own makes d's session the request's own copy, which it may change.
func (d *decoded) own() {
	if d.shared {
		d.session = d.session.Clone()
		d.shared = false
	}
}

// load is the middleware's read path: decode r into d, renew an active
// cookie session, and decide the cookie to re-issue. It writes nothing.
func (m *Manager) load(r *http.Request, d *decoded) {
	m.reader.decode(r, d)
	if d.calm {
		return
	}
	if d.st != nil {
		m.renewStored(r, d)
		return
	}
	if d.session != nil && d.session.Status == StatusActive && d.session.Source == SourceCookie {
		m.renew(r.Context(), d)
	}
	if d.reissue {
		d.write, d.writeErr = m.cookies.sessionCookie(r, d.session, m.cfg.Now())
	}
}

// renew records activity on d's stateless session and refreshes its access
// token when either is due, before the callbacks and the handler see it.
func (m *Manager) renew(ctx context.Context, d *decoded) {
	now := d.now
	if m.cfg.IdleTimeout > 0 && now.Sub(d.session.LastActiveAt) >= m.stored.touchInterval() {
		d.own()
		m.stored.touch(d.session, now)
		d.reissue = true
	}
	if m.refresher.due(d.session, now) {
		d.own()
		m.refresher.refresh(ctx, d)
		d.now = m.cfg.Now() // a refresh may take a while
	}
}

// renewStored is renew for a store-backed session, whose cookie is
// re-issued when its generation or key is out of date.
func (m *Manager) renewStored(r *http.Request, d *decoded) {
	if d.session == nil || d.session.Status != StatusActive {
		return
	}
	ctx, now := r.Context(), d.now
	m.stored.touchStored(ctx, d, now)
	if m.refresher.storedDue(d.session, d.st, now) {
		d.own()
		m.refresher.refreshStored(ctx, d)
	}
	d.now = m.cfg.Now() // the Store and a refresh may take a while
	if d.reissue && d.session != nil && d.session.Status == StatusActive {
		d.write, d.writeErr = m.cookies.refCookie(r, d.st.id, d.st.meta.Gen, d.session, d.now)
	}
}

// reader finds a request's credentials, opens or verifies them, and
// evaluates their session. It is safe for concurrent use.
type reader struct {
	now       func() time.Time
	cookies   *cookieCodec         // nil when Config.Keys is empty
	bearer    *jwtverify.Verifier  // nil without Config.Bearer
	opaque    *introspect.Verifier // nil without a Provider.IntrospectionURL
	jwt       *JWTConfig           // Config.Bearer with its defaults; nil without it
	cache     *credCache           // nil when disabled
	hooks     *hooks
	clientIDs []string                 // the audience of the providers' ID tokens
	stored    *storedSessions          // nil without a Config.Store
	calm      func(*Session) time.Time // Manager.calmUntil
}

func clientIDs(providers []Provider) []string {
	ids := make([]string, 0, len(providers))
	for _, p := range providers {
		if p.ClientID != "" {
			ids = append(ids, p.ClientID)
		}
	}
	return ids
}

// decode reads r's credentials into d, in order: the session cookie, then
// a bearer JWT or, without an Authorization header, the JWT cookie. The
// first active session wins, else the first inactive one, else the first
// error, else ErrNoSession; the other refusals go to rejected.
func (rd *reader) decode(r *http.Request, d *decoded) {
	var (
		best                   *decoded // nil until a credential is found
		fromCookie, fromBearer decoded
		rejected               []error
		now                    = rd.now()
	)
	if rd.cookies != nil && rd.decodeCookie(r, now, &fromCookie) {
		best = pick(best, &fromCookie, &rejected)
	}
	if (rd.bearer != nil || rd.opaque != nil) && !activeIn(best) && rd.decodeBearer(r, now, &fromBearer) {
		best = pick(best, &fromBearer, &rejected)
	}
	if best != nil {
		*d = *best
	} else {
		*d = decoded{err: ErrNoSession}
	}
	d.now = now
	if !d.calm {
		markUnrefreshable(d)
	}
	for _, e := range rejected {
		if e != d.err {
			d.rejected = append(d.rejected, e)
		}
	}
}

// pick returns the better of decode's outcomes best (nil for none yet) and
// d, the earlier winning a tie, and adds d's error to rejected when it was
// refused outright.
func pick(best, d *decoded, rejected *[]error) *decoded {
	if d.session == nil && d.err != nil {
		*rejected = append(*rejected, d.err)
	}
	switch {
	case activeIn(best):
		return best
	case activeIn(d):
		return d
	case best == nil || (best.session == nil && d.session != nil):
		return d
	}
	return best
}

// activeIn reports whether d holds an active session.
func activeIn(d *decoded) bool {
	return d != nil && (d.calm || d.session != nil && d.session.Status == StatusActive)
}

// decodeBearer decodes r's bearer token or JWT cookie into d, which must
// be zero, and reports whether r has either.
func (rd *reader) decodeBearer(r *http.Request, now time.Time, d *decoded) bool {
	tok, err := bearerToken(r)
	switch {
	case err != nil:
		d.err = err
	case tok != "" && rd.opaque != nil && strings.Count(tok, ".") != 2:
		*d = rd.decodeOpaque(r.Context(), tok, now)
	case tok != "" && rd.bearer != nil:
		rd.decodeJWT(r.Context(), tok, SourceBearer, now, d)
	case rd.jwt != nil && rd.jwt.CookieName != "" && len(r.Header["Authorization"]) == 0:
		c, err := r.Cookie(rd.jwt.CookieName)
		if err != nil || c.Value == "" {
			return false
		}
		rd.decodeJWT(r.Context(), c.Value, SourceJWTCookie, now, d)
	default:
		return false
	}
	return true
}

// decodeCookie reads the session cookie into d, which must be zero, and
// reports whether r has one.
func (rd *reader) decodeCookie(r *http.Request, now time.Time, d *decoded) bool {
	var found cookie.Found
	parts, present, err := rd.cookies.read(r, &found)
	switch {
	case !present:
		return false
	case err != nil:
		d.err = err
	case rd.stored != nil:
		*d = rd.stored.decodeStoredCookie(r.Context(), parts, now)
	default:
		ck := rd.cache.key(SourceCookie, parts)
		switch s, calm := rd.cache.lookup(0, ck, now); {
		case calm:
			d.session, d.shared, d.calm = s, true, true
		case s != nil && statusAt(s, now) == StatusActive:
			d.session, d.shared = s, true
		default:
			*d = rd.openCookie(parts, ck, now)
		}
	}
	return true
}

// openCookie opens a stateless session cookie and caches its session.
func (rd *reader) openCookie(parts []string, ck credKey, now time.Time) (d decoded) {
	payload, rotated, err := rd.cookies.open(strings.Join(parts, ""))
	if err != nil {
		d.err = err
		return d
	}
	s, err := decodePayload(payload)
	if err == nil && (s.SignIn.ID == "" || s.User.ID == "") {
		err = errMalformedPayload
	}
	if err != nil {
		d.err = fmt.Errorf("%w: %w", ErrInvalidCookie, err)
		return d
	}
	s.Status = statusAt(s, now)
	d.session = s
	d.reissue = rotated
	switch s.Status {
	case StatusActive:
		if !rotated { // a cookie sealed with an old key is re-issued, not cached
			rd.cache.putCalm(0, ck, s, cacheUntil(s), now, rd.calm)
		}
	case StatusExpired, StatusAbandoned:
		d.err = ErrSessionExpired
	default:
		d.err = fmt.Errorf("%w: session %s", ErrSessionExpired, s.Status)
	}
	return d
}

// decodeJWT verifies a bearer JWT or JWT cookie, or finds it in the
// cache, into d, which must be zero.
func (rd *reader) decodeJWT(ctx context.Context, raw string, src Source, now time.Time, d *decoded) {
	gen := rd.bearer.Generation()
	ck := rd.cache.key(src, []string{raw})
	if s := rd.cache.get(gen, ck, now); s != nil {
		*d = rd.verified(ctx, s, raw, src)
		return
	}
	*d = rd.verifyJWT(ctx, raw, src, gen, ck, now)
}

// verified is the outcome for a token whose cached session is s: s itself,
// shared, or, with a Bearer.SessionFromClaims hook, the hook's verdict on
// a copy. The hook may now reject a token it accepted (a deny-list): it
// runs on every request, on a copy of the session before any hook.
func (rd *reader) verified(ctx context.Context, s *Session, raw string, src Source) decoded {
	if rd.jwt == nil || rd.jwt.SessionFromClaims == nil {
		return decoded{session: s, shared: true}
	}
	c := s.Clone()
	return rd.runClaimsHook(ctx, c.Claims(), c, raw, src, nil)
}

// decodeOpaque verifies a bearer token that is not a JWT by introspection,
// or finds it in the cache (with gen 0: a JWT's key never matches).
func (rd *reader) decodeOpaque(ctx context.Context, raw string, now time.Time) decoded {
	ck := rd.cache.key(SourceBearer, []string{raw})
	s := rd.cache.get(0, ck, now)
	if s == nil {
		res, err := rd.opaque.Verify(ctx, raw)
		switch {
		case errors.Is(err, introspect.ErrInactive) || errors.Is(err, introspect.ErrRefused):
			return decoded{err: fmt.Errorf("%w: %w", ErrInvalidToken, err)}
		case err != nil: // the provider could not say: no answer is not a "no"
			return decoded{err: fmt.Errorf("%w: token introspection: %w", ErrProviderUnavailable, err)}
		}
		s = sessionFromClaims(res.Claims, raw, SourceBearer, now)
		rd.cache.put(0, ck, s, res.Until, now)
	}
	return rd.verified(ctx, s, raw, SourceBearer)
}

// verifyJWT verifies raw and caches the session it yields.
func (rd *reader) verifyJWT(ctx context.Context, raw string, src Source, gen uint64, ck credKey, now time.Time) (d decoded) {
	claims, err := rd.bearer.VerifyAccessToken(ctx, raw, src == SourceBearer, rd.jwt.RequireAccessTokenType, rd.clientIDs)
	if err != nil {
		err = tokenErr(err)
	}
	if claims == nil {
		d.err = err
		return d
	}
	s := sessionFromClaims(claims, raw, src, now)
	if err == nil && rd.cache != nil {
		// Cached as verified, before the hook, until the token's own exp.
		rd.cache.put(gen, ck, s, s.ExpireAt, now)
	} else { // no one else holds claims: Claims need not copy them
		s.JWTPayload.b.Adopt(claims)
	}
	if rd.jwt.SessionFromClaims != nil {
		// A copy: claims are shared with the cache entry.
		return rd.runClaimsHook(ctx, s.Claims(), s, raw, src, err)
	}
	return expiredOr(s, err)
}

// runClaimsHook runs Bearer.SessionFromClaims on s; verr is expiredOr's.
func (rd *reader) runClaimsHook(ctx context.Context, claims map[string]any, s *Session, raw string, src Source, verr error) decoded {
	var herr error
	hook := rd.jwt.SessionFromClaims
	if !rd.hooks.safely(ctx, "SessionFromClaims", func() { herr = hook(claims, s) }) && herr == nil {
		herr = errors.New("SessionFromClaims panicked")
	}
	if herr != nil {
		return decoded{err: fmt.Errorf("%w: %w", ErrInvalidToken, herr)}
	}
	s.Status, s.Source, s.JWT = StatusActive, src, raw
	return expiredOr(s, verr)
}

// expiredOr is the outcome for a verified JWT: expired when verr says so.
func expiredOr(s *Session, verr error) decoded {
	d := decoded{session: s}
	if verr != nil {
		s.Status = StatusExpired
		d.err = fmt.Errorf("%w: %w", ErrSessionExpired, verr)
	}
	return d
}
