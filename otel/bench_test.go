package otel_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"golang.org/x/oauth2"

	"github.com/sessionkit/sessionkit"
	"github.com/sessionkit/sessionkit/internal/cputime"
	"github.com/sessionkit/sessionkit/internal/obs"
	"github.com/sessionkit/sessionkit/observe"
	sotel "github.com/sessionkit/sessionkit/otel"
)

// discard is a ResponseWriter that keeps nothing.
type discard struct{ h http.Header }

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(p []byte) (int, error) { return len(p), nil }
func (d *discard) WriteHeader(int)             {}

// BenchmarkMiddleware measures the cached read path (a 3 KB session
// cookie, an EdDSA bearer JWT; the handler does not read the session) of
// one Manager configuration observed three ways, in one run so that the
// figures compare on a noisy machine: none (no Observer), noop (this
// package's Observer over OpenTelemetry's no-op providers: instrumented,
// no SDK installed) and sdk (the SDK with a manual reader and a tracer
// provider that samples every span).
func BenchmarkMiddleware(b *testing.B) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	noop, err := sotel.New(sotel.Options{})
	if err != nil {
		b.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider()
	b.Cleanup(func() { _ = tp.Shutdown(b.Context()) })
	sdk, err := sotel.New(sotel.Options{MeterProvider: sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader())),
		TracerProvider: tp})
	if err != nil {
		b.Fatal(err)
	}
	bearer := httptest.NewRequest(http.MethodGet, "https://api.example/", nil)
	bearer.Header.Set("Authorization", "Bearer "+mintJWT(b, priv))
	for _, o := range []struct {
		name string
		obs  *observe.Observer
	}{{"none", nil}, {"noop", noop}, {"sdk", sdk}} {
		m := benchManager(b, pub, o.obs)
		h := m.Middleware(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
		for _, c := range []struct {
			name string
			req  *http.Request
		}{{"cookie_cached_noread", benchCookie(b, m)}, {"bearer_eddsa_cached_noread", bearer}} {
			b.Run(c.name+"/obs="+o.name, func(b *testing.B) {
				w := &discard{h: http.Header{}}
				requireActive(b, m, c.req) // and fills the cache
				b.ReportAllocs()
				c0 := cputime.Process()
				for b.Loop() {
					h.ServeHTTP(w, c.req)
				}
				cputime.ReportPerOp(b, c0)
			})
		}
	}
}

// BenchmarkDecoded measures what an Observer adds to every request: the
// call the read path makes once a request is decoded (an active cookie
// session), with no Observer, on OpenTelemetry's no-op providers, and on
// the SDK with a manual reader.
func BenchmarkDecoded(b *testing.B) {
	noop, _ := sotel.New(sotel.Options{})
	sdk, _ := sotel.New(sotel.Options{MeterProvider: sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))})
	errNone := errors.New("none")
	for _, o := range []struct {
		name string
		obs  *observe.Observer
	}{{"none", nil}, {"noop", noop}, {"sdk", sdk}} {
		h := obs.New(o.obs, slog.Default(), obs.Sentinels{NoSession: errNone})
		b.Run("obs="+o.name, func(b *testing.B) {
			ctx := b.Context()
			b.ReportAllocs()
			for b.Loop() {
				h.Decoded(ctx, "cookie", nil, false, false)
			}
		})
	}
}

// requireActive fails b unless r has an active session on m.
func requireActive(b *testing.B, m *sessionkit.Manager, r *http.Request) {
	var s *sessionkit.Session
	m.Middleware(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		s, _ = sessionkit.FromContext(r.Context())
	})).ServeHTTP(&discard{h: http.Header{}}, r)
	if s == nil || s.Status != sessionkit.StatusActive {
		b.Fatal("no active session")
	}
}

func benchManager(b *testing.B, pub ed25519.PublicKey, o *observe.Observer) *sessionkit.Manager {
	m, err := sessionkit.New(sessionkit.Config{
		Keys:     [][]byte{[]byte(strings.Repeat("bench secret ", 4))},
		Bearer:   &sessionkit.JWTConfig{StaticKeys: []sessionkit.StaticKey{{ID: "k1", Key: pub}}, Algorithms: []string{"EdDSA"}, Issuer: "https://issuer.example", Audience: []string{"api"}},
		Observer: o,
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = m.Close() })
	return m
}

// benchCookie signs a user in with tokens of a real provider's sizes and
// returns a request carrying the session cookie (about 3 KB).
func benchCookie(b *testing.B, m *sessionkit.Manager) *http.Request {
	rec := httptest.NewRecorder()
	tok := &oauth2.Token{AccessToken: strings.Repeat("a", 900), RefreshToken: strings.Repeat("r", 100), TokenType: "Bearer", Expiry: time.Now().Add(time.Hour)}
	if _, err := m.SignIn(rec, httptest.NewRequest(http.MethodGet, "https://app.example/", nil), sessionkit.SignInParams{
		Token: tok, User: &sessionkit.User{ID: "user_bench", Email: "bench@example.com", Name: "Bench", Image: strings.Repeat("i", 1000)}, Provider: "oidc"}); err != nil {
		b.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodGet, "https://app.example/", nil)
	for _, c := range rec.Result().Cookies() {
		r.AddCookie(c)
	}
	return r
}

func mintJWT(b *testing.B, priv ed25519.PrivateKey) string {
	now := time.Now()
	t := jwt.NewWithClaims(jwt.SigningMethodEdDSA, jwt.MapClaims{"iss": "https://issuer.example", "aud": "api", "sub": "user_bench",
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix()})
	t.Header["kid"] = "k1"
	raw, err := t.SignedString(priv)
	if err != nil {
		b.Fatal(err)
	}
	return raw
}
