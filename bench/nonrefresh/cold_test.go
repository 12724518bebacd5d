// Package nonrefresh measures what a cookie request that needs no refresh
// costs, with the same harness against two versions of the core:
// bench/nonrefresh.sh builds it against a core without refresh checking
// (8b1f217, with -tags precache) and against HEAD, and compares them.
package nonrefresh

import (
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/sessionkit/sessionkit"
	"github.com/sessionkit/sessionkit/internal/cputime"
)

type discardWriter struct{ h http.Header }

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (d *discardWriter) WriteHeader(int)             {}

// setup returns a handler behind Middleware that records the session it
// reads, and a request carrying a session cookie with a 900-byte access
// token, a 100-byte refresh token and a 1000-byte ID token, not due for
// refresh.
func setup(tb testing.TB) (http.Handler, *http.Request, **sessionkit.Session) {
	tb.Helper()
	key := func() []byte { b := make([]byte, 32); _, _ = rand.Read(b); return b }
	cfg := sessionkit.Config{Keys: [][]byte{key()}}
	configure(&cfg) // HEAD: cache off, a provider configured
	m, err := sessionkit.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = m.Close() })
	rec := httptest.NewRecorder()
	_, err = m.SignIn(rec, httptest.NewRequest(http.MethodGet, "https://app.example/", nil), sessionkit.SignInParams{
		Token: &oauth2.Token{AccessToken: strings.Repeat("a", 900), RefreshToken: strings.Repeat("r", 100),
			TokenType: "Bearer", Expiry: time.Now().Add(time.Hour)},
		User:     &sessionkit.User{ID: "user_bench", Email: "bench@example.com", Name: "Bench"},
		Provider: "oidc",
	})
	if err != nil {
		tb.Fatal(err)
	}
	req := withCookies(rec.Result().Cookies())
	rec = httptest.NewRecorder()
	if _, err := m.UpdateSession(rec, req, func(s *sessionkit.Session) error { s.IDToken = strings.Repeat("i", 1000); return nil }); err != nil {
		tb.Fatal(err)
	}
	var sink *sessionkit.Session
	h := m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sink, _ = sessionkit.FromContext(r.Context())
	}))
	return h, withCookies(rec.Result().Cookies()), &sink
}

func withCookies(cookies []*http.Cookie) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "https://app.example/", nil)
	for _, c := range cookies {
		if c.MaxAge >= 0 && c.Value != "" {
			r.AddCookie(c)
		}
	}
	return r
}

func TestCookieColdDecodes(t *testing.T) {
	h, req, sink := setup(t)
	h.ServeHTTP(&discardWriter{h: http.Header{}}, req)
	s := *sink
	if s == nil || s.User.ID != "user_bench" || len(s.AccessToken) != 900 || len(s.RefreshToken) != 100 || len(s.IDToken) != 1000 {
		t.Fatalf("got %v, want the session with its tokens", s)
	}
}

// BenchmarkCookieCold is one cookie request through Middleware with the
// verified-credential cache off (HEAD) or absent (before it), beside the
// handler alone. Each case also reports the process's CPU time per request
// (cpu-ns/op), which other processes on the machine disturb less than
// wall time.
func BenchmarkCookieCold(b *testing.B) {
	h, req, sink := setup(b)
	var bareSink *sessionkit.Session
	bare := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		bareSink, _ = sessionkit.FromContext(r.Context())
	})
	for _, c := range []struct {
		name string
		h    http.Handler
	}{{"bare", bare}, {"cookie_cold", h}} {
		b.Run(c.name, func(b *testing.B) {
			w := &discardWriter{h: http.Header{}}
			c.h.ServeHTTP(w, req)
			if c.name == "cookie_cold" && *sink == nil {
				b.Fatal("no session")
			}
			b.ReportAllocs()
			c0 := cputime.Process()
			for b.Loop() {
				c.h.ServeHTTP(w, req)
			}
			cputime.ReportPerOp(b, c0)
		})
	}
	_ = bareSink
}
