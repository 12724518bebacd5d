package sessionkit

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/sessionkit/sessionkit/internal/cookie"
	"github.com/sessionkit/sessionkit/internal/jwtverify"
)

// GetServerSession returns the session of r as it is at this moment. When
// Middleware or Require ran for r it returns their snapshot; otherwise it
// decodes r's credentials on demand (and fires the decode callbacks). It
// never writes a response, so on demand it neither re-issues a cookie nor
// records activity.
//
// The results are:
//   - an active session and nil;
//   - nil and ErrNoSession when r carries no session credential;
//   - nil and an error wrapping ErrInvalidCookie or ErrInvalidToken when the
//     credential failed verification;
//   - an inactive session and an error wrapping ErrSessionExpired when the
//     session was recognised but is over: Session.Status says how (for a
//     bearer JWT the error also wraps ErrTokenExpired).
//
// The Session returned belongs to the request; changing it changes no other
// request's snapshot.
func (m *Manager) GetServerSession(r *http.Request) (*Session, error) {
	if st := stateFrom(r.Context()); st != nil {
		return st.load(), st.err
	}
	d := m.decode(r)
	d.own()
	m.hooks.decoded(r.Context(), d)
	return d.session, d.err
}

// decoded is the outcome of reading a request's credentials.
type decoded struct {
	session *Session // nil when no credential yielded a session
	err     error    // nil exactly when session is active
	// rejected holds the failures of credentials that lost to the one
	// decoded (a forged bearer token beside an expired cookie, say).
	rejected []error
	// reissue means the cookie must be sealed again: it was opened with a
	// key other than the first, its idle expiry moved, or it was refreshed.
	reissue bool
	// refreshErr is why refreshing the session's access token failed.
	refreshErr error
	// updated means this request is the first to apply a refresh, which
	// fires OnSessionUpdate.
	updated bool
	// shared means session came from the verified-credential cache: it is
	// shared with other requests and must be copied before any change.
	shared bool
	// st is the stored state of a store-backed session (nil otherwise).
	st *storeState
	// theft means the request presented a superseded cookie, and the
	// session was revoked for it.
	theft bool
	// now is the time the credentials were decoded at, so that one request
	// reads the clock once (attach renews it after a refresh).
	now time.Time
}

// own makes d's session the request's own copy, so that it may be changed.
func (d *decoded) own() {
	if d.shared {
		d.session = d.session.Clone()
		d.shared = false
	}
}

// decode reads r's session credentials, in order: the session cookie, an
// "Authorization: Bearer" JWT or, when there is no Authorization header,
// the JWT cookie. The first active session wins; failing that, the first
// inactive session; failing that, the first error; failing that,
// ErrNoSession. Every other refused credential is kept in rejected. It
// writes nothing.
func (m *Manager) decode(r *http.Request) decoded {
	var rejected []error
	now := m.cfg.Now()
	d := m.pick(r, now, &rejected)
	d.now = now
	for _, e := range rejected {
		if e != d.err {
			d.rejected = append(d.rejected, e)
		}
	}
	return d
}

// pick runs decode's order of credentials and returns the winner,
// appending the error of every credential refused outright to rejected.
func (m *Manager) pick(r *http.Request, now time.Time, rejected *[]error) decoded {
	var fallback *decoded
	consider := func(d decoded) bool {
		if d.session == nil && d.err != nil {
			*rejected = append(*rejected, d.err)
		}
		if d.session.Active() {
			return true
		}
		if fallback == nil || (fallback.session == nil && d.session != nil) {
			fallback = &d
		}
		return false
	}
	if m.cookies != nil {
		if d, ok := m.decodeCookie(r, now); ok && consider(d) {
			return d
		}
	}
	if m.bearer != nil {
		tok, err := bearerToken(r)
		switch {
		case err != nil:
			consider(decoded{err: err})
		case tok != "":
			if d := m.decodeJWT(r.Context(), tok, SourceBearer, now); consider(d) {
				return d
			}
		case m.cfg.bearer.CookieName != "" && len(r.Header["Authorization"]) == 0:
			if c, err := r.Cookie(m.cfg.bearer.CookieName); err == nil && c.Value != "" {
				if d := m.decodeJWT(r.Context(), c.Value, SourceJWTCookie, now); consider(d) {
					return d
				}
			}
		}
	}
	if fallback != nil {
		return *fallback
	}
	return decoded{err: ErrNoSession}
}

// decodeCookie reads the session cookie. ok is false when r has none.
func (m *Manager) decodeCookie(r *http.Request, now time.Time) (d decoded, ok bool) {
	var found cookie.Found
	parts, present, err := m.cookies.read(r, &found)
	if !present {
		return d, false
	}
	if err != nil {
		d.err = err
		return d, true
	}
	if m.cfg.Store != nil {
		return m.stored.decodeStoredCookie(r.Context(), parts, now), true
	}
	if s := m.cache.get(SourceCookie, 0, parts, now); s != nil && statusAt(s, now) == StatusActive {
		d.session, d.shared = s, true
		return d, true
	}
	value := strings.Join(parts, "")
	payload, rotated, err := m.cookies.open(value)
	if err != nil {
		d.err = err
		return d, true
	}
	s, err := decodePayload(payload)
	if err == nil && (s.SignIn.ID == "" || s.User.ID == "") {
		err = errMalformedPayload
	}
	if err != nil {
		d.err = fmt.Errorf("%w: %w", ErrInvalidCookie, err)
		return d, true
	}
	s.Status = statusAt(s, now)
	d.session = s
	d.reissue = rotated
	switch s.Status {
	case StatusActive:
		if !rotated { // a cookie sealed with an old key is re-issued, not cached
			m.cache.put(SourceCookie, 0, parts, s, cacheUntil(s), now)
		}
	case StatusExpired, StatusAbandoned:
		d.err = ErrSessionExpired
	default:
		d.err = fmt.Errorf("%w: session %s", ErrSessionExpired, s.Status)
	}
	return d, true
}

// idleDue reports whether the middleware records activity on the cookie
// session s at now: an idle timeout is configured and the last record is
// older than a tenth of it.
func (m *Manager) idleDue(s *Session, now time.Time) bool {
	return m.cfg.IdleTimeout > 0 && now.Sub(s.LastActiveAt) >= m.stored.touchInterval()
}

// decodeJWT verifies a bearer JWT or JWT cookie.
func (m *Manager) decodeJWT(ctx context.Context, raw string, src Source, now time.Time) decoded {
	var d decoded
	gen := m.bearer.Generation()
	hook := m.cfg.bearer.SessionFromClaims
	if s := m.cache.get(src, gen, []string{raw}, now); s != nil {
		if hook == nil {
			d.session, d.shared = s, true
			return d
		}
		// The hook may reject a token it accepted before (a deny-list,
		// say), so it runs on every request, on the request's own copy
		// of the session as it was before any hook ran.
		c := s.Clone()
		return m.runClaimsHook(ctx, hook, c.Claims(), c, raw, src, nil)
	}
	if src == SourceBearer {
		if err := jwtverify.CheckB64Token(raw); err != nil {
			d.err = tokenErr(err)
			return d
		}
	}
	claims, typ, err := m.bearer.Verify(ctx, raw)
	if err != nil {
		err = tokenErr(err)
	}
	if claims == nil {
		d.err = err
		return d
	}
	if aerr := jwtverify.CheckAccessToken(m.cfg.bearer.RequireAccessTokenType, typ, claims, m.clientIDs()); aerr != nil {
		d.err = fmt.Errorf("%w: %w", ErrInvalidToken, aerr)
		return d
	}
	s := sessionFromClaims(claims, raw, src, now)
	if err == nil && m.cache != nil {
		// Cached as verified, before the hook, until the token's own exp.
		m.cache.put(src, gen, []string{raw}, s, s.ExpireAt, now)
	} else {
		// No one else holds claims: s may own them, and Claims need not
		// copy them.
		s.JWTPayload.b.adopt(claims)
	}
	if hook != nil {
		// s.Claims(), s's own copy: claims themselves are shared with the
		// cache entry and must not reach code that could change them.
		return m.runClaimsHook(ctx, hook, s.Claims(), s, raw, src, err)
	}
	return expiredOr(s, err)
}

// clientIDs are the client IDs of the configured providers: the audience
// of their ID tokens.
func (m *Manager) clientIDs() []string {
	ids := make([]string, 0, len(m.cfg.Providers))
	for _, p := range m.cfg.Providers {
		if p.ClientID != "" {
			ids = append(ids, p.ClientID)
		}
	}
	return ids
}

// runClaimsHook runs Bearer.SessionFromClaims on s and returns the decoding
// outcome; verr is the verifier's verdict on the token's age.
func (m *Manager) runClaimsHook(ctx context.Context, hook func(map[string]any, *Session) error, claims map[string]any, s *Session, raw string, src Source, verr error) decoded {
	var herr error
	if !m.hooks.safely(ctx, "SessionFromClaims", func() { herr = hook(claims, s) }) && herr == nil {
		herr = errors.New("SessionFromClaims panicked")
	}
	if herr != nil {
		return decoded{err: fmt.Errorf("%w: %w", ErrInvalidToken, herr)}
	}
	s.Status, s.Source, s.JWT = StatusActive, src, raw
	return expiredOr(s, verr)
}

// expiredOr is the outcome for a verified JWT session s: expired when the
// verifier found the token valid in every respect but its age.
func expiredOr(s *Session, verr error) decoded {
	d := decoded{session: s}
	if verr != nil {
		s.Status = StatusExpired
		d.err = fmt.Errorf("%w: %w", ErrSessionExpired, verr)
	}
	return d
}
