package sessionkit

import (
	"errors"
	"net/http"

	"github.com/sessionkit/sessionkit/internal/route"
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

// postScope is the endpoint of SwitchScope for kind, with the form's
// organizationId or workspaceId.
func (h *authHandler) postScope(kind ScopeKind) route.Endpoint {
	return func(w http.ResponseWriter, r *http.Request, _ string) {
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
}

// errAnswer is the answer to a request whose verb failed with err.
type errAnswer struct {
	err    error
	answer *handlerError
}

// failVerb answers err, a verb's failure, with JSON: the answer of the
// first entry of table whose err is in its chain, or else fallback, after
// logging that what failed.
func (h *authHandler) failVerb(w http.ResponseWriter, r *http.Request, err error, table []errAnswer, what string, fallback *handlerError) {
	for _, e := range table {
		if errors.Is(err, e.err) {
			h.fail(w, r, e.answer, true)
			return
		}
	}
	h.m.cfg.Logger.WarnContext(r.Context(), "sessionkit: "+what+" failed", "error", err.Error())
	h.fail(w, r, fallback, true)
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

// failSwitch answers a failed switch (scope or sign-in).
func (h *authHandler) failSwitch(w http.ResponseWriter, r *http.Request, err error) {
	h.failVerb(w, r, err, switchAnswers, "a session switch", &handlerError{http.StatusInternalServerError, "SwitchError", "the switch failed"})
}

// exchangeAnswers are the answers to a failed ticket exchange.
var exchangeAnswers = []errAnswer{
	{errTicketExpired, &handlerError{http.StatusGone, "TicketExpired", "the ticket has expired"}},
	{errTicketUsed, &handlerError{http.StatusConflict, "TicketUsed", "the ticket has already been used"}},
	{ErrInvalidTicket, &handlerError{http.StatusBadRequest, "InvalidTicket", "the ticket is not valid"}},
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
	if err != nil {
		h.failVerb(w, r, err, exchangeAnswers, "a ticket exchange", &handlerError{http.StatusInternalServerError, "ExchangeError", "the ticket could not be exchanged"})
		return
	}
	h.writeSession(w, s)
}
