// Package activities holds the side effects of the ticket workflow: writing its changes to
// PostgreSQL and refreshing the Redis Cluster cache. Temporal runs an activity at least once, so
// every write here is idempotent: running one twice, or a stale one late, changes nothing.
package activities

import (
	"context"
	"errors"
	"fmt"

	"go.temporal.io/sdk/temporal"

	"ticketflow/internal/ticket"
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
}

// Persist writes the changes, oldest first, to PostgreSQL and then puts the newest ticket in the
// cache. The cache write is part of the activity on purpose: a change is acknowledged to the client
// only after the cache no longer holds an older document, so no read after the acknowledgement can
// be stale. A failure of either is returned, and Temporal retries the whole activity; the store
// and the cache both ignore what they already hold.
//
// Which failures are worth a retry is decided here, where their meaning is known: a change that
// the store refuses as invalid (a domain error) is refused again however often it is sent, so it
// fails the activity for good (a non-retryable application error whose type is the error's
// code), while anything else (PostgreSQL or Redis down, a connection cut, a failover under way, a
// timeout) is retried until the dependency is back.
func (a *Activities) Persist(ctx context.Context, changes []ticket.Change) error {
	if len(changes) == 0 {
		return nil
	}
	for _, ch := range changes {
		if err := a.Store.Persist(ctx, ch); err != nil {
			return classify(fmt.Errorf("persist ticket %s version %d: %w", ch.Ticket.ID, ch.Ticket.Version, err))
		}
	}
	newest := changes[len(changes)-1].Ticket
	if _, err := a.Cache.Put(ctx, newest); err != nil {
		return classify(fmt.Errorf("cache ticket %s version %d: %w", newest.ID, newest.Version, err))
	}
	return nil
}

// classify marks a domain error as one that no retry can fix; any other error stays retryable.
func classify(err error) error {
	var domain *ticket.Error
	if errors.As(err, &domain) {
		return temporal.NewNonRetryableApplicationError(err.Error(), domain.Code, err)
	}
	return err
}
