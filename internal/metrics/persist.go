package metrics

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// Persist is the worker's view of its writes of ticket changes (activities.FailingMetrics).
type Persist struct {
	failures prometheus.Counter
	failing  prometheus.Gauge
}

// Persist returns the series of failed writes, registered in the process's registry on first use.
func (m *Metrics) Persist() *Persist {
	return &Persist{
		failures: m.counter("ticketflow_persist_failures_total",
			"Failed attempts at writing a ticket's changes to PostgreSQL and the cache; each is retried."),
		failing: registerOnce(m.registry, prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "ticketflow_persist_failing_tickets",
			Help: "Tickets whose latest attempt at writing their changes failed.",
		})),
	}
}

// counter returns the counter of that name, registered in the process's registry on first use.
func (m *Metrics) counter(name, help string) prometheus.Counter {
	return registerOnce(m.registry, prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help}))
}

// PersistFailed counts a failed write.
func (p *Persist) PersistFailed() { p.failures.Inc() }

// SetFailingTickets sets how many tickets' latest write failed.
func (p *Persist) SetFailingTickets(n int) { p.failing.Set(float64(n)) }

// registerOnce registers c, or returns the collector of that name already registered, so that asking
// twice (two workers in one process) shares one series.
func registerOnce[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if err := reg.Register(c); err != nil {
		var exists prometheus.AlreadyRegisteredError
		if errors.As(err, &exists) {
			if existing, ok := exists.ExistingCollector.(C); ok {
				return existing
			}
		}
		panic(err) // a programming error: two different series under one name
	}
	return c
}
