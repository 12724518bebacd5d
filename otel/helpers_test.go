package otel_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"golang.org/x/oauth2"

	"github.com/sessionkit/sessionkit"
	"github.com/sessionkit/sessionkit/devoidc"
	"github.com/sessionkit/sessionkit/internal/testclock"
	sotel "github.com/sessionkit/sessionkit/otel"
	"github.com/sessionkit/sessionkit/store"
)

const (
	clientID     = "web"
	clientSecret = "web-secret"
)

// app is an application on sessionkit with devoidc as its provider, the
// Manager observed by an SDK with a manual metric reader and an in-memory
// span exporter.
type app struct {
	t      *testing.T
	URL    string
	idp    *devoidc.Server
	m      *sessionkit.Manager
	clock  *testclock.Clock
	reader *sdkmetric.ManualReader
	spans  *tracetest.InMemoryExporter
	// failRefresh makes Provider.Refresh fail: 1 transiently, 2 with
	// invalid_grant; 0 passes the exchange on to the provider.
	failRefresh atomic.Int32
	jar         *cookiejar.Jar
	client      *http.Client
}

func startApp(t *testing.T, st store.Store) *app {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	a := &app{t: t, URL: "http://" + srv.Listener.Addr().String(), clock: testclock.Live()}
	idp, err := devoidc.Listen("127.0.0.1:0", devoidc.Config{AutoLogin: "ada",
		Clients: []devoidc.Client{{ID: clientID, Secret: clientSecret, RedirectURIs: []string{a.URL + "/api/auth/callback/oidc"}}}})
	if err != nil {
		t.Fatal(err)
	}
	a.idp = idp
	a.reader = sdkmetric.NewManualReader()
	a.spans = tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(a.spans))
	o, err := sotel.New(sotel.Options{MeterProvider: sdkmetric.NewMeterProvider(sdkmetric.WithReader(a.reader)), TracerProvider: tp})
	if err != nil {
		t.Fatal(err)
	}
	transport := &http.Transport{}
	a.m, err = sessionkit.New(sessionkit.Config{
		Keys: [][]byte{[]byte(strings.Repeat("otel test secret ", 3))},
		Providers: []sessionkit.Provider{{ID: "oidc", Issuer: idp.URL(), ClientID: clientID, ClientSecret: clientSecret,
			Scopes: []string{"openid", "profile", "email", "offline_access"}, Refresh: a.refresh}},
		Store:      st,
		HTTPClient: &http.Client{Transport: transport, Timeout: 5 * time.Second},
		Now:        a.clock.Now,
		Observer:   o,
	})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/api/auth/", a.m.Handler())
	mux.HandleFunc("GET /me", func(w http.ResponseWriter, r *http.Request) {
		if s, ok := sessionkit.FromContext(r.Context()); ok && s.Status == sessionkit.StatusActive {
			io.WriteString(w, s.User.ID)
		}
	})
	srv.Config.Handler = a.m.Middleware(mux)
	srv.Start()
	a.jar, _ = cookiejar.New(nil)
	a.client = &http.Client{Jar: a.jar, Transport: &http.Transport{}, Timeout: 10 * time.Second}
	t.Cleanup(func() {
		srv.Close()
		a.m.Close()
		idp.Close()
		transport.CloseIdleConnections()
		_ = tp.Shutdown(context.Background())
	})
	return a
}

// refresh is Provider.Refresh: the provider's exchange, or a failure.
func (a *app) refresh(ctx context.Context, conf *oauth2.Config, cur *oauth2.Token) (*oauth2.Token, error) {
	switch a.failRefresh.Load() {
	case 1:
		return nil, errors.New("token endpoint unreachable")
	case 2:
		return nil, &oauth2.RetrieveError{ErrorCode: "invalid_grant"}
	}
	old := *cur
	old.Expiry = time.Unix(1, 0) // the provider's clock is real: ask anyway
	return conf.TokenSource(ctx, &old).Token()
}

// signIn runs the authorization code flow, following every redirect.
func (a *app) signIn() {
	a.t.Helper()
	resp, err := a.client.Get(a.URL + "/api/auth/signin/oidc?callbackUrl=" + url.QueryEscape(a.URL+"/me"))
	if err != nil {
		a.t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != devoidc.DefaultUsers[0].ID {
		a.t.Fatalf("sign-in ended at %s with %d %q, want /me answering %q", resp.Request.URL, resp.StatusCode, body, devoidc.DefaultUsers[0].ID)
	}
}

// me requests /me and returns the user it names ("" without a session).
func (a *app) me() string {
	a.t.Helper()
	resp, err := a.client.Get(a.URL + "/me")
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return string(body)
}

// collect reads the metrics recorded so far.
func (a *app) collect() metricdata.ResourceMetrics {
	a.t.Helper()
	var rm metricdata.ResourceMetrics
	if err := a.reader.Collect(context.Background(), &rm); err != nil {
		a.t.Fatal(err)
	}
	return rm
}

// find returns the metric named name.
func find(rm metricdata.ResourceMetrics, name string) (metricdata.Metrics, bool) {
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name == name {
				return m, true
			}
		}
	}
	return metricdata.Metrics{}, false
}

// matches reports whether set holds every attribute of want.
func matches(set attribute.Set, want []attribute.KeyValue) bool {
	for _, kv := range want {
		if v, ok := set.Value(kv.Key); !ok || v != kv.Value {
			return false
		}
	}
	return true
}

// value sums the points of metric name whose attributes include want: the
// value of sums and gauges, the count of histograms.
func value(rm metricdata.ResourceMetrics, name string, want ...attribute.KeyValue) int64 {
	m, ok := find(rm, name)
	if !ok {
		return 0
	}
	var n int64
	switch d := m.Data.(type) {
	case metricdata.Sum[int64]:
		for _, p := range d.DataPoints {
			if matches(p.Attributes, want) {
				n += p.Value
			}
		}
	case metricdata.Gauge[int64]:
		for _, p := range d.DataPoints {
			if matches(p.Attributes, want) {
				n += p.Value
			}
		}
	case metricdata.Histogram[float64]:
		for _, p := range d.DataPoints {
			if matches(p.Attributes, want) {
				n += int64(p.Count)
			}
		}
	}
	return n
}

// spanNames counts the ended spans by name.
func (a *app) spanNames() map[string]int {
	out := map[string]int{}
	for _, s := range a.spans.GetSpans() {
		out[s.Name]++
	}
	return out
}
