package otel

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/sessionkit/sessionkit/observe"
	"github.com/sessionkit/sessionkit/store"
)

// tracing makes the spans of Store operations and outgoing requests, and
// records their durations.
type tracing struct {
	tracer trace.Tracer
	ins    *instruments
	prop   propagation.TextMapPropagator // nil: nothing injected
}

// errorType is the error.type of a Store or transport error: "timeout",
// "canceled" or "_OTHER" (the semantic conventions' fallback), so that
// the attribute stays bounded.
func errorType(err error) string {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	}
	return "_OTHER"
}

// storeFailed reports whether err is a Store's system error.
func storeFailed(err error) bool {
	return err != nil && !errors.Is(err, store.ErrNotFound) && !errors.Is(err, store.ErrConflict) && !errors.Is(err, store.ErrLocked)
}

func (t *tracing) store(ctx context.Context, op observe.StoreOp) (context.Context, func(error)) {
	ctx, span := t.tracer.Start(ctx, "sessionkit.store "+op.String(), trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(keyStoreOp.String(op.String())))
	start := time.Now()
	return ctx, func(err error) {
		attrs := []attribute.KeyValue{keyStoreOp.String(op.String())}
		if storeFailed(err) {
			attrs = append(attrs, keyError.String(errorType(err)))
			span.SetAttributes(keyError.String(errorType(err)))
			span.SetStatus(codes.Error, "store error")
		}
		t.ins.storeDur.Record(ctx, seconds(start), metric.WithAttributes(attrs...))
		span.End()
	}
}

// transport wraps base with a span and a duration per request.
func (t *tracing) transport(base http.RoundTripper) http.RoundTripper {
	return &roundTripper{base: base, t: t}
}

type roundTripper struct {
	base http.RoundTripper
	t    *tracing
}

// RoundTrip sends req within a client span named after its purpose.
func (rt *roundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	call := observe.CallOf(req.Context())
	ctx, span := rt.t.tracer.Start(req.Context(), "sessionkit "+call.String(), trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(keyCall.String(call.String()), attribute.String("http.request.method", req.Method),
			attribute.String("server.address", req.URL.Hostname()), attribute.String("url.path", req.URL.Path)))
	defer span.End()
	if rt.t.prop != nil {
		req = req.Clone(ctx)
		rt.t.prop.Inject(ctx, propagation.HeaderCarrier(req.Header))
	}
	start := time.Now()
	resp, err := rt.base.RoundTrip(req)
	attrs := []attribute.KeyValue{keyCall.String(call.String())}
	switch {
	case err != nil:
		attrs = append(attrs, keyError.String(errorType(err)))
		span.SetStatus(codes.Error, "request failed")
	default:
		attrs = append(attrs, keyStatus.Int(resp.StatusCode))
		if resp.StatusCode >= 400 {
			attrs = append(attrs, keyError.String(strconv.Itoa(resp.StatusCode)))
			span.SetStatus(codes.Error, "HTTP "+strconv.Itoa(resp.StatusCode))
		}
	}
	span.SetAttributes(attrs[1:]...)
	rt.t.ins.callDur.Record(ctx, seconds(start), metric.WithAttributes(attrs...))
	return resp, err
}

// detach gives to the span of from, so that work shared by several
// requests is traced under the first.
func detach(from, to context.Context) context.Context {
	if sc := trace.SpanContextFromContext(from); sc.IsValid() {
		return trace.ContextWithSpanContext(to, sc)
	}
	return to
}
