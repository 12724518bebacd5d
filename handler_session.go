package sessionkit

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"
)

// GET and POST {BasePath}/session, GET /csrf and GET /providers: the
// session as the client sees it and its update, the CSRF token, and the
// configured providers.

// isoTime is a time in JavaScript's Date.prototype.toISOString format.
type isoTime time.Time

func (t isoTime) MarshalJSON() ([]byte, error) {
	return []byte(`"` + time.Time(t).UTC().Format("2006-01-02T15:04:05.000Z") + `"`), nil
}

func isoOrNil(t time.Time) *isoTime {
	if t.IsZero() {
		return nil
	}
	v := isoTime(t)
	return &v
}

// clientUser is Auth.js's session user, plus the user's ID.
type clientUser struct {
	ID    string `json:"id,omitempty"`
	Name  string `json:"name,omitempty"`
	Email string `json:"email,omitempty"`
	Image string `json:"image,omitempty"`
}

// clientSession is the JSON of GET /session.
type clientSession struct {
	User                 clientUser `json:"user"`
	Expires              isoTime    `json:"expires"`
	Status               Status     `json:"status"`
	Provider             string     `json:"provider,omitempty"`
	AccessToken          string     `json:"accessToken,omitempty"`
	AccessTokenExpiresAt *isoTime   `json:"accessTokenExpiresAt,omitempty"`
	IDTokenExpiresAt     *isoTime   `json:"idTokenExpiresAt,omitempty"`
	ActiveSignInID       string     `json:"activeSignInId,omitempty"`
	ActiveOrganizationID string     `json:"activeOrganizationId,omitempty"`
	ActiveWorkspaceID    string     `json:"activeWorkspaceId,omitempty"`
	Error                string     `json:"error,omitempty"`
	Actor                *Actor     `json:"actor,omitempty"`
	// SignIns lists the sign-ins of a multi-sign-in session (more than
	// one), without their tokens.
	SignIns []clientSignIn `json:"signIns,omitempty"`
}

// clientSignIn is one sign-in of a multi-sign-in session, in the JSON of
// GET /session.
type clientSignIn struct {
	ID                   string     `json:"id"`
	User                 clientUser `json:"user"`
	Provider             string     `json:"provider,omitempty"`
	ActiveOrganizationID string     `json:"activeOrganizationId,omitempty"`
	ActiveWorkspaceID    string     `json:"activeWorkspaceId,omitempty"`
	Actor                *Actor     `json:"actor,omitempty"`
}

func (h *authHandler) clientSession(s *Session) clientSession {
	name := s.User.Name
	if name == "" {
		name = strings.TrimSpace(s.User.FirstName + " " + s.User.LastName)
	}
	expires := s.ExpireAt
	if expires.IsZero() {
		expires = s.AbandonAt
	}
	c := clientSession{
		User:                 clientUser{ID: s.User.ID, Name: name, Email: s.User.Email, Image: s.User.Image},
		Expires:              isoTime(expires),
		Status:               s.Status,
		Provider:             s.Provider,
		AccessTokenExpiresAt: isoOrNil(s.AccessTokenExpiresAt),
		IDTokenExpiresAt:     isoOrNil(s.IDTokenExpiresAt),
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
			c.SignIns = append(c.SignIns, clientSignIn{ID: in.ID, Provider: in.Provider,
				User:                 clientUser{ID: u.ID, Name: u.Name, Email: u.Email, Image: u.Image},
				ActiveOrganizationID: in.ActiveOrganizationID, ActiveWorkspaceID: in.ActiveWorkspaceID, Actor: cloneActor(in.Actor)})
		}
	}
	return c
}

// writeSession answers the request's session, or {} without an active
// one (next-auth v4 reads {} as signed out; null would be a fetch error),
// or null with Config.NullSession (Auth.js v5).
func (h *authHandler) writeSession(w http.ResponseWriter, s *Session) {
	if !s.Active() {
		if h.m.cfg.NullSession {
			writeJSON(w, http.StatusOK, nil)
		} else {
			writeJSON(w, http.StatusOK, struct{}{})
		}
		return
	}
	writeJSON(w, http.StatusOK, h.clientSession(s))
}

func (h *authHandler) getSession(w http.ResponseWriter, r *http.Request, _ string) {
	s, _ := h.m.GetServerSession(r)
	h.writeSession(w, s)
}

func (h *authHandler) postSession(w http.ResponseWriter, r *http.Request, _ string) {
	if h.csrf == nil {
		h.fail(w, r, &handlerError{http.StatusNotFound, "UnknownAction", "cookie sessions are not configured (Config.Keys is empty)"}, true)
		return
	}
	b, herr := readBody(w, r)
	if herr != nil {
		h.fail(w, r, herr, true)
		return
	}
	if !h.csrfOK(r, b.CSRFToken) {
		h.fail(w, r, errCSRFAnswer, true)
		return
	}
	s, err := h.m.GetServerSession(r)
	if err != nil || !s.Active() || h.m.cfg.UpdateFromClient == nil {
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
	writeJSON(w, http.StatusOK, map[string]string{"csrfToken": h.csrfToken(w, r)})
}

// csrfToken returns the token of r's CSRF cookie, or issues a new one and
// sets its cookie on w.
func (h *authHandler) csrfToken(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(h.csrfCookie); err == nil {
		if t, ok := h.csrf.tokenFrom(c.Value); ok {
			return t
		}
	}
	token, value := h.csrf.issue()
	h.setCookie(w, h.csrfCookie, value, 0)
	return token
}

// csrfOK runs both CSRF checks on a POST.
func (h *authHandler) csrfOK(r *http.Request, submitted string) bool {
	cookie := ""
	if c, err := r.Cookie(h.csrfCookie); err == nil {
		cookie = c.Value
	}
	return h.csrf.check(r, cookie, submitted) == nil
}

type clientProvider struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Type        string `json:"type"`
	SignInURL   string `json:"signinUrl"`
	CallbackURL string `json:"callbackUrl"`
}

func (h *authHandler) providerList(r *http.Request) []clientProvider {
	base := h.originOf(r).String() + h.base
	out := make([]clientProvider, 0, len(h.m.providers))
	for _, p := range h.m.providers {
		typ := "oauth"
		if p.cfg.Issuer != "" {
			typ = "oidc"
		}
		out = append(out, clientProvider{ID: p.cfg.ID, Name: p.cfg.Name, Type: typ,
			SignInURL: base + "/signin/" + p.cfg.ID, CallbackURL: base + "/callback/" + p.cfg.ID})
	}
	return out
}

func (h *authHandler) getProviders(w http.ResponseWriter, r *http.Request, _ string) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, p := range h.providerList(r) {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(p.ID)
		v, _ := json.Marshal(p)
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteString("}\n")
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b.Bytes())
}
