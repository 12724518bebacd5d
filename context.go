package sessionkit

import (
	"context"
	"sync/atomic"
)

// ctxKey is the unexported key of the request state in a context.
type ctxKey struct{}

// requestState is what the middleware decoded for one request; the session
// is atomic as UpdateSession may replace it while other goroutines read it.
type requestState struct {
	context.Context                         // the request's, extended: one allocation, not two
	session         atomic.Pointer[Session] // the request's own copy; nil until made when shared is set
	shared          *Session                // from the verified-credential cache: copied on first use
	err             error                   // nil exactly when the session is active
}

// load returns the request's own session, copying a shared one once.
func (st *requestState) load() *Session {
	if s := st.session.Load(); s != nil || st.shared == nil {
		return s
	}
	c := st.shared.Clone()
	if st.session.CompareAndSwap(nil, c) {
		return c
	}
	return st.session.Load()
}

// active reports whether the session is active, without copying it.
func (st *requestState) active() bool {
	s := st.session.Load()
	if s == nil {
		s = st.shared
	}
	return s != nil && s.Status == StatusActive
}

func stateFrom(ctx context.Context) *requestState {
	st, _ := ctx.Value(ctxKey{}).(*requestState)
	return st
}

// withState extends ctx with the state of a request whose session is s;
// a shared s is copied before use.
func withState(ctx context.Context, s *Session, shared bool, err error) context.Context {
	st := &requestState{Context: ctx, err: err}
	if shared {
		st.shared = s
	} else {
		st.session.Store(s)
	}
	return st
}

// Value returns the state for ctxKey and asks the parent context otherwise.
func (st *requestState) Value(key any) any {
	if key == (ctxKey{}) {
		return st
	}
	return st.Context.Value(key)
}

// FromContext returns the request's session snapshot, put there by
// Manager.Middleware or Manager.Require, and true when it is active; nil and
// false without an active session or without the middleware. Use
// Manager.GetServerSession to see an inactive session and why it is.
func FromContext(ctx context.Context) (*Session, bool) {
	if st := stateFrom(ctx); st != nil && st.active() {
		return st.load(), true
	}
	return nil, false
}
