package main

import (
	"context"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/sessionkit/sessionkit/store"

	"github.com/sessionkit/sessionkit"
	"github.com/sessionkit/sessionkit/memstore"
	"github.com/sessionkit/sessionkit/redisstore"
)

// The values of SESSIONKIT_STORE.
const (
	storeAuto   = ""       // Redis when SESSIONKIT_REDIS_URL is set, else stateless cookies
	storeMemory = "memory" // memstore: server-side sessions in this process
	storeRedis  = "redis"  // redisstore on SESSIONKIT_REDIS_URL (required)
	storeCookie = "cookie" // stateless cookies, even with SESSIONKIT_REDIS_URL
)

// openStore returns the Store o asks for, with a name for the logs, or a
// nil Store for stateless cookie sessions. The caller closes it.
func openStore(ctx context.Context, o options) (store.Store, io.Closer, string, error) {
	kind := o.store
	if kind == storeAuto && o.redisURL != "" {
		kind = storeRedis
	}
	switch kind {
	case storeAuto, storeCookie:
		return nil, nil, "stateless cookies", nil
	case storeMemory:
		s, err := memstore.New(memstore.Config{})
		if err != nil {
			return nil, nil, "", err
		}
		return s, s, "memstore", nil
	case storeRedis:
		if o.redisURL == "" {
			return nil, nil, "", errors.New("SESSIONKIT_STORE=redis needs SESSIONKIT_REDIS_URL")
		}
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		s, err := redisstore.New(ctx, o.redisURL, redisstore.Config{Prefix: o.redisPrefix})
		if err != nil {
			return nil, nil, "", err // redisstore keeps the URL (and its password) out of its errors
		}
		return s, s, "redisstore", nil
	default:
		return nil, nil, "", fmt.Errorf("SESSIONKIT_STORE=%q: want memory, redis or cookie", kind)
	}
}

// sessionsPage lists the signed-in user's sessions (ListSessions) and
// signs them out everywhere (RevokeUser). The form carries a token bound
// to the current session (an HMAC of its ID under a key derived from the
// cookie secret, so that it holds on every instance), and POSTs are also
// refused cross-origin (http.CrossOriginProtection), like the forms of
// the Auth.js endpoints.
type sessionsPage struct {
	m      *sessionkit.Manager
	key    []byte
	origin *http.CrossOriginProtection
	logger *slog.Logger
}

func newSessionsPage(m *sessionkit.Manager, secret string, logger *slog.Logger) (*sessionsPage, error) {
	key, err := hkdf.Key(sha256.New, []byte(secret), nil, "sessionkit demo: sign out everywhere", 32)
	if err != nil {
		return nil, err
	}
	return &sessionsPage{m: m, key: key, origin: http.NewCrossOriginProtection(), logger: logger}, nil
}

// token is the form token of session id.
func (p *sessionsPage) token(id string) string {
	mac := hmac.New(sha256.New, p.key)
	mac.Write([]byte(id))
	return hex.EncodeToString(mac.Sum(nil))
}

// sessionInfo is one of the user's sessions, as the page and the JSON
// show it: the ID only by fingerprint, no tokens.
type sessionInfo struct {
	ID           string            `json:"id"` // fingerprint of the session ID
	Status       sessionkit.Status `json:"status"`
	Current      bool              `json:"current"`
	CreatedAt    time.Time         `json:"createdAt"`
	LastActiveAt time.Time         `json:"lastActiveAt"`
	ExpireAt     time.Time         `json:"expireAt"`
}

// list returns the sessions of the request's user; without a Store,
// sessionkit.ErrNotConfigured.
func (p *sessionsPage) list(r *http.Request) ([]sessionInfo, *sessionkit.Session, error) {
	s, _ := sessionkit.FromContext(r.Context())
	all, err := p.m.ListSessions(r.Context(), s.User.ID)
	if err != nil {
		return nil, s, err
	}
	out := make([]sessionInfo, 0, len(all))
	for _, x := range all {
		out = append(out, sessionInfo{ID: fingerprint(x.ID), Status: x.Status, Current: x.ID == s.ID,
			CreatedAt: x.CreatedAt, LastActiveAt: x.LastActiveAt, ExpireAt: x.ExpireAt})
	}
	return out, s, nil
}

// sessionsView is the data of the sessions page.
type sessionsView struct {
	Stateless bool
	Sessions  []sessionInfo
	Token     string
}

// page serves GET /sessions.
func (p *sessionsPage) page(w http.ResponseWriter, r *http.Request) {
	list, s, err := p.list(r)
	switch {
	case errors.Is(err, sessionkit.ErrNotConfigured):
		render(w, r, sessionsTmpl, "Your sessions", sessionsView{Stateless: true})
	case err != nil:
		p.unavailable(w, r, err)
	default:
		render(w, r, sessionsTmpl, "Your sessions", sessionsView{Sessions: list, Token: p.token(s.ID)})
	}
}

// json serves GET /api/sessions.
func (p *sessionsPage) json(w http.ResponseWriter, r *http.Request) {
	list, _, err := p.list(r)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	switch {
	case errors.Is(err, sessionkit.ErrNotConfigured):
		w.WriteHeader(http.StatusNotFound)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": "no_store", "error_description": "stateless cookie sessions: start the demo with SESSIONKIT_STORE=memory or SESSIONKIT_REDIS_URL"})
	case err != nil:
		p.unavailable(w, r, err)
	default:
		_ = json.NewEncoder(w).Encode(map[string]any{"sessions": list})
	}
}

// revokeAll serves POST /sessions/revoke-all: sign out everywhere, this
// browser included.
func (p *sessionsPage) revokeAll(w http.ResponseWriter, r *http.Request) {
	s, _ := sessionkit.FromContext(r.Context())
	if err := p.origin.Check(r); err != nil || !hmac.Equal([]byte(r.PostFormValue("csrfToken")), []byte(p.token(s.ID))) {
		http.Error(w, "cross-site request refused (missing or invalid csrfToken)", http.StatusForbidden)
		return
	}
	if err := p.m.RevokeUser(r.Context(), s.User.ID); err != nil {
		p.unavailable(w, r, err)
		return
	}
	// The current session is revoked too: clear its cookie.
	_ = p.m.SignOut(w, r)
	p.logger.InfoContext(r.Context(), "signed out everywhere", "user", s.User.ID)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (p *sessionsPage) unavailable(w http.ResponseWriter, r *http.Request, err error) {
	p.logger.WarnContext(r.Context(), "sessions page: the session store failed", "error", err.Error())
	w.Header().Set("Retry-After", "5")
	http.Error(w, "the session store is unavailable", http.StatusServiceUnavailable)
}

var sessionsTmpl = page(`<section class="card">
{{if .Stateless}}<p id="stateless">This demo keeps sessions in stateless cookies, which cannot be listed or revoked.
Start it with <code>SESSIONKIT_STORE=memory</code> or <code>SESSIONKIT_REDIS_URL=redis://127.0.0.1:6379/0</code>.</p>
{{else}}<table id="sessions"><tr><th>Session</th><th>Status</th><th>Created</th><th>Last active</th><th>Expires</th></tr>
{{range .Sessions}}<tr class="session"><td><code>{{.ID}}</code>{{if .Current}} (this browser){{end}}</td><td class="status">{{.Status}}</td>
<td>{{.CreatedAt.UTC.Format "2006-01-02T15:04:05Z07:00"}}</td><td>{{.LastActiveAt.UTC.Format "2006-01-02T15:04:05Z07:00"}}</td>
<td>{{.ExpireAt.UTC.Format "2006-01-02T15:04:05Z07:00"}}</td></tr>
{{end}}</table>
<form id="revoke-all" method="post" action="/sessions/revoke-all"><input type="hidden" name="csrfToken" value="{{.Token}}">
<p><button type="submit">Sign out everywhere</button></p></form>{{end}}</section>`)
