package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Webhooks is the webhook pump's view of its deliveries (activities.WebhookMetrics).
type Webhooks struct {
	deliveries *prometheus.CounterVec
	latency    prometheus.Histogram
	pending    *prometheus.GaugeVec
}

// Webhooks returns the series of the webhook deliveries, registered on first use.
func (m *Metrics) Webhooks() *Webhooks {
	return &Webhooks{
		deliveries: registerOnce(m.registry, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ticketflow_webhook_deliveries_total",
			Help: "Attempts at delivering events to webhooks, by outcome: succeeded, retry, failed (for good) or gone (410, the webhook disabled).",
		}, []string{"outcome"})),
		latency: registerOnce(m.registry, prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "ticketflow_webhook_delivery_latency_seconds",
			Help:    "From an event to the end of the first attempt at delivering it to a webhook.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		})),
		pending: registerOnce(m.registry, prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "ticketflow_webhook_pending_deliveries",
			Help: "Deliveries waiting to be made or made again, by webhook.",
		}, []string{"webhook_id"})),
	}
}

// Delivered counts an attempt, and times a first one from its event.
func (w *Webhooks) Delivered(outcome string, latency time.Duration, first bool) {
	w.deliveries.WithLabelValues(outcome).Inc()
	if first {
		w.latency.Observe(latency.Seconds())
	}
}

// Pending sets the pending deliveries of every webhook; a webhook not named has none.
func (w *Webhooks) Pending(byWebhook map[string]int) {
	w.pending.Reset()
	for id, n := range byWebhook {
		w.pending.WithLabelValues(id).Set(float64(n))
	}
}
