package storetest

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/sessionkit/sessionkit"
)

// NewStores returns n Stores that share one namespace, as n instances of
// an application share one Redis: what one saves, the others load. A
// store with nothing to share (memstore) returns the same Store n times.
type NewStores func(t *testing.T, n int) []sessionkit.Store

// RunManager tests a Manager backed by the stores newStores returns: the
// session lifecycle (sign-in, end, revoke, sign out everywhere, replaced),
// one refresh across three instances under 300 concurrent requests, and
// theft detection with a replayed cookie on another instance.
func RunManager(t *testing.T, newStores NewStores) {
	t.Run("Lifecycle", func(t *testing.T) { testLifecycle(t, newStores) })
	t.Run("RefreshAcrossInstances", func(t *testing.T) { testRefreshAcrossInstances(t, newStores) })
	t.Run("TheftDetection", func(t *testing.T) { testTheftDetection(t, newStores) })
}

// mclock is real time plus an offset tests advance: the Manager's clock,
// while stores keep real time.
type mclock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *mclock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return time.Now().Add(c.offset) }
func (c *mclock) Advance(d time.Duration) {
	c.mu.Lock()
	c.offset += d
	c.mu.Unlock()
}

// fleet is n Managers sharing cookie keys and one store namespace.
type fleet struct {
	ms  []*sessionkit.Manager
	clk *mclock
	// expired and theft record the callbacks, by session status.
	mu      sync.Mutex
	expired []sessionkit.Status
	theft   int
}

func newFleet(t *testing.T, newStores NewStores, n int, tokenURL string) *fleet {
	t.Helper()
	keys, err := sessionkit.KeyPairFromSecret(rand.Text() + rand.Text())
	if err != nil {
		t.Fatal(err)
	}
	f := &fleet{clk: &mclock{}}
	for _, st := range newStores(t, n) {
		cfg := sessionkit.Config{
			Keys:           []sessionkit.KeyPair{keys},
			Store:          st,
			Now:            f.clk.Now,
			Logger:         slog.New(slog.DiscardHandler),
			RefreshTimeout: 10 * time.Second,
			Callbacks: sessionkit.Callbacks{
				OnSessionExpired: func(_ context.Context, s *sessionkit.Session) {
					f.mu.Lock()
					f.expired = append(f.expired, s.Status)
					f.mu.Unlock()
				},
				OnTokenTheftDetected: func(context.Context, *sessionkit.Session) {
					f.mu.Lock()
					f.theft++
					f.mu.Unlock()
				},
			},
		}
		if tokenURL != "" {
			cfg.Providers = []sessionkit.Provider{{ID: "idp", ClientID: "c", ClientSecret: "s",
				AuthURL: "https://idp.example/auth", TokenURL: tokenURL, AuthStyle: oauth2.AuthStyleInParams}}
		}
		m, err := sessionkit.New(cfg)
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		t.Cleanup(func() { _ = m.Close() })
		f.ms = append(f.ms, m)
	}
	return f
}

func (f *fleet) signIn(t *testing.T, m *sessionkit.Manager, carry []*http.Cookie, p sessionkit.SignInParams) (*sessionkit.Session, []*http.Cookie) {
	t.Helper()
	rec := httptest.NewRecorder()
	s, err := m.SignIn(rec, request(carry), p)
	if err != nil {
		t.Fatalf("SignIn: %v", err)
	}
	return s, rec.Result().Cookies()
}

func request(cookies []*http.Cookie) *http.Request {
	req := httptest.NewRequest(http.MethodGet, "https://app.example/", nil)
	for _, c := range cookies {
		if c.MaxAge >= 0 && c.Value != "" {
			req.AddCookie(c)
		}
	}
	return req
}

// get runs a request with cookies through m's middleware and returns the
// active session the handler saw (nil if none) and the cookies set.
func get(m *sessionkit.Manager, cookies []*http.Cookie) (*sessionkit.Session, []*http.Cookie) {
	var got *sessionkit.Session
	rec := httptest.NewRecorder()
	m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ = sessionkit.FromContext(r.Context())
	})).ServeHTTP(rec, request(cookies))
	return got, rec.Result().Cookies()
}

func testLifecycle(t *testing.T, newStores NewStores) {
	f := newFleet(t, newStores, 2, "")
	a, b := f.ms[0], f.ms[1]
	ctx := t.Context()
	user := &sessionkit.User{ID: "user-" + rand.Text()}

	s1, c1 := f.signIn(t, a, nil, sessionkit.SignInParams{User: user})
	if got, _ := get(b, c1); got == nil || got.ID != s1.ID || got.User.ID != user.ID {
		t.Fatalf("other instance: got %v, want session %s", got, s1.ID)
	}
	// A new sign-in on the same client replaces the old session.
	s2, c2 := f.signIn(t, b, c1, sessionkit.SignInParams{User: user})
	if s2.ID == s1.ID {
		t.Fatal("sign-in reused the session ID")
	}
	gone(t, a, c1, "replaced session")
	s3, c3 := f.signIn(t, a, nil, sessionkit.SignInParams{User: user})

	list, err := b.ListSessions(ctx, user.ID)
	if err != nil {
		t.Fatalf("ListSessions: %v", err)
	}
	statuses := map[string]sessionkit.Status{}
	for _, s := range list {
		statuses[s.ID] = s.Status
	}
	want := map[string]sessionkit.Status{s1.ID: sessionkit.StatusReplaced, s2.ID: sessionkit.StatusActive, s3.ID: sessionkit.StatusActive}
	if fmt.Sprint(statuses) != fmt.Sprint(want) {
		t.Fatalf("ListSessions: got %v, want %v", statuses, want)
	}

	if err := a.Touch(ctx, s2.ID); err != nil {
		t.Fatalf("Touch: %v", err)
	}
	if err := a.End(ctx, s2.ID); err != nil {
		t.Fatalf("End: %v", err)
	}
	gone(t, b, c2, "ended session")
	if err := a.Touch(ctx, s2.ID); !errors.Is(err, sessionkit.ErrSessionExpired) {
		t.Fatalf("Touch of an ended session: got %v, want ErrSessionExpired", err)
	}
	if got, _ := get(b, c3); got == nil {
		t.Fatal("the user's other session was signed out too")
	}
	if err := b.RevokeUser(ctx, user.ID); err != nil {
		t.Fatalf("RevokeUser: %v", err)
	}
	gone(t, a, c3, "after RevokeUser")
	if err := a.Revoke(ctx, "no-such-session"); !errors.Is(err, sessionkit.ErrNotFound) {
		t.Fatalf("Revoke of an unknown session: got %v, want ErrNotFound", err)
	}

	// SignOut ends the stored session: a copy of the cookie is worthless.
	s4, c4 := f.signIn(t, a, nil, sessionkit.SignInParams{User: user})
	rec := httptest.NewRecorder()
	if err := b.SignOut(rec, request(c4)); err != nil {
		t.Fatalf("SignOut: %v", err)
	}
	if got, _ := get(a, c4); got != nil {
		t.Fatal("a copy of a signed-out cookie still works")
	}
	list, _ = a.ListSessions(ctx, user.ID)
	for _, s := range list {
		if s.ID == s4.ID && s.Status != sessionkit.StatusEnded {
			t.Fatalf("signed-out session: got status %s, want ended", s.Status)
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	seen := map[sessionkit.Status]bool{}
	for _, st := range f.expired {
		seen[st] = true
	}
	for _, st := range []sessionkit.Status{sessionkit.StatusReplaced, sessionkit.StatusEnded, sessionkit.StatusRevoked} {
		if !seen[st] {
			t.Errorf("OnSessionExpired never fired for a %s session (fired for %v)", st, f.expired)
		}
	}
}

// tokenEndpoint answers refresh_token grants, slowly enough that
// concurrent requests overlap, and counts them.
func tokenEndpoint(t *testing.T) (*httptest.Server, *atomic.Int64) {
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		time.Sleep(50 * time.Millisecond)
		if r.PostFormValue("grant_type") != "refresh_token" || r.PostFormValue("refresh_token") != "rt-1" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"error":"invalid_grant"}`))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": fmt.Sprintf("at-%d", n+1), "token_type": "Bearer",
			"refresh_token": fmt.Sprintf("rt-%d", n+1), "expires_in": 3600})
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

func testRefreshAcrossInstances(t *testing.T, newStores NewStores) {
	srv, calls := tokenEndpoint(t)
	f := newFleet(t, newStores, 3, srv.URL)
	now := f.clk.Now()
	_, cookies := f.signIn(t, f.ms[0], nil, sessionkit.SignInParams{Provider: "idp", User: &sessionkit.User{ID: "u-" + rand.Text()},
		Token: &oauth2.Token{AccessToken: "at-1", RefreshToken: "rt-1", TokenType: "Bearer", Expiry: now.Add(2 * time.Minute)}})
	f.clk.Advance(5 * time.Minute) // the access token has expired

	const n = 300
	var wg sync.WaitGroup
	got := make([]*sessionkit.Session, n)
	for i := range n {
		wg.Go(func() { got[i], _ = get(f.ms[i%3], cookies) })
	}
	wg.Wait()
	if c := calls.Load(); c != 1 {
		t.Fatalf("token endpoint calls: got %d, want 1", c)
	}
	for i, s := range got {
		if s == nil {
			t.Fatalf("request %d: got no session", i)
		}
		if s.AccessToken != "at-2" || s.RefreshToken != "rt-2" || s.Error != "" {
			t.Fatalf("request %d (instance %d): got access %q refresh %q error %q, want at-2, rt-2, none", i, i%3, s.AccessToken, s.RefreshToken, s.Error)
		}
	}
}

// gone waits until m sees no active session for cookies. A store with
// client-side caching (redisstore) learns of another instance's write one
// network hop later, so an instance may serve its cached record for a
// moment; anything longer than 2 s fails.
func gone(t *testing.T, m *sessionkit.Manager, cookies []*http.Cookie, what string) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for {
		if got, _ := get(m, cookies); got == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: got an active session, want none", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func testTheftDetection(t *testing.T, newStores NewStores) {
	f := newFleet(t, newStores, 2, "")
	a, b := f.ms[0], f.ms[1]
	_, old := f.signIn(t, a, nil, sessionkit.SignInParams{User: &sessionkit.User{ID: "u-" + rand.Text()}})

	// A re-issue (here an update; a refresh does the same) advances the
	// cookie's generation.
	rec := httptest.NewRecorder()
	if _, err := a.UpdateSession(rec, request(old), func(s *sessionkit.Session) error {
		s.ActiveOrganizationID = "org_2"
		return nil
	}); err != nil {
		t.Fatalf("UpdateSession: %v", err)
	}
	current := rec.Result().Cookies()

	// In flight within the grace window, the old cookie still works, and
	// is brought up to date.
	for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		// b may see a's write one network hop late (client-side caching).
		got, set := get(b, old)
		if got != nil && got.ActiveOrganizationID == "org_2" && len(set) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("old cookie within the grace window: got %v with %d cookies set, want the updated session and a new cookie", got, len(set))
		}
	}
	f.clk.Advance(sessionkit.TheftGrace + time.Second)
	if got, _ := get(a, current); got == nil {
		t.Fatal("current cookie: got no session")
	}
	// The old cookie, replayed later on another instance: stolen.
	gone(t, b, old, "replayed old cookie")
	f.mu.Lock()
	theft := f.theft
	f.mu.Unlock()
	if theft != 1 {
		t.Fatalf("OnTokenTheftDetected: fired %d times, want 1", theft)
	}
	// Both holders are signed out. A store with client-side caching
	// (redisstore) learns of another instance's write one network hop
	// later, so instance a may serve its cached record for a moment.
	gone(t, a, current, "current cookie after the theft")
}
