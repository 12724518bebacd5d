package sessionkit

import (
	"context"
	"sync/atomic"
)

// ctxKey is the unexported key of the request state in a context.
type ctxKey struct{}

// requestState is what the middleware decoded for one request. It belongs to
// that request alone; UpdateSession may replace the session while other
// goroutines of the request read it, hence the atomic pointer.
type requestState struct {
	session atomic.Pointer[Session] // nil when the request carries no recognisable session
	err     error                   // nil exactly when the session is active
}

func newRequestState(s *Session, err error) *requestState {
	st := &requestState{err: err}
	st.session.Store(s)
	return st
}

func stateFrom(ctx context.Context) *requestState {
	st, _ := ctx.Value(ctxKey{}).(*requestState)
	return st
}

func withState(ctx context.Context, st *requestState) context.Context {
	return context.WithValue(ctx, ctxKey{}, st)
}

// FromContext returns the request's session snapshot, put there by
// Manager.Middleware or Manager.Require, and true when the session is
// active. It returns nil and false when there is no session, when the
// middleware did not run, and when the session is not active (expired,
// ended, ...): use Manager.GetServerSession to see an inactive session and
// why it is inactive.
func FromContext(ctx context.Context) (*Session, bool) {
	st := stateFrom(ctx)
	if st == nil {
		return nil, false
	}
	if s := st.session.Load(); s.Active() {
		return s, true
	}
	return nil, false
}
