// Package obs calls an observe.Observer's hooks on behalf of the root
// package: each method is a nil check when there is no Observer (or not
// that hook), and a hook that panics is recovered and logged by the type
// of its panic, so that it cannot fail a request.
package obs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/sessionkit/sessionkit/internal/credcache"
	"github.com/sessionkit/sessionkit/observe"
)

// Hooks calls an Observer's hooks. A nil *Hooks calls nothing. Safe for
// concurrent use.
type Hooks struct {
	o    observe.Observer
	log  *slog.Logger
	errs Sentinels

	mu   sync.Mutex
	keys []func() int // the key counts of the verifiers, summed by Gauges.Keys
}

// Sentinels are the caller's errors that tell a read's outcome.
type Sentinels struct {
	NoSession, StoreDown, BadCookie error
}

// New returns the Hooks of o, logging recovered panics to log and
// classifying reads by errs; nil when o is nil.
func New(o *observe.Observer, log *slog.Logger, errs Sentinels) *Hooks {
	if o == nil {
		return nil
	}
	return &Hooks{o: *o, log: log, errs: errs}
}

// recovered logs a hook's panic; deferred by every call of a hook.
func (h *Hooks) recovered(ctx context.Context, hook string) {
	if p := recover(); p != nil {
		h.log.ErrorContext(ctx, "sessionkit: Observer."+hook+" panicked", "panic_type", fmt.Sprintf("%T", p))
	}
}

// Decoded reports a request's read: src is the Source of its session ("" for
// none) and err its error (nil exactly when the session is active); theft
// and grace, a superseded cookie that revoked its session or that got its
// successor.
func (h *Hooks) Decoded(ctx context.Context, src string, err error, theft, grace bool) {
	if h == nil {
		return
	}
	if theft {
		h.Event(ctx, observe.EventTheft)
	}
	if grace {
		h.Event(ctx, observe.EventSuccessorGrace)
	}
	if h.o.Read != nil {
		defer h.recovered(ctx, "Read")
		h.o.Read(ctx, h.classify(src, err))
	}
}

// classify is the outcome of a read whose session came from src ("": none)
// and ended with err.
func (h *Hooks) classify(src string, err error) observe.Read {
	switch {
	case src != "" && err == nil:
		return observe.Read{Outcome: observe.OutcomeActive, Source: source(src)}
	case src != "":
		return observe.Read{Outcome: observe.OutcomeExpired, Source: source(src)}
	case err == h.errs.NoSession:
		return observe.Read{}
	case errors.Is(err, h.errs.StoreDown):
		return observe.Read{Outcome: observe.OutcomeStoreUnavailable, Source: observe.SourceCookie}
	case errors.Is(err, h.errs.BadCookie):
		return observe.Read{Outcome: observe.OutcomeInvalid, Source: observe.SourceCookie}
	}
	return observe.Read{Outcome: observe.OutcomeInvalid, Source: observe.SourceBearer}
}

// source maps a session's Source, named as observe names its Sources.
func source(src string) observe.Source {
	switch src {
	case "cookie":
		return observe.SourceCookie
	case "bearer":
		return observe.SourceBearer
	case "jwt_cookie":
		return observe.SourceJWTCookie
	}
	return observe.SourceNone
}

// SignIn counts a sign-in.
func (h *Hooks) SignIn(ctx context.Context) { h.Event(ctx, observe.EventSignIn) }

// SignOut counts a sign-out, if a session was signed out.
func (h *Hooks) SignOut(ctx context.Context, signedOut bool) {
	if signedOut {
		h.Event(ctx, observe.EventSignOut)
	}
}

// BackchannelLogout counts an accepted logout token.
func (h *Hooks) BackchannelLogout(ctx context.Context) { h.Event(ctx, observe.EventBackchannelLogout) }

// TicketRedeemed counts a redeemed ticket.
func (h *Hooks) TicketRedeemed(ctx context.Context) { h.Event(ctx, observe.EventTicketRedeemed) }

// TokenMinted counts a minted template token.
func (h *Hooks) TokenMinted(ctx context.Context) { h.Event(ctx, observe.EventTokenMinted) }

// UnknownKey counts a JWK Set fetch started for a key not held.
func (h *Hooks) UnknownKey() { h.Event(context.Background(), observe.EventUnknownKey) }

// TokenCall returns ctx marking its outgoing requests as token-endpoint
// calls (authorization code exchanges).
func (h *Hooks) TokenCall(ctx context.Context) context.Context { return h.call(ctx, observe.CallToken) }

// RefreshCall returns ctx marking its outgoing requests as refresh token
// exchanges.
func (h *Hooks) RefreshCall(ctx context.Context) context.Context {
	return h.call(ctx, observe.CallRefresh)
}

// call returns ctx marking its outgoing requests as c, when the Observer
// wraps the transport (which reads the mark); ctx itself otherwise.
func (h *Hooks) call(ctx context.Context, c observe.Call) context.Context {
	if h == nil || h.o.Transport == nil {
		return ctx
	}
	return observe.WithCall(ctx, c)
}

// Event counts e.
func (h *Hooks) Event(ctx context.Context, e observe.Event) {
	if h == nil || h.o.Event == nil {
		return
	}
	defer h.recovered(ctx, "Event")
	h.o.Event(ctx, e)
}

// refresh reports a refresh's outcome; took is the exchange's latency.
func (h *Hooks) refresh(ctx context.Context, outcome observe.RefreshOutcome, took time.Duration) {
	if h == nil || h.o.Refresh == nil {
		return
	}
	defer h.recovered(ctx, "Refresh")
	h.o.Refresh(ctx, observe.Refresh{Outcome: outcome, Duration: took})
}

// Exchanged reports a refresh token's exchange that started at start and
// ended with err; dead: the provider refused the refresh token.
func (h *Hooks) Exchanged(ctx context.Context, start time.Time, err error, dead bool) {
	outcome := observe.RefreshFailedTransient
	switch {
	case err == nil:
		outcome = observe.RefreshRefreshed
	case dead:
		outcome = observe.RefreshFailedDead
	}
	h.refresh(ctx, outcome, time.Since(start))
}

// Shared reports, when shared, a request that applied tokens another
// request or instance refreshed.
func (h *Hooks) Shared(ctx context.Context, shared bool) {
	if shared {
		h.refresh(ctx, observe.RefreshShared, 0)
	}
}

// Detach returns to carrying what the Observer keeps of from.
func (h *Hooks) Detach(from, to context.Context) (out context.Context) {
	if h == nil || h.o.Detach == nil {
		return to
	}
	out = to
	defer h.recovered(from, "Detach")
	return h.o.Detach(from, to)
}

// Transport returns base wrapped by the Observer's Transport, if any; a
// request whose wrapper panics fails with an error instead.
func (h *Hooks) Transport(base http.RoundTripper) (rt http.RoundTripper) {
	if h == nil || h.o.Transport == nil {
		return base
	}
	rt = base
	defer h.recovered(context.Background(), "Transport")
	if t := h.o.Transport(base); t != nil {
		return safeTransport{t, h}
	}
	return base
}

// safeTransport is an Observer's RoundTripper whose panics are recovered.
type safeTransport struct {
	rt http.RoundTripper
	h  *Hooks
}

var errTransportPanicked = errors.New("sessionkit: Observer.Transport panicked")

func (t safeTransport) RoundTrip(r *http.Request) (resp *http.Response, err error) {
	defer func() {
		if p := recover(); p != nil {
			t.h.log.ErrorContext(r.Context(), "sessionkit: Observer.Transport panicked", "panic_type", fmt.Sprintf("%T", p))
			resp, err = nil, errTransportPanicked
		}
	}()
	return t.rt.RoundTrip(r)
}

// Register hands the Observer the gauges of a cache whose counters stats
// reads and of the key counts given to AddKeys, and returns what undoes
// it (never nil).
func (h *Hooks) Register(stats func() credcache.Stats) (unregister func()) {
	unregister = func() {}
	if h == nil || h.o.Register == nil {
		return unregister
	}
	defer h.recovered(context.Background(), "Register")
	cache := func() observe.CacheStats {
		st := stats()
		return observe.CacheStats{Entries: st.Entries, Bytes: st.Bytes, Hits: st.Hits, Misses: st.Misses, Evictions: st.Evictions}
	}
	if u := h.o.Register(observe.Gauges{Cache: cache, Keys: h.keyCount}); u != nil {
		unregister = u
	}
	return unregister
}

// AddKeys adds a verifier's key count to Gauges.Keys.
func (h *Hooks) AddKeys(count func() int) {
	if h != nil {
		h.mu.Lock()
		h.keys = append(h.keys, count)
		h.mu.Unlock()
	}
}

func (h *Hooks) keyCount() (n int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, count := range h.keys {
		n += count()
	}
	return n
}

// store starts the observation of a Store operation.
func (h *Hooks) store(ctx context.Context, op observe.StoreOp) (out context.Context, done func(error)) {
	out, done = ctx, func(error) {}
	defer h.recovered(ctx, "Store")
	c, d := h.o.Store(ctx, op)
	if c != nil {
		out = c
	}
	if d != nil {
		done = func(err error) {
			defer h.recovered(ctx, "Store")
			d(err)
		}
	}
	return out, done
}

// Client returns c (or a new client with timeout) with its transport
// wrapped by the Observer's Transport; c itself when there is none.
func (h *Hooks) Client(c *http.Client, timeout time.Duration) *http.Client {
	if h == nil || h.o.Transport == nil {
		return c
	}
	out := http.Client{Timeout: timeout}
	if c != nil {
		out = *c
	}
	base := out.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	out.Transport = h.Transport(base)
	return &out
}
