package otel_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/sessionkit/sessionkit/observe"
	sotel "github.com/sessionkit/sessionkit/otel"
)

// TestOutgoingSpans: an outgoing request's span is named after its
// purpose and is a child of the request's span, also across Detach; the
// propagator, when set, sends the trace context.
func TestOutgoingSpans(t *testing.T) {
	var traceparent string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		traceparent = r.Header.Get("Traceparent")
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	spans := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	o, err := sotel.New(sotel.Options{MeterProvider: sdkmetric.NewMeterProvider(), TracerProvider: tp, Propagator: propagation.TraceContext{}})
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Transport: o.Transport(http.DefaultTransport)}
	ctx, parent := tp.Tracer("test").Start(context.Background(), "request")
	detached := o.Detach(ctx, context.Background()) // as a shared refresh runs
	req, _ := http.NewRequestWithContext(observe.WithCall(detached, observe.CallRefresh), http.MethodPost, srv.URL+"/token", nil)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	parent.End()

	got := spans.GetSpans()
	if len(got) != 2 || got[0].Name != "sessionkit refresh" {
		t.Fatalf("got spans %v, want sessionkit refresh and its parent", got.Snapshots())
	}
	child := got[0]
	if child.Parent.SpanID() != parent.SpanContext().SpanID() || child.SpanKind != trace.SpanKindClient {
		t.Errorf("got parent %v kind %v, want the request's span %v, client", child.Parent.SpanID(), child.SpanKind, parent.SpanContext().SpanID())
	}
	if child.Status.Code.String() != "Error" {
		t.Errorf("got status %v, want Error for a 503", child.Status)
	}
	if want := child.SpanContext.TraceID().String(); len(traceparent) < 36 || traceparent[3:35] != want {
		t.Errorf("got traceparent %q, want trace %s", traceparent, want)
	}
}
