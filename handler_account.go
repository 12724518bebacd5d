package sessionkit

import (
	"errors"
	"net/http"
)

func (h *authHandler) postSwitch(w http.ResponseWriter, r *http.Request, _ string) {
	b, ok := h.checkedBody(w, r)
	if !ok {
		return
	}
	if b.signInID == "" {
		h.fail(w, r, &handlerError{http.StatusBadRequest, "BadRequest", "signInId is required"}, true)
		return
	}
	s, err := h.m.SwitchSignIn(w, r, b.signInID)
	if err != nil {
		h.failSwitch(w, r, err)
		return
	}
	h.writeSession(w, s)
}

func (h *authHandler) postOrganization(w http.ResponseWriter, r *http.Request, _ string) {
	h.postScope(w, r, ScopeOrganization)
}

func (h *authHandler) postWorkspace(w http.ResponseWriter, r *http.Request, _ string) {
	h.postScope(w, r, ScopeWorkspace)
}

func (h *authHandler) postScope(w http.ResponseWriter, r *http.Request, kind ScopeKind) {
	b, ok := h.checkedBody(w, r)
	if !ok {
		return
	}
	id := b.organizationID
	if kind == ScopeWorkspace {
		id = b.workspaceID
	}
	s, err := h.m.switchScope(w, r, kind, id)
	if err != nil {
		h.failSwitch(w, r, err)
		return
	}
	h.writeSession(w, s)
}

// failSwitch answers a failed switch (scope or sign-in) with JSON.
func (h *authHandler) failSwitch(w http.ResponseWriter, r *http.Request, err error) {
	var e *handlerError
	switch {
	case errors.Is(err, ErrScopeForbidden):
		e = &handlerError{http.StatusForbidden, "Forbidden", "the switch is not allowed"}
	case errors.Is(err, ErrSignInNotFound):
		e = &handlerError{http.StatusNotFound, "SignInNotFound", "the session has no such sign-in"}
	case errors.Is(err, ErrNoSession), errors.Is(err, ErrSessionExpired), errors.Is(err, ErrInvalidCookie), errors.Is(err, ErrInvalidToken):
		e = &handlerError{http.StatusUnauthorized, "SessionRequired", "no active session"}
	case errors.Is(err, ErrInvalidSession):
		e = &handlerError{http.StatusBadRequest, "BadRequest", "the session cannot be changed that way"}
	case errors.Is(err, ErrSessionTooLarge):
		e = &handlerError{http.StatusRequestEntityTooLarge, "SessionTooLarge", "the session would be too large"}
	case errors.Is(err, ErrStoreUnavailable):
		e = &handlerError{http.StatusServiceUnavailable, "StoreUnavailable", "the session store is unavailable"}
	default:
		h.m.cfg.Logger.WarnContext(r.Context(), "sessionkit: a session switch failed", "error", err.Error())
		e = &handlerError{http.StatusInternalServerError, "SwitchError", "the switch failed"}
	}
	h.fail(w, r, e, true)
}

func (h *authHandler) postExchange(w http.ResponseWriter, r *http.Request, _ string) {
	if h.m.cfg.Store == nil {
		h.fail(w, r, &handlerError{http.StatusNotFound, "UnknownAction", "tickets need a session store (Config.Store)"}, true)
		return
	}
	b, ok := h.checkedBody(w, r)
	if !ok {
		return
	}
	s, err := h.m.ExchangeTicket(w, r, b.ticket)
	var e *handlerError
	switch {
	case err == nil:
		h.writeSession(w, s)
		return
	case errors.Is(err, ErrInvalidTicket):
		e = &handlerError{http.StatusBadRequest, "InvalidTicket", "the ticket is not valid"}
	case errors.Is(err, ErrTicketExpired):
		e = &handlerError{http.StatusGone, "TicketExpired", "the ticket has expired"}
	case errors.Is(err, ErrTicketUsed):
		e = &handlerError{http.StatusConflict, "TicketUsed", "the ticket has already been used"}
	case errors.Is(err, ErrStoreUnavailable):
		e = &handlerError{http.StatusServiceUnavailable, "StoreUnavailable", "the session store is unavailable"}
	default:
		h.m.cfg.Logger.WarnContext(r.Context(), "sessionkit: a ticket exchange failed", "error", err.Error())
		e = &handlerError{http.StatusInternalServerError, "ExchangeError", "the ticket could not be exchanged"}
	}
	h.fail(w, r, e, true)
}
