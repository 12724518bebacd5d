package sessionkit

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/sessionkit/sessionkit/internal/postbody"
)

// What the POST endpoints read: a form or a JSON object, checked for its
// CSRF token and callbackUrl.

// errPostTooLarge answers a POST body over postbody.MaxBytes.
var errPostTooLarge = &handlerError{http.StatusRequestEntityTooLarge, "BadRequest", fmt.Sprintf("the body exceeds %d bytes", postbody.MaxBytes)}

// readBody reads a POST body, with the answer to one that cannot be read.
func readBody(w http.ResponseWriter, r *http.Request) (postbody.Body, *handlerError) {
	b, err := postbody.Read(w, r)
	switch {
	case err == nil:
		return b, nil
	case errors.Is(err, postbody.ErrTooLarge):
		return b, errPostTooLarge
	case errors.Is(err, postbody.ErrUnsupportedType):
		return b, &handlerError{http.StatusUnsupportedMediaType, "BadRequest", err.Error()}
	}
	return b, &handlerError{http.StatusBadRequest, "BadRequest", err.Error()}
}

// postForm reads the body of a POST to page ("/signin" or "/signout") and
// checks its CSRF token and callbackUrl (defaulting to defaultCallback).
// When one fails it answers, as next-auth's clients expect, and reports
// false. wantJSON says whether the client asked for a JSON answer.
func (h *authHandler) postForm(w http.ResponseWriter, r *http.Request, page, defaultCallback string) (b postbody.Body, cb string, wantJSON, ok bool) {
	b, herr := readBody(w, r)
	if herr != nil {
		h.fail(w, r, herr, true)
		return b, "", false, false
	}
	wantJSON = b.JSON || r.Header.Get("X-Auth-Return-Redirect") == "1"
	if !h.csrfOK(r, b.CSRFToken) {
		h.failRedirect(w, r, errCSRFAnswer, page+"?csrf=true", wantJSON)
		return b, "", wantJSON, false
	}
	cb, herr = h.callbackURL(r, b.CallbackURL(r), defaultCallback)
	if herr != nil {
		h.failRedirect(w, r, herr, page+"?error=InvalidCallbackUrl", wantJSON)
		return b, "", wantJSON, false
	}
	return b, cb, wantJSON, true
}

// checkedBody reads a POST body and runs the CSRF checks, answering the
// failure itself.
func (h *authHandler) checkedBody(w http.ResponseWriter, r *http.Request) (postbody.Body, bool) {
	b, herr := readBody(w, r)
	if herr != nil {
		h.fail(w, r, herr, true)
		return b, false
	}
	if !h.csrfOK(r, b.CSRFToken) {
		h.fail(w, r, errCSRFAnswer, true)
		return b, false
	}
	return b, true
}
