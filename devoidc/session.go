package devoidc

import (
	"context"
	"crypto/rand"
	"net/http"
	"net/url"
	"slices"
	"sync"

	"github.com/zitadel/oidc/v3/example/server/storage"
)

// loginCookie names the browser's login at the provider (Config.RememberLogin).
const loginCookie = "devoidc_login"

// logins are the browsers signed in at the provider.
type logins struct {
	remember bool
	mu       sync.Mutex
	user     map[string]string // login cookie value -> username
}

// rememberLogin keeps w's browser signed in as username (RememberLogin).
func (s *rotatingStore) rememberLogin(w http.ResponseWriter, username string) {
	if !s.logins.remember {
		return
	}
	v := rand.Text()
	s.logins.mu.Lock()
	s.logins.user[v] = username
	s.logins.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Value: v, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
}

// forgetLogin ends the login of r's browser at the provider (end_session).
func (s *rotatingStore) forgetLogin(w http.ResponseWriter, r *http.Request) {
	c, err := r.Cookie(loginCookie)
	if err != nil {
		return
	}
	s.logins.mu.Lock()
	delete(s.logins.user, c.Value)
	s.logins.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Path: "/", MaxAge: -1})
}

// resumeLogin completes the auth request of a GET /login at once for a
// browser signed in at the provider, unless the request asked to prompt;
// it reports whether it answered.
func (s *rotatingStore) resumeLogin(w http.ResponseWriter, r *http.Request) bool {
	c, err := r.Cookie(loginCookie)
	if !s.logins.remember || r.Method != http.MethodGet || err != nil {
		return false
	}
	s.logins.mu.Lock()
	username := s.logins.user[c.Value]
	s.logins.mu.Unlock()
	id := r.FormValue("id")
	ar, err := s.AuthRequestByID(r.Context(), id)
	if username == "" || err != nil {
		return false
	}
	if req, ok := ar.(*storage.AuthRequest); ok && (slices.Contains(req.Prompt, "login") || slices.Contains(req.Prompt, "select_account")) {
		return false
	}
	if s.completeLogin(username, id) != nil {
		return false
	}
	http.Redirect(w, r, "/authorize/callback?id="+url.QueryEscape(id), http.StatusFound)
	return true
}

// TerminateSession ends the user's logins at the provider in every browser
// (end_session), and the tokens of the client, as the example storage does.
func (s *rotatingStore) TerminateSession(ctx context.Context, userID, clientID string) error {
	s.logins.mu.Lock()
	for v, username := range s.logins.user {
		if u := s.users.GetUserByUsername(username); u != nil && u.ID == userID {
			delete(s.logins.user, v)
		}
	}
	s.logins.mu.Unlock()
	return s.Storage.TerminateSession(ctx, userID, clientID)
}

// The endpoints whose requests a Provider records (Received).
const (
	RevocationPath    = "/revoke"
	IntrospectionPath = "/oauth/introspect"
	EndSessionPath    = "/end_session"
)

// received records the parameters of the requests to the recorded paths.
type received struct {
	mu     sync.Mutex
	byPath map[string][]url.Values
}

func (rc *received) record(r *http.Request) {
	switch r.URL.Path {
	case RevocationPath, IntrospectionPath, EndSessionPath:
	default:
		return
	}
	if err := r.ParseForm(); err != nil {
		return
	}
	f := make(url.Values, len(r.Form))
	for k, v := range r.Form {
		if k != "client_secret" {
			f[k] = slices.Clone(v)
		}
	}
	if id, _, ok := r.BasicAuth(); ok {
		f.Set("client_id", id)
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.byPath == nil {
		rc.byPath = map[string][]url.Values{}
	}
	rc.byPath[r.URL.Path] = append(rc.byPath[r.URL.Path], f)
}

// Received returns the parameters (query and form, client_secret left out,
// the HTTP Basic user as client_id) of the requests the provider received
// at path, one of RevocationPath, IntrospectionPath and EndSessionPath, in
// order.
func (p *Provider) Received(path string) []url.Values {
	p.received.mu.Lock()
	defer p.received.mu.Unlock()
	return slices.Clone(p.received.byPath[path])
}
