package sessionkit

import (
	"cmp"
	"net/http"

	"github.com/sessionkit/sessionkit/internal/page"
)

// GET and POST {BasePath}/signout: the confirmation page and the sign-out.

func (h *authHandler) postSignOut(w http.ResponseWriter, r *http.Request, _ string) {
	b, cb, wantJSON, ok := h.postForm(w, r, "/signout", h.m.cfg.SignOutRedirect)
	if !ok {
		return
	}
	if b.SignInID != "" {
		s, ended, cw, err := h.m.verbs.signOutOne(r, b.SignInID)
		cw.Apply(w.Header())
		switch {
		case err != nil:
			h.failSwitch(w, r, err)
		case s == nil: // the last sign-in: the session is over
			h.redirect(w, r, h.afterSignOut(r, ended, cb), wantJSON)
		default:
			h.writeSession(w, s)
		}
		return
	}
	s, cw, err := h.m.verbs.signOut(r)
	cw.Apply(w.Header())
	if err != nil {
		h.fail(w, r, errSignOut, wantJSON)
		return
	}
	h.redirect(w, r, h.afterSignOut(r, s, cb), wantJSON)
}

var errSignOut = &handlerError{http.StatusInternalServerError, "SignOutError", "the session could not be cleared"}

// afterSignOut is where a sign-out that ended s goes: on to the provider's
// end-session endpoint, which returns to cb, or to cb itself.
func (h *authHandler) afterSignOut(r *http.Request, s *Session, cb string) string {
	if s == nil {
		return cb
	}
	return cmp.Or(h.m.endSessionURL(r.Context(), s, cb), cb)
}

func (h *authHandler) signOutPage(w http.ResponseWriter, r *http.Request, _ string) {
	cb, herr := h.callbackURL(r, r.URL.Query().Get("callbackUrl"), h.m.cfg.SignOutRedirect)
	if herr != nil {
		h.fail(w, r, herr, false)
		return
	}
	page.Render(w, http.StatusOK, page.SignOut{Action: h.base + "/signout", CSRFToken: h.csrfToken(w, r), Callback: cb})
}
