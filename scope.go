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
	if !m.hooks.safely(ctx, "AuthorizeScope", func() { err = hook(ctx, s.Clone(), kind, id) }) {
		return fmt.Errorf("%w: AuthorizeScope panicked", ErrScopeForbidden)
	}
	if err != nil {
		return fmt.Errorf("%w: %w", ErrScopeForbidden, err)
	}
	return nil
}
