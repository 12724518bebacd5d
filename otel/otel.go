// Package otel reports what a sessionkit.Manager does to OpenTelemetry:
// New returns an observe.Observer that records metrics through a
// MeterProvider and spans through a TracerProvider. Set it as
// sessionkit.Config.Observer:
//
//	o, err := otel.New(otel.Options{}) // the global providers
//	m, err := sessionkit.New(sessionkit.Config{..., Observer: o})
//
// The instruments, all prefixed "sessionkit.", with units after
// OpenTelemetry's semantic conventions (seconds, bytes, {request}):
//
//	sessionkit.session.reads              counter {request}   sessionkit.outcome, sessionkit.source
//	sessionkit.refreshes                  counter {refresh}   sessionkit.outcome
//	sessionkit.refresh.duration           histogram s         sessionkit.outcome (token endpoint latency)
//	sessionkit.events                     counter {event}     sessionkit.event (sign_in, sign_out, ...)
//	sessionkit.store.operation.duration   histogram s         sessionkit.store.operation, error.type
//	sessionkit.client.request.duration    histogram s         sessionkit.call, http.response.status_code, error.type
//	sessionkit.cache.lookups              counter {lookup}    sessionkit.cache.result (hit, miss), observed
//	sessionkit.cache.evictions            counter {entry}     observed
//	sessionkit.cache.entries, .usage      gauges {entry}, By  observed
//	sessionkit.keys                       gauge {key}         observed
//
// The reads, one a request, are counted in atomics that the meter reads
// at collection, so that the read path costs the same with the SDK as
// without. Attributes are bounded enumerations: no user, session ID or
// token is ever recorded. Spans: one per outgoing request ("sessionkit {call}",
// a client span, a child of the request's span; the shared refresh of
// several requests is a child of the first one's), and one per Store
// operation ("sessionkit.store {operation}"). Store errors other than
// store.ErrNotFound, store.ErrConflict and store.ErrLocked set error.type
// and the span's error status.
//
// An Observer reads the gauges of the Manager it is set in; give each
// Manager its own.
package otel

import (
	gotel "go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/sessionkit/sessionkit/observe"
)

// ScopeName is the instrumentation scope of the meter and the tracer.
const ScopeName = "github.com/sessionkit/sessionkit/otel"

// Options configure New; the zero value is valid.
type Options struct {
	// MeterProvider records the metrics. Default otel.GetMeterProvider().
	MeterProvider metric.MeterProvider
	// TracerProvider records the spans. Default otel.GetTracerProvider().
	TracerProvider trace.TracerProvider
	// Propagator, if set, injects the trace context into outgoing
	// requests' headers (the identity provider then sees the trace ID).
	// Default nil: nothing is injected.
	Propagator propagation.TextMapPropagator
}

// New returns an Observer recording to o's providers. It fails only if
// the MeterProvider refuses an instrument.
func New(o Options) (*observe.Observer, error) {
	if o.MeterProvider == nil {
		o.MeterProvider = gotel.GetMeterProvider()
	}
	if o.TracerProvider == nil {
		o.TracerProvider = gotel.GetTracerProvider()
	}
	ins, err := newInstruments(o.MeterProvider.Meter(ScopeName))
	if err != nil {
		return nil, err
	}
	t := &tracing{tracer: o.TracerProvider.Tracer(ScopeName), ins: ins, prop: o.Propagator}
	return &observe.Observer{
		Read:      ins.read,
		Refresh:   ins.refresh,
		Event:     ins.event,
		Store:     t.store,
		Transport: t.transport,
		Detach:    detach,
		Register:  ins.register,
	}, nil
}
