package sessionkit

import (
	"errors"
	"net/http"
	"strings"

	"github.com/sessionkit/sessionkit/internal/authjs"
	"github.com/sessionkit/sessionkit/internal/page"
)

// GET and POST {BasePath}/session, GET /csrf and GET /providers: the
// session as the client sees it and its update, the CSRF token, and the
// configured providers.

// clientSession is s as the client sees it: Auth.js's shape, without
// the refresh token and ID token, and the access token only with
// Config.ExposeAccessToken.
func (h *authHandler) clientSession(s *Session) authjs.Session[Actor] {
	name := s.User.Name
	if name == "" {
		name = strings.TrimSpace(s.User.FirstName + " " + s.User.LastName)
	}
	expires := s.ExpireAt
	if expires.IsZero() {
		expires = s.AbandonAt
	}
	c := authjs.Session[Actor]{
		User:                 authjs.User{ID: s.User.ID, Name: name, Email: s.User.Email, Image: s.User.Image},
		Expires:              authjs.Time(expires),
		Status:               string(s.Status),
		Provider:             s.Provider,
		AccessTokenExpiresAt: authjs.TimeOrNil(s.AccessTokenExpiresAt),
		IDTokenExpiresAt:     authjs.TimeOrNil(s.IDTokenExpiresAt),
		ActiveSignInID:       s.SignIn.ID,
		ActiveOrganizationID: s.ActiveOrganizationID,
		ActiveWorkspaceID:    s.ActiveWorkspaceID,
		Error:                s.Error,
		Actor:                cloneActor(s.Actor),
	}
	if h.m.cfg.ExposeAccessToken {
		c.AccessToken = s.AccessToken
	}
	if len(s.OtherSignIns) > 0 {
		for _, in := range s.SignIns() {
			u := in.User
			c.SignIns = append(c.SignIns, authjs.SignIn[Actor]{ID: in.ID, Provider: in.Provider,
				User:                 authjs.User{ID: u.ID, Name: u.Name, Email: u.Email, Image: u.Image},
				ActiveOrganizationID: in.ActiveOrganizationID, ActiveWorkspaceID: in.ActiveWorkspaceID, Actor: cloneActor(in.Actor)})
		}
	}
	return c
}

// writeSession answers the request's session, or {} without an active
// one (next-auth v4 reads {} as signed out; null would be a fetch error),
// or null with Config.NullSession (Auth.js v5).
func (h *authHandler) writeSession(w http.ResponseWriter, s *Session) {
	switch {
	case s != nil && s.Status == StatusActive:
		page.WriteJSON(w, http.StatusOK, h.clientSession(s))
	case h.m.cfg.NullSession:
		page.WriteJSON(w, http.StatusOK, nil)
	default:
		page.WriteJSON(w, http.StatusOK, struct{}{})
	}
}

func (h *authHandler) getSession(w http.ResponseWriter, r *http.Request, _ string) {
	s, _ := h.m.GetServerSession(r)
	h.writeSession(w, s)
}

func (h *authHandler) postSession(w http.ResponseWriter, r *http.Request, _ string) {
	if h.csrf == nil {
		h.fail(w, r, errNoCookies, true)
		return
	}
	b, ok := h.checkedBody(w, r)
	if !ok {
		return
	}
	s, err := h.m.GetServerSession(r)
	if err != nil || s.Status != StatusActive || h.m.cfg.UpdateFromClient == nil {
		h.writeSession(w, s)
		return
	}
	hook := h.m.cfg.UpdateFromClient
	s, err = h.m.UpdateSession(w, r, func(s *Session) error {
		var herr error
		if !h.m.hooks.safely(r.Context(), "UpdateFromClient", func() { herr = hook(r, s, b.Data) }) && herr == nil {
			herr = errHookPanicked
		}
		return herr
	})
	switch {
	case errors.Is(err, errHookPanicked):
		h.fail(w, r, &handlerError{http.StatusInternalServerError, "UpdateError", "the session update failed"}, true)
	case err != nil:
		h.fail(w, r, &handlerError{http.StatusBadRequest, "UpdateError", "the session update was refused"}, true)
	default:
		h.writeSession(w, s)
	}
}

var errHookPanicked = errors.New("sessionkit: UpdateFromClient panicked")

func (h *authHandler) getCSRF(w http.ResponseWriter, r *http.Request, _ string) {
	page.WriteJSON(w, http.StatusOK, map[string]string{"csrfToken": h.csrfToken(w, r)})
}

// csrfToken returns the token of r's CSRF cookie, or issues a new one and
// sets its cookie on w.
func (h *authHandler) csrfToken(w http.ResponseWriter, r *http.Request) string {
	if t, ok := h.csrf.RequestToken(r, h.csrfCookie); ok {
		return t
	}
	token, value := h.csrf.Issue()
	h.setCookie(w, h.csrfCookie, value, 0)
	return token
}

// csrfOK runs both CSRF checks on a POST.
func (h *authHandler) csrfOK(r *http.Request, submitted string) bool {
	return h.csrf.CheckRequest(r, h.csrfCookie, submitted) == nil
}

func (h *authHandler) providerList(r *http.Request) []authjs.Provider {
	base := h.originOf(r).String() + h.base
	out := make([]authjs.Provider, 0, len(h.m.providers))
	for _, p := range h.m.providers {
		typ := "oauth"
		if p.cfg.Issuer != "" {
			typ = "oidc"
		}
		out = append(out, authjs.Provider{ID: p.cfg.ID, Name: p.cfg.Name, Type: typ,
			SignInURL: base + "/signin/" + p.cfg.ID, CallbackURL: base + "/callback/" + p.cfg.ID})
	}
	return out
}

func (h *authHandler) getProviders(w http.ResponseWriter, r *http.Request, _ string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(authjs.Providers(h.providerList(r)))
}
