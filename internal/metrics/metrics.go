// Package metrics is ticketflow's Prometheus instrumentation: one registry per process that holds
// the HTTP, cache and Go runtime collectors and, through OpenTelemetry, the Temporal SDK's own
// metrics (workflow and activity tasks, gRPC requests), all served by one /metrics handler.
package metrics

import (
	"fmt"
	"log/slog"
	"net/http"
	"runtime"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/otlptranslator"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.temporal.io/sdk/client"
	temporalotel "go.temporal.io/sdk/contrib/opentelemetry"

	"github.com/ticketflow/ticketflow/internal/buildinfo"
)

// Metrics is a process's registry and the collectors that ticketflow's own code updates.
type Metrics struct {
	registry *prometheus.Registry
	temporal client.MetricsHandler

	httpRequests *prometheus.CounterVec
	httpDuration *prometheus.HistogramVec
	httpInFlight prometheus.Gauge
	cacheLookups *prometheus.CounterVec
	cacheWrites  *prometheus.CounterVec
}

// latencyBuckets (seconds) reach past REQUEST_TIMEOUT's default of 15 s, because a change that
// waits for its workflow may legitimately take that long, and the Temporal SDK's timers (gRPC
// long polls, activity executions) share them.
var latencyBuckets = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 20, 60}

// New returns a registry with every collector registered. log receives the errors that the
// OpenTelemetry bridge would otherwise panic on.
func New(log *slog.Logger) (*Metrics, error) {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		registry: reg,
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ticketflow_http_requests_total",
			Help: "HTTP requests answered, by method, route template and status code.",
		}, []string{"method", "route", "status"}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "ticketflow_http_request_duration_seconds",
			Help:    "Time from receiving an HTTP request to the end of its answer, by method, route template and status code.",
			Buckets: latencyBuckets,
		}, []string{"method", "route", "status"}),
		httpInFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "ticketflow_http_requests_in_flight",
			Help: "HTTP requests being served right now.",
		}),
		cacheLookups: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ticketflow_cache_lookups_total",
			Help: "Ticket cache reads, by result: hit, miss or error.",
		}, []string{"result"}),
		cacheWrites: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ticketflow_cache_writes_total",
			Help: "Ticket cache writes, by result: stored, skipped (the cache held that version or a newer one) or error.",
		}, []string{"result"}),
	}
	build := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "ticketflow_build_info",
		Help:        "Always 1; the labels say which build is running.",
		ConstLabels: prometheus.Labels{"version": buildinfo.Version, "commit": buildinfo.Commit, "goversion": runtime.Version()},
	})
	build.Set(1)
	for _, c := range []prometheus.Collector{
		m.httpRequests, m.httpDuration, m.httpInFlight, m.cacheLookups, m.cacheWrites, build,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register metrics: %w", err)
		}
	}
	temporal, err := newTemporalHandler(reg, log)
	if err != nil {
		return nil, err
	}
	m.temporal = temporal
	return m, nil
}

// newTemporalHandler bridges the Temporal SDK's metrics into reg: the SDK records through an
// OpenTelemetry meter whose reader is a Prometheus collector registered in reg, so its series are
// scraped with ours, from the same endpoint, at scrape time (no push interval, no second registry).
func newTemporalHandler(reg *prometheus.Registry, log *slog.Logger) (client.MetricsHandler, error) {
	exporter, err := otelprom.New(
		otelprom.WithRegisterer(reg),
		// Fixed, conventional Prometheus names (temporal_request_total, …_seconds), whatever a
		// future exporter's default becomes.
		otelprom.WithTranslationStrategy(otlptranslator.UnderscoreEscapingWithSuffixes),
		// Without these, every series carries otel_scope_* labels and a target_info series
		// describes an OpenTelemetry resource that we do not use.
		otelprom.WithoutScopeInfo(),
		otelprom.WithoutTargetInfo(),
		// The SDK's timers record seconds; OpenTelemetry's default buckets are made for
		// milliseconds and would put every observation in the first bucket.
		otelprom.WithAggregationSelector(func(k sdkmetric.InstrumentKind) sdkmetric.Aggregation {
			if k == sdkmetric.InstrumentKindHistogram {
				return sdkmetric.AggregationExplicitBucketHistogram{Boundaries: latencyBuckets}
			}
			return sdkmetric.DefaultAggregationSelector(k)
		}),
	)
	if err != nil {
		return nil, fmt.Errorf("temporal metrics exporter: %w", err)
	}
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exporter))
	return temporalotel.NewMetricsHandler(temporalotel.MetricsHandlerOptions{
		Meter: provider.Meter("temporal-sdk-go"),
		// The SDK's counters only grow; as monotonic counters they are exported as Prometheus
		// counters (…_total) that rate() works on, instead of gauges.
		UseMonotonicCounters: true,
		// The default panics; a metric that cannot be recorded must not take a worker down.
		OnError: func(err error) { log.Warn("temporal metric", "error", err) },
	}), nil
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	// ContinueOnError: a collector that fails (say, the Temporal bridge) must not hide the others.
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// Temporal returns the handler that the Temporal client and its workers record their metrics to.
func (m *Metrics) Temporal() client.MetricsHandler {
	return m.temporal
}
