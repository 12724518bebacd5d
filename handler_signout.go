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
		s, err := h.m.SignOutOne(w, r, b.SignInID)
		switch {
		case err != nil:
			h.failSwitch(w, r, err)
		case s == nil: // the last sign-in: the session is over
			h.redirect(w, r, cb, wantJSON)
		default:
			h.writeSession(w, s)
		}
		return
	}
	s, cw, err := h.m.verbs.signOut(r)
	cw.Apply(w.Header())
	if err != nil {
		h.fail(w, r, &handlerError{http.StatusInternalServerError, "SignOutError", "the session could not be cleared"}, wantJSON)
		return
	}
	if s != nil { // on to the provider's end-session endpoint, which returns to cb
		cb = cmp.Or(h.m.endSessionURL(r.Context(), s, cb), cb)
	}
	h.redirect(w, r, cb, wantJSON)
}

func (h *authHandler) signOutPage(w http.ResponseWriter, r *http.Request, _ string) {
	cb, herr := h.callbackURL(r, r.URL.Query().Get("callbackUrl"), h.m.cfg.SignOutRedirect)
	if herr != nil {
		h.fail(w, r, herr, false)
		return
	}
	page.Render(w, http.StatusOK, page.SignOut{Action: h.base + "/signout", CSRFToken: h.csrfToken(w, r), Callback: cb})
}
