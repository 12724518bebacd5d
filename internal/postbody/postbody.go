// Package postbody reads what the endpoints' POST requests carry: a form
// (application/x-www-form-urlencoded, as next-auth's signIn and signOut
// send) or a JSON object (as its update() sends), bounded in size.
package postbody

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
)

// MaxBytes bounds what Read reads from a request body.
const MaxBytes = 64 << 10

// The errors of Read.
var (
	// ErrTooLarge means the body exceeds MaxBytes.
	ErrTooLarge = errors.New("the body exceeds the limit")
	// ErrUnsupportedType means the body is neither a form nor JSON.
	ErrUnsupportedType = errors.New("send a form or a JSON object")
	// ErrMalformedJSON means a JSON body is not an object of Body's shape.
	ErrMalformedJSON = errors.New("the body is not a JSON object of the expected shape")
	// ErrMalformedForm means a form body does not parse.
	ErrMalformedForm = errors.New("the form is malformed")
)

// Body is what a POST carries.
type Body struct {
	CSRFToken string
	Callback  string          // the callbackUrl
	JSON      bool            // the client asked for a JSON answer
	Data      json.RawMessage // the update's data, nil without
	// The arguments of the multi-session endpoints.
	SignInID, OrganizationID, WorkspaceID, Ticket string
}

// CallbackURL is the body's callbackUrl, or the query's.
func (b Body) CallbackURL(r *http.Request) string {
	if b.Callback != "" {
		return b.Callback
	}
	return r.URL.Query().Get("callbackUrl")
}

// Read reads r's body, at most MaxBytes of it (w is told to close the
// connection past that), as its Content-Type says: JSON, or a form (also
// when none is given). Its errors are ErrTooLarge, ErrUnsupportedType,
// ErrMalformedJSON and ErrMalformedForm.
func Read(w http.ResponseWriter, r *http.Request) (Body, error) {
	r.Body = http.MaxBytesReader(w, r.Body, MaxBytes)
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "application/json":
		return readJSON(r)
	case "", "application/x-www-form-urlencoded":
		return readForm(r)
	}
	return Body{}, ErrUnsupportedType
}

// jsonBody is the JSON object a POST may carry.
type jsonBody struct {
	CSRFToken   string          `json:"csrfToken"`
	CallbackURL string          `json:"callbackUrl"`
	JSON        json.RawMessage `json:"json"`
	Data        json.RawMessage `json:"data"`
	SignInID    string          `json:"signInId"`
	OrgID       string          `json:"organizationId"`
	WorkspaceID string          `json:"workspaceId"`
	Ticket      string          `json:"ticket"`
}

func readJSON(r *http.Request) (Body, error) {
	raw, err := io.ReadAll(r.Body)
	if tooLarge(err) {
		return Body{}, ErrTooLarge
	}
	var body jsonBody
	if err != nil || (len(bytes.TrimSpace(raw)) > 0 && json.Unmarshal(raw, &body) != nil) {
		return Body{}, ErrMalformedJSON
	}
	b := Body{CSRFToken: body.CSRFToken, Callback: body.CallbackURL, SignInID: body.SignInID,
		OrganizationID: body.OrgID, WorkspaceID: body.WorkspaceID, Ticket: body.Ticket}
	j := string(bytes.TrimSpace(body.JSON))
	b.JSON = j == "true" || j == `"true"`
	if len(body.Data) > 0 && string(body.Data) != "null" {
		b.Data = body.Data
	}
	return b, nil
}

func readForm(r *http.Request) (Body, error) {
	if err := r.ParseForm(); err != nil {
		if tooLarge(err) {
			return Body{}, ErrTooLarge
		}
		return Body{}, ErrMalformedForm
	}
	f := r.PostForm
	b := Body{CSRFToken: f.Get("csrfToken"), Callback: f.Get("callbackUrl"), JSON: f.Get("json") == "true",
		SignInID: f.Get("signInId"), OrganizationID: f.Get("organizationId"), WorkspaceID: f.Get("workspaceId"), Ticket: f.Get("ticket")}
	if d := f.Get("data"); d != "" && json.Valid([]byte(d)) {
		b.Data = json.RawMessage(d)
	}
	return b, nil
}

func tooLarge(err error) bool {
	var mbe *http.MaxBytesError
	return errors.As(err, &mbe)
}
