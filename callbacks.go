package sessionkit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"
)

// Callbacks are the hooks named after the useSession() callbacks of the
// seeds. Every field is optional; a nil callback is skipped. They run
// synchronously on the request's goroutine, so keep them fast. Each one that
// receives a *Session receives its own copy. A callback that panics does not
// take the request or the server down: the panic is recovered and logged to
// Config.Logger, and the request goes on as if the callback had returned.
//
// "Decoded" below means: once per request by Middleware or Require, or once
// per call of GetServerSession when the middleware did not run.
type Callbacks struct {
	// OnSignIn fires after SignIn has written a new session.
	OnSignIn func(ctx context.Context, s *Session)

	// OnSignOut fires after SignOut has cleared a session; s is the session
	// that was signed out, or nil if the request carried no valid one.
	OnSignOut func(ctx context.Context, s *Session)

	// OnSessionUpdate fires after a session was changed and re-written by
	// UpdateSession, and once per successful access-token refresh (for the
	// first request that applies it), with the new snapshot. It does not
	// fire for re-issues that change no data (key rotation, idle-timeout
	// sliding).
	OnSessionUpdate func(ctx context.Context, s *Session)

	// OnSessionExpired fires when a cookie session is decoded that is no
	// longer active: status expired or abandoned, or, with a Config.Store,
	// ended, removed, replaced or revoked (s.Status says which). The
	// request then has no active session. A store-backed session that the
	// Store no longer holds (expired and dropped, or deleted) is no
	// session at all: nothing fires.
	OnSessionExpired func(ctx context.Context, s *Session)

	// OnTokenTheftDetected fires, with a Config.Store, when a request
	// presents a session cookie of an older generation after a grace window of 30 seconds:
	// the session's cookie was re-issued (refresh, update) and someone
	// still uses the old one, so it was copied. The session has been
	// revoked before the callback runs (s.Status is revoked); both the
	// user and the copier must sign in again. OnSessionExpired fires too.
	OnTokenTheftDetected func(ctx context.Context, s *Session)

	// OnAccessTokenExpired fires when an active cookie session is decoded
	// whose OAuth access token has expired (AccessTokenExpiresAt has passed)
	// and could not be refreshed. The session stays active: it is the provider's
	// token that lapsed, not the session.
	OnAccessTokenExpired func(ctx context.Context, s *Session)

	// OnAccessTokenError fires when an active cookie session is decoded
	// that carries a token error (s.Error, RefreshAccessTokenError after a
	// failed refresh), including the request whose refresh just failed. err
	// wraps ErrRefreshFailed; on the request that saw the refresh fail (or
	// skipped a retry during its backoff) it also holds the cause, and wraps
	// ErrRefreshTokenInvalid when the provider refused the refresh token,
	// which tells a dead refresh token from a transient failure (retried on
	// a later request).
	OnAccessTokenError func(ctx context.Context, s *Session, err error)

	// OnIdTokenExpired fires when an active cookie session is decoded whose
	// ID token has expired (IDTokenExpiresAt has passed).
	OnIdTokenExpired func(ctx context.Context, s *Session)

	// OnIdTokenError fires when SignIn rejects an ID token; err wraps
	// ErrInvalidToken and the cause.
	OnIdTokenError func(ctx context.Context, err error)

	// OnJwtExpired fires when a bearer JWT (or JWT cookie) is decoded whose
	// signature and claims are valid but whose exp has passed; s is the
	// expired session.
	OnJwtExpired func(ctx context.Context, s *Session)

	// OnJwtError fires once for each session credential of a request that
	// fails verification: a bearer JWT or JWT cookie (err wraps
	// ErrInvalidToken), a malformed Authorization header (ErrInvalidToken),
	// or the encrypted session cookie, which is this library's session token
	// (err wraps ErrInvalidCookie). It fires even when another credential of
	// the same request yields the session.
	OnJwtError func(ctx context.Context, err error)

	// OnUnauthenticated fires when Require meets a request with no active
	// session; err tells why (ErrNoSession, ErrSessionExpired, or an error
	// wrapping ErrInvalidToken or ErrInvalidCookie). It may write the
	// response itself and return true; returning false lets Require write
	// its default 401 or 303.
	OnUnauthenticated func(w http.ResponseWriter, r *http.Request, err error) bool
}

// hooks fires Config.Callbacks and the other user hooks safely: a panic is
// recovered and logged, and each callback that receives a session receives
// its own copy. It is safe for concurrent use.
type hooks struct {
	cb  *Callbacks
	log *slog.Logger
}

// safely runs f, recovering and logging a panic. It reports whether f
// returned normally.
func (h *hooks) safely(ctx context.Context, name string, f func()) (ok bool) {
	defer func() {
		if v := recover(); v != nil {
			ok = false
			// Only the panic's type is logged: its value could hold a
			// session and its tokens.
			h.log.ErrorContext(ctx, "sessionkit: callback panicked",
				"callback", name, "panic_type", fmt.Sprintf("%T", v), "stack", string(debug.Stack()))
		}
	}()
	f()
	return true
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
func (h *hooks) decoded(ctx context.Context, d decoded) {
	for _, e := range d.rejected {
		h.err(ctx, "OnJwtError", h.cb.OnJwtError, e)
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

// noSession reports err, why a request has no session: a Store failure is
// logged, a refused credential fires OnJwtError.
func (h *hooks) noSession(ctx context.Context, err error) {
	if errors.Is(err, ErrStoreUnavailable) {
		h.log.WarnContext(ctx, "sessionkit: session store unavailable; the request has no session", "error", err.Error())
	} else if err != nil && err != ErrNoSession {
		h.err(ctx, "OnJwtError", h.cb.OnJwtError, err)
	}
}

// active fires the callbacks of an active cookie session: its update by a
// refresh, its token error, and the expiry of its tokens at decode's time.
func (h *hooks) active(ctx context.Context, d decoded) {
	s, now := d.session, d.now
	if d.updated {
		h.session(ctx, "OnSessionUpdate", h.cb.OnSessionUpdate, s)
	}
	if s.Error != "" && h.cb.OnAccessTokenError != nil {
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

// lapsed reports whether the expiry exp is set and not after now.
func lapsed(exp, now time.Time) bool { return !exp.IsZero() && !now.Before(exp) }
