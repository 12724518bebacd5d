package sessionkit

import (
	"bytes"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

func tokenOf(access, refresh string, expiry time.Time) *oauth2.Token {
	return &oauth2.Token{AccessToken: access, RefreshToken: refresh, Expiry: expiry, TokenType: "Bearer"}
}

func TestCookieRoundTrip(t *testing.T) {
	clk := newClock()
	m := mustNew(t, testConfig(clk, ""))
	cookies := signInCookies(t, m, SignInParams{
		Token:          tokenOf("at-1", "rt-1", t0.Add(time.Hour)),
		User:           &User{ID: "user_1", Name: "Ada", Email: "ada@example.com", EmailVerified: true, Username: "ada"},
		Provider:       "oidc",
		OrganizationID: "org_1",
		WorkspaceID:    "ws_1",
		Actor:          &Actor{Subject: "admin_9"},
	})
	var c capture
	rec := serve(m.Middleware(c.handler(m)), requestWith("https://app.example/", cookies))
	if rec.Code != http.StatusOK || !c.ok {
		t.Fatalf("got code %d ok %v, want 200 and a session", rec.Code, c.ok)
	}
	s := c.session
	checks := []struct {
		name      string
		got, want any
	}{
		{"Status", s.Status, StatusActive},
		{"Source", s.Source, SourceCookie},
		{"User.ID", s.User.ID, "user_1"},
		{"User.Email", s.User.Email, "ada@example.com"},
		{"User.EmailVerified", s.User.EmailVerified, true},
		{"User.Username", s.User.Username, "ada"},
		{"AccessToken", s.AccessToken, "at-1"},
		{"RefreshToken", s.RefreshToken, "rt-1"},
		{"TokenType", s.TokenType, "Bearer"},
		{"AccessTokenExpiresAt", s.AccessTokenExpiresAt, t0.Add(time.Hour)},
		{"Provider", s.Provider, "oidc"},
		{"ActiveOrganizationID", s.ActiveOrganizationID, "org_1"},
		{"ActiveWorkspaceID", s.ActiveWorkspaceID, "ws_1"},
		{"Actor", s.Actor.Subject, "admin_9"},
		{"CreatedAt", s.CreatedAt, t0},
		{"LastActiveAt", s.LastActiveAt, t0},
		{"ExpireAt", s.ExpireAt, t0.Add(defaultLifetime)},
		{"AbandonAt", s.AbandonAt, t0.Add(defaultLifetime)},
		{"len(SignIns)", len(s.SignIns()), 1},
		{"SignIn.ID prefix", strings.HasPrefix(s.SignIn.ID, "sin_"), true},
		{"GetServerSession same", c.srvSess, s},
		{"GetServerSession err", c.srvErr, nil},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("%s: got %v, want %v", ch.name, ch.got, ch.want)
		}
	}
	if !strings.HasPrefix(s.ID, "sess_") || len(s.ID) < 26 {
		t.Errorf("ID: got %q, want a random sess_ id", s.ID)
	}
	if len(rec.Result().Cookies()) != 0 {
		t.Errorf("middleware wrote cookies for an unchanged session: %v", rec.Header()["Set-Cookie"])
	}
}

func TestCookieAttributes(t *testing.T) {
	tests := []struct {
		name       string
		url        string
		mod        func(*Config)
		wantName   string
		wantSecure bool
		wantDomain string
	}{
		{"https host-only", "https://app.example/", nil, "__Host-sessionkit", true, ""},
		{"plain http remote host stays secure", "http://app.example/", nil, "__Host-sessionkit", true, ""},
		// Loopback over plain HTTP stays Secure and prefixed: browsers and
		// Go's cookiejar treat it as a secure origin, and a proxy in front
		// would make every production request look like this.
		{"plain http loopback ip", "http://127.0.0.1:8080/", nil, "__Host-sessionkit", true, ""},
		{"plain http localhost", "http://localhost:8080/", nil, "__Host-sessionkit", true, ""},
		{"plain http ipv6 loopback", "http://[::1]:8080/", nil, "__Host-sessionkit", true, ""},
		{"proxied https seen as loopback", "http://127.0.0.1:8080/", func(c *Config) {}, "__Host-sessionkit", true, ""},
		{"https loopback", "https://127.0.0.1/", nil, "__Host-sessionkit", true, ""},
		{"domain gives __Secure-", "https://app.example/", func(c *Config) { c.CookieDomain = "example.com" }, "__Secure-sessionkit", true, "example.com"},
		{"path gives __Secure-", "https://app.example/", func(c *Config) { c.CookiePath = "/app" }, "__Secure-sessionkit", true, ""},
		{"insecure", "https://app.example/", func(c *Config) { c.InsecureCookies = true }, "sessionkit", false, ""},
		{"insecure with domain", "http://app.example/", func(c *Config) { c.InsecureCookies = true; c.CookieDomain = "example.com" }, "sessionkit", false, "example.com"},
		{"custom name", "https://app.example/", func(c *Config) { c.CookieName = "sid" }, "__Host-sid", true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig(newClock(), "")
			if tt.mod != nil {
				tt.mod(&cfg)
			}
			m := mustNew(t, cfg)
			rec := httptest.NewRecorder()
			req := httptest.NewRequest(http.MethodGet, tt.url, nil)
			if tt.url[:5] == "https" {
				req.TLS = fakeTLS()
			}
			if _, err := m.SignIn(rec, req, SignInParams{User: &User{ID: "u"}}); err != nil {
				t.Fatal(err)
			}
			cs := rec.Result().Cookies()
			if len(cs) != 1 {
				t.Fatalf("got %d cookies, want 1: %v", len(cs), rec.Header()["Set-Cookie"])
			}
			c := cs[0]
			if c.Name != tt.wantName || c.Secure != tt.wantSecure || c.Domain != tt.wantDomain {
				t.Errorf("got name %q secure %v domain %q, want %q %v %q", c.Name, c.Secure, c.Domain, tt.wantName, tt.wantSecure, tt.wantDomain)
			}
			if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode {
				t.Errorf("got HttpOnly %v SameSite %v, want true Lax", c.HttpOnly, c.SameSite)
			}
			if c.MaxAge != int(defaultLifetime/time.Second) {
				t.Errorf("MaxAge: got %d, want %d", c.MaxAge, int(defaultLifetime/time.Second))
			}
			// The cookie set for this request is read back on the next.
			var cp capture
			req2 := httptest.NewRequest(http.MethodGet, tt.url, nil)
			req2.TLS = req.TLS
			req2.AddCookie(c)
			serve(m.Middleware(cp.handler(m)), req2)
			if !cp.ok {
				t.Errorf("cookie not read back: %v", cp.srvErr)
			}
		})
	}
}

// bigSession is a session large enough to need several chunks.
func bigSession() SignInParams {
	return SignInParams{
		Token: tokenOf(strings.Repeat("A", 5000), strings.Repeat("R", 3000), t0.Add(time.Hour)),
		User:  &User{ID: "user_big", Name: strings.Repeat("N", 600)},
	}
}

func TestCookieChunking(t *testing.T) {
	clk := newClock()
	m := mustNew(t, testConfig(clk, ""))
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "https://app.example/", nil)
	if _, err := m.SignIn(rec, req, bigSession()); err != nil {
		t.Fatal(err)
	}
	lines := rec.Header()["Set-Cookie"]
	if len(lines) < 3 {
		t.Fatalf("got %d Set-Cookie lines, want at least 3 chunks", len(lines))
	}
	for i, l := range lines {
		if len(l) > browserCookieLimit {
			t.Errorf("chunk %d: Set-Cookie line is %d bytes, over %d", i, len(l), browserCookieLimit)
		}
		want := "__Host-sessionkit." + string(rune('0'+i)) + "="
		if !strings.HasPrefix(l, want) {
			t.Errorf("chunk %d: got %.30q, want prefix %q", i, l, want)
		}
	}
	chunks := rec.Result().Cookies()

	var c capture
	serve(m.Middleware(c.handler(m)), requestWith("https://app.example/", chunks))
	if !c.ok || c.session.AccessToken != strings.Repeat("A", 5000) || c.session.RefreshToken != strings.Repeat("R", 3000) {
		t.Fatalf("chunked session not read back: ok %v err %v", c.ok, c.srvErr)
	}

	// Shrinking: a small session written over the chunked one expires every
	// chunk and sets the whole cookie.
	rec2 := httptest.NewRecorder()
	if _, err := m.SignIn(rec2, requestWith("https://app.example/", chunks), SignInParams{User: &User{ID: "u2"}}); err != nil {
		t.Fatal(err)
	}
	set, expired := splitSetCookies(rec2.Result().Cookies())
	if len(set) != 1 || set[0].Name != "__Host-sessionkit" {
		t.Errorf("after shrink: got set %v, want the whole cookie", names(set))
	}
	if len(expired) != len(chunks) {
		t.Errorf("after shrink: expired %v, want all %d chunks", names(expired), len(chunks))
	}

	// Growing: a chunked session written over the whole cookie expires it.
	rec3 := httptest.NewRecorder()
	if _, err := m.SignIn(rec3, requestWith("https://app.example/", set), bigSession()); err != nil {
		t.Fatal(err)
	}
	set3, expired3 := splitSetCookies(rec3.Result().Cookies())
	if len(set3) < 3 || len(expired3) != 1 || expired3[0].Name != "__Host-sessionkit" {
		t.Errorf("after growth: set %v expired %v", names(set3), names(expired3))
	}
}

func TestCookieTooLarge(t *testing.T) {
	m := mustNew(t, testConfig(newClock(), ""))
	_, err := m.SignIn(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "https://app.example/", nil),
		SignInParams{Token: tokenOf(strings.Repeat("A", defaultMaxCookieSize), "", time.Time{}), User: &User{ID: "u"}})
	if !errors.Is(err, ErrSessionTooLarge) {
		t.Fatalf("got %v, want ErrSessionTooLarge", err)
	}
}

func splitSetCookies(cs []*http.Cookie) (set, expired []*http.Cookie) {
	for _, c := range cs {
		if c.MaxAge < 0 {
			expired = append(expired, c)
		} else {
			set = append(set, c)
		}
	}
	return set, expired
}

func names(cs []*http.Cookie) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Name)
	}
	return out
}

func TestCookieKeyRotation(t *testing.T) {
	clk := newClock()
	oldKeys, newKeys := cookieKeyGen(), cookieKeyGen()
	cfg := testConfig(clk, "")
	cfg.Keys = [][]byte{oldKeys}
	old := mustNew(t, cfg)
	cookies := signInCookies(t, old, SignInParams{User: &User{ID: "user_rot"}})

	cfg.Keys = [][]byte{newKeys, oldKeys}
	rotated := mustNew(t, cfg)
	var c capture
	rec := serve(rotated.Middleware(c.handler(rotated)), requestWith("https://app.example/", cookies))
	if !c.ok || c.session.User.ID != "user_rot" {
		t.Fatalf("old-key cookie not accepted after rotation: %v", c.srvErr)
	}
	reissued := rec.Result().Cookies()
	if len(reissued) != 1 {
		t.Fatalf("got %d cookies, want the session re-issued with the new key", len(reissued))
	}

	cfg.Keys = [][]byte{newKeys}
	onlyNew := mustNew(t, cfg)
	var c2 capture
	serve(onlyNew.Middleware(c2.handler(onlyNew)), requestWith("https://app.example/", reissued))
	if !c2.ok || c2.session.ID != c.session.ID {
		t.Fatalf("re-issued cookie not sealed with the new key: %v", c2.srvErr)
	}

	// A cookie sealed with a key that was removed is refused.
	var c3 capture
	var jwtErr error
	cfg.Callbacks.OnJwtError = func(_ contextT, err error) { jwtErr = err }
	removed := mustNew(t, cfg)
	serve(removed.Middleware(c3.handler(removed)), requestWith("https://app.example/", cookies))
	if c3.ok || !errors.Is(c3.srvErr, ErrInvalidCookie) || !errors.Is(jwtErr, ErrInvalidCookie) {
		t.Fatalf("removed key: got ok %v err %v callback %v, want ErrInvalidCookie", c3.ok, c3.srvErr, jwtErr)
	}
}

func TestCookieTamperingEveryByte(t *testing.T) {
	m := mustNew(t, testConfig(newClock(), ""))
	cookies := signInCookies(t, m, SignInParams{Token: tokenOf("at", "rt", t0.Add(time.Hour)), User: &User{ID: "u"}})
	value := cookies[0].Value
	h := m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := FromContext(r.Context()); ok {
			t.Errorf("tampered cookie gave a session")
		}
	}))
	for i := 0; i < len(value); i++ {
		b := []byte(value)
		b[i] ^= 0x01
		if b[i] == ';' || b[i] == ' ' || b[i] == ',' {
			b[i] ^= 0x03
		}
		if sameBase64(value, string(b)) {
			// The flipped bit was one of the unused low bits of the last
			// base64 character: the sealed bytes are unchanged, so this is
			// not tampering.
			continue
		}
		req := httptest.NewRequest(http.MethodGet, "https://app.example/", nil)
		req.Header.Set("Cookie", cookies[0].Name+"="+string(b))
		if rec := serve(h, req); rec.Code != http.StatusOK {
			t.Fatalf("byte %d: got %d, want 200", i, rec.Code)
		}
	}
	// Truncation at every length.
	for n := 0; n < len(value); n += 7 {
		req := httptest.NewRequest(http.MethodGet, "https://app.example/", nil)
		req.Header.Set("Cookie", cookies[0].Name+"="+value[:n])
		serve(h, req)
	}
}

func TestCookieChunkAttacks(t *testing.T) {
	m := mustNew(t, testConfig(newClock(), ""))
	chunks := signInCookies(t, m, bigSession())
	if len(chunks) < 3 {
		t.Fatalf("want at least 3 chunks, got %d", len(chunks))
	}
	header := func(pairs ...string) string { return strings.Join(pairs, "; ") }
	pair := func(name string, i int) string { return name + "=" + chunks[i].Value }
	n0, n1, n2 := chunks[0].Name, chunks[1].Name, chunks[2].Name
	all := func() []string {
		var p []string
		for i, c := range chunks {
			p = append(p, pair(c.Name, i))
		}
		return p
	}
	tests := []struct {
		name   string
		cookie string
	}{
		{"missing first chunk", header(all()[1:]...)},
		{"missing middle chunk", header(append([]string{pair(n0, 0)}, all()[2:]...)...)},
		{"missing last chunk", header(all()[:len(chunks)-1]...)},
		{"swapped chunks", header(append([]string{n0 + "=" + chunks[1].Value, n1 + "=" + chunks[0].Value}, all()[2:]...)...)},
		{"duplicated chunk", header(append([]string{pair(n0, 0), n1 + "=" + chunks[0].Value, pair(n2, 2)}, all()[3:]...)...)},
		{"truncated chunk", header(append([]string{pair(n0, 0), n1 + "=" + chunks[1].Value[:100]}, all()[2:]...)...)},
		{"gap then more chunks", header(pair(n0, 0), pair(n2, 2))},
		{"oversized", header("__Host-sessionkit=" + strings.Repeat("A", defaultMaxCookieSize+1))},
		{"many oversized chunks", strings.Repeat("__Host-sessionkit.1="+strings.Repeat("B", 4000)+"; ", 40)},
		{"not base64", header("__Host-sessionkit=!!!!")},
		{"empty chunks", header("__Host-sessionkit.0=", "__Host-sessionkit.1=")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "https://app.example/", nil)
			req.Header.Set("Cookie", tt.cookie)
			var c capture
			rec := serve(m.Middleware(c.handler(m)), req)
			if rec.Code != http.StatusOK || c.ok {
				t.Fatalf("got code %d ok %v, want 200 and no session", rec.Code, c.ok)
			}
			if !errors.Is(c.srvErr, ErrInvalidCookie) && !errors.Is(c.srvErr, ErrNoSession) {
				t.Errorf("got %v, want ErrInvalidCookie", c.srvErr)
			}
		})
	}

	// Leftovers never cost the session: stale duplicates sent after the real
	// chunks (another Path), chunks past a gap, indices we never write.
	leftovers := []string{
		n1 + "=stale",
		"__Host-sessionkit.40=" + chunks[0].Value,
		"__Host-sessionkit.99=AAAA",
		"__Host-sessionkit.100000=AAAA",
		"__Host-sessionkit.01=AAAA",
		"__Host-sessionkitX=AAAA",
	}
	for _, extra := range leftovers {
		req := httptest.NewRequest(http.MethodGet, "https://app.example/", nil)
		req.Header.Set("Cookie", header(append(all(), extra)...))
		var c capture
		serve(m.Middleware(c.handler(m)), req)
		if !c.ok {
			t.Errorf("leftover %.30q broke the session: %v", extra, c.srvErr)
		}
	}
}

func TestCookieLifetime(t *testing.T) {
	tests := []struct {
		name        string
		idle        time.Duration
		advance     time.Duration
		wantStatus  Status
		wantErr     error
		wantExpired bool
	}{
		{"fresh", 0, time.Hour, StatusActive, nil, false},
		{"just before lifetime", 0, defaultLifetime - time.Second, StatusActive, nil, false},
		{"at lifetime", 0, defaultLifetime, StatusExpired, ErrSessionExpired, true},
		{"idle ok", time.Hour, 59 * time.Minute, StatusActive, nil, false},
		{"idle exceeded", time.Hour, time.Hour, StatusAbandoned, ErrSessionExpired, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newClock()
			cfg := testConfig(clk, "")
			cfg.IdleTimeout = tt.idle
			var expired *Session
			cfg.Callbacks.OnSessionExpired = func(_ contextT, s *Session) { expired = s }
			m := mustNew(t, cfg)
			cookies := signInCookies(t, m, SignInParams{User: &User{ID: "u"}})
			clk.Advance(tt.advance)
			var c capture
			serve(m.Middleware(c.handler(m)), requestWith("https://app.example/", cookies))
			if c.srvSess == nil || c.srvSess.Status != tt.wantStatus {
				t.Fatalf("status: got %v, want %v", c.srvSess, tt.wantStatus)
			}
			if !errors.Is(c.srvErr, tt.wantErr) || (tt.wantErr == nil && c.srvErr != nil) {
				t.Errorf("err: got %v, want %v", c.srvErr, tt.wantErr)
			}
			if c.ok == tt.wantExpired {
				t.Errorf("FromContext ok: got %v", c.ok)
			}
			if (expired != nil) != tt.wantExpired {
				t.Errorf("OnSessionExpired fired: %v, want %v", expired != nil, tt.wantExpired)
			}
		})
	}
}

func TestCookieIdleSliding(t *testing.T) {
	m, clk, cookies := idleSession(t, time.Hour)

	// Within a tenth of the idle timeout: no write.
	clk.Advance(5 * time.Minute)
	rec := serve(m.Middleware(http.NotFoundHandler()), requestWith("https://app.example/", cookies))
	if len(rec.Result().Cookies()) != 0 {
		t.Fatal("cookie re-issued before a tenth of the idle timeout")
	}
	// Activity every 50 minutes keeps the session alive past the idle
	// timeout, never past the absolute lifetime.
	for i := 0; i < 5; i++ {
		clk.Advance(50 * time.Minute)
		var c capture
		rec := serve(m.Middleware(c.handler(m)), requestWith("https://app.example/", cookies))
		if !c.ok {
			t.Fatalf("round %d: session lost: %v", i, c.srvErr)
		}
		if got, want := c.session.ExpireAt, clk.Now().Add(time.Hour); !got.Equal(want) {
			t.Errorf("round %d: ExpireAt got %v, want %v", i, got, want)
		}
		if c.session.LastActiveAt != clk.Now() {
			t.Errorf("round %d: LastActiveAt got %v, want %v", i, c.session.LastActiveAt, clk.Now())
		}
		cookies = rec.Result().Cookies()
		if len(cookies) != 1 {
			t.Fatalf("round %d: got %d cookies, want the re-issued one", i, len(cookies))
		}
	}
}

// sealedCookie seals s with m's keys and returns the raw cookie value.
func sealedCookie(t *testing.T, m *Manager, s *Session) string {
	t.Helper()
	v, err := m.cookies.seal(appendPayload(nil, s))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// A payload that authenticates but holds no usable session is refused.
func TestCookieAuthenticatedButEmpty(t *testing.T) {
	m := mustNew(t, testConfig(newClock(), ""))
	noSignIns := &Session{ID: "s", AbandonAt: t0.Add(time.Hour), ExpireAt: t0.Add(time.Hour)}
	noUser := samplePayloadSession()
	noUser.SignIn.User.ID = ""
	for name, s := range map[string]*Session{"no sign-ins": noSignIns, "no user": noUser} {
		req := httptest.NewRequest(http.MethodGet, "https://app.example/", nil)
		req.Header.Set("Cookie", "__Host-sessionkit="+sealedCookie(t, m, s))
		if _, err := m.GetServerSession(req); !errors.Is(err, ErrInvalidCookie) {
			t.Errorf("%s: got %v, want ErrInvalidCookie", name, err)
		}
	}
}

func TestCookieReadRules(t *testing.T) {
	m := mustNew(t, testConfig(newClock(), ""))
	chunks := signInCookies(t, m, bigSession())
	whole := signInCookies(t, m, SignInParams{User: &User{ID: "whole_user"}})[0]
	get := func(cookie string) (*Session, error) {
		req := httptest.NewRequest(http.MethodGet, "https://app.example/", nil)
		req.Header.Set("Cookie", cookie)
		return m.GetServerSession(req)
	}
	// The whole cookie wins over chunks sent beside it.
	if s, err := get(chunks[0].Name + "=" + chunks[0].Value + "; " + whole.Name + "=" + whole.Value); err != nil || s.User.ID != "whole_user" {
		t.Errorf("whole beside chunks: got %v %v", s, err)
	}
	// A quoted value (RFC 6265 allows DQUOTEs) is read.
	if s, err := get(whole.Name + `="` + whole.Value + `"`); err != nil || s.User.ID != "whole_user" {
		t.Errorf("quoted value: %v", err)
	}
	// "name.01" is not chunk 1: with it in place of ".1" the value is short.
	var parts []string
	for i, c := range chunks {
		n := c.Name
		if i == 1 {
			n = "__Host-sessionkit.01"
		}
		parts = append(parts, n+"="+c.Value)
	}
	if _, err := get(strings.Join(parts, "; ")); !errors.Is(err, ErrInvalidCookie) {
		t.Errorf("leading-zero index read as a chunk: %v", err)
	}
	// A value above MaxCookieSize is refused before any crypto, even if
	// it would authenticate.
	cfg := testConfig(newClock(), "")
	cfg.Keys = m.cfg.Keys
	cfg.MaxCookieSize = 4096
	small := mustNew(t, cfg)
	req := requestWith("https://app.example/", chunks)
	if _, err := small.GetServerSession(req); !errors.Is(err, ErrInvalidCookie) || !strings.Contains(err.Error(), "exceeds") {
		t.Errorf("oversized chunks: got %v", err)
	}
	req = httptest.NewRequest(http.MethodGet, "https://app.example/", nil)
	req.Header.Set("Cookie", "__Host-sessionkit="+strings.Repeat("A", 4097))
	if _, err := small.GetServerSession(req); !errors.Is(err, ErrInvalidCookie) || !strings.Contains(err.Error(), "exceeds") {
		t.Errorf("oversized whole cookie: got %v", err)
	}
}

// The longest path, domain and name New accepts still leave room for
// chunks.
func TestCookieLongestAttributes(t *testing.T) {
	cfg := testConfig(newClock(), "")
	cfg.CookiePath = "/" + strings.Repeat("p", 1023)
	cfg.CookieDomain = strings.Repeat(strings.Repeat("d", 63)+".", 3) + strings.Repeat("e", 61)
	cfg.CookieName = strings.Repeat("n", 256)
	m := mustNew(t, cfg)
	rec := httptest.NewRecorder()
	if _, err := m.SignIn(rec, httptest.NewRequest(http.MethodGet, "https://app.example/", nil), bigSession()); err != nil {
		t.Fatal(err)
	}
	for _, l := range rec.Header()["Set-Cookie"] {
		if len(l) > browserCookieLimit {
			t.Errorf("Set-Cookie line of %d bytes", len(l))
		}
	}
	for _, bad := range []func(*Config){
		func(c *Config) { c.CookiePath = "/" + strings.Repeat("p", 1024) },
		func(c *Config) { c.CookieDomain = strings.Repeat(strings.Repeat("d", 63)+".", 4) },
		func(c *Config) { c.CookieDomain = strings.Repeat("d", 64) + ".example" },
		func(c *Config) { c.CookieDomain = "-bad.example" },
		func(c *Config) { c.CookieDomain = "a_b.example" },
		func(c *Config) { c.CookieName = strings.Repeat("n", 257) },
	} {
		c := testConfig(newClock(), "")
		bad(&c)
		if m, err := New(c); err == nil {
			_ = m.Close()
			t.Error("New accepted an attribute past its bound")
		}
	}
}

// Idle sliding never moves ExpireAt past the absolute lifetime.
func TestCookieIdleSlidingStopsAtAbandonAt(t *testing.T) {
	clk := newClock()
	cfg := testConfig(clk, "")
	cfg.Lifetime, cfg.IdleTimeout = 2*time.Hour, time.Hour
	m := mustNew(t, cfg)
	cookies := signInCookies(t, m, SignInParams{User: &User{ID: "u"}})
	clk.Advance(50 * time.Minute)
	cookies = serve(m.Middleware(http.NotFoundHandler()), requestWith("https://app.example/", cookies)).Result().Cookies()
	clk.Advance(55 * time.Minute) // inside the idle window that slid at 50 minutes
	var c capture
	rec := serve(m.Middleware(c.handler(m)), requestWith("https://app.example/", cookies))
	if !c.ok {
		t.Fatalf("session lost: %v", c.srvErr)
	}
	if !c.session.ExpireAt.Equal(t0.Add(2*time.Hour)) || !c.session.ExpireAt.Equal(c.session.AbandonAt) {
		t.Fatalf("ExpireAt %v, want the absolute end %v", c.session.ExpireAt, t0.Add(2*time.Hour))
	}
	if cc := rec.Header().Get("Cache-Control"); cc != "private" || rec.Header().Get("Vary") != "Cookie" {
		t.Errorf("re-issue: Cache-Control %q Vary %q", cc, rec.Header().Get("Vary"))
	}
	clk.Advance(15 * time.Minute) // 120 minutes: the absolute lifetime
	var c2 capture
	serve(m.Middleware(c2.handler(m)), requestWith("https://app.example/", rec.Result().Cookies()))
	if c2.ok || c2.srvSess == nil || c2.srvSess.Status != StatusExpired {
		t.Fatalf("after the absolute lifetime: %v", c2.srvSess)
	}
}

// On demand, GetServerSession neither slides nor writes.
func TestGetServerSessionOnDemandDoesNotSlide(t *testing.T) {
	m, clk, cookies := idleSession(t, time.Hour)
	clk.Advance(50 * time.Minute)
	s, err := m.GetServerSession(requestWith("https://app.example/", cookies))
	if err != nil || !s.ExpireAt.Equal(t0.Add(time.Hour)) || !s.LastActiveAt.Equal(t0) {
		t.Fatalf("got ExpireAt %v LastActiveAt %v (%v), want the stored values", s.ExpireAt, s.LastActiveAt, err)
	}
}

func TestCookieChunkNames(t *testing.T) {
	m := mustNew(t, testConfig(newClock(), ""))
	whole := signInCookies(t, m, SignInParams{User: &User{ID: "u"}})[0]
	tests := []struct {
		name   string
		cookie string
		want   error
	}{
		{"only chunk 1", "__Host-sessionkit.1=" + whole.Value, ErrInvalidCookie},
		{"a longer name is not ours", "__Host-sessionkitx=" + whole.Value, ErrNoSession},
		{"an empty chunk 0 is no cookie", "__Host-sessionkit.0=", ErrNoSession},
		{"the whole value as chunk 0", "__Host-sessionkit.0=" + whole.Value, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "https://app.example/", nil)
			req.Header.Set("Cookie", tt.cookie)
			_, err := m.GetServerSession(req)
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
}

// sameBase64 reports whether a and b decode to the same bytes as
// padded URL-safe base64.
func sameBase64(a, b string) bool {
	da, erra := base64.URLEncoding.DecodeString(a)
	db, errb := base64.URLEncoding.DecodeString(b)
	return erra == nil && errb == nil && bytes.Equal(da, db)
}
