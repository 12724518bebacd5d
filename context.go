package sessionkit

import "context"

// ctxKey is the unexported key of the request state in a context.
type ctxKey struct{}

// requestState is what the middleware decoded for one request. It belongs to
// that request alone.
type requestState struct {
	session *Session // nil when the request carries no recognisable session
	err     error    // nil exactly when session is active
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
	if st == nil || !st.session.Active() {
		return nil, false
	}
	return st.session, true
}
