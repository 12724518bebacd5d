package introspect

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sessionkit/sessionkit/internal/oidc"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var testPolicy = Policy{Issuer: "https://idp.example", Audiences: []string{"api", "https://api.example"}}

func TestPolicy(t *testing.T) {
	tests := []struct {
		name   string
		claims map[string]any
		ok     bool
	}{
		{"our client's token", map[string]any{"sub": "u", "client_id": "api"}, true},
		{"our audience", map[string]any{"sub": "u", "client_id": "spa", "aud": []any{"https://api.example"}}, true},
		{"our audience as a string", map[string]any{"sub": "u", "aud": "api"}, true},
		{"access token types", map[string]any{"sub": "u", "client_id": "api", "token_type": "Bearer", "token_use": "access_token"}, true},
		{"our issuer", map[string]any{"sub": "u", "client_id": "api", "iss": "https://idp.example"}, true},
		{"another client and audience", map[string]any{"sub": "u", "client_id": "someone-else", "aud": "https://other-api"}, false},
		{"no audience at all", map[string]any{"sub": "u"}, false},
		{"a refresh token", map[string]any{"sub": "u", "client_id": "api", "token_use": "refresh_token"}, false},
		{"a refresh token type", map[string]any{"sub": "u", "client_id": "api", "token_type": "refresh_token"}, false},
		{"no subject (a machine token)", map[string]any{"client_id": "api"}, false},
		{"another issuer", map[string]any{"sub": "u", "client_id": "api", "iss": "https://evil.example"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := testPolicy.Check(tt.claims)
			if (err == nil) != tt.ok || (err != nil && !errors.Is(err, ErrRefused)) {
				t.Fatalf("got %v, want accepted %v", err, tt.ok)
			}
		})
	}
}

// provider answers introspections from its table of active tokens, each
// after delay, counting them.
type provider struct {
	*httptest.Server
	calls  atomic.Int32
	mu     sync.Mutex
	active map[string]string // token -> the answer's JSON
}

func newProvider(t *testing.T, delay time.Duration, active map[string]string) *provider {
	t.Helper()
	p := &provider{active: active}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.calls.Add(1)
		time.Sleep(delay)
		p.mu.Lock()
		body, ok := p.active[r.PostFormValue("token")]
		p.mu.Unlock()
		if !ok {
			body = `{"active":false}`
		}
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(p.Close)
	return p
}

func (p *provider) endpoint() Endpoint {
	return func(context.Context) (string, oidc.ClientAuth, error) { return p.URL, oidc.ClientAuth{ID: "api"}, nil }
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestVerify(t *testing.T) {
	clk := &clock{t: time.Unix(1_800_000_000, 0)}
	soon := clk.t.Add(20 * time.Second).Unix()
	late := clk.t.Add(time.Hour).Unix()
	p := newProvider(t, 0, map[string]string{
		"soon": `{"active":true,"client_id":"api","sub":"u1","exp":` + itoa(soon) + `}`,
		"late": `{"active":true,"client_id":"api","sub":"u2","exp":` + itoa(late) + `}`,
	})
	v := New([]Endpoint{p.endpoint()}, testPolicy, p.Client(), 5*time.Second, clk.now)
	defer v.Close()
	tests := []struct {
		name      string
		token     string
		wantUntil time.Time
		wantErr   error
	}{
		{name: "active until exp", token: "soon", wantUntil: time.Unix(soon, 0)},
		{name: "active within the maximum", token: "late", wantUntil: clk.t.Add(MaxActiveAge)},
		{name: "inactive", token: "nope", wantErr: ErrInactive},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := v.Verify(context.Background(), tt.token)
			if !errors.Is(err, tt.wantErr) || !r.Until.Equal(tt.wantUntil) {
				t.Fatalf("got %+v, %v; want until %v, %v", r, err, tt.wantUntil, tt.wantErr)
			}
		})
	}
}

func TestVerifyRemembersInactiveBriefly(t *testing.T) {
	clk := &clock{t: time.Unix(1_800_000_000, 0)}
	p := newProvider(t, 0, map[string]string{})
	v := New([]Endpoint{p.endpoint()}, testPolicy, p.Client(), 5*time.Second, clk.now)
	defer v.Close()
	for range 3 {
		if _, err := v.Verify(context.Background(), "tok"); !errors.Is(err, ErrInactive) {
			t.Fatalf("got %v, want ErrInactive", err)
		}
	}
	if n := p.calls.Load(); n != 1 {
		t.Fatalf("within InactiveAge: got %d introspections, want 1", n)
	}
	p.mu.Lock()
	p.active["tok"] = `{"active":true,"client_id":"api","sub":"u1"}`
	p.mu.Unlock()
	clk.add(InactiveAge)
	if _, err := v.Verify(context.Background(), "tok"); err != nil {
		t.Fatalf("after InactiveAge: got %v, want the active answer", err)
	}
}

func TestVerifyOneFlightPerToken(t *testing.T) {
	p := newProvider(t, 100*time.Millisecond, map[string]string{"tok": `{"active":true,"client_id":"api","sub":"u1"}`})
	v := New([]Endpoint{p.endpoint()}, testPolicy, p.Client(), 5*time.Second, time.Now)
	defer v.Close()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if r, err := v.Verify(context.Background(), "tok"); err != nil || r.Claims["sub"] != "u1" {
				t.Errorf("got %+v, %v", r, err)
			}
		})
	}
	wg.Wait()
	if n := p.calls.Load(); n != 1 {
		t.Fatalf("got %d introspections, want 1", n)
	}
}

func TestVerifyEndpointsInOrder(t *testing.T) {
	a := newProvider(t, 0, map[string]string{})
	b := newProvider(t, 0, map[string]string{"tok": `{"active":true,"client_id":"api","sub":"at-b"}`})
	broken := func(context.Context) (string, oidc.ClientAuth, error) {
		return "", oidc.ClientAuth{}, errors.New("discovery failed")
	}
	tests := []struct {
		name      string
		endpoints []Endpoint
		wantSub   any
		wantErr   bool
	}{
		{name: "the second knows it", endpoints: []Endpoint{a.endpoint(), b.endpoint()}, wantSub: "at-b"},
		{name: "a broken one is passed", endpoints: []Endpoint{broken, b.endpoint()}, wantSub: "at-b"},
		{name: "no answer is not inactive", endpoints: []Endpoint{a.endpoint(), broken}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := New(tt.endpoints, testPolicy, http.DefaultClient, 5*time.Second, time.Now)
			defer v.Close()
			r, err := v.Verify(context.Background(), "tok")
			if (err != nil) != tt.wantErr || errors.Is(err, ErrInactive) || r.Claims["sub"] != tt.wantSub {
				t.Fatalf("got %+v, %v; want sub %v, error %v (not ErrInactive)", r, err, tt.wantSub, tt.wantErr)
			}
		})
	}
}

// Within one second of the Verifier's clock (which stands still here, so
// that a slow machine refills nothing), PerSecond introspections go out
// and the rest are refused; a second later there is room again.
func TestVerifyRateLimit(t *testing.T) {
	p := newProvider(t, 0, map[string]string{})
	now := time.Now()
	v := New([]Endpoint{p.endpoint()}, testPolicy, p.Client(), 5*time.Second, func() time.Time { return now })
	defer v.Close()
	limited := 0
	for i := range PerSecond + 20 {
		if _, err := v.Verify(context.Background(), "tok-"+itoa(int64(i))); errors.Is(err, ErrLimited) {
			limited++
		}
	}
	if limited != 20 || p.calls.Load() != PerSecond {
		t.Fatalf("got %d refused and %d sent, want 20 refused and %d sent", limited, p.calls.Load(), PerSecond)
	}
	now = now.Add(time.Second)
	if _, err := v.Verify(context.Background(), "tok-later"); errors.Is(err, ErrLimited) {
		t.Fatal("still refused a second later")
	}
}

func itoa(n int64) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

func TestVerifyRefusesWhatPolicyRefuses(t *testing.T) {
	p := newProvider(t, 0, map[string]string{
		"theirs":  `{"active":true,"sub":"victim","client_id":"someone-else","aud":"https://other-api"}`,
		"refresh": `{"active":true,"sub":"victim","client_id":"api","token_use":"refresh_token"}`,
	})
	v := New([]Endpoint{p.endpoint()}, testPolicy, p.Client(), 5*time.Second, time.Now)
	defer v.Close()
	for i, tok := range []string{"theirs", "refresh", "theirs"} {
		r, err := v.Verify(context.Background(), tok)
		// The repeat is answered from the remembered refusal.
		if want := ErrRefused; (i < 2 && !errors.Is(err, want)) || err == nil || r.Claims != nil {
			t.Fatalf("%s: got %+v, %v; want a refusal", tok, r, err)
		}
	}
	if n := p.calls.Load(); n != 2 {
		t.Fatalf("introspections: got %d, want 2 (a refusal is remembered)", n)
	}
}
