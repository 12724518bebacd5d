package otel_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"

	"github.com/sessionkit/sessionkit/memstore"
	"github.com/sessionkit/sessionkit/store"
)

func kv(k, v string) attribute.KeyValue { return attribute.String(k, v) }

// TestSignInAndRefresh signs in through devoidc, reads the session from
// the cache, refreshes it, then fails a refresh, and reads every metric
// and span those flows recorded.
func TestSignInAndRefresh(t *testing.T) {
	a := startApp(t, nil)
	a.signIn()
	for range 3 {
		if got := a.me(); got != "user_ada" {
			t.Fatalf("GET /me: got %q, want user_ada", got)
		}
	}
	a.clock.Advance(6 * time.Minute) // past the 5-minute access token
	if got := a.me(); got != "user_ada" {
		t.Fatalf("GET /me after the refresh: got %q", got)
	}
	a.clock.Advance(6 * time.Minute)
	a.failRefresh.Store(1)
	a.me()
	a.clock.Advance(time.Hour) // past the backoff
	a.failRefresh.Store(2)
	a.me()

	rm := a.collect()
	tests := []struct {
		name   string
		metric string
		attrs  []attribute.KeyValue
		want   int64
	}{
		{"sign-ins", "sessionkit.events", []attribute.KeyValue{kv("sessionkit.event", "sign_in")}, 1},
		// The callback's redirect to /me and the three reads, then the
		// three requests around the refreshes.
		{"active cookie reads", "sessionkit.session.reads", []attribute.KeyValue{kv("sessionkit.outcome", "active"), kv("sessionkit.source", "cookie")}, 7},
		{"refreshed", "sessionkit.refreshes", []attribute.KeyValue{kv("sessionkit.outcome", "refreshed")}, 1},
		{"failed transient", "sessionkit.refreshes", []attribute.KeyValue{kv("sessionkit.outcome", "failed_transient")}, 1},
		{"failed dead", "sessionkit.refreshes", []attribute.KeyValue{kv("sessionkit.outcome", "failed_dead")}, 1},
		{"refresh latencies", "sessionkit.refresh.duration", nil, 3},
		{"code exchanges", "sessionkit.client.request.duration", []attribute.KeyValue{kv("sessionkit.call", "token"), attribute.Int("http.response.status_code", 200)}, 1},
		{"refresh exchanges", "sessionkit.client.request.duration", []attribute.KeyValue{kv("sessionkit.call", "refresh"), attribute.Int("http.response.status_code", 200)}, 1},
		{"discovery fetches", "sessionkit.client.request.duration", []attribute.KeyValue{kv("sessionkit.call", "discovery")}, 1},
		{"JWKS fetches", "sessionkit.client.request.duration", []attribute.KeyValue{kv("sessionkit.call", "jwks")}, 1},
		// The three reads, and the first request past the access token's
		// expiry (its cookie unchanged: the session is found, then refreshed).
		{"cache hits", "sessionkit.cache.lookups", []attribute.KeyValue{kv("sessionkit.cache.result", "hit")}, 4},
		{"keys held", "sessionkit.keys", nil, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := value(rm, tt.metric, tt.attrs...); got != tt.want {
				t.Errorf("%s%v: got %d, want %d", tt.metric, tt.attrs, got, tt.want)
			}
		})
	}
	if got := value(rm, "sessionkit.cache.usage"); got < 1024 {
		t.Errorf("sessionkit.cache.usage: got %d bytes, want at least one entry's 1024", got)
	}
	spans := a.spanNames()
	for _, name := range []string{"sessionkit discovery", "sessionkit jwks", "sessionkit token", "sessionkit refresh"} {
		if spans[name] == 0 {
			t.Errorf("no %q span among %v", name, spans)
		}
	}
}

// TestStoreOutage signs in with a Store, then makes the Store fail: the
// request has no session, and the reads, the operation's duration with
// its error.type and the span's error status say so.
func TestStoreOutage(t *testing.T) {
	ms, err := memstore.New(memstore.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer ms.Close()
	st := &flakyStore{Store: ms}
	a := startApp(t, st)
	a.signIn()
	st.down.Store(true)
	if got := a.me(); got != "" {
		t.Fatalf("GET /me with the Store down: got %q, want no session", got)
	}
	rm := a.collect()
	if got := value(rm, "sessionkit.session.reads", kv("sessionkit.outcome", "store_unavailable"), kv("sessionkit.source", "cookie")); got != 1 {
		t.Errorf("store_unavailable reads: got %d, want 1", got)
	}
	if got := value(rm, "sessionkit.store.operation.duration", kv("sessionkit.store.operation", "load"), kv("error.type", "_OTHER")); got != 1 {
		t.Errorf("failed loads: got %d, want 1", got)
	}
	if got := value(rm, "sessionkit.store.operation.duration", kv("sessionkit.store.operation", "save")); got < 1 {
		t.Errorf("saves: got %d, want the sign-in's at least", got)
	}
	failed := 0
	for _, s := range a.spans.GetSpans() {
		if s.Name == "sessionkit.store load" && s.Status.Code == codes.Error {
			failed++
		}
	}
	if failed != 1 {
		t.Errorf("failed store load spans: got %d, want 1", failed)
	}
}

// flakyStore fails every Load while down; its other capabilities are the
// memstore's.
type flakyStore struct {
	*memstore.Store
	down atomic.Bool
}

func (f *flakyStore) Load(ctx context.Context, id string) (store.Record, error) {
	if f.down.Load() {
		return store.Record{}, errors.New("connection refused")
	}
	return f.Store.Load(ctx, id)
}
