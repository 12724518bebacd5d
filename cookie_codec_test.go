package sessionkit

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/internal/seal"
)

func codecFor(t testing.TB, name string, keys ...[]byte) *cookieCodec {
	t.Helper()
	s := &settings{Config: Config{Keys: keys, CookieName: name, InsecureCookies: true, CookiePath: "/", MaxCookieSize: 1 << 14}}
	c, err := newCookieCodec(s)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// The codec opens what its first key sealed for its cookie name, asks
// for a re-issue of what an older key sealed, and refuses the rest as an
// invalid cookie.
func TestCookieCodecOpen(t *testing.T) {
	k1, k2 := cookieKeyGen(), cookieKeyGen()
	const name = "__Host-sessionkit"
	p := randBytes(2200)
	v, err := codecFor(t, name, k1).seal(p)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		codec       *cookieCodec
		value       string
		wantReissue bool
		wantErr     error
	}{
		{"same keys", codecFor(t, name, k1), v, false, nil},
		{"rotated keys", codecFor(t, name, k2, k1), v, true, nil},
		{"removed key", codecFor(t, name, k2), v, false, seal.ErrNoKey},
		{"another cookie name", codecFor(t, "__Host-other", k1), v, false, seal.ErrNoKey},
		{"tampered", codecFor(t, name, k1), v[:100] + flipped(v[100]) + v[101:], false, seal.ErrNoKey},
		{"not a sealed value", codecFor(t, name, k1), "!!!!", false, seal.ErrNoKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, reissue, err := tt.codec.open(tt.value)
			if tt.wantErr != nil {
				if !errors.Is(err, ErrInvalidCookie) || !errors.Is(err, tt.wantErr) {
					t.Fatalf("got %v, want ErrInvalidCookie and %v", err, tt.wantErr)
				}
				return
			}
			if err != nil || reissue != tt.wantReissue || !bytes.Equal(got, p) {
				t.Fatalf("got reissue %v err %v equal %v; want reissue %v", reissue, err, bytes.Equal(got, p), tt.wantReissue)
			}
		})
	}
}

// sealCookie decides, for every cookie set-up, the line http.SetCookie would
// for the prefixed name, and a value the codec opens.
func TestCookieSealWrite(t *testing.T) {
	for _, s := range []*settings{
		{Config: Config{CookieName: "sessionkit", CookiePath: "/"}},
		{Config: Config{CookieName: "sessionkit", CookiePath: "/app", CookieDomain: "example.com", CookieSameSite: http.SameSiteStrictMode}},
		{Config: Config{CookieName: "s", CookiePath: "/", InsecureCookies: true, CookieSameSite: http.SameSiteLaxMode}},
	} {
		s.Keys = [][]byte{cookieKeyGen()}
		s.MaxCookieSize = 1 << 14
		c, err := newCookieCodec(s)
		if err != nil {
			t.Fatal(err)
		}
		got := httptest.NewRecorder()
		cw, err := c.sealCookie(nil, func(b []byte) []byte { return append(b, "payload"...) }, t0.Add(time.Hour), t0)
		if err != nil {
			t.Fatal(err)
		}
		cw.Apply(got.Header())
		lines := got.Header()["Set-Cookie"]
		if len(lines) != 1 {
			t.Fatalf("sealCookie: %q", lines)
		}
		value := strings.TrimPrefix(strings.Split(lines[0], ";")[0], c.name+"=")
		want := httptest.NewRecorder()
		http.SetCookie(want, &http.Cookie{
			Name: cookieName(s), Value: value, Path: s.CookiePath, Domain: s.CookieDomain,
			Expires: t0.Add(time.Hour), MaxAge: 3600, HttpOnly: true, Secure: !s.InsecureCookies, SameSite: s.CookieSameSite,
		})
		if w := want.Header()["Set-Cookie"]; w[0] != lines[0] {
			t.Errorf("sealCookie: got %q\nwant %q", lines[0], w[0])
		}
		if p, _, err := c.open(value); err != nil || string(p) != "payload" {
			t.Errorf("sealCookie: value opens to %q, %v", p, err)
		}
	}
}

// The session the benchmarks measure (900-byte access token, 100-byte
// refresh token, 1000-byte ID token) fits in one cookie.
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
	if len(cookies[0].Value) > m.cookies.jar.ChunkSize() {
		t.Fatalf("value of %d bytes over the chunk size %d", len(cookies[0].Value), m.cookies.jar.ChunkSize())
	}
}

// The session cookie, the flow cookies and the tickets are sealed with the
// same keys under names of their own: a value opens only as its own kind,
// with the first key or an older one still listed, and never once its key
// has been removed or under another session cookie's name.
func TestSealedKindsApart(t *testing.T) {
	k1, k2 := cookieKeyGen(), cookieKeyGen()
	const name = "__Host-sessionkit"
	c := codecFor(t, name, k1)
	p := []byte(`{"payload":"of any kind"}`)
	kinds := map[string]func(*cookieCodec) *seal.Sealer{
		"session": func(c *cookieCodec) *seal.Sealer { return c.sealer },
		"flow":    func(c *cookieCodec) *seal.Sealer { return c.flow },
		"ticket":  func(c *cookieCodec) *seal.Sealer { return c.tickets },
	}
	// want is the key index each kind opens with, -1 for none; no kind
	// ever opens as another.
	openers := []struct {
		name string
		c    *cookieCodec
		want map[string]int
	}{
		{"same keys", c, map[string]int{"session": 0, "flow": 0, "ticket": 0}},
		{"rotated keys", codecFor(t, name, k2, k1), map[string]int{"session": 1, "flow": 1, "ticket": 1}},
		{"removed key", codecFor(t, name, k2), map[string]int{"session": -1, "flow": -1, "ticket": -1}},
		// Tickets are tied to no cookie: they pass between Managers that
		// share keys.
		{"another session cookie name", codecFor(t, "__Host-other", k1), map[string]int{"session": -1, "flow": -1, "ticket": 0}},
	}
	for sealedAs, sealer := range kinds {
		v := sealer(c).SealString(p)
		for openedAs, opener := range kinds {
			for _, o := range openers {
				want := o.want[sealedAs]
				if openedAs != sealedAs {
					want = -1
				}
				got, key, err := opener(o.c).Open(v)
				switch {
				case want < 0 && err == nil:
					t.Errorf("%s opened as %s by %s", sealedAs, openedAs, o.name)
				case want >= 0 && (err != nil || key != want || !bytes.Equal(got, p)):
					t.Errorf("%s as %s by %s: key %d, err %v; want key %d", sealedAs, openedAs, o.name, key, err, want)
				}
			}
		}
	}
}

// flipped returns a base64url character other than c, so that a value
// with it in c's place is always a different value.
func flipped(c byte) string {
	if c == 'B' {
		return "C"
	}
	return "B"
}
