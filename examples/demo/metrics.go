package main

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/sessionkit/sessionkit/observe"
	sotel "github.com/sessionkit/sessionkit/otel"
)

// newMetrics returns the Observer that records the Manager's metrics and
// the handler serving them at /metrics in Prometheus's text format, from
// a registry of the demo's own (the Go runtime's metrics included).
func newMetrics() (*observe.Observer, http.Handler, error) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	exp, err := otelprom.New(otelprom.WithRegisterer(reg))
	if err != nil {
		return nil, nil, err
	}
	o, err := sotel.New(sotel.Options{MeterProvider: sdkmetric.NewMeterProvider(sdkmetric.WithReader(exp))})
	if err != nil {
		return nil, nil, err
	}
	return o, promhttp.HandlerFor(reg, promhttp.HandlerOpts{}), nil
}
