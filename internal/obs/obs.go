// Package obs calls an observe.Observer's hooks on behalf of the root
// package: each method is a nil check when there is no Observer (or not
// that hook), and a hook that panics is recovered and logged by the type
// of its panic, so that it cannot fail a request.
package obs

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/sessionkit/sessionkit/observe"
)

// Hooks calls an Observer's hooks. A nil *Hooks calls nothing. Safe for
// concurrent use.
type Hooks struct {
	o   observe.Observer
	log *slog.Logger
}

// New returns the Hooks of o, logging recovered panics to log; nil when o
// is nil.
func New(o *observe.Observer, log *slog.Logger) *Hooks {
	if o == nil {
		return nil
	}
	return &Hooks{o: *o, log: log}
}

// recovered logs a hook's panic; deferred by every call of a hook.
func (h *Hooks) recovered(ctx context.Context, hook string) {
	if p := recover(); p != nil {
		h.log.ErrorContext(ctx, "sessionkit: Observer."+hook+" panicked", "panic_type", fmt.Sprintf("%T", p))
	}
}

// Read reports a request's read.
func (h *Hooks) Read(ctx context.Context, e observe.Read) {
	if h == nil || h.o.Read == nil {
		return
	}
	defer h.recovered(ctx, "Read")
	h.o.Read(ctx, e)
}

// Event counts e.
func (h *Hooks) Event(ctx context.Context, e observe.Event) {
	if h == nil || h.o.Event == nil {
		return
	}
	defer h.recovered(ctx, "Event")
	h.o.Event(ctx, e)
}

// Refresh reports a refresh's outcome; took is the exchange's latency.
func (h *Hooks) Refresh(ctx context.Context, outcome observe.RefreshOutcome, took time.Duration) {
	if h == nil || h.o.Refresh == nil {
		return
	}
	defer h.recovered(ctx, "Refresh")
	h.o.Refresh(ctx, observe.Refresh{Outcome: outcome, Duration: took})
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

// Transport returns base wrapped by the Observer's Transport, if any.
func (h *Hooks) Transport(base http.RoundTripper) http.RoundTripper {
	if h == nil || h.o.Transport == nil {
		return base
	}
	if t := h.o.Transport(base); t != nil {
		return t
	}
	return base
}

// Register hands g to the Observer and returns what undoes it (never nil).
func (h *Hooks) Register(g observe.Gauges) (unregister func()) {
	unregister = func() {}
	if h == nil || h.o.Register == nil {
		return unregister
	}
	defer h.recovered(context.Background(), "Register")
	if u := h.o.Register(g); u != nil {
		unregister = u
	}
	return unregister
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

// RefreshOutcome classifies a refresh token's exchange by its error; dead:
// the provider refused the refresh token.
func RefreshOutcome(err error, dead bool) observe.RefreshOutcome {
	switch {
	case err == nil:
		return observe.RefreshRefreshed
	case dead:
		return observe.RefreshFailedDead
	}
	return observe.RefreshFailedTransient
}

// Reading reports whether the Observer has a Read hook, so that a read's
// outcome is worked out only for one.
func (h *Hooks) Reading() bool { return h != nil && h.o.Read != nil }
