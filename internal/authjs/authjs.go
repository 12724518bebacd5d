// Package authjs holds the JSON shapes that the Auth.js client
// (next-auth/react) reads from the session endpoints: the session, with
// its times in JavaScript's ISO 8601 format, and the providers.
package authjs

import (
	"bytes"
	"encoding/json"
	"time"
)

// Time is a time marshalled in JavaScript's Date.prototype.toISOString
// format, in UTC with milliseconds.
type Time time.Time

// MarshalJSON returns t as a JSON string such as "2026-11-23T12:00:00.000Z".
func (t Time) MarshalJSON() ([]byte, error) {
	return []byte(`"` + time.Time(t).UTC().Format("2006-01-02T15:04:05.000Z") + `"`), nil
}

// TimeOrNil is t as a *Time, and nil for the zero time (omitted).
func TimeOrNil(t time.Time) *Time {
	if t.IsZero() {
		return nil
	}
	v := Time(t)
	return &v
}

// User is Auth.js's session user, plus the user's ID.
type User struct {
	ID    string `json:"id,omitempty"`
	Name  string `json:"name,omitempty"`
	Email string `json:"email,omitempty"`
	Image string `json:"image,omitempty"`
}

// Session is the JSON of GET /session: Auth.js's user and expires, and
// the session's other public fields. A is the type of the actor of an
// impersonation session.
type Session[A any] struct {
	User                 User   `json:"user"`
	Expires              Time   `json:"expires"`
	Status               string `json:"status"`
	Provider             string `json:"provider,omitempty"`
	AccessToken          string `json:"accessToken,omitempty"`
	AccessTokenExpiresAt *Time  `json:"accessTokenExpiresAt,omitempty"`
	IDTokenExpiresAt     *Time  `json:"idTokenExpiresAt,omitempty"`
	ActiveSignInID       string `json:"activeSignInId,omitempty"`
	ActiveOrganizationID string `json:"activeOrganizationId,omitempty"`
	ActiveWorkspaceID    string `json:"activeWorkspaceId,omitempty"`
	Error                string `json:"error,omitempty"`
	Actor                *A     `json:"actor,omitempty"`
	// SignIns lists the sign-ins of a session that has several, without
	// their tokens.
	SignIns []SignIn[A] `json:"signIns,omitempty"`
}

// SignIn is one sign-in of a session with several.
type SignIn[A any] struct {
	ID                   string `json:"id"`
	User                 User   `json:"user"`
	Provider             string `json:"provider,omitempty"`
	ActiveOrganizationID string `json:"activeOrganizationId,omitempty"`
	ActiveWorkspaceID    string `json:"activeWorkspaceId,omitempty"`
	Actor                *A     `json:"actor,omitempty"`
}

// Provider is one provider in the JSON of GET /providers and on the
// sign-in page.
type Provider struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Type        string `json:"type"` // "oauth", or "oidc" with discovery
	SignInURL   string `json:"signinUrl"`
	CallbackURL string `json:"callbackUrl"`
}

// Providers is the JSON of GET /providers: an object of the providers by
// ID, in the order of list, ending with a newline.
func Providers(list []Provider) []byte {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, p := range list {
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
	return b.Bytes()
}
