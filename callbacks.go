package sessionkit

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/sessionkit/sessionkit/internal/guard"
	"github.com/sessionkit/sessionkit/internal/obs"
)

// Callbacks are the hooks named after the useSession() callbacks of the
// seeds; every field is optional. They run synchronously on the request's
// goroutine, so keep them fast; each receives its own copy of the session.
// A panic in a callback is recovered and logged to Config.Logger, and the
// request goes on. "Decoded" means: once per request by Middleware or
// Require, or per call of GetServerSession when the middleware did not run.
type Callbacks struct {
	// OnSignIn fires after SignIn has written a new session.
	OnSignIn func(ctx context.Context, s *Session)

	// OnSignOut fires after SignOut has cleared a session; s is the session
	// signed out, nil if the request carried no valid one.
	OnSignOut func(ctx context.Context, s *Session)

	// OnSessionUpdate fires with the new snapshot after UpdateSession, and
	// once per successful refresh (for the first request that applies it);
	// not for re-issues that change no data (key rotation, idle sliding).
	OnSessionUpdate func(ctx context.Context, s *Session)

	// OnSessionExpired fires when a cookie session is decoded that is no
	// longer active (s.Status says how). A store-backed session the Store
	// no longer holds is no session: nothing fires.
	OnSessionExpired func(ctx context.Context, s *Session)

	// OnTokenTheftDetected fires, with a Config.Store, when a request
	// presents a superseded session cookie over 30 s after its re-issue
	// (refresh, update): someone copied it. The session is revoked first:
	// the user and the copier must sign in again. OnSessionExpired fires too.
	OnTokenTheftDetected func(ctx context.Context, s *Session)

	// OnAccessTokenExpired fires when an active cookie session is decoded
	// whose access token expired unrefreshed. The session stays active;
	// without a refresh token its Error is RefreshAccessTokenError.
	OnAccessTokenExpired func(ctx context.Context, s *Session)

	// OnAccessTokenError fires when an active cookie session is decoded
	// with s.Error set by a failed refresh (RefreshAccessTokenError). err
	// wraps ErrRefreshFailed; on the request that saw the refresh fail (or
	// skipped a retry in its backoff) it holds the cause too, which wraps
	// ErrRefreshTokenInvalid when the provider refused it (not retried).
	OnAccessTokenError func(ctx context.Context, s *Session, err error)

	// OnIdTokenExpired fires when an active cookie session is decoded with
	// an expired ID token.
	OnIdTokenExpired func(ctx context.Context, s *Session)

	// OnIdTokenError fires when SignIn or a refresh rejects an ID token; err
	// wraps ErrInvalidToken and the cause.
	OnIdTokenError func(ctx context.Context, err error)

	// OnJwtExpired fires when a bearer JWT (or JWT cookie) is decoded whose
	// signature and claims are valid but whose exp has passed.
	OnJwtExpired func(ctx context.Context, s *Session)

	// OnJwtError fires once for each credential of a request that fails
	// verification, even when another yields the session: a bearer JWT or
	// JWT cookie or a malformed Authorization header (err wraps
	// ErrInvalidToken), or the session cookie (err wraps ErrInvalidCookie).
	OnJwtError func(ctx context.Context, err error)

	// OnUnauthenticated fires when Require meets a request with no active
	// session; err says why (ErrNoSession, ErrSessionExpired, or an error
	// wrapping ErrInvalidToken or ErrInvalidCookie). It may write the
	// response and return true; false lets Require write its 401 or 303.
	OnUnauthenticated func(w http.ResponseWriter, r *http.Request, err error) bool
}

// hooks fires Config.Callbacks and the other user hooks: a panic is
// recovered and logged, and each callback that receives a session receives
// its own copy. It is safe for concurrent use.
type hooks struct {
	cb  *Callbacks
	log *slog.Logger
	obs *obs.Hooks // Config.Observer's; nil without one
}

// safely runs f, recovering and logging a panic; ok: f returned normally.
func (h *hooks) safely(ctx context.Context, name string, f func()) bool {
	return guard.Run(ctx, h.log, name, f)
}

// session fires cb, when set, with a copy of s.
func (h *hooks) session(ctx context.Context, name string, cb func(context.Context, *Session), s *Session) {
	if cb == nil {
		return
	}
	c := s.Clone()
	h.safely(ctx, name, func() { cb(ctx, c) })
}

// err fires cb, when set, with err.
func (h *hooks) err(ctx context.Context, name string, cb func(context.Context, error), err error) {
	if cb == nil {
		return
	}
	h.safely(ctx, name, func() { cb(ctx, err) })
}

// decoded fires the callbacks that describe a freshly decoded request.
func (h *hooks) decoded(ctx context.Context, d *decoded) {
	if h.obs != nil {
		var src Source
		switch {
		case d.calm:
			src = SourceCookie
		case d.session != nil:
			src = d.session.Source
		}
		h.obs.Decoded(ctx, string(src), d.err, d.theft, d.grace)
	}
	for _, e := range d.rejected {
		h.err(ctx, "OnJwtError", h.cb.OnJwtError, e)
	}
	if d.calm { // no callback fires for it: see calmUntil
		return
	}
	s := d.session
	switch {
	case s == nil:
		h.noSession(ctx, d.err)
	case s.Source != SourceCookie:
		if s.Status == StatusExpired {
			h.session(ctx, "OnJwtExpired", h.cb.OnJwtExpired, s)
		}
	case s.Status != StatusActive:
		if d.theft {
			h.session(ctx, "OnTokenTheftDetected", h.cb.OnTokenTheftDetected, s)
		}
		h.session(ctx, "OnSessionExpired", h.cb.OnSessionExpired, s)
	default:
		h.active(ctx, d)
	}
}

// noSession reports why a request has no session: a Store failure is
// logged, a refused credential fires OnJwtError.
func (h *hooks) noSession(ctx context.Context, err error) {
	if errors.Is(err, ErrStoreUnavailable) {
		h.log.WarnContext(ctx, "sessionkit: session store unavailable; the request has no session", "error", err.Error())
	} else if err != nil && err != ErrNoSession {
		h.err(ctx, "OnJwtError", h.cb.OnJwtError, err)
	}
}

// active fires the callbacks of an active cookie session.
func (h *hooks) active(ctx context.Context, d *decoded) {
	s, now := d.session, d.now
	if d.updated {
		h.session(ctx, "OnSessionUpdate", h.cb.OnSessionUpdate, s)
	}
	if s.Error != "" && h.cb.OnAccessTokenError != nil && d.refreshErr != errNoRefreshToken { // OnAccessTokenExpired tells
		err := d.refreshErr
		if err == nil {
			err = errRefreshRecorded
		}
		c := s.Clone()
		h.safely(ctx, "OnAccessTokenError", func() { h.cb.OnAccessTokenError(ctx, c, err) })
	}
	if s.AccessToken != "" && lapsed(s.AccessTokenExpiresAt, now) {
		h.session(ctx, "OnAccessTokenExpired", h.cb.OnAccessTokenExpired, s)
	}
	if s.IDToken != "" && lapsed(s.IDTokenExpiresAt, now) {
		h.session(ctx, "OnIdTokenExpired", h.cb.OnIdTokenExpired, s)
	}
}

// lapsed reports whether exp is set and not after now.
func lapsed(exp, now time.Time) bool { return !exp.IsZero() && !now.Before(exp) }
