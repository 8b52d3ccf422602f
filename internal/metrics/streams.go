package metrics

import "github.com/prometheus/client_golang/prometheus"

// Streams returns the gauge of the event streams open in this process (GET /events/stream).
func (m *Metrics) Streams() prometheus.Gauge {
	return registerOnce(m.registry, prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "ticketflow_event_streams",
		Help: "Event streams (GET /api/v1/events/stream) open in this process.",
	}))
}
