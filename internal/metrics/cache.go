package metrics

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ticketflow/ticketflow/internal/ticket"
)

// TicketCache is the ticket cache that Cache instruments: the methods that the HTTP API and the
// activities use.
type TicketCache interface {
	// Get returns a cached ticket; false on a miss.
	Get(ctx context.Context, id string) (ticket.Ticket, bool, error)
	// Put stores t unless the same or a newer version is cached; false when it did not store.
	Put(ctx context.Context, t ticket.Ticket) (bool, error)
	Ping(ctx context.Context) error
}

// Cache decorates a TicketCache with counts of its hits, misses, writes and errors. It has the
// same methods, so it goes wherever the cache went.
type Cache struct {
	next TicketCache

	hit, miss, lookupErr      prometheus.Counter
	stored, skipped, writeErr prometheus.Counter
}

// Cache returns next, counted.
func (m *Metrics) Cache(next TicketCache) *Cache {
	// Resolving the series once also exports them at zero before the first request, so a
	// dashboard's rate() and a ratio of hits to lookups work from the start.
	return &Cache{
		next:      next,
		hit:       m.cacheLookups.WithLabelValues("hit"),
		miss:      m.cacheLookups.WithLabelValues("miss"),
		lookupErr: m.cacheLookups.WithLabelValues("error"),
		stored:    m.cacheWrites.WithLabelValues("stored"),
		skipped:   m.cacheWrites.WithLabelValues("skipped"),
		writeErr:  m.cacheWrites.WithLabelValues("error"),
	}
}

// Get reads through to the cache and counts a hit, a miss or an error.
func (c *Cache) Get(ctx context.Context, id string) (ticket.Ticket, bool, error) {
	t, ok, err := c.next.Get(ctx, id)
	switch {
	case err != nil:
		c.lookupErr.Inc()
	case ok:
		c.hit.Inc()
	default:
		c.miss.Inc()
	}
	return t, ok, err
}

// Put writes through to the cache and counts whether it stored, skipped or failed.
func (c *Cache) Put(ctx context.Context, t ticket.Ticket) (bool, error) {
	stored, err := c.next.Put(ctx, t)
	switch {
	case err != nil:
		c.writeErr.Inc()
	case stored:
		c.stored.Inc()
	default:
		c.skipped.Inc()
	}
	return stored, err
}

// Ping is not counted: readiness probes would drown the traffic that the counts are about.
func (c *Cache) Ping(ctx context.Context) error {
	return c.next.Ping(ctx)
}
