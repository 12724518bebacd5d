package sessionkit

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/securecookie"
)

// legacySeal seals payload for the cookie name with k exactly as
// sessionkit did before the current format: gorilla/securecookie with a
// no-op serializer.
func legacySeal(t testing.TB, k KeyPair, name string, payload []byte) string {
	t.Helper()
	v, err := legacyCodec(k).Encode(name, bytes.Clone(payload)) // it encrypts its argument in place
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// legacyOpen opens a legacy value with gorilla/securecookie.
func legacyOpen(k KeyPair, name, value string) ([]byte, error) {
	var p []byte
	err := legacyCodec(k).Decode(name, value, &p)
	return p, err
}

// legacyCodec is securecookie as the legacy format used it: a no-op
// serializer, no age or length limit.
func legacyCodec(k KeyPair) *securecookie.SecureCookie {
	sc := securecookie.New(k.HashKey, k.BlockKey)
	sc.SetSerializer(securecookie.NopEncoder{})
	sc.MaxAge(0)
	sc.MaxLength(0)
	return sc
}

func codecFor(name string, pairs ...KeyPair) *cookieCodec {
	s := &settings{Config: Config{Keys: pairs, CookieName: name, InsecureCookies: true, CookiePath: "/", MaxCookieSize: 1 << 14}}
	return newCookieCodec(s)
}

// Cookies securecookie sealed before the upgrade open with every key
// configuration that would have opened them, give the same bytes, and ask
// to be re-issued; those it would refuse are refused.
func TestSealLegacyCompatible(t *testing.T) {
	k1, k2 := cookieKeyGen(), cookieKeyGen()
	long := cookieKeyGen()
	long.HashKey = append(bytes.Clone(long.HashKey), bytes.Repeat([]byte{7}, 32)...) // a 64-byte HashKey
	const name = "sess"
	for _, tt := range []struct {
		name   string
		sealed KeyPair
		keys   []KeyPair
		want   int // index of the key that opens it; -1: none
	}{
		{"one key", k1, []KeyPair{k1}, 0},
		{"first of two", k1, []KeyPair{k1, k2}, 0},
		{"second of two (rotated)", k1, []KeyPair{k2, k1}, 1},
		{"64-byte hash key", long, []KeyPair{k2, long}, 1},
		{"removed key", k1, []KeyPair{k2}, -1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for _, n := range []int{0, 1, 15, 16, 17, 100, 2200, 5000} {
				p := randBytes(n)
				v := legacySeal(t, tt.sealed, name, p)
				c := codecFor(name, tt.keys...)
				got, key, legacy, err := c.openValue(v)
				if tt.want < 0 {
					if !errors.Is(err, errNoKeyOpens) {
						t.Fatalf("n=%d: got %v, want errNoKeyOpens", n, err)
					}
					continue
				}
				if n == 0 {
					// securecookie seals an empty payload as a bare IV,
					// which its own Decode refuses (nothing to decrypt).
					if _, err := legacyOpen(tt.sealed, name, v); err == nil || got != nil {
						t.Fatalf("n=0: securecookie opens it (%v) or we do (%v)", err, got)
					}
					continue
				}
				if err != nil || key != tt.want || !legacy || !bytes.Equal(got, p) {
					t.Fatalf("n=%d: got key %d legacy %v err %v equal %v", n, key, legacy, err, bytes.Equal(got, p))
				}
				if _, reissue, err := c.open(v); err != nil || !reissue {
					t.Fatalf("n=%d: open: reissue %v err %v, want a re-issue", n, reissue, err)
				}
			}
		})
	}
}

// What open accepts of the legacy format is what
// securecookie accepts: every one-byte change of a legacy value (and every
// truncation) is refused by both, or opened by both to the same bytes.
func TestSealLegacyTamperingAgreesWithSecurecookie(t *testing.T) {
	k := cookieKeyGen()
	const name = "sess"
	p := randBytes(300)
	v := legacySeal(t, k, name, p)
	c := codecFor(name, k)
	check := func(what, value string) {
		t.Helper()
		want, werr := legacyOpen(k, name, value)
		got, _, _, gerr := c.openValue(value)
		if (werr == nil) != (gerr == nil) || !bytes.Equal(want, got) {
			t.Fatalf("%s: securecookie %v (%d bytes), ours %v (%d bytes)", what, werr, len(want), gerr, len(got))
		}
		if gerr == nil && !bytes.Equal(got, p) {
			t.Fatalf("%s: opened to other bytes", what)
		}
	}
	for i := range len(v) {
		for _, x := range []byte{0x01, 0x20, 0x7f} {
			b := []byte(v)
			b[i] ^= x
			check("byte "+itoa(i), string(b))
		}
	}
	for n := range len(v) {
		check("truncated to "+itoa(n), v[:n])
	}
	check("wrong name", legacySeal(t, k, "other", p))
	// The MAC covers the name: a value sealed for another name does not
	// open under ours.
	if _, _, _, err := c.openValue(legacySeal(t, k, "other", p)); err == nil {
		t.Fatal("a value sealed for another name opened")
	}
}

// The current format round-trips, opens with a rotated key (asking for a
// re-issue), and refuses a removed key, another cookie name, every changed
// byte and every truncation.
func TestSealV2(t *testing.T) {
	k1, k2 := cookieKeyGen(), cookieKeyGen()
	const name = "__Host-sessionkit"
	c := codecFor(name, k1)
	p := randBytes(2200)
	v, err := c.seal(p)
	if err != nil {
		t.Fatal(err)
	}
	if v[0] != 'A' || len(v) != base64.RawURLEncoding.EncodedLen(len(p)+sealV2Extra) {
		t.Fatalf("value starts %q, %d bytes: not the current format", v[:1], len(v))
	}
	if v2, _ := c.seal(p); v2 == v {
		t.Fatal("two seals of one payload are equal: salt and nonce are not random")
	}
	got, reissue, err := c.open(v)
	if err != nil || reissue || !bytes.Equal(got, p) {
		t.Fatalf("round trip: reissue %v err %v equal %v", reissue, err, bytes.Equal(got, p))
	}
	// Empty payloads too.
	if e, err := c.seal(nil); err != nil {
		t.Fatal(err)
	} else if got, _, err := c.open(e); err != nil || len(got) != 0 {
		t.Fatalf("empty payload: %v %v", got, err)
	}

	rotated := codecFor(name, k2, k1)
	if got, reissue, err := rotated.open(v); err != nil || !reissue || !bytes.Equal(got, p) {
		t.Fatalf("rotated: reissue %v err %v", reissue, err)
	}
	if _, _, err := codecFor(name, k2).open(v); !errors.Is(err, ErrInvalidCookie) || !errors.Is(err, errNoKeyOpens) {
		t.Fatalf("removed key: got %v", err)
	}
	if _, _, err := codecFor("__Host-other", k1).open(v); !errors.Is(err, ErrInvalidCookie) {
		t.Fatalf("other cookie name: got %v", err)
	}
	// The same keys in the legacy format's hands (and the tickets'):
	// securecookie does not open the current format.
	if _, err := legacyOpen(k1, name, v); err == nil {
		t.Fatal("securecookie opened a current-format value")
	}

	raw, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil {
		t.Fatal(err)
	}
	for i := range raw {
		b := bytes.Clone(raw)
		b[i] ^= 0x01
		if _, _, err := c.open(base64.RawURLEncoding.EncodeToString(b)); !errors.Is(err, ErrInvalidCookie) {
			t.Fatalf("sealed byte %d changed: got %v", i, err)
		}
	}
	for i := range len(v) {
		for _, x := range []byte{0x01, 0x08, 0x20} {
			b := []byte(v)
			b[i] ^= x
			if _, _, err := c.open(string(b)); !errors.Is(err, ErrInvalidCookie) {
				t.Fatalf("character %d ^ %#x: got %v", i, x, err)
			}
		}
	}
	for n := range len(v) {
		if _, _, err := c.open(v[:n]); !errors.Is(err, ErrInvalidCookie) {
			t.Fatalf("truncated to %d: got %v", n, err)
		}
	}
	for _, extra := range []string{"A", "AA", "AAAA", "=", "\n", "\r\n"} {
		if _, _, err := c.open(v + extra); !errors.Is(err, ErrInvalidCookie) {
			t.Fatalf("%q appended: got %v", extra, err)
		}
	}
	if _, _, err := c.open(v[:10] + "\n" + v[10:]); !errors.Is(err, ErrInvalidCookie) {
		t.Fatalf("a newline inside: got %v", err)
	}
}

// A session cookie issued before the upgrade (securecookie's format) is
// read through the middleware and re-issued in the current format, which
// is then read without another re-issue.
func TestCookieLegacyReissued(t *testing.T) {
	clk := newClock()
	cfg := testConfig(clk, "")
	m := mustNew(t, cfg)
	cookies := signInCookies(t, m, SignInParams{Token: tokenOf("at", "rt", t0.Add(time.Hour)), User: &User{ID: "user_legacy"}})
	value, _, err := m.cookies.open(cookies[0].Value)
	if err != nil {
		t.Fatal(err)
	}
	old := &http.Cookie{Name: m.cookies.name, Value: legacySeal(t, cfg.Keys[0], m.cookies.name, value)}
	if old.Value[0] == 'A' {
		t.Fatalf("legacy value %q starts like the current format", old.Value[:8])
	}
	var c capture
	rec := serve(m.Middleware(c.handler(m)), requestWith("https://app.example/", []*http.Cookie{old}))
	if !c.ok || c.session.User.ID != "user_legacy" || c.session.AccessToken != "at" {
		t.Fatalf("legacy cookie not read: %v", c.srvErr)
	}
	reissued := rec.Result().Cookies()
	if len(reissued) != 1 || reissued[0].Value[0] != 'A' {
		t.Fatalf("legacy cookie not re-issued in the current format: %v", rec.Header()["Set-Cookie"])
	}
	var c2 capture
	rec = serve(m.Middleware(c2.handler(m)), requestWith("https://app.example/", reissued))
	if !c2.ok || c2.session.ID != c.session.ID || len(rec.Result().Cookies()) != 0 {
		t.Fatalf("re-issued cookie: ok %v, %d cookies set", c2.ok, len(rec.Result().Cookies()))
	}
}

// A legacy session cookie big enough to have been chunked is read and
// re-issued too.
func TestCookieLegacyChunksReissued(t *testing.T) {
	cfg := testConfig(newClock(), "")
	m := mustNew(t, cfg)
	cookies := signInCookies(t, m, bigSession())
	var parts []string
	for _, c := range cookies {
		parts = append(parts, c.Value)
	}
	payload, _, err := m.cookies.open(strings.Join(parts, ""))
	if err != nil {
		t.Fatal(err)
	}
	legacy := legacySeal(t, cfg.Keys[0], m.cookies.name, payload)
	rec := httptest.NewRecorder()
	if err := m.cookies.write(rec, nil, legacy, t0.Add(time.Hour), t0); err != nil {
		t.Fatal(err)
	}
	old := rec.Result().Cookies()
	if len(old) < 2 {
		t.Fatalf("legacy value of %d bytes in %d cookies, want chunks", len(legacy), len(old))
	}
	var c capture
	rec = serve(m.Middleware(c.handler(m)), requestWith("https://app.example/", old))
	if !c.ok {
		t.Fatalf("chunked legacy cookie not read: %v", c.srvErr)
	}
	if n := len(rec.Result().Cookies()); n == 0 {
		t.Fatal("chunked legacy cookie not re-issued")
	}
}

// The session the benchmarks measure (900-byte access token, 100-byte refresh
// token, 1000-byte ID token) fits in one cookie.
func TestCookieBenchSessionFitsOneCookie(t *testing.T) {
	m := mustNew(t, testConfig(newClock(), ""))
	p := SignInParams{Token: benchToken(), User: &User{ID: "user_bench", Email: "bench@example.com", Name: "Bench"}, Provider: "oidc"}
	rec := httptest.NewRecorder()
	if _, err := m.UpdateSession(rec, requestWith("https://app.example/", signInCookies(t, m, p)), func(s *Session) error {
		s.IDToken = strings.Repeat("i", 1000)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	cookies := rec.Result().Cookies()
	if len(cookies) != 1 {
		t.Fatalf("got %d cookies, want 1", len(cookies))
	}
	s, _, err := m.cookies.open(cookies[0].Value)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("payload %d bytes, cookie value %d bytes", len(s), len(cookies[0].Value))
	if len(cookies[0].Value) > m.cookies.chunkSize {
		t.Fatalf("value of %d bytes over the chunk size %d", len(cookies[0].Value), m.cookies.chunkSize)
	}
}

// set writes the line http.SetCookie would, for every attribute set-up.
func TestCookieSetMatchesNetHTTP(t *testing.T) {
	for _, s := range []*settings{
		{Config: Config{CookieName: "sessionkit", CookiePath: "/"}},
		{Config: Config{CookieName: "sessionkit", CookiePath: "/app", CookieDomain: "example.com", CookieSameSite: http.SameSiteStrictMode}},
		{Config: Config{CookieName: "s", CookiePath: "/", CookieDomain: ".example.com", CookieSameSite: http.SameSiteNoneMode}},
		{Config: Config{CookieName: "s", CookiePath: "/", InsecureCookies: true, CookieSameSite: http.SameSiteDefaultMode}},
		{Config: Config{CookieName: "s", CookiePath: "/", CookieSameSite: http.SameSiteLaxMode}},
	} {
		s.Keys = []KeyPair{cookieKeyGen()}
		s.MaxCookieSize = 1 << 14
		c := newCookieCodec(s)
		// sealWrite's line, for a value that fits one cookie.
		got := httptest.NewRecorder()
		if err := c.sealWrite(got, nil, func(b []byte) []byte { return append(b, "payload"...) }, t0.Add(time.Hour), t0); err != nil {
			t.Fatal(err)
		}
		if lines := got.Header()["Set-Cookie"]; len(lines) != 1 {
			t.Fatalf("sealWrite: %q", lines)
		} else {
			value := strings.TrimPrefix(strings.Split(lines[0], ";")[0], c.name+"=")
			want := httptest.NewRecorder()
			http.SetCookie(want, &http.Cookie{
				Name: c.name, Value: value, Path: c.path, Domain: c.domain,
				Expires: t0.Add(time.Hour), MaxAge: 3600, HttpOnly: true, Secure: c.secure, SameSite: c.sameSite,
			})
			if w := want.Header()["Set-Cookie"]; w[0] != lines[0] {
				t.Errorf("sealWrite: got %q\nwant %q", lines[0], w[0])
			}
			if p, _, err := c.open(value); err != nil || string(p) != "payload" {
				t.Errorf("sealWrite: value opens to %q, %v", p, err)
			}
		}
		for _, tt := range []struct {
			value   string
			maxAge  int
			expires time.Time
		}{
			{"AbC-_123", 3600, t0.Add(time.Hour)},
			{"", -1, time.Unix(1, 0)},
			{"x", 1, time.Date(1500, 1, 1, 0, 0, 0, 0, time.UTC)},
			{"x", 0, t0.In(time.FixedZone("X", 3600))},
		} {
			got := httptest.NewRecorder()
			c.set(got, c.name+".1", tt.value, tt.maxAge, tt.expires)
			want := httptest.NewRecorder()
			http.SetCookie(want, &http.Cookie{
				Name: c.name + ".1", Value: tt.value, Path: c.path, Domain: c.domain,
				Expires: tt.expires.UTC(), MaxAge: tt.maxAge, HttpOnly: true, Secure: c.secure, SameSite: c.sameSite,
			})
			if g, w := got.Header()["Set-Cookie"], want.Header()["Set-Cookie"]; len(g) != 1 || len(w) != 1 || g[0] != w[0] {
				t.Errorf("got %q\nwant %q", g, w)
			}
		}
	}
}

// A Manager seals under one subkey until maxSealsPerSubkey cookies, then
// under a new salt; cookies of every subkey still open, also after the
// opening cache has been flushed by made-up salts.
func TestSealSubkeys(t *testing.T) {
	k := cookieKeyGen()
	c := codecFor("s", k)
	p := randBytes(50)
	salt := func(v string) [saltSize]byte { return saltOf(t, v) }
	v1, _ := c.seal(p)
	v2, _ := c.seal(p)
	if salt(v1) != salt(v2) {
		t.Fatal("two cookies in a row under different subkeys")
	}
	c.keys[0].sealing.Load().seals.Store(maxSealsPerSubkey)
	v3, _ := c.seal(p)
	if salt(v3) == salt(v1) {
		t.Fatal("subkey not changed after maxSealsPerSubkey cookies")
	}
	// Another Manager with the same keys seals under its own subkey, and
	// each opens the other's cookies.
	other := codecFor("s", k)
	v4, _ := other.seal(p)
	if salt(v4) == salt(v1) || salt(v4) == salt(v3) {
		t.Fatal("two Managers share a subkey")
	}
	if _, _, err := c.open(v4); err != nil {
		t.Fatal(err)
	}
	// Forged cookies, each with a salt of its own, are not cached: they
	// cannot push out the salts in use.
	for i := range 3 * maxOpenSubkeys {
		forged := make([]byte, sealV2Extra+10)
		forged[0] = sealV2
		rand.Read(forged[1:])
		if _, _, err := c.open(base64.RawURLEncoding.EncodeToString(forged)); err == nil {
			t.Fatalf("forged value %d opened", i)
		}
	}
	if n := c.keys[0].nopen.Load(); n > 3 {
		t.Fatalf("%d subkeys cached after forged cookies, want the 3 authentic ones at most", n)
	}
	if _, ok := c.keys[0].opening.Load(saltOf(t, v4)); !ok {
		t.Fatal("forged cookies pushed another Manager's subkey out of the cache")
	}
	// More authentic salts than the cache holds: it stays bounded, and
	// keeps the subkey this codec seals with.
	for range maxOpenSubkeys + 10 {
		v, _ := codecFor("s", k).seal(p)
		if _, _, err := c.open(v); err != nil {
			t.Fatal(err)
		}
	}
	if n := c.keys[0].nopen.Load(); n > maxOpenSubkeys {
		t.Fatalf("%d subkeys cached, more than %d", n, maxOpenSubkeys)
	}
	if _, ok := c.keys[0].opening.Load(saltOf(t, v3)); !ok {
		t.Fatal("the sealing subkey left the cache")
	}
	for i, v := range []string{v1, v2, v3, v4} {
		if got, _, err := c.open(v); err != nil || !bytes.Equal(got, p) {
			t.Fatalf("cookie %d: %v", i, err)
		}
	}
}

// Sealing and opening from many goroutines (for the race detector), across
// subkey changes and cache flushes.
func TestSealConcurrent(t *testing.T) {
	c := codecFor("s", cookieKeyGen())
	p := randBytes(100)
	done := make(chan error)
	for g := range 8 {
		go func() {
			for i := range 200 {
				if sk := c.keys[0].sealing.Load(); sk != nil && i%50 == g {
					sk.seals.Store(maxSealsPerSubkey)
				}
				v, err := c.seal(p)
				if err == nil {
					var got []byte
					got, _, err = c.open(v)
					if err == nil && !bytes.Equal(got, p) {
						err = errors.New("opened to other bytes")
					}
				}
				if err != nil {
					done <- err
					return
				}
				if i%20 == 0 {
					forged := make([]byte, sealV2Extra)
					forged[0] = sealV2
					rand.Read(forged[1:])
					c.open(base64.RawURLEncoding.EncodeToString(forged))
				}
			}
			done <- nil
		}()
	}
	for range 8 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

// saltOf returns the salt of a current-format cookie value.
func saltOf(t *testing.T, v string) [saltSize]byte {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil || len(raw) < 1+saltSize {
		t.Fatalf("not a current-format value: %v", err)
	}
	return [saltSize]byte(raw[1 : 1+saltSize])
}
