package storetest

import (
	"crypto/rand"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/store"

	"golang.org/x/oauth2"

	"github.com/sessionkit/sessionkit"
	"github.com/sessionkit/sessionkit/internal/cputime"
)

// BenchStore is one way of keeping sessions that BenchMiddleware measures.
type BenchStore struct {
	// Name names the sub-benchmark.
	Name string
	// New returns the Store, or nil for stateless cookie sessions. It may
	// skip b (a Redis that is not configured) and registers with
	// b.Cleanup whatever must be closed.
	New func(b *testing.B) store.Store
}

// discard is a ResponseWriter that keeps nothing, so that the benchmark
// measures the middleware and not a recorder.
type discard struct{ h http.Header }

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(p []byte) (int, error) { return len(p), nil }
func (d *discard) WriteHeader(int)             {}

// BenchMiddleware measures, for each of stores in one run, the
// per-request cost through ServeHTTP of a handler behind Middleware that
// reads the session with FromContext. The session is the one
// BenchmarkMiddleware of the core uses (a 900-byte access token, a
// 100-byte refresh token, a 1000-byte ID token), with the
// verified-credential cache on: with a Store, each request decodes the
// cached cookie reference and loads the record from the Store; activity is
// recorded at most every few minutes, so the loop measures reads. Beside
// wall time it reports cpu-ns/op, the process's CPU time per request.
func BenchMiddleware(b *testing.B, stores []BenchStore) {
	keys := []byte(rand.Text() + rand.Text())
	for _, bs := range stores {
		b.Run(bs.Name, func(b *testing.B) {
			m, err := sessionkit.New(sessionkit.Config{
				Keys:   [][]byte{keys},
				Store:  bs.New(b),
				Logger: slog.New(slog.DiscardHandler),
			})
			if err != nil {
				b.Fatalf("New: %v", err)
			}
			b.Cleanup(func() { _ = m.Close() })
			tok := &oauth2.Token{
				AccessToken:  strings.Repeat("a", 900),
				RefreshToken: strings.Repeat("r", 100),
				TokenType:    "Bearer",
				Expiry:       time.Now().Add(time.Hour),
			}
			rec := httptest.NewRecorder()
			if _, err := m.SignIn(rec, httptest.NewRequest(http.MethodGet, "https://app.example/", nil), sessionkit.SignInParams{
				Token: tok, Provider: "oidc",
				User: &sessionkit.User{ID: "user_bench_" + rand.Text(), Email: "bench@example.com", Name: "Bench"},
			}); err != nil {
				b.Fatalf("SignIn: %v", err)
			}
			req := request(rec.Result().Cookies())
			upd := httptest.NewRecorder()
			if _, err := m.UpdateSession(upd, req, func(s *sessionkit.Session) error {
				s.IDToken = strings.Repeat("i", 1000)
				return nil
			}); err != nil {
				b.Fatalf("UpdateSession: %v", err)
			}
			req = request(upd.Result().Cookies())

			var sink *sessionkit.Session
			h := m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				sink, _ = sessionkit.FromContext(r.Context())
			}))
			w := &discard{h: http.Header{}}
			h.ServeHTTP(w, req) // warms the caches
			if sink == nil || sink.IDToken == "" {
				b.Fatal("the handler saw no session")
			}
			b.ReportAllocs()
			b.ResetTimer()
			c0 := cputime.Process()
			for b.Loop() {
				h.ServeHTTP(w, req)
			}
			b.StopTimer()
			cputime.ReportPerOp(b, c0)
			if sink == nil {
				b.Fatal("the handler saw no session")
			}
		})
	}
}
