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

// ErrScopeForbidden means Config.AuthorizeScope refused a switch, or no
// AuthorizeScope is configured.
var ErrScopeForbidden = errors.New("sessionkit: scope switch not allowed")

// switchScope is SwitchScope.
func (v *verbs) switchScope(r *http.Request, kind ScopeKind, id string) (*Session, cookieWrite, error) {
	if v.authorizeScope == nil {
		return nil, cookieWrite{}, fmt.Errorf("%w: no Config.AuthorizeScope is configured", ErrScopeForbidden)
	}
	if len(id) > 256 {
		return nil, cookieWrite{}, fmt.Errorf("%w: the %s ID is too long", ErrScopeForbidden, kind)
	}
	return v.update(r, func(s *Session) error {
		if err := v.authorize(r.Context(), s, kind, id); err != nil {
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
	}, false)
}

// authorize runs Config.AuthorizeScope on a copy of s; a panic refuses.
func (v *verbs) authorize(ctx context.Context, s *Session, kind ScopeKind, id string) error {
	var err error
	if !v.hooks.safely(ctx, "AuthorizeScope", func() { err = v.authorizeScope(ctx, s.Clone(), kind, id) }) {
		return fmt.Errorf("%w: AuthorizeScope panicked", ErrScopeForbidden)
	}
	if err != nil {
		return fmt.Errorf("%w: %w", ErrScopeForbidden, err)
	}
	return nil
}
