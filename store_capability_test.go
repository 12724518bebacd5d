package sessionkit_test

import (
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/oauth2"

	"github.com/sessionkit/sessionkit"
	"github.com/sessionkit/sessionkit/store"
)

// basicStore offers only what every Store must do: Load, Save, Delete.
type basicStore struct{ s fullStore }

func (b basicStore) Load(ctx context.Context, id string) (store.Record, error) {
	return b.s.Load(ctx, id)
}
func (b basicStore) Save(ctx context.Context, rec store.Record) (uint64, error) {
	return b.s.Save(ctx, rec)
}
func (b basicStore) Delete(ctx context.Context, id string) error { return b.s.Delete(ctx, id) }

// consumingStore is a basicStore that records one-time keys too, and
// counts the keys it is asked to record.
type consumingStore struct {
	basicStore
	consumed atomic.Int32
}

func (c *consumingStore) Consume(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	c.consumed.Add(1)
	return c.s.Consume(ctx, key, ttl)
}

// A Store with only Load, Save and Delete serves the session lifecycle:
// sign-in, read, refresh (joined within the instance, with no lock to
// take), activity, end and sign-out.
func TestBasicStoreSessions(t *testing.T) {
	keys := []byte(rand.Text() + rand.Text())
	var refreshes atomic.Int32
	var skew atomic.Int64
	clock := func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }
	m, err := sessionkit.New(sessionkit.Config{Keys: [][]byte{keys}, Store: basicStore{newMemStore(t)},
		Logger: slog.New(slog.DiscardHandler), Now: clock,
		Providers: []sessionkit.Provider{{ID: "oidc", ClientID: "c", AuthURL: "https://idp.example/authorize", TokenURL: "https://idp.example/token",
			Refresh: func(context.Context, *oauth2.Config, *oauth2.Token) (*oauth2.Token, error) {
				refreshes.Add(1)
				time.Sleep(20 * time.Millisecond) // let the concurrent requests meet
				return &oauth2.Token{AccessToken: "at2", RefreshToken: "rt2", Expiry: time.Now().Add(time.Hour)}, nil
			}}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	s0, req := signedIn(t, m, sessionkit.SignInParams{Provider: "oidc", User: &sessionkit.User{ID: "u"},
		Token: &oauth2.Token{AccessToken: "at1", RefreshToken: "rt1", Expiry: time.Now().Add(30 * time.Second)}})
	if s, err := m.GetServerSession(req()); err != nil || s.User.ID != "u" || s.AccessToken != "at1" {
		t.Fatalf("read: got %+v, %v; want u's session", s, err)
	}

	skew.Store(int64(25 * time.Second)) // the access token is due
	h := m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s, ok := sessionkit.FromContext(r.Context()); !ok || s.AccessToken != "at2" {
			t.Errorf("refresh: got %+v, want the refreshed token", s)
		}
	}))
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() { h.ServeHTTP(httptest.NewRecorder(), req()) })
	}
	wg.Wait()
	if got := refreshes.Load(); got != 1 {
		t.Errorf("concurrent requests of one instance: got %d refreshes, want 1", got)
	}

	if err := m.Touch(t.Context(), s0.ID); err != nil {
		t.Errorf("Touch: got %v, want none", err)
	}
	if err := m.SignOut(httptest.NewRecorder(), req()); err != nil {
		t.Fatalf("SignOut: %v", err)
	}
	if s, err := m.GetServerSession(req()); err == nil || s.Status != sessionkit.StatusEnded {
		t.Fatalf("after SignOut: got %+v, %v; want the session ended", s, err)
	}

	_, req2 := signedIn(t, m, sessionkit.SignInParams{User: &sessionkit.User{ID: "v"}})
	s2, _ := m.GetServerSession(req2())
	if err := m.Revoke(t.Context(), s2.ID); err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	if s, err := m.GetServerSession(req2()); err == nil || s.Status != sessionkit.StatusRevoked {
		t.Fatalf("after Revoke: got %+v, %v; want the session revoked", s, err)
	}
}

// A feature that needs an optional capability the Store lacks fails with
// an error that wraps ErrNotConfigured and names the interface.
func TestStoreCapabilityErrors(t *testing.T) {
	idp := newBCLProvider(t)
	newManager := func(t *testing.T, s store.Store) *sessionkit.Manager {
		keys := []byte(rand.Text() + rand.Text())
		m, err := sessionkit.New(sessionkit.Config{Keys: [][]byte{keys}, Store: s, Logger: slog.New(slog.DiscardHandler),
			Providers: []sessionkit.Provider{{ID: "oidc", Issuer: bclIssuer, ClientID: bclClientID,
				AuthURL: bclIssuer + "/authorize", TokenURL: bclIssuer + "/token", JWKSURL: idp.jwks.URL}}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = m.Close() })
		return m
	}
	logout := func(mod func(jwt.MapClaims)) func(*sessionkit.Manager) error {
		return func(m *sessionkit.Manager) error {
			return m.BackChannelLogout(context.Background(), sign(t, idp.key, logoutClaims(mod)))
		}
	}
	tests := []struct {
		name      string
		consume   bool // the Store records one-time keys
		call      func(m *sessionkit.Manager) error
		wantIface string
	}{
		{"RevokeUser", false, func(m *sessionkit.Manager) error { return m.RevokeUser(context.Background(), "u") }, "store.UserLister"},
		{"ListSessions", false, func(m *sessionkit.Manager) error {
			_, err := m.ListSessions(context.Background(), "u")
			return err
		}, "store.UserLister"},
		{"MintTicket", false, func(m *sessionkit.Manager) error {
			_, err := m.MintTicket(context.Background(), sessionkit.TicketParams{User: sessionkit.User{ID: "u"}})
			return err
		}, "store.Consumer"},
		{"ExchangeTicket", false, func(m *sessionkit.Manager) error {
			_, err := m.ExchangeTicket(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/", nil), "ticket")
			return err
		}, "store.Consumer"},
		{"BackChannelLogout", false, logout(nil), "store.Consumer"},
		{"BackChannelLogout by sid", true, logout(nil), "store.ProviderSessionLister"},
		{"BackChannelLogout by sub", true, logout(func(c jwt.MapClaims) { delete(c, "sid") }), "store.UserLister"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs := &consumingStore{basicStore: basicStore{newMemStore(t)}}
			var s store.Store = cs.basicStore
			if tt.consume {
				s = cs
			}
			err := tt.call(newManager(t, s))
			if !errors.Is(err, sessionkit.ErrNotConfigured) || !strings.Contains(err.Error(), tt.wantIface) {
				t.Fatalf("got %v, want ErrNotConfigured naming %s", err, tt.wantIface)
			}
			if n := cs.consumed.Load(); n != 0 {
				t.Errorf("got %d keys consumed, want none", n)
			}
		})
	}
}
