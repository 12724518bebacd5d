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

	"github.com/sessionkit/sessionkit/store"

	"github.com/sessionkit/sessionkit"
	"github.com/sessionkit/sessionkit/memstore"
)

// newMemStore returns a memstore, closed when t ends.
// fullStore is a Store with every optional capability, as memstore has
// them: test wrappers embed it to keep them all.
type fullStore interface {
	store.Store
	store.UserLister
	store.ProviderSessionLister
	store.Locker
	store.Consumer
}

func newMemStore(t testing.TB) *memstore.Store {
	t.Helper()
	s, err := memstore.New(memstore.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// newStoreManager returns a Manager with keys on store, closed when t ends.
func newStoreManager(t testing.TB, keys []byte, backend store.Store) *sessionkit.Manager {
	t.Helper()
	m, err := sessionkit.New(sessionkit.Config{Keys: [][]byte{keys}, Store: backend, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	return m
}

// signedIn signs in with p on m and returns the session and a maker of
// requests that carry its cookies.
func signedIn(t testing.TB, m *sessionkit.Manager, p sessionkit.SignInParams) (*sessionkit.Session, func() *http.Request) {
	t.Helper()
	rec := httptest.NewRecorder()
	s, err := m.SignIn(rec, httptest.NewRequest(http.MethodGet, "https://app.example/", nil), p)
	if err != nil {
		t.Fatal(err)
	}
	cookies := rec.Result().Cookies()
	return s, func() *http.Request { return cookieRequest(cookies) }
}

// copying is a memstore that ignores store.SharedLoad: every Load
// gets copies of its own.
type copying struct{ fullStore }

func (s copying) Load(ctx context.Context, id string) (store.Record, error) {
	rec, err := s.fullStore.Load(ctx, id)
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
		wrap func(fullStore) store.Store
	}{
		{"shared", func(s fullStore) store.Store { return s }},
		{"copied", func(s fullStore) store.Store { return copying{s} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			backend := tc.wrap(newMemStore(t))
			keys := []byte(rand.Text() + rand.Text())
			m, other := newStoreManager(t, keys, backend), newStoreManager(t, keys, backend)
			s0, req := signedIn(t, m, sessionkit.SignInParams{User: &sessionkit.User{ID: "u", Name: "Ada"}, Provider: "oidc"})
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
				s.Status = sessionkit.StatusRevoked
				s.SignIn.ID = "x"
				s.OtherSignIns = append(s.OtherSignIns, sessionkit.SignIn{ID: "y"})
			}))
			serve := func() *sessionkit.Session {
				t.Helper()
				h.ServeHTTP(httptest.NewRecorder(), req())
				return seen
			}
			for i := range 5 { // the first marks the cookie seen (a write), the others hit the cache
				if s := serve(); s == nil || s.User.Name != "Ada" || s.Status != sessionkit.StatusActive || len(s.SignIns()) != 1 || s.SignIn.User.Name != "Ada" {
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
	keys := []byte(rand.Text() + rand.Text())
	m := newStoreManager(t, keys, newMemStore(t))
	_, newReq := signedIn(t, m, sessionkit.SignInParams{User: &sessionkit.User{ID: "u"}})
	req := newReq()
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

// notFoundOnSave is a Store whose writes report ErrNotFound, as when the
// record went away between the read and the write.
type notFoundOnSave struct{ fullStore }

func (notFoundOnSave) Save(context.Context, store.Record) (uint64, error) {
	return 0, store.ErrNotFound
}

// SignOut outside Middleware reads the session itself, possibly from the
// verified-credential cache: marking it ended must not mark the cached
// copy, which other requests of the session share.
func TestSignOutLeavesCachedSession(t *testing.T) {
	keys := []byte(rand.Text() + rand.Text())
	mem := newMemStore(t)
	m := newStoreManager(t, keys, mem)
	_, req := signedIn(t, m, sessionkit.SignInParams{User: &sessionkit.User{ID: "u"}})
	// A second Manager on the same store whose Store writes go nowhere:
	// its SignOut reads the session (cached) and cannot end it.
	other := newStoreManager(t, keys, notFoundOnSave{mem})
	for range 3 { // the first read marks the cookie seen, the next are cached
		if _, err := other.GetServerSession(req()); err != nil {
			t.Fatal(err)
		}
	}
	if err := other.SignOut(httptest.NewRecorder(), req()); err != nil {
		t.Fatal(err)
	}
	if s, err := other.GetServerSession(req()); err != nil || s.Status != sessionkit.StatusActive {
		t.Fatalf("after a SignOut that could not end the stored session: got %v, %v; want it still active", s, err)
	}
}

// xorStore keeps its records' Data masked in the Store beneath it and
// unmasks it in place on Load, as a wrapper that decrypts may: it owns
// what Load returns, and so must get copies from beneath.
type xorStore struct{ fullStore }

func xorMask(b []byte) {
	for i := range b {
		b[i] ^= 0x5a
	}
}

func (s xorStore) Save(ctx context.Context, rec store.Record) (uint64, error) {
	rec.Data = bytes.Clone(rec.Data)
	xorMask(rec.Data)
	return s.fullStore.Save(ctx, rec)
}

func (s xorStore) Load(ctx context.Context, id string) (store.Record, error) {
	rec, err := s.fullStore.Load(ctx, id)
	xorMask(rec.Data)
	return rec, err
}

// The middleware's hint that it only reads names the Store it calls: a
// store behind a wrapper does not see it, and hands out copies.
func TestSharedLoadStopsAtWrapper(t *testing.T) {
	keys := []byte(rand.Text() + rand.Text())
	mem := newMemStore(t)
	m := newStoreManager(t, keys, xorStore{mem})
	_, req := signedIn(t, m, sessionkit.SignInParams{User: &sessionkit.User{ID: "u"}})
	for i := range 4 {
		if s, err := m.GetServerSession(req()); err != nil || s.User.ID != "u" {
			t.Fatalf("read %d: got %v, %v; want u's session", i+1, s, err)
		}
	}
	ctx := context.Background()
	if !store.SharedLoad(store.WithSharedLoad(ctx, mem), mem) {
		t.Fatal("SharedLoad: the hint for mem does not reach mem")
	}
	if store.SharedLoad(store.WithSharedLoad(ctx, xorStore{mem}), mem) || store.SharedLoad(ctx, mem) {
		t.Fatal("SharedLoad: a hint for another store, or none, reaches mem")
	}
}
