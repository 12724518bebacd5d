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
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/store"

	"golang.org/x/oauth2"

	"github.com/sessionkit/sessionkit"
	"github.com/sessionkit/sessionkit/internal/testclock"
)

// The Manager's grace window for a superseded cookie, and how often it
// records activity without Config.IdleTimeout, as its documentation gives
// them (30 seconds, 5 minutes).
const (
	theftGrace    = 30 * time.Second
	touchInterval = 5 * time.Minute
)

// NewStores returns n Stores that share one namespace, as n instances of
// an application share one Redis: what one saves, the others load. A
// store with nothing to share (memstore) returns the same Store n times.
type NewStores func(t *testing.T, n int) []store.Store

// RunManager tests a Manager backed by the stores newStores returns: the
// session lifecycle (sign-in, end, revoke, sign out everywhere, replaced),
// one refresh across three instances under 300 concurrent requests, theft
// detection with a replayed cookie on another instance, and the session ID
// rotating on every privilege change.
func RunManager(t *testing.T, newStores NewStores) {
	t.Run("Lifecycle", func(t *testing.T) { testLifecycle(t, newStores) })
	t.Run("RefreshAcrossInstances", func(t *testing.T) { testRefreshAcrossInstances(t, newStores) })
	t.Run("TheftDetection", func(t *testing.T) { testTheftDetection(t, newStores) })
	t.Run("Rotation", func(t *testing.T) { testRotation(t, newStores) })
	t.Run("RotationTheft", func(t *testing.T) { testRotationTheft(t, newStores) })
	t.Run("SeveralAccounts", func(t *testing.T) { testSeveralAccounts(t, newStores) })
	t.Run("LostCookie", func(t *testing.T) { testLostCookie(t, newStores) })
	t.Run("ActivityRotates", func(t *testing.T) { testActivityRotates(t, newStores) })
}

// fleet is n Managers sharing cookie keys and one store namespace.
type fleet struct {
	ms  []*sessionkit.Manager
	clk *testclock.Clock // the Managers': real time plus an offset tests advance, while stores keep real time
	// expired and theft record the callbacks, by session status.
	mu      sync.Mutex
	expired []sessionkit.Status
	theft   int
}

func newFleet(t *testing.T, newStores NewStores, n int, tokenURL string) *fleet {
	t.Helper()
	keys := []byte(rand.Text() + rand.Text())
	f := &fleet{clk: testclock.Live()}
	for _, st := range newStores(t, n) {
		cfg := sessionkit.Config{
			Keys:           [][]byte{keys},
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
	user := &sessionkit.User{ID: "user-" + rand.Text()}
	s, c := lifecycleReplace(t, f, user)
	lifecycleList(t, f, user, s)
	lifecycleEnd(t, f, user, s[1], c[1], c[2])
	lifecycleSignOut(t, f, user)
	lifecycleExpiredHooks(t, f)
}

// lifecycleReplace checks that a session is seen on another instance and
// that a new sign-in on the same client replaces it.
func lifecycleReplace(t *testing.T, f *fleet, user *sessionkit.User) ([3]*sessionkit.Session, [3][]*http.Cookie) {
	a, b := f.ms[0], f.ms[1]
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
	return [3]*sessionkit.Session{s1, s2, s3}, [3][]*http.Cookie{c1, c2, c3}
}

// lifecycleList checks that ListSessions reports the replaced session and
// the two active ones with their statuses.
func lifecycleList(t *testing.T, f *fleet, user *sessionkit.User, s [3]*sessionkit.Session) {
	ctx := t.Context()
	b := f.ms[1]
	s1, s2, s3 := s[0], s[1], s[2]
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
}

// lifecycleEnd checks Touch, End, Remove, RevokeUser and Revoke: an ended
// or removed session is gone everywhere with its status recorded, the
// user's other session survives End, and RevokeUser signs the user out.
func lifecycleEnd(t *testing.T, f *fleet, user *sessionkit.User, s2 *sessionkit.Session, c2, c3 []*http.Cookie) {
	ctx := t.Context()
	a, b := f.ms[0], f.ms[1]
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
	s5, c5 := f.signIn(t, a, nil, sessionkit.SignInParams{User: user})
	if err := b.Remove(ctx, s5.ID); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	gone(t, a, c5, "removed session")
	list, err := a.ListSessions(ctx, user.ID)
	if err != nil {
		t.Fatalf("ListSessions: %v", err)
	}
	for _, s := range list {
		if s.ID == s5.ID && s.Status != sessionkit.StatusRemoved {
			t.Fatalf("removed session: got status %s, want removed", s.Status)
		}
	}
	if err := b.RevokeUser(ctx, user.ID); err != nil {
		t.Fatalf("RevokeUser: %v", err)
	}
	gone(t, a, c3, "after RevokeUser")
	if err := a.Revoke(ctx, "no-such-session"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Revoke of an unknown session: got %v, want ErrNotFound", err)
	}
}

// lifecycleSignOut checks that SignOut ends the stored session: a copy of
// the cookie is worthless.
func lifecycleSignOut(t *testing.T, f *fleet, user *sessionkit.User) {
	ctx := t.Context()
	a, b := f.ms[0], f.ms[1]
	s4, c4 := f.signIn(t, a, nil, sessionkit.SignInParams{User: user})
	rec := httptest.NewRecorder()
	if err := b.SignOut(rec, request(c4)); err != nil {
		t.Fatalf("SignOut: %v", err)
	}
	if got, _ := get(a, c4); got != nil {
		t.Fatal("a copy of a signed-out cookie still works")
	}
	list, _ := a.ListSessions(ctx, user.ID)
	for _, s := range list {
		if s.ID == s4.ID && s.Status != sessionkit.StatusEnded {
			t.Fatalf("signed-out session: got status %s, want ended", s.Status)
		}
	}
}

// lifecycleExpiredHooks checks that OnSessionExpired fired for a replaced,
// an ended and a revoked session.
func lifecycleExpiredHooks(t *testing.T, f *fleet) {
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
	eventually(t, what, func() string {
		if got, _ := get(m, cookies); got != nil {
			return "got an active session, want none"
		}
		return ""
	})
}

func testTheftDetection(t *testing.T, newStores NewStores) {
	f := newFleet(t, newStores, 2, "")
	a, b := f.ms[0], f.ms[1]
	_, old := f.signIn(t, a, nil, sessionkit.SignInParams{User: &sessionkit.User{ID: "u-" + rand.Text()}})

	// A re-issue (here an update; a refresh does the same) advances the
	// cookie's generation.
	_, current := update(t, a, old, func(s *sessionkit.Session) { s.User.Name = "Renamed" })

	// In flight within the grace window, the old cookie still works, and
	// is brought up to date (on b, which may see a's write late).
	eventually(t, "old cookie within the grace window", func() string {
		if got, set := get(b, old); got == nil || got.User.Name != "Renamed" || len(set) == 0 {
			return fmt.Sprintf("got %v with %d cookies set, want the updated session and a new cookie", got, len(set))
		}
		return ""
	})
	f.clk.Advance(theftGrace + time.Second)
	if got, _ := get(a, current); got == nil {
		t.Fatal("current cookie: got no session")
	}
	// The old cookie, replayed later on another instance: stolen.
	gone(t, b, old, "replayed old cookie")
	f.wantThefts(t, 1)
	// Both holders are signed out. A store with client-side caching
	// (redisstore) learns of another instance's write one network hop
	// later, so instance a may serve its cached record for a moment.
	gone(t, a, current, "current cookie after the theft")
}

// alive waits until m sees an active session for cookies, for at most 2 s
// (see gone).
func alive(t *testing.T, m *sessionkit.Manager, cookies []*http.Cookie, what string) {
	t.Helper()
	eventually(t, what, func() string {
		if got, _ := get(m, cookies); got == nil {
			return "got no session"
		}
		return ""
	})
}

// addSignIn runs AddSignIn on m for the session of cookies and returns the
// session and its new cookies.
func addSignIn(t *testing.T, m *sessionkit.Manager, cookies []*http.Cookie, p sessionkit.SignInParams) (*sessionkit.Session, []*http.Cookie) {
	t.Helper()
	rec := httptest.NewRecorder()
	s, err := m.AddSignIn(rec, request(cookies), p)
	if err != nil {
		t.Fatalf("AddSignIn: %v", err)
	}
	return s, rec.Result().Cookies()
}

// update runs UpdateSession on m for the session of cookies and returns
// the new session and its cookies.
func update(t *testing.T, m *sessionkit.Manager, cookies []*http.Cookie, f func(*sessionkit.Session)) (*sessionkit.Session, []*http.Cookie) {
	t.Helper()
	rec := httptest.NewRecorder()
	s, err := m.UpdateSession(rec, request(cookies), func(s *sessionkit.Session) error { f(s); return nil })
	if err != nil {
		t.Fatalf("UpdateSession: %v", err)
	}
	return s, rec.Result().Cookies()
}

// eventually retries check until it holds, for at most 2 s: another
// instance may see a write one network hop late (client-side caching).
func eventually(t *testing.T, what string, check func() string) {
	t.Helper()
	var why string
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if why = check(); why == "" {
			return
		}
	}
	t.Fatalf("%s: %s", what, why)
}

func testRotation(t *testing.T, newStores NewStores) {
	f := newFleet(t, newStores, 2, "")
	user := "u-" + rand.Text()
	s0, c0 := f.signIn(t, f.ms[0], nil, sessionkit.SignInParams{User: &sessionkit.User{ID: user}})
	s1, c1 := rotationRename(t, f, s0, c0)
	s2, c2 := rotationScopeChange(t, f, user, s1, c1)
	c3 := rotationOldCookies(t, f, c1, s2, c2)
	rotationConcurrentMoves(t, f, user, c3)
	rotationVerbsByOldID(t, f, user, s0)

	// A cookie of before the moves, replayed after the grace window, is a
	// copy: with the session already revoked, it finds nothing to steal.
	gone(t, f.ms[0], c0, "first cookie after the grace window")
	f.wantThefts(t, 0)
}

// rotationRename checks that an update that changes no privilege keeps the ID.
func rotationRename(t *testing.T, f *fleet, s0 *sessionkit.Session, c0 []*http.Cookie) (*sessionkit.Session, []*http.Cookie) {
	a := f.ms[0]
	s1, c1 := update(t, a, c0, func(s *sessionkit.Session) { s.User.Name = "Renamed" })
	if s1.ID != s0.ID {
		t.Fatalf("a rename moved the session from %s to %s", s0.ID, s1.ID)
	}
	return s1, c1
}

// rotationScopeChange checks that a change of scope moves the session to a
// new ID, seen under it on another instance.
func rotationScopeChange(t *testing.T, f *fleet, user string, s1 *sessionkit.Session, c1 []*http.Cookie) (*sessionkit.Session, []*http.Cookie) {
	ctx := context.Background()
	a, b := f.ms[0], f.ms[1]
	s2, c2 := update(t, a, c1, func(s *sessionkit.Session) { s.ActiveOrganizationID = "org_a" })
	if s2.ID == s1.ID {
		t.Fatal("switching organization kept the session ID")
	}
	eventually(t, "the new cookie on another instance", func() string {
		got, _ := get(b, c2)
		if got == nil || got.ID != s2.ID || got.ActiveOrganizationID != "org_a" {
			return fmt.Sprintf("got %v, want session %s in org_a", got, s2.ID)
		}
		return ""
	})
	list, err := b.ListSessions(ctx, user)
	if err != nil || len(list) != 1 || list[0].ID != s2.ID {
		t.Fatalf("ListSessions: got %d sessions (%v), want only %s", len(list), err, s2.ID)
	}
	return s2, c2
}

// rotationOldCookies checks that a cookie of before a move never reaches
// the moved session, not even in flight: whoever planted it would get the
// new privileges.
func rotationOldCookies(t *testing.T, f *fleet, c1 []*http.Cookie, s2 *sessionkit.Session, c2 []*http.Cookie) []*http.Cookie {
	a, b := f.ms[0], f.ms[1]
	s3, c3 := update(t, b, c2, func(s *sessionkit.Session) { s.ActiveWorkspaceID = "ws_1" })
	if s3.ID == s2.ID {
		t.Fatal("switching workspace kept the session ID")
	}
	for name, c := range map[string][]*http.Cookie{"first cookie": c1, "second cookie": c2} {
		if got, set := get(b, c); got != nil || len(set) != 0 {
			t.Fatalf("%s within the grace window: got %v with %d cookies set, want no session and no cookie", name, got, len(set))
		}
	}
	f.clk.Advance(theftGrace + time.Second)
	if got, _ := get(a, c3); got == nil || got.ID != s3.ID {
		t.Fatalf("current cookie after the grace window: got %v, want session %s", got, s3.ID)
	}
	return c3
}

// rotationConcurrentMoves checks concurrent privilege changes on two
// instances: each lands, moved by compare-and-set onto the session the
// other moved, or finds that its cookie no longer names the session (it
// decoded it after the other's move). One live session remains, with
// every change that succeeded.
func rotationConcurrentMoves(t *testing.T, f *fleet, user string, c3 []*http.Cookie) {
	ctx := context.Background()
	a, b := f.ms[0], f.ms[1]
	var wg sync.WaitGroup
	var applied [2]bool
	for i, m := range []*sessionkit.Manager{a, b} {
		wg.Go(func() {
			rec := httptest.NewRecorder()
			_, err := m.UpdateSession(rec, request(c3), func(s *sessionkit.Session) error {
				s.ActiveOrganizationID += fmt.Sprint("+", i)
				return nil
			})
			switch {
			case err == nil:
				applied[i] = true
			case !errors.Is(err, sessionkit.ErrNoSession):
				t.Errorf("concurrent UpdateSession %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	if !applied[0] && !applied[1] {
		t.Fatal("neither concurrent update landed")
	}
	eventually(t, "after two concurrent moves", func() string {
		list, err := a.ListSessions(ctx, user)
		if err != nil || len(list) != 1 {
			return fmt.Sprintf("ListSessions: %d sessions (%v), want 1", len(list), err)
		}
		org := list[0].ActiveOrganizationID
		for i, ok := range applied {
			if ok && !strings.Contains(org, fmt.Sprint("+", i)) {
				return fmt.Sprintf("organization %q, want update %d applied", org, i)
			}
		}
		return ""
	})
}

// rotationVerbsByOldID checks that the verbs that name a session by ID
// reach it under an old ID too.
func rotationVerbsByOldID(t *testing.T, f *fleet, user string, s0 *sessionkit.Session) {
	ctx := context.Background()
	a, b := f.ms[0], f.ms[1]
	if err := b.Revoke(ctx, s0.ID); err != nil {
		t.Fatalf("Revoke by the first ID: %v", err)
	}
	list, _ := a.ListSessions(ctx, user)
	if len(list) != 1 || list[0].Status != sessionkit.StatusRevoked {
		t.Fatalf("after Revoke by the first ID: %+v, want the one session revoked", list)
	}
}

func testRotationTheft(t *testing.T, newStores NewStores) {
	f := newFleet(t, newStores, 2, "")
	a, b := f.ms[0], f.ms[1]
	_, planted := f.signIn(t, a, nil, sessionkit.SignInParams{User: &sessionkit.User{ID: "u-" + rand.Text()}})
	// The victim adds an account: a privilege change.
	s, current := addSignIn(t, a, planted, sessionkit.SignInParams{User: &sessionkit.User{ID: "admin-" + rand.Text()}})
	f.clk.Advance(theftGrace + time.Second)
	if got, _ := get(a, current); got == nil {
		t.Fatal("current cookie after the grace window: got no session")
	}
	// Whoever kept the cookie of before the change gets no session, and
	// the session it leads to is revoked.
	gone(t, b, planted, "cookie of before the privilege change")
	f.wantThefts(t, 1)
	gone(t, a, current, "the session "+s.ID+" after the theft")
}

func testSeveralAccounts(t *testing.T, newStores NewStores) {
	f := newFleet(t, newStores, 2, "")
	u1, u2, u3 := "u1-"+rand.Text(), "u2-"+rand.Text(), "u3-"+rand.Text()
	_, c := f.signIn(t, f.ms[0], nil, sessionkit.SignInParams{User: &sessionkit.User{ID: u1}})
	s := addAccount(t, f.ms[0], &c, u2)
	severalListedUnderBoth(t, f, s, u1, u2)
	severalRevokeOther(t, f, c, u1, u2)
	severalRevokeActive(t, f, &c, u2, u3)
	severalRevokeLast(t, f, c, u2)
}

// addAccount signs user in to the session of *c on m, as one more account,
// and moves *c to the cookies set.
func addAccount(t *testing.T, m *sessionkit.Manager, c *[]*http.Cookie, user string) *sessionkit.Session {
	t.Helper()
	s, next := addSignIn(t, m, *c, sessionkit.SignInParams{User: &sessionkit.User{ID: user}})
	*c = next
	return s
}

// wantAccounts checks, as seen on m, that the session of c has the
// accounts want, with active the active one.
func wantAccounts(t *testing.T, m *sessionkit.Manager, c []*http.Cookie, active string, want ...string) {
	t.Helper()
	eventually(t, "accounts", func() string {
		got, _ := get(m, c)
		if got == nil {
			return fmt.Sprintf("got no session, want %q", want)
		}
		var ids []string
		for _, in := range got.SignIns() {
			ids = append(ids, in.User.ID)
		}
		if fmt.Sprint(ids) != fmt.Sprint(want) || got.User.ID != active {
			return fmt.Sprintf("got %q active %s, want %q active %s", ids, got.User.ID, want, active)
		}
		return ""
	})
}

// severalListedUnderBoth checks that the session is listed under both
// accounts, the active one and the other, on every instance.
func severalListedUnderBoth(t *testing.T, f *fleet, s *sessionkit.Session, u1, u2 string) {
	ctx := context.Background()
	b := f.ms[1]
	for _, u := range []string{u1, u2} {
		eventually(t, "ListSessions("+u+")", func() string {
			list, err := b.ListSessions(ctx, u)
			if err != nil || len(list) != 1 || list[0].ID != s.ID {
				return fmt.Sprintf("got %d sessions (%v), want %s", len(list), err, s.ID)
			}
			return ""
		})
	}
}

// severalRevokeOther checks that signing out everywhere an account that is
// not the active one removes it, and leaves the session to the other.
func severalRevokeOther(t *testing.T, f *fleet, c []*http.Cookie, u1, u2 string) {
	ctx := context.Background()
	a, b := f.ms[0], f.ms[1]
	if err := b.RevokeUser(ctx, u1); err != nil {
		t.Fatalf("RevokeUser(u1): %v", err)
	}
	wantAccounts(t, a, c, u2, u2)
	if list, _ := a.ListSessions(ctx, u1); len(list) != 0 {
		t.Fatalf("ListSessions(u1) after RevokeUser: got %d sessions, want none", len(list))
	}
}

// severalRevokeActive checks that signing out everywhere the active
// account makes the other one active.
func severalRevokeActive(t *testing.T, f *fleet, c *[]*http.Cookie, u2, u3 string) {
	ctx := context.Background()
	a, b := f.ms[0], f.ms[1]
	addAccount(t, b, c, u3)
	wantAccounts(t, a, *c, u3, u2, u3)
	if err := a.RevokeUser(ctx, u3); err != nil {
		t.Fatalf("RevokeUser(u3): %v", err)
	}
	wantAccounts(t, b, *c, u2, u2)
}

// severalRevokeLast checks that signing out everywhere the last account
// revokes the session.
func severalRevokeLast(t *testing.T, f *fleet, c []*http.Cookie, u2 string) {
	ctx := context.Background()
	a, b := f.ms[0], f.ms[1]
	if err := a.RevokeUser(ctx, u2); err != nil {
		t.Fatalf("RevokeUser(u2): %v", err)
	}
	gone(t, b, c, "the session after its last account was signed out everywhere")
	list, err := a.ListSessions(ctx, u2)
	if err != nil || len(list) != 1 || list[0].Status != sessionkit.StatusRevoked {
		t.Fatalf("ListSessions(u2) at the end: %+v, %v; want the session, revoked", list, err)
	}
}

// wantThefts fails t unless OnTokenTheftDetected has fired want times.
func (f *fleet) wantThefts(t *testing.T, want int) {
	t.Helper()
	f.mu.Lock()
	n := f.theft
	f.mu.Unlock()
	if n != want {
		t.Fatalf("OnTokenTheftDetected fired %d times, want %d", n, want)
	}
}

// A re-issued cookie whose response never reached the client: the client
// comes back later with the cookie of before, and must not be taken for a
// thief, as long as no one has presented the new cookie.
func testLostCookie(t *testing.T, newStores NewStores) {
	f := newFleet(t, newStores, 2, "")
	a, b := f.ms[0], f.ms[1]
	_, old := f.signIn(t, a, nil, sessionkit.SignInParams{User: &sessionkit.User{ID: "u-" + rand.Text()}})
	update(t, a, old, func(s *sessionkit.Session) { s.User.Name = "Renamed" }) // its cookie is lost
	f.clk.Advance(theftGrace + time.Second)
	var caughtUp []*http.Cookie
	eventually(t, "the cookie of before, its successor never presented", func() string {
		got, set := get(b, old)
		if got == nil || got.User.Name != "Renamed" || len(set) == 0 {
			return fmt.Sprintf("got %v with %d cookies set, want the renamed session and a new cookie", got, len(set))
		}
		caughtUp = set
		return ""
	})
	f.wantThefts(t, 0)
	// Once the new cookie has been presented, the old one is a copy.
	if got, _ := get(a, caughtUp); got == nil {
		t.Fatal("caught-up cookie: got no session")
	}
	update(t, a, caughtUp, func(s *sessionkit.Session) { s.User.Name = "Again" })
	f.clk.Advance(theftGrace + time.Second)
	// The new cookie of the second update is lost too: caughtUp is
	// still accepted. Not so the first cookie, two generations old.
	eventually(t, "the caught-up cookie, its successor lost", func() string {
		if got, set := get(b, caughtUp); got == nil || got.User.Name != "Again" || len(set) == 0 {
			return fmt.Sprintf("got %v with %d cookies set, want the session and a new cookie", got, len(set))
		}
		return ""
	})
	gone(t, b, old, "a cookie two generations old")
	f.wantThefts(t, 1)
}

// Recorded activity starts a new generation, so that a copied cookie is
// found out in a session that is never refreshed or updated.
func testActivityRotates(t *testing.T, newStores NewStores) {
	f := newFleet(t, newStores, 2, "")
	a, b := f.ms[0], f.ms[1]
	_, c0 := f.signIn(t, a, nil, sessionkit.SignInParams{User: &sessionkit.User{ID: "u-" + rand.Text()}})
	stolen := c0
	f.clk.Advance(touchInterval + time.Second)
	got, c1 := get(a, c0)
	if got == nil || len(c1) == 0 {
		t.Fatalf("after the touch interval: got %v with %d cookies set, want the session and a new cookie", got, len(c1))
	}
	// Other requests in flight with the cookie of before are fine.
	alive(t, b, c0, "in flight")
	f.clk.Advance(theftGrace + time.Second)
	alive(t, b, c1, "the new cookie presented")
	gone(t, a, stolen, "the cookie of before, replayed later")
	f.wantThefts(t, 1)
	gone(t, b, c1, "the holder's cookie after the theft")
}
