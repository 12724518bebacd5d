package sessionkit_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/sessionkit/sessionkit"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type ticketFixture struct {
	a, b  *sessionkit.Manager // two instances sharing one store and keys
	log   *syncBuffer
	now   time.Time
	clock func() time.Time
	mu    sync.Mutex
}

func (f *ticketFixture) advance(d time.Duration) {
	f.mu.Lock()
	f.now = f.now.Add(d)
	f.mu.Unlock()
}

func newTicketFixture(t *testing.T) *ticketFixture {
	t.Helper()
	store := newMemStore(t)
	keys := []byte(rand.Text() + rand.Text())
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	f := &ticketFixture{log: &syncBuffer{}, now: time.Now()}
	f.clock = func() time.Time { f.mu.Lock(); defer f.mu.Unlock(); return f.now }
	mk := func() *sessionkit.Manager {
		m, err := sessionkit.New(sessionkit.Config{
			Keys:   [][]byte{keys},
			Store:  store,
			URL:    "https://app.example",
			Now:    f.clock,
			Logger: slog.New(slog.NewTextHandler(f.log, nil)),
			Tokens: &sessionkit.TokenConfig{Keys: []sessionkit.StaticKey{{ID: "ed", Key: edKey}},
				Templates: map[string]sessionkit.TokenTemplate{"api": {Audience: []string{"https://api.example"}}}},
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = m.Close() })
		return m
	}
	f.a, f.b = mk(), mk()
	return f
}

func TestExchangeTicketGoAPI(t *testing.T) {
	f := newTicketFixture(t)
	ctx := context.Background()
	req := func() *http.Request { return httptest.NewRequest(http.MethodPost, "https://app.example/", nil) }
	ticket, err := f.a.MintTicket(ctx, sessionkit.TicketParams{User: sessionkit.User{ID: "u1", Email: "u1@example.com"}, OrganizationID: "org_a"})
	if err != nil {
		t.Fatalf("MintTicket: %v", err)
	}
	s, err := f.a.ExchangeTicket(httptest.NewRecorder(), req(), ticket)
	if err != nil || s.User.ID != "u1" || s.ActiveOrganizationID != "org_a" || s.Actor != nil {
		t.Fatalf("ExchangeTicket: got %+v, %v", s, err)
	}
	// Replayed on the other instance.
	if _, err := f.b.ExchangeTicket(httptest.NewRecorder(), req(), ticket); !errors.Is(err, sessionkit.ErrTicketUsed) {
		t.Fatalf("replay on another instance: got %v, want ErrTicketUsed", err)
	}
	late, _ := f.a.MintTicket(ctx, sessionkit.TicketParams{User: sessionkit.User{ID: "u1"}, TTL: time.Minute})
	f.advance(2 * time.Minute)
	forged := []byte(late)
	forged[len(forged)/2] ^= 1
	tests := []struct {
		name   string
		ticket string
		want   error
	}{
		{"expired", late, sessionkit.ErrTicketExpired},
		{"forged", string(forged), sessionkit.ErrInvalidTicket},
		{"empty", "", sessionkit.ErrInvalidTicket},
		{"garbage", strings.Repeat("x", 5000), sessionkit.ErrInvalidTicket},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := f.b.ExchangeTicket(httptest.NewRecorder(), req(), tt.ticket); !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
	// A session cookie, sealed with the same keys, is no ticket.
	rec := httptest.NewRecorder()
	if _, err := f.a.SignIn(rec, req(), sessionkit.SignInParams{User: &sessionkit.User{ID: "u2"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.a.ExchangeTicket(httptest.NewRecorder(), req(), rec.Result().Cookies()[0].Value); !errors.Is(err, sessionkit.ErrInvalidTicket) {
		t.Fatalf("a session cookie as a ticket: got %v, want ErrInvalidTicket", err)
	}
	// Without a Store.
	keys := []byte(rand.Text() + rand.Text())
	plain := newStoreManager(t, keys, nil)
	if _, err := plain.MintTicket(ctx, sessionkit.TicketParams{User: sessionkit.User{ID: "u1"}}); !errors.Is(err, sessionkit.ErrNotConfigured) {
		t.Fatalf("MintTicket without a Store: got %v", err)
	}
	if _, err := plain.ExchangeTicket(httptest.NewRecorder(), req(), ticket); !errors.Is(err, sessionkit.ErrNotConfigured) {
		t.Fatalf("ExchangeTicket without a Store: got %v", err)
	}
}

// csrfFor fetches a CSRF token and cookie from h.
func csrfFor(t *testing.T, h http.Handler) (string, *http.Cookie) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "https://app.example/api/auth/csrf", nil))
	var v struct{ CSRFToken string }
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		t.Fatal(err)
	}
	return v.CSRFToken, rec.Result().Cookies()[0]
}

func TestExchangeEndpointImpersonation(t *testing.T) {
	f := newTicketFixture(t)
	ctx := context.Background()
	h := f.a.Handler()
	ticket, err := f.a.MintTicket(ctx, sessionkit.TicketParams{User: sessionkit.User{ID: "u1"}, Actor: &sessionkit.Actor{Subject: "admin_7"}})
	if err != nil {
		t.Fatal(err)
	}
	token, csrfCookie := csrfFor(t, h)
	post := func(ticket string) *httptest.ResponseRecorder {
		body, _ := json.Marshal(map[string]string{"csrfToken": token, "ticket": ticket})
		r := httptest.NewRequest(http.MethodPost, "https://app.example/api/auth/exchange", bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Origin", "https://app.example")
		r.AddCookie(csrfCookie)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		return rec
	}
	rec := post(ticket)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"actor":{"sub":"admin_7"}`) {
		t.Fatalf("POST /exchange: got %d %q, want the session with its actor", rec.Code, rec.Body)
	}
	// The new session, read back through its cookie, carries the actor
	// into minted tokens.
	r := httptest.NewRequest(http.MethodGet, "https://app.example/", nil)
	for _, c := range rec.Result().Cookies() {
		if c.MaxAge >= 0 {
			r.AddCookie(c)
		}
	}
	s, err := f.b.GetServerSession(r)
	if err != nil || s.Actor == nil || s.Actor.Subject != "admin_7" {
		t.Fatalf("session: got %+v, %v; want actor admin_7", s, err)
	}
	raw, err := f.b.GetToken(ctx, s, "api")
	if err != nil {
		t.Fatal(err)
	}
	claims := jwt.MapClaims{}
	_, _, _ = jwt.NewParser().ParseUnverified(raw, claims)
	if act, _ := claims["act"].(map[string]any); act["sub"] != "admin_7" {
		t.Fatalf("act claim: got %v, want {sub: admin_7}", claims["act"])
	}
	logs := f.log.String()
	if !strings.Contains(logs, "impersonation session started") || !strings.Contains(logs, "actor=admin_7") || strings.Contains(logs, ticket) {
		t.Fatalf("audit log: got %q, want the actor and no ticket", logs)
	}
	forged := []byte(ticket)
	forged[10] ^= 1
	wrongCSRF := func() *httptest.ResponseRecorder {
		tk := token
		token = "nope"
		defer func() { token = tk }()
		return post(ticket)
	}
	for _, tt := range []struct {
		name string
		rec  *httptest.ResponseRecorder
		code int
		want string
	}{
		{"replayed", post(ticket), http.StatusConflict, "TicketUsed"},
		{"forged", post(string(forged)), http.StatusBadRequest, "InvalidTicket"},
		{"bad CSRF", wrongCSRF(), http.StatusForbidden, "MissingCSRF"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.rec.Code != tt.code || !strings.Contains(tt.rec.Body.String(), tt.want) {
				t.Fatalf("got %d %q, want %d %s", tt.rec.Code, tt.rec.Body, tt.code, tt.want)
			}
		})
	}
	late, _ := f.a.MintTicket(ctx, sessionkit.TicketParams{User: sessionkit.User{ID: "u1"}, TTL: time.Minute})
	f.advance(time.Hour)
	if rec := post(late); rec.Code != http.StatusGone {
		t.Fatalf("expired: got %d %q, want 410", rec.Code, rec.Body)
	}
}
