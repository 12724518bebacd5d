package sessionkit_test

import (
	"context"
	"crypto/rand"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit"
	"github.com/sessionkit/sessionkit/memstore"
)

// A session that moved to a new ID leaves a stub that forwards for a
// minute and then goes: the old cookie finds no session, and is not taken
// for a theft then; the new one works on.
func TestRotationStubExpires(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	store, err := memstore.New(memstore.Config{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	keys, _ := sessionkit.KeyPairFromSecret(rand.Text() + rand.Text())
	var theft atomic.Int32
	m, err := sessionkit.New(sessionkit.Config{Keys: []sessionkit.KeyPair{keys}, Store: store, Now: clock,
		Logger:    slog.New(slog.DiscardHandler),
		Callbacks: sessionkit.Callbacks{OnTokenTheftDetected: func(context.Context, *sessionkit.Session) { theft.Add(1) }}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	req := func(cookies []*http.Cookie) *http.Request {
		r := httptest.NewRequest(http.MethodGet, "https://app.example/", nil)
		for _, c := range cookies {
			r.AddCookie(c)
		}
		return r
	}
	rec := httptest.NewRecorder()
	s0, err := m.SignIn(rec, req(nil), sessionkit.SignInParams{User: &sessionkit.User{ID: "u"}})
	if err != nil {
		t.Fatal(err)
	}
	old := rec.Result().Cookies()
	rec = httptest.NewRecorder()
	s1, err := m.UpdateSession(rec, req(old), func(s *sessionkit.Session) error { s.ActiveOrganizationID = "org"; return nil })
	if err != nil || s1.ID == s0.ID {
		t.Fatalf("UpdateSession: %v, %v; want a new ID", s1, err)
	}
	current := rec.Result().Cookies()
	if got, err := m.GetServerSession(req(old)); err != nil || got.ID != s1.ID {
		t.Fatalf("old cookie in flight: got %v, %v; want session %s", got, err, s1.ID)
	}
	advance(2*sessionkit.TheftGrace + time.Second)
	if got, err := m.GetServerSession(req(old)); err == nil {
		t.Fatalf("old cookie after the stub expired: got %v, want no session", got)
	}
	if got, err := m.GetServerSession(req(current)); err != nil || got.ID != s1.ID {
		t.Fatalf("current cookie: got %v, %v", got, err)
	}
	if n := theft.Load(); n != 0 {
		t.Fatalf("OnTokenTheftDetected fired %d times, want 0", n)
	}
}
