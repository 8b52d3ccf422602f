package activities

import (
	"context"
	"fmt"
	"time"

	"go.temporal.io/sdk/activity"
)

// KeyStore is where the Idempotency-Keys are kept.
type KeyStore interface {
	// DeleteExpiredIdempotencyKeys deletes at most limit keys older than ttl and returns how many
	// it deleted.
	DeleteExpiredIdempotencyKeys(ctx context.Context, ttl time.Duration, limit int) (int64, error)
}

// SweepMetrics counts what the sweep deletes.
type SweepMetrics interface {
	IdempotencyKeysDeleted(n int64)
}

// DefaultSweepBatch is how many keys one statement of the sweep deletes at most, unless
// Sweeper.BatchSize says otherwise: small enough that a statement holds few locks and ends
// quickly, large enough that a backlog drains in few round trips.
const DefaultSweepBatch = 1000

// Sweeper holds the dependencies of the sweep of expired Idempotency-Keys. Its method is
// registered with the worker, and workflows.SweepIdempotencyKeys refers to it through a nil
// *Sweeper.
type Sweeper struct {
	Store KeyStore
	// TTL is how long a key is kept (IDEMPOTENCY_TTL).
	TTL time.Duration
	// BatchSize bounds each delete; DefaultSweepBatch when zero.
	BatchSize int
	// Metrics, if set, is told how many keys each delete removed.
	Metrics SweepMetrics
}

// DeleteExpiredIdempotencyKeys deletes the keys older than the TTL, one bounded batch at a time,
// until a batch finds fewer than it may delete, and returns how many it deleted. It heartbeats
// after every batch, so that a sweep whose worker died is retried elsewhere soon; every batch is
// committed on its own, so a retry starts where the last attempt stopped.
func (s *Sweeper) DeleteExpiredIdempotencyKeys(ctx context.Context) (int64, error) {
	batch := s.BatchSize
	if batch <= 0 {
		batch = DefaultSweepBatch
	}
	var total int64
	for {
		n, err := s.Store.DeleteExpiredIdempotencyKeys(ctx, s.TTL, batch)
		if err != nil {
			return total, fmt.Errorf("sweep idempotency keys after %d deleted: %w", total, err)
		}
		total += n
		if s.Metrics != nil {
			s.Metrics.IdempotencyKeysDeleted(n)
		}
		activity.RecordHeartbeat(ctx, total)
		if n < int64(batch) {
			return total, nil
		}
	}
}
