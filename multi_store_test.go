package sessionkit_test

import (
	"context"
	"crypto/rand"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/sessionkit/sessionkit/store"

	"github.com/sessionkit/sessionkit"
)

// withCookies is a request carrying the live cookies of recs, later ones
// winning.
func withCookies(recs ...*httptest.ResponseRecorder) *http.Request {
	jar := map[string]*http.Cookie{}
	var order []string
	for _, rec := range recs {
		for _, c := range rec.Result().Cookies() {
			if _, ok := jar[c.Name]; !ok {
				order = append(order, c.Name)
			}
			jar[c.Name] = c
		}
	}
	r := httptest.NewRequest(http.MethodPost, "https://app.example/", nil)
	for _, n := range order {
		if c := jar[n]; c.MaxAge >= 0 && c.Value != "" {
			r.AddCookie(c)
		}
	}
	return r
}

func TestMultiSignInWithStore(t *testing.T) {
	f := newTicketFixture(t)
	ctx := context.Background()
	r0 := httptest.NewRecorder()
	first, err := f.a.SignIn(r0, httptest.NewRequest(http.MethodPost, "https://app.example/", nil),
		sessionkit.SignInParams{User: &sessionkit.User{ID: "u1"}})
	if err != nil {
		t.Fatal(err)
	}
	tok1, _ := f.a.GetToken(ctx, first, "api")
	r1 := httptest.NewRecorder()
	s, err := f.a.AddSignIn(r1, withCookies(r0), sessionkit.SignInParams{User: &sessionkit.User{ID: "u2"}})
	if err != nil || s.ID == first.ID || len(s.SignIns()) != 2 || s.User.ID != "u2" {
		t.Fatalf("AddSignIn: got %+v, %v", s, err)
	}
	// The other instance sees the second account active.
	got, err := f.b.GetServerSession(withCookies(r0, r1))
	if err != nil || got.User.ID != "u2" || len(got.SignIns()) != 2 {
		t.Fatalf("instance b: got %+v, %v", got, err)
	}
	r2 := httptest.NewRecorder()
	got, err = f.b.SwitchSignIn(r2, withCookies(r0, r1), first.SignIn.ID)
	if err != nil || got.User.ID != "u1" {
		t.Fatalf("SwitchSignIn on b: got %+v, %v", got, err)
	}
	if tok, _ := f.a.GetToken(ctx, got, "api"); tok == tok1 {
		t.Fatal("a token minted before the switches came back after them")
	}
	if _, err := f.a.SwitchScope(httptest.NewRecorder(), withCookies(r0, r1, r2), sessionkit.ScopeOrganization, "org_a"); !errors.Is(err, sessionkit.ErrScopeForbidden) {
		t.Fatalf("SwitchScope without AuthorizeScope: got %v, want ErrScopeForbidden", err)
	}
	r3 := httptest.NewRecorder()
	got, err = f.a.SignOutOne(r3, withCookies(r0, r1, r2), first.SignIn.ID)
	if err != nil || got.User.ID != "u2" || len(got.SignIns()) != 1 {
		t.Fatalf("SignOutOne: got %+v, %v", got, err)
	}
	r4 := httptest.NewRecorder()
	if got, err = f.b.SignOutOne(r4, withCookies(r0, r1, r2, r3), got.SignIn.ID); err != nil || got != nil {
		t.Fatalf("SignOutOne(last): got %+v, %v", got, err)
	}
	// The session is ended in the Store: even the old cookie is worthless.
	if s, err := f.a.GetServerSession(withCookies(r0, r1, r2, r3)); err == nil && s.Status == sessionkit.StatusActive {
		t.Fatalf("after the last sign-out: got an active session %+v", s)
	}
}

// countingLoads counts the Store's loads.
type countingLoads struct {
	fullStore
	n atomic.Int32
}

func (s *countingLoads) Load(ctx context.Context, id string) (store.Record, error) {
	s.n.Add(1)
	return s.fullStore.Load(ctx, id)
}

// AddSignIn called without Middleware reads the session once, then
// loads it once more to change it (compare-and-set), as UpdateSession does.
func TestAddSignInReadsOnce(t *testing.T) {
	keys := []byte(rand.Text() + rand.Text())
	backend := &countingLoads{fullStore: newMemStore(t)}
	m := newStoreManager(t, keys, backend)
	_, req := signedIn(t, m, sessionkit.SignInParams{User: &sessionkit.User{ID: "u"}})
	if _, err := m.GetServerSession(req()); err != nil { // the record as read later
		t.Fatal(err)
	}
	backend.n.Store(0)
	s, err := m.AddSignIn(httptest.NewRecorder(), req(), sessionkit.SignInParams{User: &sessionkit.User{ID: "v"}})
	if err != nil || len(s.SignIns()) != 2 {
		t.Fatalf("AddSignIn: got %v, %v; want two sign-ins", s, err)
	}
	if n := backend.n.Load(); n != 2 {
		t.Fatalf("AddSignIn loaded the record %d times, want 2 (one read, one compare-and-set)", n)
	}
}
