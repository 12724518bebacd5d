package redisstore_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sessionkit/sessionkit"
	"github.com/sessionkit/sessionkit/redisstore"
)

// ticketManagers returns two Managers sharing cookie keys and one Redis
// namespace through their own clients, as two instances of an application.
func ticketManagers(t *testing.T) (a, b *sessionkit.Manager) {
	t.Helper()
	redisURL(t)
	keys := []byte(rand.Text() + rand.Text())
	prefix := testPrefix(t)
	mk := func() *sessionkit.Manager {
		m, err := sessionkit.New(sessionkit.Config{
			Keys:   [][]byte{keys},
			Store:  newStore(t, redisstore.Config{Prefix: prefix}),
			URL:    "https://app.example",
			Logger: slog.New(slog.DiscardHandler),
		})
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		t.Cleanup(func() { _ = m.Close() })
		return m
	}
	return mk(), mk()
}

// TestTicketReplayAcrossInstances redeems a ticket on one instance and
// replays it on another: Redis enforces single use across the fleet.
func TestTicketReplayAcrossInstances(t *testing.T) {
	a, b := ticketManagers(t)
	ctx := context.Background()
	req := func() *http.Request { return httptest.NewRequest(http.MethodPost, "https://app.example/", nil) }
	user := sessionkit.User{ID: "user-" + rand.Text(), Email: "u@example.com"}

	ticket, err := b.MintTicket(ctx, sessionkit.TicketParams{User: user, OrganizationID: "org_a"})
	if err != nil {
		t.Fatalf("MintTicket: %v", err)
	}
	rec := httptest.NewRecorder()
	s, err := a.ExchangeTicket(rec, req(), ticket)
	if err != nil || s.User.ID != user.ID || s.ActiveOrganizationID != "org_a" {
		t.Fatalf("ExchangeTicket on A: got %+v, %v; want a session of %s in org_a", s, err, user.ID)
	}
	// The session started on A is live on B.
	r := req()
	for _, c := range rec.Result().Cookies() {
		if c.MaxAge >= 0 && c.Value != "" {
			r.AddCookie(c)
		}
	}
	if got, err := b.GetServerSession(r); err != nil || got == nil || got.ID != s.ID {
		t.Fatalf("session on B: got %+v, %v; want session %s", got, err, s.ID)
	}
	// Replayed on B, and again on A.
	if _, err := b.ExchangeTicket(httptest.NewRecorder(), req(), ticket); !errors.Is(err, sessionkit.ErrInvalidTicket) {
		t.Fatalf("replay on B: got %v, want ErrInvalidTicket (already used)", err)
	}
	if _, err := a.ExchangeTicket(httptest.NewRecorder(), req(), ticket); !errors.Is(err, sessionkit.ErrInvalidTicket) {
		t.Fatalf("replay on A: got %v, want ErrInvalidTicket (already used)", err)
	}
}

// TestTicketReplayEndpointAcrossInstances does the same over HTTP:
// POST /exchange on A starts a session, the replay on B gets 409.
func TestTicketReplayEndpointAcrossInstances(t *testing.T) {
	a, b := ticketManagers(t)
	ticket, err := a.MintTicket(context.Background(), sessionkit.TicketParams{User: sessionkit.User{ID: "user-" + rand.Text()}})
	if err != nil {
		t.Fatalf("MintTicket: %v", err)
	}
	exchange := func(h http.Handler) *httptest.ResponseRecorder {
		t.Helper()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "https://app.example/api/auth/csrf", nil))
		var v struct{ CSRFToken string }
		if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil || v.CSRFToken == "" {
			t.Fatalf("GET /csrf: %d %q", rec.Code, rec.Body)
		}
		body, _ := json.Marshal(map[string]string{"csrfToken": v.CSRFToken, "ticket": ticket})
		r := httptest.NewRequest(http.MethodPost, "https://app.example/api/auth/exchange", bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Origin", "https://app.example")
		for _, c := range rec.Result().Cookies() {
			r.AddCookie(c)
		}
		out := httptest.NewRecorder()
		h.ServeHTTP(out, r)
		return out
	}
	if rec := exchange(a.Handler()); rec.Code != http.StatusOK {
		t.Fatalf("POST /exchange on A: got %d %q, want 200", rec.Code, rec.Body)
	}
	if rec := exchange(b.Handler()); rec.Code != http.StatusConflict || !strings.Contains(rec.Body.String(), "TicketUsed") {
		t.Fatalf("replay on B: got %d %q, want 409 TicketUsed", rec.Code, rec.Body)
	}
}
