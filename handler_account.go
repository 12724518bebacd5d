package sessionkit

import (
	"errors"
	"net/http"
)

// POST {BasePath}/switch, /organization, /workspace and /exchange: the
// verbs that change which sign-in or scope a session acts in, or start one
// from a ticket. Each answers the session JSON, or a JSON error.

// postSwitch serves SwitchSignIn for the form's signInId.
func (h *authHandler) postSwitch(w http.ResponseWriter, r *http.Request, _ string) {
	b, ok := h.checkedBody(w, r)
	if !ok {
		return
	}
	if b.SignInID == "" {
		h.fail(w, r, &handlerError{http.StatusBadRequest, "BadRequest", "signInId is required"}, true)
		return
	}
	s, err := h.m.SwitchSignIn(w, r, b.SignInID)
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

// postScope serves SwitchScope for the form's organizationId or
// workspaceId, by kind.
func (h *authHandler) postScope(w http.ResponseWriter, r *http.Request, kind ScopeKind) {
	b, ok := h.checkedBody(w, r)
	if !ok {
		return
	}
	id := b.OrganizationID
	if kind == ScopeWorkspace {
		id = b.WorkspaceID
	}
	s, err := h.m.SwitchScope(w, r, kind, id)
	if err != nil {
		h.failSwitch(w, r, err)
		return
	}
	h.writeSession(w, s)
}

// errAnswer is the answer to a request whose verb failed with err.
type errAnswer struct {
	err    error
	answer *handlerError
}

// answerFor is the answer of the first entry of table whose err is in
// err's chain, and nil when none is.
func answerFor(err error, table []errAnswer) *handlerError {
	for _, e := range table {
		if errors.Is(err, e.err) {
			return e.answer
		}
	}
	return nil
}

var (
	errStoreAnswer   = &handlerError{http.StatusServiceUnavailable, "StoreUnavailable", "the session store is unavailable"}
	errSessionNeeded = &handlerError{http.StatusUnauthorized, "SessionRequired", "no active session"}
)

// switchAnswers are the answers to a failed switch of sign-in or scope.
var switchAnswers = []errAnswer{
	{ErrScopeForbidden, &handlerError{http.StatusForbidden, "Forbidden", "the switch is not allowed"}},
	{ErrSignInNotFound, &handlerError{http.StatusNotFound, "SignInNotFound", "the session has no such sign-in"}},
	{ErrNoSession, errSessionNeeded},
	{ErrSessionExpired, errSessionNeeded},
	{ErrInvalidCookie, errSessionNeeded},
	{ErrInvalidToken, errSessionNeeded},
	{ErrInvalidSession, &handlerError{http.StatusBadRequest, "BadRequest", "the session cannot be changed that way"}},
	{ErrSessionTooLarge, &handlerError{http.StatusRequestEntityTooLarge, "SessionTooLarge", "the session would be too large"}},
	{ErrStoreUnavailable, errStoreAnswer},
}

// failSwitch answers a failed switch (scope or sign-in) with JSON.
func (h *authHandler) failSwitch(w http.ResponseWriter, r *http.Request, err error) {
	e := answerFor(err, switchAnswers)
	if e == nil {
		h.m.cfg.Logger.WarnContext(r.Context(), "sessionkit: a session switch failed", "error", err.Error())
		e = &handlerError{http.StatusInternalServerError, "SwitchError", "the switch failed"}
	}
	h.fail(w, r, e, true)
}

// exchangeAnswers are the answers to a failed ticket exchange.
var exchangeAnswers = []errAnswer{
	{ErrInvalidTicket, &handlerError{http.StatusBadRequest, "InvalidTicket", "the ticket is not valid"}},
	{ErrTicketExpired, &handlerError{http.StatusGone, "TicketExpired", "the ticket has expired"}},
	{ErrTicketUsed, &handlerError{http.StatusConflict, "TicketUsed", "the ticket has already been used"}},
	{ErrStoreUnavailable, errStoreAnswer},
}

// postExchange serves ExchangeTicket for the form's ticket.
func (h *authHandler) postExchange(w http.ResponseWriter, r *http.Request, _ string) {
	if h.m.cfg.Store == nil {
		h.fail(w, r, &handlerError{http.StatusNotFound, "UnknownAction", "tickets need a session store (Config.Store)"}, true)
		return
	}
	b, ok := h.checkedBody(w, r)
	if !ok {
		return
	}
	s, err := h.m.ExchangeTicket(w, r, b.Ticket)
	if err == nil {
		h.writeSession(w, s)
		return
	}
	e := answerFor(err, exchangeAnswers)
	if e == nil {
		h.m.cfg.Logger.WarnContext(r.Context(), "sessionkit: a ticket exchange failed", "error", err.Error())
		e = &handlerError{http.StatusInternalServerError, "ExchangeError", "the ticket could not be exchanged"}
	}
	h.fail(w, r, e, true)
}
