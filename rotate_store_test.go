package sessionkit_test

import (
	"context"
	"crypto/rand"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/store"

	"golang.org/x/oauth2"

	"github.com/sessionkit/sessionkit"
	"github.com/sessionkit/sessionkit/memstore"
)

// A session that moved to a new ID leaves a stub for a minute and then
// goes: the old cookie finds no session, and is not taken for a theft
// then; the new one works on.
func TestRotationStubExpires(t *testing.T) {
	f := newRotateFixture(t, memStore(t))
	m, advance := f.m, f.advance
	rec := httptest.NewRecorder()
	s0, err := m.SignIn(rec, cookieRequest(nil), sessionkit.SignInParams{User: &sessionkit.User{ID: "u"}})
	if err != nil {
		t.Fatal(err)
	}
	old := rec.Result().Cookies()
	rec = httptest.NewRecorder()
	s1, err := m.UpdateSession(rec, cookieRequest(old), func(s *sessionkit.Session) error { s.ActiveOrganizationID = "org"; return nil })
	if err != nil || s1.ID == s0.ID {
		t.Fatalf("UpdateSession: %v, %v; want a new ID", s1, err)
	}
	current := rec.Result().Cookies()
	if got, err := m.GetServerSession(cookieRequest(old)); err == nil {
		t.Fatalf("old cookie in flight: got %v, want no session", got)
	}
	advance(2*30*time.Second + time.Second)
	if got, err := m.GetServerSession(cookieRequest(old)); err == nil {
		t.Fatalf("old cookie after the stub expired: got %v, want no session", got)
	}
	if got, err := m.GetServerSession(cookieRequest(current)); err != nil || got.ID != s1.ID {
		t.Fatalf("current cookie: got %v, %v", got, err)
	}
	if n := f.thefts.Load(); n != 0 {
		t.Fatalf("OnTokenTheftDetected fired %d times, want 0", n)
	}
}

// rotateFixture is a Manager on a Store, both on a clock the test moves,
// counting the thefts the Manager detects.
type rotateFixture struct {
	m       *sessionkit.Manager
	advance func(time.Duration)
	thefts  *atomic.Int32
}

func newRotateFixture(t *testing.T, backend func(clock func() time.Time) store.Store) *rotateFixture {
	var mu sync.Mutex
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	keys := []byte(rand.Text() + rand.Text())
	thefts := new(atomic.Int32)
	m, err := sessionkit.New(sessionkit.Config{Keys: [][]byte{keys}, Store: backend(clock), Now: clock,
		Logger:    slog.New(slog.DiscardHandler),
		Callbacks: sessionkit.Callbacks{OnTokenTheftDetected: func(context.Context, *sessionkit.Session) { thefts.Add(1) }}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	return &rotateFixture{m: m, advance: func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }, thefts: thefts}
}

func memStore(t *testing.T) func(func() time.Time) store.Store {
	return func(clock func() time.Time) store.Store {
		st, err := memstore.New(memstore.Config{Now: clock})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		return st
	}
}

func cookieRequest(cookies []*http.Cookie) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "https://app.example/", nil)
	for _, c := range cookies {
		r.AddCookie(c)
	}
	return r
}

// Session fixation through a privilege change: an attacker plants the
// cookie of their own session in the victim's browser, and the victim
// signs in to it with another account. The planted cookie, replayed at
// once, must not reach the victim's account nor get its new cookie, and
// cannot sign the victim out.
func TestRotationFixation(t *testing.T) {
	f := newRotateFixture(t, memStore(t))
	m := f.m
	rec := httptest.NewRecorder()
	if _, err := m.SignIn(rec, cookieRequest(nil), sessionkit.SignInParams{User: &sessionkit.User{ID: "mallory"}}); err != nil {
		t.Fatal(err)
	}
	planted := rec.Result().Cookies()
	rec = httptest.NewRecorder()
	if _, err := m.AddSignIn(rec, cookieRequest(planted), sessionkit.SignInParams{User: &sessionkit.User{ID: "alice"}}); err != nil {
		t.Fatal(err)
	}
	victim := rec.Result().Cookies()
	f.advance(time.Second)
	var seen *sessionkit.Session
	h := m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { seen, _ = sessionkit.FromContext(r.Context()) }))
	arec := httptest.NewRecorder()
	h.ServeHTTP(arec, cookieRequest(planted))
	if seen != nil {
		t.Fatalf("planted cookie after the privilege change: served as %q", seen.User.ID)
	}
	if got := arec.Result().Cookies(); len(got) != 0 {
		t.Fatalf("planted cookie after the privilege change: got %d cookies set, want none", len(got))
	}
	if err := m.SignOut(httptest.NewRecorder(), cookieRequest(planted)); err != nil {
		t.Fatalf("SignOut with the planted cookie: %v", err)
	}
	if s, err := m.GetServerSession(cookieRequest(victim)); err != nil || s.User.ID != "alice" {
		t.Fatalf("victim: got %v, %v; want alice, still signed in", s, err)
	}
}

// ambiguousStore reports the next update it applies as failed, as a Redis
// whose reply was lost.
type ambiguousStore struct {
	*memstore.Store
	failNext atomic.Bool
}

func (s *ambiguousStore) Save(ctx context.Context, rec store.Record) (uint64, error) {
	v, err := s.Store.Save(ctx, rec)
	if err == nil && rec.Version != 0 && s.failNext.CompareAndSwap(true, false) {
		return 0, context.DeadlineExceeded
	}
	return v, err
}

// A move whose stub was written though the Store reported a failure is
// taken as done: the session is not lost.
func TestRotationAmbiguousFailure(t *testing.T) {
	var backend *ambiguousStore
	f := newRotateFixture(t, func(clock func() time.Time) store.Store {
		backend = &ambiguousStore{Store: memStore(t)(clock).(*memstore.Store)}
		return backend
	})
	rec := httptest.NewRecorder()
	if _, err := f.m.SignIn(rec, cookieRequest(nil), sessionkit.SignInParams{User: &sessionkit.User{ID: "u"}}); err != nil {
		t.Fatal(err)
	}
	backend.failNext.Store(true)
	rec2 := httptest.NewRecorder()
	s, err := f.m.UpdateSession(rec2, cookieRequest(rec.Result().Cookies()), func(s *sessionkit.Session) error {
		s.ActiveOrganizationID = "org"
		return nil
	})
	if err != nil {
		t.Fatalf("UpdateSession: %v", err)
	}
	if got, err := f.m.GetServerSession(cookieRequest(rec2.Result().Cookies())); err != nil || got.ID != s.ID || got.ActiveOrganizationID != "org" {
		t.Fatalf("after the move: got %v, %v; want session %s in org", got, err, s.ID)
	}
}

// RotateSession moves the session to a new ID on demand, with a Store and
// without: the new cookie works, and with a Store the old one does not.
func TestRotateSession(t *testing.T) {
	for _, withStore := range []bool{false, true} {
		t.Run(map[bool]string{false: "stateless", true: "store"}[withStore], func(t *testing.T) {
			keys := []byte(rand.Text() + rand.Text())
			var backend store.Store // a true nil without one
			if withStore {
				backend = newMemStore(t)
			}
			m := newStoreManager(t, keys, backend)
			rec := httptest.NewRecorder()
			s0, err := m.SignIn(rec, cookieRequest(nil), sessionkit.SignInParams{User: &sessionkit.User{ID: "u", Name: "U"}})
			if err != nil {
				t.Fatal(err)
			}
			old := rec.Result().Cookies()
			rec = httptest.NewRecorder()
			s1, err := m.RotateSession(rec, cookieRequest(old))
			if err != nil || s1.ID == s0.ID || s1.User.ID != "u" || s1.User.Name != "U" {
				t.Fatalf("RotateSession: got %v, %v; want the same session under a new ID", s1, err)
			}
			if got, err := m.GetServerSession(cookieRequest(rec.Result().Cookies())); err != nil || got.ID != s1.ID {
				t.Fatalf("new cookie: got %v, %v; want %s", got, err, s1.ID)
			}
			got, err := m.GetServerSession(cookieRequest(old))
			if withStore && err == nil {
				t.Fatalf("old cookie with a Store: got %v, want no session", got)
			}
			if _, err := m.RotateSession(httptest.NewRecorder(), cookieRequest(nil)); err == nil {
				t.Fatal("RotateSession without a session: no error")
			}
		})
	}
}

// moveOnRefreshLock is a Store that runs move once, just before the first
// refresh lock is taken: a privilege change landing while a request of the
// session waits to refresh it.
type moveOnRefreshLock struct {
	fullStore
	once sync.Once
	move func()
}

func (s *moveOnRefreshLock) Lock(ctx context.Context, key string, ttl time.Duration) (func(context.Context) error, error) {
	if strings.HasPrefix(key, "refresh:") {
		s.once.Do(s.move)
	}
	return s.fullStore.Lock(ctx, key, ttl)
}

// A request whose cookie was read just before its session moved to a new
// ID, and which then refreshes the session, never gets the moved session
// nor its cookie: the refresh follows the move to save the new tokens
// where the session now is, but the cookie of before the move does not.
func TestRefreshAfterMoveKeepsOldCookieOut(t *testing.T) {
	keys := []byte(rand.Text() + rand.Text())
	backend := &moveOnRefreshLock{fullStore: newMemStore(t)}
	var refreshes atomic.Int32
	var skew atomic.Int64 // lets the Manager's clock run ahead
	clock := func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }
	cfg := sessionkit.Config{Keys: [][]byte{keys}, Store: backend, Logger: slog.New(slog.DiscardHandler), Now: clock,
		Providers: []sessionkit.Provider{{ID: "oidc", ClientID: "c", AuthURL: "https://idp.example/authorize", TokenURL: "https://idp.example/token",
			Refresh: func(context.Context, *oauth2.Config, *oauth2.Token) (*oauth2.Token, error) {
				refreshes.Add(1)
				return &oauth2.Token{AccessToken: "at2", RefreshToken: "rt2", Expiry: time.Now().Add(time.Hour)}, nil
			}}}}
	m, err := sessionkit.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	other := newStoreManager(t, keys, backend)
	_, req := signedIn(t, m, sessionkit.SignInParams{Provider: "oidc", User: &sessionkit.User{ID: "u"},
		Token: &oauth2.Token{AccessToken: "at1", RefreshToken: "rt1", Expiry: time.Now().Add(30 * time.Second)}})
	skew.Store(int64(25 * time.Second)) // the access token is due for refresh
	var moved []*http.Cookie
	backend.move = func() {
		rec := httptest.NewRecorder()
		if _, err := other.UpdateSession(rec, req(), func(s *sessionkit.Session) error { s.ActiveOrganizationID = "org_b"; return nil }); err != nil {
			t.Error(err)
		}
		moved = rec.Result().Cookies()
	}
	var got *sessionkit.Session
	rec := httptest.NewRecorder()
	m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ = sessionkit.FromContext(r.Context())
	})).ServeHTTP(rec, req())
	if refreshes.Load() != 1 || moved == nil {
		t.Fatalf("refreshes %d, moved cookie %v: want one refresh after the move", refreshes.Load(), moved)
	}
	if got != nil {
		t.Fatalf("the old cookie reached the moved session: %+v", got)
	}
	if sc := rec.Result().Header.Values("Set-Cookie"); len(sc) != 0 {
		t.Fatalf("the old cookie's response sets cookies: %q", sc)
	}
	// The moved session carries the new tokens, for its own cookie.
	s, err := m.GetServerSession(cookieRequest(moved))
	if err != nil || s.ActiveOrganizationID != "org_b" || s.AccessToken != "at2" {
		t.Fatalf("the moved session: got %+v, %v; want org_b with the refreshed token", s, err)
	}
}
