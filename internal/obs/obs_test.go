package obs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/internal/credcache"
	"github.com/sessionkit/sessionkit/memstore"
	"github.com/sessionkit/sessionkit/observe"
	"github.com/sessionkit/sessionkit/store"
)

var (
	errNone      = errors.New("no session")
	errStoreDown = errors.New("store down")
	errBadCookie = errors.New("bad cookie")
	errBadToken  = errors.New("bad token")
	sentinels    = Sentinels{NoSession: errNone, StoreDown: errStoreDown, BadCookie: errBadCookie}
)

// recorder is an Observer that records what it is told.
type recorder struct {
	mu     sync.Mutex
	reads  []observe.Read
	events []observe.Event
	ops    []string // "op:result"
}

func (r *recorder) observer() *observe.Observer {
	return &observe.Observer{
		Read:  func(_ context.Context, e observe.Read) { r.mu.Lock(); r.reads = append(r.reads, e); r.mu.Unlock() },
		Event: func(_ context.Context, e observe.Event) { r.mu.Lock(); r.events = append(r.events, e); r.mu.Unlock() },
		Store: func(ctx context.Context, op observe.StoreOp) (context.Context, func(error)) {
			return ctx, func(err error) {
				r.mu.Lock()
				r.ops = append(r.ops, fmt.Sprintf("%s:%v", op, err))
				r.mu.Unlock()
			}
		},
	}
}

func TestDecodedClassifies(t *testing.T) {
	tests := []struct {
		name string
		src  string
		err  error
		want observe.Read
	}{
		{"active cookie", "cookie", nil, observe.Read{Outcome: observe.OutcomeActive, Source: observe.SourceCookie}},
		{"active bearer", "bearer", nil, observe.Read{Outcome: observe.OutcomeActive, Source: observe.SourceBearer}},
		{"expired JWT cookie", "jwt_cookie", errors.New("expired"), observe.Read{Outcome: observe.OutcomeExpired, Source: observe.SourceJWTCookie}},
		{"none", "", errNone, observe.Read{}},
		{"store down", "", fmt.Errorf("wrapped: %w", errStoreDown), observe.Read{Outcome: observe.OutcomeStoreUnavailable, Source: observe.SourceCookie}},
		{"invalid cookie", "", fmt.Errorf("wrapped: %w", errBadCookie), observe.Read{Outcome: observe.OutcomeInvalid, Source: observe.SourceCookie}},
		{"invalid bearer", "", errBadToken, observe.Read{Outcome: observe.OutcomeInvalid, Source: observe.SourceBearer}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r recorder
			New(r.observer(), slog.Default(), sentinels).Decoded(context.Background(), tt.src, tt.err, false, false)
			if len(r.reads) != 1 || r.reads[0] != tt.want {
				t.Fatalf("got %v, want [%v]", r.reads, tt.want)
			}
		})
	}
}

func TestDecodedCountsTheftAndGrace(t *testing.T) {
	var r recorder
	h := New(r.observer(), slog.Default(), sentinels)
	h.Decoded(context.Background(), "cookie", errors.New("revoked"), true, false)
	h.Decoded(context.Background(), "cookie", nil, false, true)
	want := []observe.Event{observe.EventTheft, observe.EventSuccessorGrace}
	if fmt.Sprint(r.events) != fmt.Sprint(want) {
		t.Fatalf("got %v, want %v", r.events, want)
	}
}

// TestNilHooks: without an Observer every method does nothing and
// returns what it was given.
func TestNilHooks(t *testing.T) {
	var h *Hooks
	ctx := context.Background()
	h.Decoded(ctx, "cookie", nil, true, true)
	h.SignIn(ctx)
	h.SignOut(ctx, true)
	h.Shared(ctx, true)
	h.Exchanged(ctx, time.Now(), nil, false)
	h.UnknownKey()
	h.AddKeys(func() int { return 1 })
	h.Register(func() credcache.Stats { return credcache.Stats{} })()
	if got := h.TokenCall(ctx); got != ctx {
		t.Error("TokenCall: got a new context, want ctx itself")
	}
	if got := h.Detach(ctx, context.TODO()); got != context.TODO() {
		t.Error("Detach: got another context, want to")
	}
	c := &http.Client{}
	if h.Client(c, time.Second) != c {
		t.Error("Client: got a copy, want c itself")
	}
	ms, _ := memstore.New(memstore.Config{})
	defer ms.Close()
	if h.Store(ms) != store.Store(ms) {
		t.Error("Store: got a wrapper, want the store itself")
	}
}

func TestPanickingHookIsRecovered(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	h := New(&observe.Observer{Event: func(context.Context, observe.Event) { panic("secret value") }}, log, sentinels)
	h.SignIn(context.Background())
	if out := buf.String(); !strings.Contains(out, "Observer.Event panicked") || !strings.Contains(out, "panic_type=string") || strings.Contains(out, "secret value") {
		t.Fatalf("got log %q, want the panic's type, never its value", out)
	}
}

func TestPanickingTransportIsRecovered(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	panicky := func(http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(*http.Request) (*http.Response, error) { panic("secret value") })
	}
	h := New(&observe.Observer{Transport: panicky}, log, sentinels)
	req, _ := http.NewRequest(http.MethodGet, "http://127.0.0.1:1/", nil)
	if resp, err := h.Transport(http.DefaultTransport).RoundTrip(req); err == nil || resp != nil {
		t.Fatalf("got %v, %v; want an error", resp, err)
	}
	if out := buf.String(); !strings.Contains(out, "Observer.Transport panicked") || strings.Contains(out, "secret value") {
		t.Fatalf("got log %q, want the panic's type, never its value", out)
	}
	h = New(&observe.Observer{Transport: func(http.RoundTripper) http.RoundTripper { panic("wrap") }}, log, sentinels)
	if got := h.Transport(http.DefaultTransport); got != http.DefaultTransport {
		t.Fatalf("a Transport hook that panics: got %v, want the base", got)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestRegisterSumsKeys(t *testing.T) {
	var g observe.Gauges
	h := New(&observe.Observer{Register: func(mg observe.Gauges) func() { g = mg; return nil }}, slog.Default(), sentinels)
	h.AddKeys(func() int { return 2 })
	h.AddKeys(func() int { return 3 })
	h.Register(func() credcache.Stats { return credcache.Stats{Hits: 7, Evictions: 1} })()
	if got := g.Keys(); got != 5 {
		t.Errorf("Keys: got %d, want 5", got)
	}
	if got := g.Cache(); got.Hits != 7 || got.Evictions != 1 {
		t.Errorf("Cache: got %+v, want 7 hits, 1 eviction", got)
	}
}

// TestStoreKeepsCapabilities: the wrapper offers exactly the optional
// interfaces of the store it wraps, for every combination.
func TestStoreKeepsCapabilities(t *testing.T) {
	h := &Hooks{}
	for fs := range uint8(16) {
		w := combine(fs, &base{h: h}, &userLister{h: h}, &sidLister{h: h}, &locker{h: h}, &consumer{h: h})
		_, u := w.(store.UserLister)
		_, p := w.(store.ProviderSessionLister)
		_, l := w.(store.Locker)
		_, c := w.(store.Consumer)
		if got := [4]bool{u, p, l, c}; got != [4]bool{fs&1 != 0, fs&2 != 0, fs&4 != 0, fs&8 != 0} {
			t.Errorf("capabilities %04b: got %v", fs, got)
		}
	}
}

func TestStoreReportsOperations(t *testing.T) {
	ms, err := memstore.New(memstore.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer ms.Close()
	var r recorder
	s := New(r.observer(), slog.Default(), sentinels).Store(ms)
	ctx := context.Background()
	if _, err := s.Load(ctx, "missing"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Load: got %v, want ErrNotFound", err)
	}
	unlock, err := s.(store.Locker).Lock(ctx, "k", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if err := unlock(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.(store.Consumer).Consume(ctx, "k", time.Minute); err != nil {
		t.Fatal(err)
	}
	want := []string{"load:" + store.ErrNotFound.Error(), "lock:<nil>", "unlock:<nil>", "consume:<nil>"}
	if fmt.Sprint(r.ops) != fmt.Sprint(want) {
		t.Fatalf("got %q, want %q", r.ops, want)
	}
}
