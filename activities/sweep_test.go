package activities_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"go.temporal.io/sdk/testsuite"

	"github.com/ticketflow/ticketflow/activities"
	"github.com/ticketflow/ticketflow/internal/idempotency"
	"github.com/ticketflow/ticketflow/internal/store/postgres"
	"github.com/ticketflow/ticketflow/internal/store/postgres/pgtest"
)

// deletedCounts records what the sweep reports to its metrics.
type deletedCounts struct {
	mu sync.Mutex
	n  []int64
}

func (d *deletedCounts) IdempotencyKeysDeleted(n int64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.n = append(d.n, n)
}

// TestDeleteExpiredIdempotencyKeys runs the sweep on a real database, as a worker runs it: it
// deletes every expired key in batches, counts each batch, and leaves the fresh keys.
func TestDeleteExpiredIdempotencyKeys(t *testing.T) {
	dsn := pgtest.DSN(t)
	db, err := postgres.Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	for i := range 12 {
		rec := idempotency.Record{Scope: "s", Key: fmt.Sprint("k", i), RequestHash: []byte("h"), ResourceID: uuid.NewString()}
		if _, err := db.Claim(t.Context(), rec); err != nil {
			t.Fatal(err)
		}
	}
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	// Ten of the twelve are two hours old; the TTL is one hour.
	if _, err := conn.Exec(t.Context(), `UPDATE idempotency_keys SET created_at = now() - interval '2 hours' WHERE key NOT IN ('k0', 'k1')`); err != nil {
		t.Fatal(err)
	}

	counts := &deletedCounts{}
	sweeper := &activities.Sweeper{Store: db, TTL: time.Hour, BatchSize: 4, Metrics: counts}
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	env.RegisterActivity(sweeper)
	val, err := env.ExecuteActivity(sweeper.DeleteExpiredIdempotencyKeys)
	if err != nil {
		t.Fatal(err)
	}
	var deleted int64
	if err := val.Get(&deleted); err != nil || deleted != 10 {
		t.Fatalf("deleted %d (%v), want 10", deleted, err)
	}
	if want := []int64{4, 4, 2}; fmt.Sprint(counts.n) != fmt.Sprint(want) {
		t.Errorf("batches counted %v, want %v", counts.n, want)
	}
	var left []string
	rows, _ := conn.Query(t.Context(), `SELECT key FROM idempotency_keys ORDER BY key`)
	if left, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil || fmt.Sprint(left) != "[k0 k1]" {
		t.Errorf("left %q (%v), want the fresh k0 and k1", left, err)
	}
}
