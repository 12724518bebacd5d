package sessionkit

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func codecFor(t testing.TB, name string, pairs ...KeyPair) *cookieCodec {
	t.Helper()
	s := &settings{Config: Config{Keys: pairs, CookieName: name, InsecureCookies: true, CookiePath: "/", MaxCookieSize: 1 << 14}}
	c, err := newCookieCodec(s)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// The codec opens what its first key pair sealed for its cookie name, asks
// for a re-issue of what an older pair sealed, and refuses the rest as an
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
		{"removed key", codecFor(t, name, k2), v, false, errNoKeyOpens},
		{"another cookie name", codecFor(t, "__Host-other", k1), v, false, errNoKeyOpens},
		{"tampered", codecFor(t, name, k1), v[:100] + "B" + v[101:], false, errNoKeyOpens},
		{"not a sealed value", codecFor(t, name, k1), "!!!!", false, errNoKeyOpens},
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
		s.Keys = []KeyPair{cookieKeyGen()}
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
