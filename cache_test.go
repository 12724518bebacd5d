package sessionkit

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/internal/cookie"
	"github.com/sessionkit/sessionkit/internal/testclock"
)

func cookieParts(t *testing.T, m *Manager, cookies []*http.Cookie) []string {
	t.Helper()
	var found cookie.Found
	parts, _, err := m.cookies.read(requestWith("https://app.example/", cookies), &found)
	if err != nil {
		t.Fatal(err)
	}
	return parts
}

func TestCacheServesRepeatRequests(t *testing.T) {
	clk := newClock()
	m := mustNew(t, testConfig(clk, ""))
	cookies := signInCookies(t, m, SignInParams{Token: tokenOf("at", "rt", t0.Add(time.Hour)), User: &User{ID: "u"}})
	if m.cache.get(0, m.cache.key(SourceCookie, cookieParts(t, m, cookies)), clk.Now()) != nil {
		t.Fatal("cached before any request")
	}
	first := through(m, requestWith("https://app.example/", cookies))
	cached := m.cache.get(0, m.cache.key(SourceCookie, cookieParts(t, m, cookies)), clk.Now())
	if cached == nil {
		t.Fatal("not cached after a request")
	}
	// Each request gets its own copy: changing it changes neither the
	// cache nor the next request.
	first.User.Email = "changed@example.com"
	first.SignIn.User.Email = "changed@example.com"
	second := through(m, requestWith("https://app.example/", cookies))
	if second == cached || second.User.Email == "changed@example.com" || cached.User.Email == "changed@example.com" || &second.SignIn == &cached.SignIn {
		t.Fatal("a handler's change reached the cache or another request")
	}
	// Never past the session's own expiry.
	clk.Advance(defaultLifetime)
	if s := through(m, requestWith("https://app.example/", cookies)); s != nil && s.Status == StatusActive {
		t.Fatal("an expired session was served from the cache")
	}
}

func TestCacheDisabled(t *testing.T) {
	cfg := testConfig(newClock(), "")
	cfg.CacheBytes = -1
	m := mustNew(t, cfg)
	if m.cache != nil {
		t.Fatal("a negative CacheBytes left the cache on")
	}
	cookies := signInCookies(t, m, SignInParams{User: &User{ID: "u"}})
	if s := through(m, requestWith("https://app.example/", cookies)); s == nil || s.Status != StatusActive {
		t.Fatal("no session without the cache")
	}
}

func TestCacheSignOutEvicts(t *testing.T) {
	clk := newClock()
	m := mustNew(t, testConfig(clk, ""))
	cookies := signInCookies(t, m, SignInParams{User: &User{ID: "u"}})
	through(m, requestWith("https://app.example/", cookies))
	rec := serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := m.SignOut(w, r); err != nil {
			t.Error(err)
		}
	}), requestWith("https://app.example/", cookies))
	_ = rec
	if m.cache.get(0, m.cache.key(SourceCookie, cookieParts(t, m, cookies)), clk.Now()) != nil {
		t.Fatal("the signed-out cookie is still cached")
	}
}

// A cached session that must slide its idle expiry or be refreshed is
// copied first: the cached entry never changes.
func TestCacheSharedSessionIsNeverChanged(t *testing.T) {
	m, clk, cookies := idleSession(t, time.Hour)
	through(m, requestWith("https://app.example/", cookies))
	cached := m.cache.get(0, m.cache.key(SourceCookie, cookieParts(t, m, cookies)), clk.Now())
	if cached == nil {
		t.Fatal("not cached")
	}
	before := cached.LastActiveAt
	clk.Advance(10 * time.Minute)
	rec := serve(m.Middleware(http.NotFoundHandler()), requestWith("https://app.example/", cookies))
	if len(rec.Result().Cookies()) == 0 {
		t.Fatal("activity was not recorded")
	}
	if !cached.LastActiveAt.Equal(before) {
		t.Fatal("the cached session was changed in place")
	}
}

func TestCacheBearerDroppedOnKeyRotation(t *testing.T) {
	f := newBearerFixture(t, nil)
	raw := rsaSigner().Mint(t, claimsFor(t0))
	if c := f.do("Bearer " + raw); !c.ok {
		t.Fatal("valid token refused")
	}
	gen := f.m.bearer.Generation()
	if f.m.cache.get(gen, f.m.cache.key(SourceBearer, []string{raw}), f.clk.Now()) == nil {
		t.Fatal("not cached")
	}
	// The provider drops the key; a token with an unknown kid makes the
	// Manager fetch the set again.
	f.jwks.SetSigners(rsa2Signer())
	f.do("Bearer " + rsa2Signer().Mint(t, claimsFor(t0)))
	if f.m.bearer.Generation() == gen {
		t.Fatal("the key set generation did not move")
	}
	if c := f.do("Bearer " + raw); c.ok {
		t.Fatal("a token signed by a removed key was served from the cache")
	}
}

// The cache's own mechanism (budget, eviction, admission) is tested in
// internal/credcache; here, what the Manager keys and checks.
func TestCacheEntryChecks(t *testing.T) {
	c := newCredCache(64 << 10)
	s := &Session{Status: StatusActive}
	c.put(0, c.key(SourceBearer, []string{"short-lived"}), s, t0.Add(time.Second), t0)
	c.put(0, c.key(SourceCookie, []string{"chunk-0", "chunk-1"}), s, t0.Add(time.Second), t0)
	c.putRef(c.key(sourceRef, []string{"a-ref"}), cookieRef{ID: "sid"}, t0.Add(time.Hour), t0)
	tests := []struct {
		name string
		got  bool
		want bool
	}{
		{"same credential", c.get(0, c.key(SourceBearer, []string{"short-lived"}), t0) != nil, true},
		{"the same chunks", c.get(0, c.key(SourceCookie, []string{"chunk-0", "chunk-1"}), t0) != nil, true},
		{"the same bytes cut elsewhere: a miss", c.get(0, c.key(SourceCookie, []string{"chunk-", "0chunk-1"}), t0) != nil, false},
		{"a copy, not the caller's session", c.get(0, c.key(SourceBearer, []string{"short-lived"}), t0) == s, false},
		{"at its expiry", c.get(0, c.key(SourceBearer, []string{"short-lived"}), t0.Add(time.Second)) != nil, false},
		{"another source", c.get(0, c.key(SourceJWTCookie, []string{"short-lived"}), t0) != nil, false},
		{"another key generation", c.get(1, c.key(SourceBearer, []string{"short-lived"}), t0) != nil, false},
		{"another credential", c.get(0, c.key(SourceBearer, []string{"short-livee"}), t0) != nil, false},
		{"a session entry as a reference", func() bool { _, ok := c.getRef(c.key(sourceRef, []string{"short-lived"}), t0); return ok }(), false},
		{"a reference", func() bool { r, ok := c.getRef(c.key(sourceRef, []string{"a-ref"}), t0); return ok && r.ID == "sid" }(), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Fatalf("got %v, want %v", tt.got, tt.want)
			}
		})
	}
	c.evict([]string{"short-lived"})
	if c.get(0, c.key(SourceBearer, []string{"short-lived"}), t0) != nil {
		t.Fatal("served after evict")
	}
}

func TestCacheConcurrentHandlersOwnTheirCopies(t *testing.T) {
	m := mustNew(t, testConfig(newClock(), ""))
	cookies := signInCookies(t, m, SignInParams{User: &User{ID: "u", Email: "a@example.com"}})
	h := m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, ok := FromContext(r.Context())
		if !ok || s.User.Email != "a@example.com" {
			t.Error("saw another request's change")
			return
		}
		s.User.Email = "mine@example.com"
		s.SignIn.ID = "x"
	}))
	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20 {
				serve(h, requestWith("https://app.example/", cookies))
			}
		}()
	}
	wg.Wait()
}

// The cached path allocates at most 3 times per request, the copy the
// handler reads included (the budget of goal 1 in BENCHMARKS.md): the
// request copy that r.WithContext makes, the request state, and the
// handler's copy of the session (with its sign-in, or with its claims box: the claims themselves
// are copied only when the handler calls Claims). Without a read, 2.
func TestCacheAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation counts")
	}
	m := mustNew(t, testConfig(newClock(), ""))
	cookies := signInCookies(t, m, SignInParams{Token: benchToken(), User: &User{ID: "u"}})
	req := requestWith("https://app.example/", cookies)
	var sink *Session
	h := m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { sink, _ = FromContext(r.Context()) }))
	w := &discardWriter{h: http.Header{}}
	h.ServeHTTP(w, req)
	if got := testing.AllocsPerRun(200, func() { h.ServeHTTP(w, req) }); got > 3 || sink == nil {
		t.Fatalf("allocations per cached request: got %v, want at most 3", got)
	}
	noRead := m.Middleware(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	if got := testing.AllocsPerRun(200, func() { noRead.ServeHTTP(w, req) }); got > 2 {
		t.Fatalf("allocations per cached request without a read: got %v, want at most 2", got)
	}
}

func TestCacheAllocationsBearer(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation counts")
	}
	jwks := newJWKSServer(t, rsaSigner())
	m := mustNew(t, testConfig(newClock(), jwks.URL))
	req := httptest.NewRequest(http.MethodGet, "https://api.example/", nil)
	req.Header.Set("Authorization", "Bearer "+rsaSigner().Mint(t, claimsFor(t0)))
	var sink *Session
	h := m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { sink, _ = FromContext(r.Context()) }))
	w := &discardWriter{h: http.Header{}}
	h.ServeHTTP(w, req)
	if sink == nil || sink.Source != SourceBearer {
		t.Fatal("no bearer session")
	}
	if got := testing.AllocsPerRun(200, func() { h.ServeHTTP(w, req) }); got > 3 {
		t.Fatalf("allocations per cached bearer request: got %v, want at most 3", got)
	}
	// Reading the claims copies them, on top of the budget.
	withClaims := m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := FromContext(r.Context())
		if s.Claims()["sub"] == nil {
			t.Error("no sub claim")
		}
	}))
	if got := testing.AllocsPerRun(50, func() { withClaims.ServeHTTP(w, req) }); got <= 3 {
		t.Fatalf("allocations with a claims read: got %v, want the copy's", got)
	}
}

// A SessionFromClaims hook may push ExpireAt past the JWT's exp (to a
// custom session claim, say); the cache must still stop serving the token
// at its exp, as verifying it again would.
func TestCacheBearerEndsAtJWTExp(t *testing.T) {
	clk := newClock()
	cfg, m, req := bearerHookManager(t, clk, func(c map[string]any, s *Session) error {
		s.ExpireAt = s.ExpireAt.Add(24 * time.Hour)
		return nil
	})
	through(m, req())
	clk.Advance(time.Hour) // token exp was t0+10m
	var c capture
	serve(m.Middleware(c.handler(m)), req())
	if c.ok {
		t.Errorf("JWT accepted 50 min after its exp (cache)")
	}
	m2 := mustNew(t, func() Config { c := cfg; c.CacheBytes = -1; return c }())
	var c2 capture
	serve(m2.Middleware(c2.handler(m2)), req())
	t.Logf("without cache: active=%v err=%v", c2.ok, c2.srvErr)
}

// A SessionFromClaims hook used as a revocation check must see every
// request: a token it starts rejecting is not served from the cache.
func TestCacheBearerRechecksSessionFromClaims(t *testing.T) {
	var revoked atomic.Bool
	_, m, req := bearerHookManager(t, newClock(), func(c map[string]any, s *Session) error {
		if revoked.Load() {
			return errRevokedTest
		}
		return nil
	})
	through(m, req())
	revoked.Store(true)
	var c capture
	serve(m.Middleware(c.handler(m)), req())
	if c.ok {
		t.Errorf("token rejected by SessionFromClaims still accepted from the cache")
	}
}

// bearerHookManager is a bearer Manager on clk whose SessionFromClaims is
// hook. It returns its configuration, the Manager, and a maker of requests
// that carry the same JWT, valid from t0 for 10 minutes.
func bearerHookManager(t *testing.T, clk *testclock.Clock, hook func(map[string]any, *Session) error) (Config, *Manager, func() *http.Request) {
	jwks := newJWKSServer(t, rsaSigner())
	cfg := testConfig(clk, jwks.URL)
	cfg.Bearer.SessionFromClaims = hook
	m := mustNew(t, cfg)
	tok := rsaSigner().Mint(t, claimsFor(t0))
	return cfg, m, func() *http.Request {
		r := requestWith("https://app.example/", nil)
		r.Header.Set("Authorization", "Bearer "+tok)
		return r
	}
}

// revokedErr is the error a revocation check in SessionFromClaims returns.
type revokedErr struct{}

func (revokedErr) Error() string { return "revoked" }

var errRevokedTest = revokedErr{}

// Before calmUntil, a cached cookie session needs nothing that the read
// path would check: it is active, no refresh or activity record is due,
// markUnrefreshable leaves it alone and no token-lapse callback would
// fire. At calmUntil, short of its end of life, one of those is due.
func TestCalmUntilSumsUpTheChecks(t *testing.T) {
	clk := newClock()
	now0 := clk.Now()
	at := func(m int) time.Time { return now0.Add(time.Duration(m) * time.Minute) }
	times := []time.Time{{}, at(-90), at(-10), at(5), at(20), at(45), at(90), at(200)}
	calm, tight := 0, 0
	for _, idle := range []time.Duration{0, 30 * time.Minute} {
		cfg := testConfig(clk, "")
		cfg.IdleTimeout = idle
		cfg.RefreshLeeway = 10 * time.Minute
		cfg.Providers = []Provider{{ID: "oidc", ClientID: testClientID, AuthURL: testIssuer + "/authorize", TokenURL: testIssuer + "/token"}}
		m := mustNew(t, cfg)
		for i := range 4096 {
			pick := func(n int) int { return i >> (2 * n) & 3 } // the i-th combination of the fields below
			s := &Session{Status: StatusActive, Source: SourceCookie, ExpireAt: at(120), AbandonAt: at(600)}
			s.AccessToken = []string{"", "at", "at", "at"}[pick(0)]
			s.AccessTokenExpiresAt = times[pick(1)*2+pick(0)%2]
			s.RefreshToken = []string{"", "rt"}[pick(2)%2]
			s.Provider = []string{"oidc", "other"}[pick(2)/2]
			s.IDToken = []string{"", "idt"}[pick(3)%2]
			s.IDTokenExpiresAt = times[pick(3)/2*4+pick(4)]
			s.LastActiveAt = times[pick(5)*2]
			if pick(5) == 3 {
				s.AccessTokenIssuedAt = at(-5)
			}
			until := m.calmUntil(s)
			needs := func(now time.Time) []string {
				var why []string
				if statusAt(s, now) != StatusActive {
					why = append(why, "not active")
				}
				if m.refresher.due(s, now) {
					why = append(why, "refresh due")
				}
				if idle > 0 && now.Sub(s.LastActiveAt) >= m.stored.touchInterval() {
					why = append(why, "activity record due")
				}
				d := decoded{session: s, shared: true, now: now}
				if markUnrefreshable(&d); d.session.Error != "" {
					why = append(why, "marked unrefreshable")
				}
				if s.AccessToken != "" && lapsed(s.AccessTokenExpiresAt, now) || s.IDToken != "" && lapsed(s.IDTokenExpiresAt, now) {
					why = append(why, "a token lapsed")
				}
				return why
			}
			for _, now := range times[1:] {
				if now.Before(until) {
					calm++
					if why := needs(now); len(why) > 0 {
						t.Fatalf("idle %v, session %+v: calm until %v, but at %v: %v", idle, s, until, now, why)
					}
				}
			}
			if !until.IsZero() && until.Before(cacheUntil(s)) {
				tight++
				if len(needs(until)) == 0 {
					t.Fatalf("idle %v, session %+v: calm until %v, and nothing is due then", idle, s, until)
				}
			}
		}
	}
	if calm == 0 || tight == 0 {
		t.Fatalf("%d calm checks, %d calm times before the end of life; want some of each", calm, tight)
	}
	m := mustNew(t, testConfig(clk, ""))
	for _, s := range []*Session{
		{Status: StatusActive, Source: SourceBearer, ExpireAt: at(60)},
		{Status: StatusActive, Source: SourceCookie, ExpireAt: at(60), Error: RefreshAccessTokenError},
		{Status: StatusEnded, Source: SourceCookie, ExpireAt: at(60)},
	} {
		if !m.calmUntil(s).IsZero() {
			t.Fatalf("session %+v is calm", s)
		}
	}
}

// A session served from the cache still has its access token's lapse
// reported when the clock passes it, though nothing else changed: the
// calm time it was cached with ends there.
func TestCachedSessionReportsALapsedToken(t *testing.T) {
	clk := newClock()
	cfg := testConfig(clk, "")
	var fired atomic.Int32
	cfg.Callbacks.OnAccessTokenExpired = func(context.Context, *Session) { fired.Add(1) }
	m := mustNew(t, cfg)
	cookies := signInCookies(t, m, SignInParams{Token: tokenOf("at", "", clk.Now().Add(10*time.Minute)), User: &User{ID: "u"}})
	for range 2 {
		if s := through(m, requestWith("https://app.example/", cookies)); s == nil || s.Status != StatusActive || s.Error != "" || fired.Load() != 0 {
			t.Fatalf("before the lapse: got %+v, %d callbacks; want an active session and none", s, fired.Load())
		}
	}
	if m.cache.get(0, m.cache.key(SourceCookie, cookieParts(t, m, cookies)), clk.Now()) == nil {
		t.Fatal("not cached")
	}
	clk.Advance(11 * time.Minute)
	s := through(m, requestWith("https://app.example/", cookies))
	if s == nil || s.Status != StatusActive || s.Error != RefreshAccessTokenError || fired.Load() != 1 {
		t.Fatalf("after the lapse: got %+v, %d callbacks; want an active session marked %s and one", s, fired.Load(), RefreshAccessTokenError)
	}
}

// Calm is a property of an entry found: a miss is never calm, whatever the
// clock reads, and a calm time before 1970 is no calm time.
func TestCalmNeedsAnEntry(t *testing.T) {
	c := newCredCache(64 << 10)
	before1970 := time.Unix(-1000, 0)
	if s, calm := c.lookup(0, c.key(SourceCookie, []string{"absent"}), before1970); s != nil || calm {
		t.Fatalf("a miss: got %v, calm %v", s, calm)
	}
	s := &Session{Status: StatusActive, Source: SourceCookie}
	ck := c.key(SourceCookie, []string{"present"})
	c.putCalm(0, ck, s, t0.Add(time.Hour), t0, func(*Session) time.Time { return time.Unix(-1, 0) })
	if got, calm := c.lookup(0, ck, t0); got == nil || calm {
		t.Fatalf("calm before 1970: got %v, calm %v; want the entry, not calm", got, calm)
	}
}
