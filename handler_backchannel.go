package sessionkit

import (
	"errors"
	"net/http"

	"github.com/sessionkit/sessionkit/internal/page"
	"github.com/sessionkit/sessionkit/internal/postbody"
)

// POST {BasePath}/backchannel-logout: the OpenID Connect Back-Channel
// Logout 1.0 receiver over backChannelLogout.

// backchannelLogout serves POST {BasePath}/backchannel-logout: 200 when
// the logout token was accepted, 400 with a JSON error otherwise (section
// 2.8 of the specification), including when the sessions could not be
// revoked.
func (h *authHandler) backchannelLogout(w http.ResponseWriter, r *http.Request, _ string) {
	if h.m.cfg.Store == nil {
		h.fail(w, r, &handlerError{http.StatusNotFound, "UnknownAction", "back-channel logout needs a session store"}, true)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, postbody.MaxBytes)
	if err := r.ParseForm(); err != nil {
		page.WriteJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request", "error_description": "the body is not a form"})
		return
	}
	err := h.m.backChannelLogout(r.Context(), r.PostForm.Get("logout_token"))
	switch {
	case err == nil:
		w.WriteHeader(http.StatusOK)
	case errors.Is(err, errInvalidLogoutToken):
		h.m.cfg.Logger.WarnContext(r.Context(), "sessionkit: back-channel logout token refused", "reason", err.Error())
		page.WriteJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request", "error_description": "the logout token is invalid"})
	default:
		h.m.cfg.Logger.ErrorContext(r.Context(), "sessionkit: back-channel logout failed", "error", err.Error())
		page.WriteJSON(w, http.StatusBadRequest, map[string]string{"error": "logout_failed", "error_description": "the sessions could not be revoked"})
	}
}
