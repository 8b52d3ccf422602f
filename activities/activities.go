// Package activities holds the side effects of the ticket workflow: writing its changes to
// PostgreSQL and refreshing the Redis Cluster cache. Temporal runs an activity at least once, so
// every write here is idempotent: running one twice, or a stale one late, changes nothing.
package activities

import (
	"context"
	"fmt"

	"github.com/ticketflow/ticketflow"
	"github.com/ticketflow/ticketflow/internal/ticket"
	"github.com/ticketflow/ticketflow/internal/wire"
)

// Store is the durable record of tickets.
type Store interface {
	// Persist writes one change in one transaction. Writing it again writes nothing, and a change
	// older than the stored ticket leaves the ticket row as it is.
	Persist(ctx context.Context, ch ticket.Change) error
}

// Cache holds ticket documents for fast reads.
type Cache interface {
	// Put stores t unless the cache already holds the same or a newer version.
	Put(ctx context.Context, t ticket.Ticket) (bool, error)
}

// Activities holds the dependencies of the activities. Its methods are registered with the worker,
// and the workflow refers to them through a nil *Activities.
type Activities struct {
	Store Store
	Cache Cache
	// Failing, if set, is told of every failed and every successful write.
	Failing *Failing
}

// Persist writes the changes, oldest first, to PostgreSQL and then puts the newest ticket in the
// cache. The cache write is part of the activity on purpose: a change is acknowledged to the client
// only after the cache no longer holds an older document, so no read after the acknowledgement can
// be stale. A failure of either is returned, and Temporal retries the whole activity; the store
// and the cache both ignore what they already hold.
//
// Every failure is worth a retry, even one the store calls final, such as a change it refuses as
// invalid: the change was accepted and acknowledged, so giving up would lose it, and failing the
// ticket's workflow would end the ticket. What cannot succeed today may after a fix is deployed;
// until then Failing makes it visible (a log line with the ticket, a metric, the worker's
// readiness) while Temporal retries with capped backoff.
func (a *Activities) Persist(ctx context.Context, payload []ticketflow.Change) error {
	if len(payload) == 0 {
		return nil
	}
	changes := wire.DomainChanges(payload)
	err := a.persist(ctx, changes)
	id := changes[0].Ticket.ID
	if err != nil {
		a.Failing.failed(ctx, id, err)
	} else {
		a.Failing.succeeded(id)
	}
	return err
}

func (a *Activities) persist(ctx context.Context, changes []ticket.Change) error {
	for _, ch := range changes {
		if err := a.Store.Persist(ctx, ch); err != nil {
			return fmt.Errorf("persist ticket %s version %d: %w", ch.Ticket.ID, ch.Ticket.Version, err)
		}
	}
	newest := changes[len(changes)-1].Ticket
	if _, err := a.Cache.Put(ctx, newest); err != nil {
		return fmt.Errorf("cache ticket %s version %d: %w", newest.ID, newest.Version, err)
	}
	return nil
}
