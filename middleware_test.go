package sessionkit

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/internal/jwtverify"
	"github.com/sessionkit/sessionkit/internal/page"
)

func TestRequire(t *testing.T) {
	f := newBearerFixture(t, nil)
	cookies := signInCookies(t, f.m, SignInParams{User: &User{ID: "u"}})
	validBearer := rsaSigner().Mint(t, claimsFor(t0))
	expiredClaims := claimsFor(t0.Add(-time.Hour))
	expiredBearer := rsaSigner().Mint(t, expiredClaims)

	tests := []struct {
		name         string
		method       string
		target       string
		headers      map[string]string
		cookies      []*http.Cookie
		wantCode     int
		wantLocation string
		wantWWW      string
		wantError    string
	}{
		{name: "cookie session passes", target: "/dash", cookies: cookies, wantCode: 200},
		{name: "bearer passes", target: "/api/x", headers: map[string]string{"Authorization": "Bearer " + validBearer}, wantCode: 200},
		{name: "page without session redirects", target: "/dash?tab=2", headers: map[string]string{"Accept": "text/html"},
			wantCode: 303, wantLocation: "/api/auth/signin?callbackUrl=" + url.QueryEscape("/dash?tab=2")},
		{name: "navigation redirects", target: "/dash", headers: map[string]string{"Sec-Fetch-Mode": "navigate", "Accept": "*/*"},
			wantCode: 303, wantLocation: "/api/auth/signin?callbackUrl=%2Fdash"},
		{name: "json api without session", target: "/api/x", headers: map[string]string{"Accept": "application/json"},
			wantCode: 401, wantWWW: "Bearer", wantError: "unauthenticated"},
		{name: "fetch without session", target: "/api/x", headers: map[string]string{"Sec-Fetch-Mode": "cors"},
			wantCode: 401, wantWWW: "Bearer", wantError: "unauthenticated"},
		{name: "post without session", method: http.MethodPost, target: "/api/x",
			wantCode: 401, wantWWW: "Bearer", wantError: "unauthenticated"},
		{name: "invalid bearer", target: "/api/x", headers: map[string]string{"Authorization": "Bearer x.y.z"},
			wantCode: 401, wantWWW: `Bearer error="invalid_token", error_description="the token is invalid"`, wantError: "invalid_token"},
		{name: "expired bearer", target: "/api/x", headers: map[string]string{"Authorization": "Bearer " + expiredBearer},
			wantCode: 401, wantWWW: `Bearer error="invalid_token", error_description="the token has expired"`, wantError: "invalid_token"},
		{name: "malformed authorization", target: "/api/x", headers: map[string]string{"Authorization": "Bearer"},
			wantCode: 400, wantWWW: `Bearer error="invalid_request", error_description="the Authorization header is malformed"`, wantError: "invalid_request"},
		{name: "form post navigation redirects", method: http.MethodPost, target: "/settings", headers: map[string]string{"Sec-Fetch-Mode": "navigate", "Accept": "text/html"},
			wantCode: 303, wantLocation: "/api/auth/signin?callbackUrl=%2Fsettings"},
		{name: "protocol-relative path is not a callback", target: "//evil.example/x", headers: map[string]string{"Accept": "text/html"},
			wantCode: 303, wantLocation: "/api/auth/signin?callbackUrl=%2F"},
		{name: "backslash path is not a callback", target: "/%5Cevil.example", headers: map[string]string{"Accept": "text/html"},
			wantCode: 303, wantLocation: "/api/auth/signin?callbackUrl=%2F%255Cevil.example"},
		{name: "tampered cookie api", target: "/api/x", headers: map[string]string{"Accept": "application/json", "Cookie": "__Host-sessionkit=AAAA"},
			wantCode: 401, wantWWW: "Bearer", wantError: "invalid_session"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method := tt.method
			if method == "" {
				method = http.MethodGet
			}
			req := httptest.NewRequest(method, "https://app.example"+tt.target, nil)
			for k, v := range tt.headers {
				req.Header.Set(k, v)
			}
			for _, c := range tt.cookies {
				req.AddCookie(c)
			}
			called := false
			rec := serve(f.m.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				called = true
				if _, ok := FromContext(r.Context()); !ok {
					t.Error("handler behind Require has no session")
				}
			})), req)
			if rec.Code != tt.wantCode {
				t.Fatalf("code: got %d, want %d (%s)", rec.Code, tt.wantCode, rec.Body)
			}
			if called != (tt.wantCode == 200) {
				t.Errorf("handler called: %v", called)
			}
			if got := rec.Header().Get("Location"); got != tt.wantLocation {
				t.Errorf("Location: got %q, want %q", got, tt.wantLocation)
			}
			if got := rec.Header().Get("WWW-Authenticate"); got != tt.wantWWW {
				t.Errorf("WWW-Authenticate: got %q, want %q", got, tt.wantWWW)
			}
			if tt.wantError != "" {
				var body struct {
					Error       string `json:"error"`
					Description string `json:"error_description"`
				}
				if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Error != tt.wantError {
					t.Errorf("body: got %s (%v), want error %q", rec.Body, err, tt.wantError)
				}
				if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
					t.Errorf("Content-Type: got %q", ct)
				}
				if cc := rec.Header().Get("Cache-Control"); cc != "no-store" {
					t.Errorf("Cache-Control: got %q, want no-store", cc)
				}
				if strings.Contains(rec.Body.String(), validBearer[:20]) {
					t.Error("body leaks the token")
				}
			}
		})
	}
}

// An invalid JWT cookie is an invalid token, but no bearer token was
// presented, so WWW-Authenticate carries no error (RFC 6750 3).
func TestRequireInvalidJWTCookie(t *testing.T) {
	f := newBearerFixture(t, func(c *Config) { c.Bearer.CookieName = "__session" })
	req := httptest.NewRequest(http.MethodGet, "https://app.example/api", nil)
	req.Header.Set("Accept", "application/json")
	req.AddCookie(&http.Cookie{Name: "__session", Value: "a.b.c"})
	rec := serve(f.m.Require(http.NotFoundHandler()), req)
	if rec.Code != 401 || rec.Header().Get("WWW-Authenticate") != "Bearer" || !strings.Contains(rec.Body.String(), "invalid_token") {
		t.Fatalf("got %d %q %s", rec.Code, rec.Header().Get("WWW-Authenticate"), rec.Body)
	}
}

func TestRequireExpiredCookieSession(t *testing.T) {
	clk := newClock()
	m := mustNew(t, testConfig(clk, ""))
	cookies := signInCookies(t, m, SignInParams{User: &User{ID: "u"}})
	clk.Advance(defaultLifetime + time.Second)
	req := requestWith("https://app.example/api", cookies)
	req.Header.Set("Accept", "application/json")
	rec := serve(m.Require(http.NotFoundHandler()), req)
	if rec.Code != 401 || !strings.Contains(rec.Body.String(), "session_expired") {
		t.Fatalf("got %d %s, want 401 session_expired", rec.Code, rec.Body)
	}
}

func TestRequireOnUnauthenticated(t *testing.T) {
	tests := []struct {
		name     string
		cb       func(w http.ResponseWriter, r *http.Request, err error) bool
		wantCode int
	}{
		{"takes over", func(w http.ResponseWriter, r *http.Request, err error) bool {
			if !errors.Is(err, ErrNoSession) {
				t.Errorf("err: got %v, want ErrNoSession", err)
			}
			http.Error(w, "custom", http.StatusTeapot)
			return true
		}, http.StatusTeapot},
		{"declines", func(http.ResponseWriter, *http.Request, error) bool { return false }, http.StatusSeeOther},
		{"panics", func(http.ResponseWriter, *http.Request, error) bool { panic("boom") }, http.StatusSeeOther},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig(newClock(), "")
			cfg.Callbacks.OnUnauthenticated = tt.cb
			m := mustNew(t, cfg)
			rec := serve(m.Require(http.NotFoundHandler()), httptest.NewRequest(http.MethodGet, "https://app.example/page", nil))
			if rec.Code != tt.wantCode {
				t.Errorf("got %d, want %d", rec.Code, tt.wantCode)
			}
		})
	}
}

func TestRequireAfterMiddlewareDecodesOnce(t *testing.T) {
	clk := newClock()
	cfg := testConfig(clk, "")
	expired := 0
	cfg.Callbacks.OnSessionExpired = func(contextT, *Session) { expired++ }
	m := mustNew(t, cfg)
	cookies := signInCookies(t, m, SignInParams{User: &User{ID: "u"}})
	clk.Advance(defaultLifetime)
	serve(m.Middleware(m.Require(http.NotFoundHandler())), requestWith("https://app.example/", cookies))
	if expired != 1 {
		t.Errorf("OnSessionExpired fired %d times, want 1", expired)
	}
}

func TestSignInURLWithQuery(t *testing.T) {
	cfg := testConfig(newClock(), "")
	cfg.SignInURL = "https://login.example/start?app=demo"
	m := mustNew(t, cfg)
	rec := serve(m.Require(http.NotFoundHandler()), httptest.NewRequest(http.MethodGet, "https://app.example/a?b=c", nil))
	loc, _ := url.Parse(rec.Header().Get("Location"))
	if loc.Host != "login.example" || loc.Query().Get("app") != "demo" || loc.Query().Get("callbackUrl") != "/a?b=c" {
		t.Errorf("Location: got %s", loc)
	}
}

// TestSnapshotIsolation proves that a handler mutating its snapshot never
// changes another request's, under concurrency.
func TestSnapshotIsolation(t *testing.T) {
	f := newBearerFixture(t, nil)
	cookies := signInCookies(t, f.m, SignInParams{
		Token: tokenOf("at", "rt", t0.Add(time.Hour)),
		User:  &User{ID: "user_iso", Email: "iso@example.com"},
	})
	claims := claimsFor(t0)
	claims["groups"] = []any{"a", "b"}
	claims["meta"] = map[string]any{"k": "v"}
	bearer := rsaSigner().Mint(t, claims)

	h := f.m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, ok := FromContext(r.Context())
		if !ok {
			t.Error("no session")
			return
		}
		// Read first: every request must see pristine values.
		if s.User.Email != "iso@example.com" && s.User.Email != "ada@example.com" {
			t.Errorf("saw a mutated email %q", s.User.Email)
		}
		if claims := s.Claims(); claims != nil {
			if g := claims["groups"].([]any); g[0] != "a" {
				t.Errorf("saw mutated groups %v", g)
			}
			if mm := claims["meta"].(map[string]any); mm["k"] != "v" {
				t.Errorf("saw mutated meta %v", mm)
			}
			claims["groups"].([]any)[0] = "MUTATED"
			claims["meta"].(map[string]any)["k"] = "MUTATED"
			claims["new"] = true
		}
		s.User.Email = "mutated@example.com"
		s.AccessToken = "mutated"
		if len(s.SignIns()) > 0 {
			s.SignIn.User.ID = "mutated"
			s.SignIn.Actor = &Actor{Subject: "mutated"}
		}
	}))
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(2)
		go func() {
			defer wg.Done()
			serve(h, requestWith("https://app.example/", cookies))
		}()
		go func() {
			defer wg.Done()
			req := httptest.NewRequest(http.MethodGet, "https://api.example/", nil)
			req.Header.Set("Authorization", "Bearer "+bearer)
			serve(h, req)
		}()
	}
	wg.Wait()
}

func TestSessionClone(t *testing.T) {
	s := &Session{
		SignIn:       SignIn{User: User{ID: "u"}, Actor: &Actor{Subject: "a"}},
		OtherSignIns: []SignIn{{ID: "1", Actor: &Actor{Subject: "b"}}},
	}
	s.SetClaims(map[string]any{"l": []any{map[string]any{"x": 1.0}}, "s": []string{"q"}})
	c := s.Clone()
	c.Actor.Subject = "changed"
	c.Claims()["l"].([]any)[0].(map[string]any)["x"] = 2.0
	c.Claims()["s"].([]string)[0] = "changed"
	c.OtherSignIns[0].Actor.Subject = "changed"
	c.OtherSignIns[0].ID = "changed"
	if s.Actor.Subject != "a" || s.Claims()["l"].([]any)[0].(map[string]any)["x"] != 1.0 ||
		s.Claims()["s"].([]string)[0] != "q" || s.OtherSignIns[0].Actor.Subject != "b" || s.OtherSignIns[0].ID != "1" {
		t.Errorf("Clone shares state: %+v", s)
	}
	if (*Session)(nil).Clone() != nil {
		t.Error("nil Clone")
	}
}

// A session whose claims are shared (as the cache's are) hands every copy
// its own deep copy on first use, and never lets a copy change the shared
// map; a copy of a copy whose claims were changed carries the change.
func TestSessionClaimsLazyCopy(t *testing.T) {
	verified := map[string]any{"sub": "u", "groups": []any{"a"}, "meta": map[string]any{"k": "v"}}
	cached := &Session{Source: SourceBearer, JWTPayload: claimsField{sharedClaims(verified)}}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			c := cached.Clone()
			var got [4]map[string]any
			var inner sync.WaitGroup
			for i := range got { // concurrent first calls make one copy
				inner.Go(func() { got[i] = c.Claims() })
			}
			inner.Wait()
			for _, g := range got[1:] {
				if fmt.Sprintf("%p", g) != fmt.Sprintf("%p", got[0]) {
					t.Error("Claims made more than one copy")
				}
			}
			m := got[0]
			m["groups"].([]any)[0] = "MUTATED"
			m["meta"].(map[string]any)["k"] = "MUTATED"
			m["new"] = true
			cc := c.Clone()
			if cc.Claims()["new"] != true || cc.Claims()["meta"].(map[string]any)["k"] != "MUTATED" {
				t.Error("a clone lost its source's changed claims")
			}
			cc.Claims()["meta"].(map[string]any)["k"] = "again"
			if m["meta"].(map[string]any)["k"] != "MUTATED" {
				t.Error("a clone shares its source's changed claims")
			}
		})
	}
	wg.Wait()
	if verified["groups"].([]any)[0] != "a" || verified["meta"].(map[string]any)["k"] != "v" || len(verified) != 3 {
		t.Fatalf("the shared claims changed: %v", verified)
	}
	if (&Session{}).Claims() != nil || (*Session)(nil).Claims() != nil {
		t.Error("claims of a session without a JWT")
	}
}

// The claims are encoded as "jwtPayload", a JSON object, and decode back.
func TestSessionJSONClaims(t *testing.T) {
	s := &Session{ID: "s1", Status: StatusActive, Source: SourceBearer, SignIn: SignIn{User: User{ID: "u"}}, JWTPayload: claimsField{sharedClaims(map[string]any{"sub": "u", "n": 1.0})}}
	for _, v := range []any{s, *s} {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), `"jwtPayload":{"n":1,"sub":"u"}`) || !strings.Contains(string(b), `"id":"s1"`) {
			t.Fatalf("encoded %s", b)
		}
		var got Session
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatal(err)
		}
		if got.ID != "s1" || got.User.ID != "u" || got.Claims()["sub"] != "u" || got.Claims()["n"] != 1.0 {
			t.Fatalf("decoded %+v with claims %v", got, got.Claims())
		}
	}
	b, _ := json.Marshal(&Session{ID: "c"})
	if strings.Contains(string(b), "jwtPayload") {
		t.Fatalf("encoded empty claims: %s", b)
	}
	// Session has no JSON methods of its own, so a struct that embeds it
	// still encodes its other fields.
	b, _ = json.Marshal(struct {
		Session
		Extra int `json:"extra"`
	}{*s, 7})
	if !strings.Contains(string(b), `"extra":7`) || !strings.Contains(string(b), `"jwtPayload":{`) {
		t.Fatalf("embedded: %s", b)
	}
}

// A bearer session never gets a cookie, idle timeout or not.
func TestBearerNeverWritesCookies(t *testing.T) {
	f := newBearerFixture(t, func(c *Config) { c.IdleTimeout = time.Hour })
	c := claimsFor(t0.Add(-30 * time.Minute))
	c["exp"] = t0.Add(time.Hour).Unix()
	req := httptest.NewRequest(http.MethodGet, "https://api.example/", nil)
	req.Header.Set("Authorization", "Bearer "+rsaSigner().Mint(t, c))
	var cp capture
	rec := serve(f.m.Middleware(cp.handler(f.m)), req)
	if !cp.ok || len(rec.Header()["Set-Cookie"]) != 0 {
		t.Fatalf("ok %v, Set-Cookie %v", cp.ok, rec.Header()["Set-Cookie"])
	}
}

func TestDenyDetails(t *testing.T) {
	m := mustNew(t, testConfig(newClock(), ""))
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/api", nil)
	req.Header.Set("Authorization", "bearer x.y.z") // scheme is case-insensitive
	m.deny(rec, req, errorsJoin(ErrInvalidToken))
	if got := rec.Header().Get("WWW-Authenticate"); !strings.Contains(got, `error="invalid_token"`) {
		t.Errorf("lowercase bearer: WWW-Authenticate %q", got)
	}
	if rec.Header().Get("X-Content-Type-Options") != "nosniff" {
		t.Error("no nosniff")
	}
	// A too-long JWT cookie is an invalid token, not a malformed header.
	rec = httptest.NewRecorder()
	apiReq := httptest.NewRequest(http.MethodGet, "/api", nil)
	apiReq.Header.Set("Accept", "application/json")
	m.deny(rec, apiReq, errorsJoin(ErrInvalidToken, jwtverify.ErrTooLong))
	if rec.Code != http.StatusUnauthorized {
		t.Errorf("too-long JWT cookie: got %d, want 401", rec.Code)
	}
	for _, mode := range []string{"cors", "no-cors", "same-origin", "websocket"} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("Sec-Fetch-Mode", mode)
		if !page.IsAPI(r) {
			t.Errorf("Sec-Fetch-Mode %s is not an API request", mode)
		}
	}
}

func errorsJoin(errs ...error) error {
	err := errs[0]
	for _, e := range errs[1:] {
		err = fmt.Errorf("%w: %w", err, e)
	}
	return err
}
