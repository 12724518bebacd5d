package sessionkit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
)

// What the POST endpoints read: a form or a JSON object, checked for its
// CSRF token and callbackUrl.

// maxBody bounds what the endpoints read from a request body.
const maxBody = 64 << 10

// postBody is what the endpoints read from a POST: a form
// (application/x-www-form-urlencoded, as next-auth's signIn and signOut
// send) or a JSON object (as its update() sends).
type postBody struct {
	csrfToken string
	callback  string
	json      bool
	data      json.RawMessage
	// The arguments of the multi-session endpoints.
	signInID, organizationID, workspaceID, ticket string
}

// callbackURL is the body's callbackUrl, or the query's.
func (b postBody) callbackURL(r *http.Request) string {
	if b.callback != "" {
		return b.callback
	}
	return r.URL.Query().Get("callbackUrl")
}

// errPostTooLarge answers a POST body over maxBody.
var errPostTooLarge = &handlerError{http.StatusRequestEntityTooLarge, "BadRequest", fmt.Sprintf("the body exceeds %d bytes", maxBody)}

func readBody(w http.ResponseWriter, r *http.Request) (postBody, *handlerError) {
	var b postBody
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	tooLarge := func(err error) bool {
		var mbe *http.MaxBytesError
		return errors.As(err, &mbe)
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "application/json":
		raw, err := io.ReadAll(r.Body)
		if tooLarge(err) {
			return b, errPostTooLarge
		}
		var body struct {
			CSRFToken   string          `json:"csrfToken"`
			CallbackURL string          `json:"callbackUrl"`
			JSON        json.RawMessage `json:"json"`
			Data        json.RawMessage `json:"data"`
			SignInID    string          `json:"signInId"`
			OrgID       string          `json:"organizationId"`
			WorkspaceID string          `json:"workspaceId"`
			Ticket      string          `json:"ticket"`
		}
		if err != nil || (len(bytes.TrimSpace(raw)) > 0 && json.Unmarshal(raw, &body) != nil) {
			return b, &handlerError{http.StatusBadRequest, "BadRequest", "the body is not a JSON object of the expected shape"}
		}
		b.csrfToken, b.callback, b.signInID = body.CSRFToken, body.CallbackURL, body.SignInID
		b.organizationID, b.workspaceID, b.ticket = body.OrgID, body.WorkspaceID, body.Ticket
		j := string(bytes.TrimSpace(body.JSON))
		b.json = j == "true" || j == `"true"`
		if len(body.Data) > 0 && string(body.Data) != "null" {
			b.data = body.Data
		}
	case "", "application/x-www-form-urlencoded":
		if err := r.ParseForm(); err != nil {
			if tooLarge(err) {
				return b, errPostTooLarge
			}
			return b, &handlerError{http.StatusBadRequest, "BadRequest", "the form is malformed"}
		}
		b.csrfToken = r.PostForm.Get("csrfToken")
		b.callback = r.PostForm.Get("callbackUrl")
		b.json = r.PostForm.Get("json") == "true"
		b.signInID = r.PostForm.Get("signInId")
		b.organizationID = r.PostForm.Get("organizationId")
		b.workspaceID = r.PostForm.Get("workspaceId")
		b.ticket = r.PostForm.Get("ticket")
		if d := r.PostForm.Get("data"); d != "" && json.Valid([]byte(d)) {
			b.data = json.RawMessage(d)
		}
	default:
		return b, &handlerError{http.StatusUnsupportedMediaType, "BadRequest", "send a form or a JSON object"}
	}
	return b, nil
}

// postForm reads the body of a POST to page ("/signin" or "/signout") and
// checks its CSRF token and callbackUrl (defaulting to defaultCallback).
// When one fails it answers, as next-auth's clients expect, and reports
// false. wantJSON says whether the client asked for a JSON answer.
func (h *authHandler) postForm(w http.ResponseWriter, r *http.Request, page, defaultCallback string) (b postBody, cb string, wantJSON, ok bool) {
	b, herr := readBody(w, r)
	if herr != nil {
		h.fail(w, r, herr, true)
		return b, "", false, false
	}
	wantJSON = b.json || r.Header.Get("X-Auth-Return-Redirect") == "1"
	if !h.csrfOK(r, b.csrfToken) {
		h.failRedirect(w, r, errCSRFAnswer, page+"?csrf=true", wantJSON)
		return b, "", wantJSON, false
	}
	cb, herr = h.callbackURL(r, b.callbackURL(r), defaultCallback)
	if herr != nil {
		h.failRedirect(w, r, herr, page+"?error=InvalidCallbackUrl", wantJSON)
		return b, "", wantJSON, false
	}
	return b, cb, wantJSON, true
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
