package sessionkit_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/sessionkit/sessionkit"
	"github.com/sessionkit/sessionkit/memstore"
)

// copying is a memstore that ignores sessionkit.SharedLoad: every Load
// gets copies of its own.
type copying struct{ sessionkit.Store }

func (s copying) Load(ctx context.Context, id string) (sessionkit.Record, error) {
	rec, err := s.Store.Load(ctx, id)
	rec.Data = bytes.Clone(rec.Data)
	rec.OtherUserIDs, rec.ProviderSessionIDs = slices.Clone(rec.OtherUserIDs), slices.Clone(rec.ProviderSessionIDs)
	return rec, err
}

// The middleware serves a stored session that it read before, byte for
// byte, without decoding it again. What a handler does to its copy never
// reaches another request, and any change to the record (an update, a
// revocation) by another instance is seen by the very next request.
func TestStoredReadCache(t *testing.T) {
	for _, tc := range []struct {
		name string
		wrap func(sessionkit.Store) sessionkit.Store
	}{
		{"shared", func(s sessionkit.Store) sessionkit.Store { return s }},
		{"copied", func(s sessionkit.Store) sessionkit.Store { return copying{s} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store, err := memstore.New(memstore.Config{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = store.Close() })
			keys, _ := sessionkit.KeyPairFromSecret(rand.Text() + rand.Text())
			newManager := func() *sessionkit.Manager {
				m, err := sessionkit.New(sessionkit.Config{Keys: []sessionkit.KeyPair{keys}, Store: tc.wrap(store), Logger: slog.New(slog.DiscardHandler)})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = m.Close() })
				return m
			}
			m, other := newManager(), newManager()
			rec := httptest.NewRecorder()
			s0, err := m.SignIn(rec, httptest.NewRequest(http.MethodGet, "https://app.example/", nil), sessionkit.SignInParams{
				User: &sessionkit.User{ID: "u", Name: "Ada"}, Provider: "oidc",
			})
			if err != nil {
				t.Fatal(err)
			}
			cookies := rec.Result().Cookies()
			req := func() *http.Request {
				r := httptest.NewRequest(http.MethodGet, "https://app.example/", nil)
				for _, c := range cookies {
					r.AddCookie(c)
				}
				return r
			}
			var seen *sessionkit.Session
			h := m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				s, ok := sessionkit.FromContext(r.Context())
				if !ok {
					seen = nil
					return
				}
				seen = s.Clone()
				// The handler's copy is its own to change.
				s.User.Name = "Mallory"
				s.SignIns[0].User.Name = "Mallory"
				s.Status = sessionkit.StatusRevoked
				s.SignIns = append(s.SignIns[:0], sessionkit.SignIn{ID: "x"})
			}))
			serve := func() *sessionkit.Session {
				t.Helper()
				h.ServeHTTP(httptest.NewRecorder(), req())
				return seen
			}
			for i := range 5 { // the first marks the cookie seen (a write), the others hit the cache
				if s := serve(); s == nil || s.User.Name != "Ada" || s.Status != sessionkit.StatusActive || len(s.SignIns) != 1 || s.SignIns[0].User.Name != "Ada" {
					t.Fatalf("request %d: got %+v, want Ada's active session unchanged", i+1, s)
				}
			}
			// Another instance changes the record: the next request sees it.
			if _, err := other.UpdateSession(httptest.NewRecorder(), req(), func(s *sessionkit.Session) error {
				s.User.Name = "Ada L."
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if s := serve(); s == nil || s.User.Name != "Ada L." || s.ID != s0.ID {
				t.Fatalf("after another instance's update: got %+v, want the new name", s)
			}
			if err := other.Revoke(context.Background(), s0.ID); err != nil {
				t.Fatal(err)
			}
			if s := serve(); s != nil {
				t.Fatalf("after another instance's revocation: got %+v, want no session", s)
			}
			if s, err := m.GetServerSession(req()); err == nil || s == nil || s.Status != sessionkit.StatusRevoked {
				t.Fatalf("GetServerSession after the revocation: got %v, %v; want the revoked session", s, err)
			}
		})
	}
}

// A cached store-backed read stays within its allocation budget: the
// request's copy and context (3, as a stateless cookie) and the request's
// stored state, with nothing for decoding or for copying the record.
func TestStoredReadAllocations(t *testing.T) {
	if sessionkit.RaceEnabled {
		t.Skip("the race detector changes allocation counts")
	}
	store, err := memstore.New(memstore.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	keys, _ := sessionkit.KeyPairFromSecret(rand.Text() + rand.Text())
	m, err := sessionkit.New(sessionkit.Config{Keys: []sessionkit.KeyPair{keys}, Store: store, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	rec := httptest.NewRecorder()
	if _, err := m.SignIn(rec, httptest.NewRequest(http.MethodGet, "https://app.example/", nil), sessionkit.SignInParams{User: &sessionkit.User{ID: "u"}}); err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodGet, "https://app.example/", nil)
	for _, c := range rec.Result().Cookies() {
		req.AddCookie(c)
	}
	var sink *sessionkit.Session
	h := m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { sink, _ = sessionkit.FromContext(r.Context()) }))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if sink == nil {
		t.Fatal("no session")
	}
	if got := testing.AllocsPerRun(200, func() { h.ServeHTTP(w, req) }); got > 5 || sink == nil {
		t.Fatalf("allocations per cached store-backed request: got %v, want at most 5", got)
	}
}
