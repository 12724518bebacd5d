package sessionkit

import (
	"context"
	"errors"
	"fmt"
	"net/http"
)

// ScopeKind names what a scope switch changes.
type ScopeKind string

// The kinds of scope a sign-in acts in.
const (
	// ScopeOrganization: the active organization (ActiveOrganizationID).
	ScopeOrganization ScopeKind = "organization"
	// ScopeWorkspace: the active workspace (ActiveWorkspaceID).
	ScopeWorkspace ScopeKind = "workspace"
)

// Errors of the scope switches.
var (
	// ErrScopeForbidden means Config.AuthorizeScope refused a switch, or
	// no AuthorizeScope is configured.
	ErrScopeForbidden = errors.New("sessionkit: scope switch not allowed")
)

// errScopeNoHook is why every switch is refused without a hook.
var errScopeNoHook = errors.New("no Config.AuthorizeScope is configured")

// SwitchOrganization makes id the active organization of r's active
// sign-in, after Config.AuthorizeScope allowed it, and writes the session
// as UpdateSession does (Clerk's setActive({organization})). Switching to
// another organization clears the active workspace, which belonged to the
// previous one. An empty id leaves the organization (the personal
// account). A refused switch returns an error wrapping ErrScopeForbidden
// and changes nothing; without an active cookie session it returns the
// error GetServerSession would.
func (m *Manager) SwitchOrganization(w http.ResponseWriter, r *http.Request, id string) (*Session, error) {
	return m.switchScope(w, r, ScopeOrganization, id)
}

// SwitchWorkspace makes id the active workspace of r's active sign-in,
// after Config.AuthorizeScope allowed it, as SwitchOrganization does for
// organizations.
func (m *Manager) SwitchWorkspace(w http.ResponseWriter, r *http.Request, id string) (*Session, error) {
	return m.switchScope(w, r, ScopeWorkspace, id)
}

func (m *Manager) switchScope(w http.ResponseWriter, r *http.Request, kind ScopeKind, id string) (*Session, error) {
	hook := m.cfg.AuthorizeScope
	if hook == nil {
		return nil, fmt.Errorf("%w: %w", ErrScopeForbidden, errScopeNoHook)
	}
	if len(id) > 256 {
		return nil, fmt.Errorf("%w: the %s ID is too long", ErrScopeForbidden, kind)
	}
	s, err := m.UpdateSession(w, r, func(s *Session) error {
		if err := m.authorizeScope(r.Context(), hook, s, kind, id); err != nil {
			return err
		}
		switch kind {
		case ScopeOrganization:
			if s.ActiveOrganizationID != id {
				s.ActiveWorkspaceID = ""
			}
			s.ActiveOrganizationID = id
		case ScopeWorkspace:
			s.ActiveWorkspaceID = id
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// authorizeScope runs the hook on a copy of s; a panic refuses.
func (m *Manager) authorizeScope(ctx context.Context, hook func(context.Context, *Session, ScopeKind, string) error, s *Session, kind ScopeKind, id string) error {
	var err error
	if !m.safely(ctx, "AuthorizeScope", func() { err = hook(ctx, s.Clone(), kind, id) }) {
		return fmt.Errorf("%w: AuthorizeScope panicked", ErrScopeForbidden)
	}
	if err != nil {
		return fmt.Errorf("%w: %w", ErrScopeForbidden, err)
	}
	return nil
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

// checkedBody reads a POST body and runs the CSRF checks, answering the
// failure itself.
func (h *authHandler) checkedBody(w http.ResponseWriter, r *http.Request) (postBody, bool) {
	b, herr := readBody(w, r)
	if herr != nil {
		h.fail(w, r, herr, true)
		return b, false
	}
	if !h.csrfOK(r, b.csrfToken) {
		h.fail(w, r, errCSRFAnswer, true)
		return b, false
	}
	return b, true
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
