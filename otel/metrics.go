package otel

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/sessionkit/sessionkit/observe"
)

// Attribute keys.
const (
	keyOutcome = attribute.Key("sessionkit.outcome")
	keySource  = attribute.Key("sessionkit.source")
	keyEvent   = attribute.Key("sessionkit.event")
	keyStoreOp = attribute.Key("sessionkit.store.operation")
	keyCall    = attribute.Key("sessionkit.call")
	keyResult  = attribute.Key("sessionkit.cache.result")
	keyError   = attribute.Key("error.type")
	keyStatus  = attribute.Key("http.response.status_code")
)

// instruments are the synchronous instruments and, built once, the
// options of every attribute set the hot paths record with, so that a
// measurement allocates nothing.
type instruments struct {
	meter      metric.Meter
	reads      metric.Int64ObservableCounter
	refreshes  metric.Int64Counter
	refreshDur metric.Float64Histogram
	events     metric.Int64Counter
	storeDur   metric.Float64Histogram
	callDur    metric.Float64Histogram

	// readCount counts the reads, the one event of every request, in
	// atomics that a callback reports at collection: a request pays an
	// atomic add, not a measurement through the SDK.
	readCount   [observe.Outcomes][observe.Sources]atomic.Int64
	readOpts    [observe.Outcomes][observe.Sources]metric.ObserveOption
	refreshOpts [observe.RefreshOutcomes][]metric.AddOption
	refreshRec  [observe.RefreshOutcomes][]metric.RecordOption
	eventOpts   [observe.Events][]metric.AddOption
}

// durationBuckets are the histograms' bounds in seconds: 1 ms to 10 s.
var durationBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

func newInstruments(m metric.Meter) (*instruments, error) {
	ins := &instruments{meter: m}
	var errs [6]error
	ins.reads, errs[0] = m.Int64ObservableCounter("sessionkit.session.reads", metric.WithUnit("{request}"),
		metric.WithDescription("Requests whose session credentials were read, by outcome and source."), metric.WithInt64Callback(ins.observeReads))
	ins.refreshes, errs[1] = m.Int64Counter("sessionkit.refreshes", metric.WithUnit("{refresh}"),
		metric.WithDescription("Access token refreshes, by outcome (shared: applied from another request's or instance's)."))
	ins.refreshDur, errs[2] = m.Float64Histogram("sessionkit.refresh.duration", metric.WithUnit("s"),
		metric.WithDescription("Latency of the token endpoint's refresh token exchanges."), metric.WithExplicitBucketBoundaries(durationBuckets...))
	ins.events, errs[3] = m.Int64Counter("sessionkit.events", metric.WithUnit("{event}"),
		metric.WithDescription("Sign-ins, sign-outs, back-channel logouts, theft detections, tickets redeemed, tokens minted, successor-grace hits, unknown-key refetches."))
	ins.storeDur, errs[4] = m.Float64Histogram("sessionkit.store.operation.duration", metric.WithUnit("s"),
		metric.WithDescription("Latency of Store operations; error.type is set on system errors."), metric.WithExplicitBucketBoundaries(durationBuckets...))
	ins.callDur, errs[5] = m.Float64Histogram("sessionkit.client.request.duration", metric.WithUnit("s"),
		metric.WithDescription("Latency of requests to identity providers (discovery, JWK Sets, token, userinfo, revocation)."), metric.WithExplicitBucketBoundaries(durationBuckets...))
	if err := errors.Join(errs[:]...); err != nil {
		return nil, fmt.Errorf("sessionkit: creating instruments: %w", err)
	}
	ins.buildOptions()
	return ins, nil
}

func (ins *instruments) buildOptions() {
	for o := range observe.Outcomes {
		for s := range observe.Sources {
			set := attribute.NewSet(keyOutcome.String(observe.Outcome(o).String()), keySource.String(observe.Source(s).String()))
			ins.readOpts[o][s] = metric.WithAttributeSet(set)
		}
	}
	for o := range observe.RefreshOutcomes {
		opt := metric.WithAttributeSet(attribute.NewSet(keyOutcome.String(observe.RefreshOutcome(o).String())))
		ins.refreshOpts[o], ins.refreshRec[o] = []metric.AddOption{opt}, []metric.RecordOption{opt}
	}
	for e := range observe.Events {
		ins.eventOpts[e] = []metric.AddOption{metric.WithAttributeSet(attribute.NewSet(keyEvent.String(observe.Event(e).String())))}
	}
}

func (ins *instruments) read(_ context.Context, e observe.Read) {
	if int(e.Outcome) < observe.Outcomes && int(e.Source) < observe.Sources {
		ins.readCount[e.Outcome][e.Source].Add(1)
	}
}

// observeReads reports the read counts, those not zero.
func (ins *instruments) observeReads(_ context.Context, o metric.Int64Observer) error {
	for i := range ins.readCount {
		for j := range ins.readCount[i] {
			if n := ins.readCount[i][j].Load(); n > 0 {
				o.Observe(n, ins.readOpts[i][j])
			}
		}
	}
	return nil
}

func (ins *instruments) refresh(ctx context.Context, e observe.Refresh) {
	if int(e.Outcome) >= observe.RefreshOutcomes {
		return
	}
	ins.refreshes.Add(ctx, 1, ins.refreshOpts[e.Outcome]...)
	if e.Outcome != observe.RefreshShared {
		ins.refreshDur.Record(ctx, e.Duration.Seconds(), ins.refreshRec[e.Outcome]...)
	}
}

func (ins *instruments) event(ctx context.Context, e observe.Event) {
	if int(e) < observe.Events {
		ins.events.Add(ctx, 1, ins.eventOpts[e]...)
	}
}

// register observes g's gauges at every collection, until unregistered.
func (ins *instruments) register(g observe.Gauges) func() {
	m := ins.meter
	lookups, e1 := m.Int64ObservableCounter("sessionkit.cache.lookups", metric.WithUnit("{lookup}"),
		metric.WithDescription("Lookups of the verified-credential cache, by result."))
	evictions, e2 := m.Int64ObservableCounter("sessionkit.cache.evictions", metric.WithUnit("{entry}"),
		metric.WithDescription("Valid entries the verified-credential cache dropped to make room."))
	entries, e3 := m.Int64ObservableGauge("sessionkit.cache.entries", metric.WithUnit("{entry}"),
		metric.WithDescription("Entries the verified-credential cache holds."))
	usage, e4 := m.Int64ObservableGauge("sessionkit.cache.usage", metric.WithUnit("By"),
		metric.WithDescription("Estimated bytes the verified-credential cache holds, within Config.CacheBytes."))
	keys, e5 := m.Int64ObservableGauge("sessionkit.keys", metric.WithUnit("{key}"),
		metric.WithDescription("Verification keys held from JWK Sets."))
	if errors.Join(e1, e2, e3, e4, e5) != nil {
		return nil // the API's instruments are valid: this cannot happen with these names
	}
	hit := metric.WithAttributeSet(attribute.NewSet(keyResult.String("hit")))
	miss := metric.WithAttributeSet(attribute.NewSet(keyResult.String("miss")))
	reg, err := m.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		st := g.Cache()
		o.ObserveInt64(lookups, int64(st.Hits), hit)
		o.ObserveInt64(lookups, int64(st.Misses), miss)
		o.ObserveInt64(evictions, int64(st.Evictions))
		o.ObserveInt64(entries, int64(st.Entries))
		o.ObserveInt64(usage, st.Bytes)
		o.ObserveInt64(keys, int64(g.Keys()))
		return nil
	}, lookups, evictions, entries, usage, keys)
	if err != nil {
		return nil
	}
	return func() { _ = reg.Unregister() }
}

// seconds returns the seconds elapsed since start.
func seconds(start time.Time) float64 { return time.Since(start).Seconds() }
