// Package signin signs a user in to a Manager the way the load and scale
// commands need: a 3 KB cookie session (a 900-byte access token, a
// 100-byte refresh token and a 1000-byte ID token), returned as the
// request's Cookie header.
package signin

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/sessionkit/sessionkit"
	"golang.org/x/oauth2"
)

// Cookie signs user id in to m, with tokens of the sizes above that start
// with id (so that each user's cookie differs), and returns the Cookie
// header that carries the session: the re-issued cookie, or for a
// store-backed session the one it keeps.
func Cookie(m *sessionkit.Manager, id string) (string, error) {
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "http://127.0.0.1/callback", nil)
	pad := func(c string, n int) string { return id + strings.Repeat(c, max(n-len(id), 0)) }
	_, err := m.SignIn(rec, req, sessionkit.SignInParams{
		Token: &oauth2.Token{AccessToken: pad("a", 900), RefreshToken: pad("r", 100),
			TokenType: "Bearer", Expiry: time.Now().Add(24 * time.Hour)},
		User: &sessionkit.User{ID: id, Email: id + "@example.com", Name: "User " + id},
	})
	if err != nil {
		return "", err
	}
	req = httptest.NewRequest(http.MethodGet, "http://127.0.0.1/", nil)
	for _, c := range rec.Result().Cookies() {
		req.AddCookie(c)
	}
	rec = httptest.NewRecorder()
	if _, err := m.UpdateSession(rec, req, func(s *sessionkit.Session) error {
		s.IDToken = pad("i", 1000)
		return nil
	}); err != nil {
		return "", err
	}
	cookies := rec.Result().Cookies()
	if len(cookies) == 0 { // a store-backed session keeps its cookie
		cookies = req.Cookies()
	}
	var parts []string
	for _, c := range cookies {
		if c.MaxAge >= 0 && c.Value != "" {
			parts = append(parts, c.Name+"="+c.Value)
		}
	}
	return strings.Join(parts, "; "), nil
}
