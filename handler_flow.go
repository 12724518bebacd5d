package sessionkit

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/sessionkit/sessionkit/internal/flow"
	"github.com/sessionkit/sessionkit/store"
)

// The flow cookies (internal/flow) of the sign-ins in progress, and the
// record that makes each serve one callback.

// errStateUsed: the flow served a callback before (flow.ErrNoFlow and
// its siblings tell the others); each is answered with 400.
var errStateUsed = errors.New("this sign-in has already been finished: start again")

// makeRoom clears the flow cookies of r that flow.Cookies.Prune gives up
// before a sign-in starts, and reports whether it may start.
func (h *authHandler) makeRoom(w http.ResponseWriter, r *http.Request, crossSite bool) bool {
	expire, room := h.flows.Prune(r.Cookies(), crossSite)
	for _, name := range expire {
		h.expireCookie(w, name)
	}
	return room
}

// callbackFlow finds the sign-in a callback for provider id finishes: the
// flow cookie named after its state, which it expires (one callback,
// whatever its outcome), whose state it matches and then consumes.
func (h *authHandler) callbackFlow(w http.ResponseWriter, r *http.Request, id string) (*flow.State, *provider, *handlerError) {
	f, name, ferr := h.flows.Find(r, id, r.URL.Query().Get("state"))
	if name != "" {
		h.expireCookie(w, name)
	}
	p, err := h.m.provider(id)
	switch {
	case err != nil:
		return nil, nil, unknownProvider(id)
	case ferr != nil:
		return nil, nil, invalidCheck(ferr)
	}
	if herr := h.consumeState(r.Context(), f); herr != nil {
		return nil, nil, herr
	}
	return f, p, nil
}

// consumeState makes a flow serve one callback on the server too, not
// only in the browser told to delete its cookie: in the Store when it is a
// store.Consumer (across instances), otherwise in the Manager's usedStates
// (this instance only).
func (h *authHandler) consumeState(ctx context.Context, f *flow.State) *handlerError {
	now := h.m.cfg.Now()
	c, ok := h.m.cfg.Store.(store.Consumer)
	if !ok {
		if !h.m.usedStates.Consume(f.State, f.Expires, now.Unix()) {
			return invalidCheck(errStateUsed)
		}
		return nil
	}
	first, err := c.Consume(ctx, "signin-state:"+f.State, time.Unix(f.Expires, 0).Sub(now)+time.Second)
	if err != nil {
		h.m.cfg.Logger.ErrorContext(ctx, "sessionkit: the store could not record a sign-in state", "error", err.Error())
		return &handlerError{http.StatusServiceUnavailable, "SessionStoreUnavailable", "the session store is unavailable; try again"}
	}
	if !first {
		return invalidCheck(errStateUsed)
	}
	return nil
}

func invalidCheck(err error) *handlerError {
	return &handlerError{http.StatusBadRequest, "InvalidCheck", err.Error()}
}
