package sessionkit

import (
	"context"
	"errors"
	"net/http"
	"net/url"

	"github.com/sessionkit/sessionkit/internal/jwtverify"
	"github.com/sessionkit/sessionkit/internal/page"
	"github.com/sessionkit/sessionkit/internal/redirect"
)

// Middleware decodes the session of every request and attaches the
// snapshot to its context, for FromContext and GetServerSession. It never
// rejects a request: an invalid or expired credential yields no active
// session, the matching callback fires, and next runs.
//
// When the access token of a cookie session is due for refresh (see
// Config.RefreshLeeway), Middleware refreshes it before next runs, so next
// sees the new tokens; concurrent requests of one session share one
// refresh. A failed refresh never fails the request: the session stays,
// with Error set to RefreshAccessTokenError. When the session was
// refreshed, opened with an old key, or activity moved its idle expiry,
// Middleware re-issues the cookie by adding Set-Cookie headers before next
// runs; next must not remove them. The ResponseWriter passed to next is the
// one Middleware received, unwrapped.
func (m *Manager) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, m.attach(w, r))
	})
}

// attach loads r once (a request that already went through Middleware is
// returned as it is), re-issues the cookie if the read path decided so,
// fires the decode callbacks and returns r with the state in its context.
func (m *Manager) attach(w http.ResponseWriter, r *http.Request) *http.Request {
	if stateFrom(r.Context()) != nil {
		return r
	}
	var d decoded
	m.load(r, &d)
	if !d.write.IsZero() || d.writeErr != nil {
		d.write.Apply(w.Header())
		m.reissued(r.Context(), w, d.writeErr)
	}
	m.hooks.decoded(r.Context(), &d)
	return r.WithContext(withState(r.Context(), d.session, d.shared, d.err))
}

// reissued finishes a response whose session cookie the middleware
// re-issued, with err the outcome of writing it: a failure is logged, and
// a response that sets one user's cookie is marked as not to be shared.
func (m *Manager) reissued(ctx context.Context, w http.ResponseWriter, err error) {
	if err != nil {
		m.cfg.Logger.WarnContext(ctx, "sessionkit: re-issuing the session cookie failed", "error", err.Error())
		return
	}
	h := w.Header()
	h.Add("Vary", "Cookie")
	if h.Get("Cache-Control") == "" {
		h.Set("Cache-Control", "private")
	}
}

// Require protects next: it runs Middleware's decoding and lets the request
// through only with an active session. Otherwise OnUnauthenticated may write
// the response; if it does not, Require answers:
//
//   - a page request (a browser's navigation: a GET or HEAD whose Accept
//     header names text/html, or that has none) with a 303 redirect to
//     Config.SignInURL, carrying the request's path and query as
//     callbackUrl;
//   - an API request (an Authorization header, the Sec-Fetch-Mode of a
//     fetch, an Accept header without text/html such as curl's "*/*" or
//     "application/json", or another method) with 401, a JSON body
//     {"error", "error_description"} and "WWW-Authenticate: Bearer", which
//     carries error="invalid_token" when a bearer token was presented in
//     the Authorization header and refused;
//   - a malformed Authorization header with 400 and error="invalid_request"
//     (RFC 6750);
//   - any request with 503 and a JSON body when the Config.Store failed
//     (ErrStoreUnavailable) or token introspection got no answer
//     (ErrProviderUnavailable): the Manager fails closed, without a
//     session, but does not send the user to sign in again.
func (m *Manager) Require(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r = m.attach(w, r)
		st := stateFrom(r.Context())
		if st.active() {
			next.ServeHTTP(w, r)
			return
		}
		err := st.err
		if err == nil {
			err = ErrNoSession
		}
		if cb := m.cfg.Callbacks.OnUnauthenticated; cb != nil {
			handled := false
			m.hooks.safely(r.Context(), "OnUnauthenticated", func() { handled = cb(w, r, err) })
			if handled {
				return
			}
		}
		m.deny(w, r, err)
	})
}

// deny writes Require's default response for a request without an active
// session.
func (m *Manager) deny(w http.ResponseWriter, r *http.Request, err error) {
	if unavailable := errors.Is(err, ErrStoreUnavailable); unavailable || errors.Is(err, ErrProviderUnavailable) {
		desc := "the session store is unavailable"
		if !unavailable {
			desc = "the identity provider could not verify the token"
		}
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Retry-After", "5")
		page.WriteJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "temporarily_unavailable", "error_description": desc})
		return
	}
	if !page.IsAPI(r) {
		u, _ := redirect.WithQuery(m.cfg.SignInURL, url.Values{"callbackUrl": {redirect.LocalPath(r.URL.RequestURI())}})
		http.Redirect(w, r, u, http.StatusSeeOther)
		return
	}
	status, code, desc := http.StatusUnauthorized, "unauthenticated", "no session"
	switch {
	case errors.Is(err, errMalformedAuthz):
		status, code, desc = http.StatusBadRequest, "invalid_request", "the Authorization header is malformed"
	case errors.Is(err, ErrTokenExpired):
		code, desc = "invalid_token", "the token has expired"
	case errors.Is(err, ErrInvalidToken):
		code, desc = "invalid_token", "the token is invalid"
	case errors.Is(err, ErrSessionExpired):
		code, desc = "session_expired", "the session has expired"
	case errors.Is(err, ErrInvalidCookie):
		code, desc = "invalid_session", "the session cookie is invalid"
	}
	named := (code == "invalid_token" || code == "invalid_request") && jwtverify.HasBearer(r)
	page.Unauthorized(w, status, code, desc, named)
}
