package sessionkit

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzSessionUpdateBody posts fuzzed bodies to POST /session (the client's
// update()) with a valid CSRF token: never a panic, never a 5xx, and the
// session keeps its user whatever the body says.
func FuzzSessionUpdateBody(f *testing.F) {
	m, h := handlerManager(f, func(c *Config) {
		c.UpdateFromClient = func(r *http.Request, s *Session, data json.RawMessage) error {
			var v struct{ Org string }
			if err := json.Unmarshal(data, &v); err != nil {
				return err
			}
			s.ActiveOrganizationID = v.Org
			return nil
		}
	})
	cookies := signInCookies(f, m, SignInParams{User: &User{ID: "u1", Email: "a@example.com"}})
	csrfToken, csrfCookie := csrfPair(f, h)
	for _, seed := range []string{
		`{"csrfToken":"` + csrfToken + `","data":{"org":"org_9"}}`,
		`{"csrfToken":"` + csrfToken + `","data":null}`,
		`{"csrfToken":"` + csrfToken + `","data":{"org":["x"]}}`,
		`{"csrfToken":"` + csrfToken + `"}`,
		`{"csrfToken":"` + csrfToken + `","data":{"user":{"id":"mallory"}}}`,
		`{"csrfToken":`, `[]`, `null`, ``,
	} {
		f.Add(seed, true)
	}
	f.Add("csrfToken="+csrfToken+"&data=%7B%7D", false)
	f.Fuzz(func(t *testing.T, body string, isJSON bool) {
		req := httptest.NewRequest(http.MethodPost, "https://app.example/api/auth/session", strings.NewReader(body))
		req.Header.Set("Content-Type", map[bool]string{true: "application/json", false: "application/x-www-form-urlencoded"}[isJSON])
		req.Header.Set("Origin", "https://app.example")
		for _, c := range append(cookies, csrfCookie) {
			req.AddCookie(c)
		}
		rec := serve(h, req)
		if rec.Code >= 500 {
			t.Fatalf("status %d for body %q", rec.Code, body)
		}
		if rec.Code == http.StatusOK {
			var got struct{ User struct{ ID string } }
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || got.User.ID != "u1" {
				t.Fatalf("200 with %q: the session lost or changed its user", rec.Body)
			}
		}
	})
}
