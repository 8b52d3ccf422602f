package metrics

import "github.com/prometheus/client_golang/prometheus"

// Sweep is the worker's view of the sweep of expired Idempotency-Keys (activities.SweepMetrics).
type Sweep struct {
	deleted prometheus.Counter
}

// Sweep returns the series of the sweep, registered in the process's registry on first use.
func (m *Metrics) Sweep() *Sweep {
	return &Sweep{
		deleted: m.counter("ticketflow_idempotency_keys_deleted_total",
			"Idempotency-Keys deleted by the sweep because they outlived IDEMPOTENCY_TTL."),
	}
}

// IdempotencyKeysDeleted counts n deleted keys.
func (s *Sweep) IdempotencyKeysDeleted(n int64) { s.deleted.Add(float64(n)) }
