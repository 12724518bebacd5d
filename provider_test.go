package sessionkit

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/sessionkit/sessionkit/internal/testclock"
)

// discoveryServer serves an OpenID Provider Metadata document built by doc
// from its own URL, and counts the requests.
type discoveryServer struct {
	*httptest.Server
	hits  atomic.Int64
	doc   atomic.Value // func(base string) any
	delay time.Duration
}

func newDiscoveryServer(t *testing.T, doc func(base string) any) *discoveryServer {
	d := &discoveryServer{}
	d.doc.Store(doc)
	d.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.well-known/openid-configuration" {
			http.NotFound(w, r)
			return
		}
		d.hits.Add(1)
		time.Sleep(d.delay)
		v := d.doc.Load().(func(string) any)(d.URL)
		if v == nil {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(v)
	}))
	t.Cleanup(d.Close)
	return d
}

func goodDoc(base string) any {
	return map[string]any{
		"issuer": base, "authorization_endpoint": base + "/authorize", "token_endpoint": base + "/token",
		"jwks_uri": base + "/keys", "userinfo_endpoint": base + "/userinfo",
		"code_challenge_methods_supported":      []string{"S256"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_post"},
	}
}

func discoveryManager(t *testing.T, d *discoveryServer, clk *testclock.Clock) (*Manager, *provider) {
	cfg := testConfig(clk, "")
	cfg.Providers = []Provider{{ID: "oidc", Issuer: d.URL, ClientID: "c"}}
	m := mustNew(t, cfg)
	p, err := m.provider("oidc")
	if err != nil {
		t.Fatal(err)
	}
	return m, p
}

func TestDiscovery(t *testing.T) {
	d := newDiscoveryServer(t, goodDoc)
	_, p := discoveryManager(t, d, newClock())
	r, err := p.resolve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if r.oauth2.Endpoint.TokenURL != d.URL+"/token" || r.oauth2.Endpoint.AuthURL != d.URL+"/authorize" || r.idToken == nil {
		t.Fatalf("got %+v", r.oauth2.Endpoint)
	}
	if r.oauth2.Endpoint.AuthStyle != oauth2.AuthStyleInParams {
		t.Errorf("auth style: got %v, want in params (client_secret_post)", r.oauth2.Endpoint.AuthStyle)
	}
	if !r.meta.SupportsS256() {
		t.Error("S256 not seen")
	}
	if len(r.oauth2.Scopes) != 3 {
		t.Errorf("default scopes: got %v", r.oauth2.Scopes)
	}
	if _, err := p.resolve(context.Background()); err != nil || d.hits.Load() != 1 {
		t.Fatalf("second resolve: err %v, %d fetches; want the cached result", err, d.hits.Load())
	}
}

func TestDiscoveryRejects(t *testing.T) {
	tests := []struct {
		name string
		doc  func(base string) any
	}{
		{"provider down", func(string) any { return nil }},
		{"another issuer", func(base string) any {
			m := goodDoc(base).(map[string]any)
			m["issuer"] = "https://evil.example"
			return m
		}},
		{"plain http token endpoint off loopback", func(base string) any {
			m := goodDoc(base).(map[string]any)
			m["token_endpoint"] = "http://idp.example/token"
			return m
		}},
		{"no jwks_uri", func(base string) any { m := goodDoc(base).(map[string]any); delete(m, "jwks_uri"); return m }},
		{"not JSON", func(string) any { return "nonsense" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDiscoveryServer(t, tt.doc)
			_, p := discoveryManager(t, d, newClock())
			if _, err := p.resolve(context.Background()); !errors.Is(err, ErrProviderUnavailable) {
				t.Fatalf("got %v, want ErrProviderUnavailable", err)
			}
		})
	}
}

// A failed discovery is not retried for discoveryRetry, then is.
func TestDiscoveryRetry(t *testing.T) {
	d := newDiscoveryServer(t, func(string) any { return nil })
	clk := newClock()
	_, p := discoveryManager(t, d, clk)
	for range 5 {
		if _, err := p.resolve(context.Background()); err == nil {
			t.Fatal("resolved while down")
		}
	}
	if got := d.hits.Load(); got != 1 {
		t.Fatalf("fetches while down: got %d, want 1", got)
	}
	d.doc.Store(goodDoc)
	clk.Advance(discoveryRetry)
	if _, err := p.resolve(context.Background()); err != nil {
		t.Fatalf("after the pause: %v", err)
	}
}

// Concurrent first uses share one fetch; a caller whose context ends stops
// waiting.
func TestDiscoveryShared(t *testing.T) {
	d := newDiscoveryServer(t, goodDoc)
	d.delay = 100 * time.Millisecond
	_, p := discoveryManager(t, d, newClock())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := p.resolve(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled caller: got %v", err)
	}
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := p.resolve(context.Background()); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if got := d.hits.Load(); got != 1 {
		t.Fatalf("fetches: got %d, want 1", got)
	}
}
