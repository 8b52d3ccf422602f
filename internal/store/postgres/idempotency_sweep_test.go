package postgres_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/ticketflow/ticketflow/internal/idempotency"
	"github.com/ticketflow/ticketflow/internal/store/postgres"
	"github.com/ticketflow/ticketflow/internal/store/postgres/pgtest"
)

// keysDB is a store on a fresh database, with a connection of its own to age and count keys.
type keysDB struct {
	*postgres.DB
	conn *pgx.Conn
}

func newKeysDB(t *testing.T) keysDB {
	t.Helper()
	dsn := pgtest.DSN(t)
	db, err := postgres.Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return keysDB{db, conn}
}

// claim claims key in one scope with a resource ID of its own and returns the record it got.
func (k keysDB) claim(t *testing.T, key string) idempotency.Record {
	t.Helper()
	rec, err := k.Claim(t.Context(), idempotency.Record{Scope: "POST /api/v1/tickets", Key: key, RequestHash: []byte("h"), ResourceID: uuid.NewString()})
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

// age makes key as old as if it had been claimed that long ago.
func (k keysDB) age(t *testing.T, key string, by time.Duration) {
	t.Helper()
	tag, err := k.conn.Exec(t.Context(), `UPDATE idempotency_keys SET created_at = now() - make_interval(secs => $2) WHERE key = $1`, key, by.Seconds())
	if err != nil || tag.RowsAffected() != 1 {
		t.Fatalf("age %s: %v (%d rows)", key, err, tag.RowsAffected())
	}
}

// keys lists the keys in the table, sorted.
func (k keysDB) keys(t *testing.T) []string {
	t.Helper()
	rows, err := k.conn.Query(t.Context(), `SELECT key FROM idempotency_keys ORDER BY key`)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// TestDeleteExpiredIdempotencyKeys deletes keys older than the TTL, at most a batch per call and
// oldest first, and leaves the keys within it, even the one just short of it.
func TestDeleteExpiredIdempotencyKeys(t *testing.T) {
	t.Parallel()
	db := newKeysDB(t)
	const ttl = time.Hour
	var fresh []string
	for i := range 7 {
		key := fmt.Sprintf("expired-%d", i)
		db.claim(t, key)
		db.age(t, key, ttl+time.Duration(i+1)*time.Minute)
	}
	for i := range 3 {
		key := fmt.Sprintf("fresh-%d", i)
		db.claim(t, key)
		fresh = append(fresh, key)
	}
	db.age(t, "fresh-0", ttl-time.Minute)

	// The oldest go first: expired-6 is the oldest, expired-0 the youngest.
	n, err := db.DeleteExpiredIdempotencyKeys(t.Context(), ttl, 3)
	if err != nil || n != 3 {
		t.Fatalf("first batch: %d deleted, %v; want 3", n, err)
	}
	want := append([]string{"expired-0", "expired-1", "expired-2", "expired-3"}, fresh...)
	if got := db.keys(t); !slices.Equal(got, want) {
		t.Fatalf("after the first batch: %q, want %q", got, want)
	}
	var batches []int64
	for {
		n, err := db.DeleteExpiredIdempotencyKeys(t.Context(), ttl, 3)
		if err != nil {
			t.Fatal(err)
		}
		batches = append(batches, n)
		if n < 3 {
			break
		}
	}
	if !slices.Equal(batches, []int64{3, 1}) {
		t.Errorf("later batches deleted %v, want [3 1]", batches)
	}
	if got := db.keys(t); !slices.Equal(got, fresh) {
		t.Errorf("left %q, want the fresh keys %q", got, fresh)
	}
	if _, err := db.DeleteExpiredIdempotencyKeys(t.Context(), 0, 3); err == nil {
		t.Error("a TTL of zero was taken: it would delete every key")
	}
}

// TestClaimAfterTTL claims a key again once it is older than the TTL, before any sweep: the key
// starts afresh, with the new request's resource ID and no stored outcome. Within the TTL the
// first record holds, and the TTL is the one the DB was given, not the default.
func TestClaimAfterTTL(t *testing.T) {
	t.Parallel()
	db := newKeysDB(t)
	first := db.claim(t, "k")
	if err := db.Complete(t.Context(), first.Scope, first.Key, idempotency.Response{Status: 201, Header: map[string]string{}}); err != nil {
		t.Fatal(err)
	}
	db.age(t, "k", 2*time.Hour)
	if got := db.claim(t, "k"); got.ResourceID != first.ResourceID || got.Response == nil {
		t.Fatalf("within the default TTL of %s: %+v, want the first record %+v", idempotency.TTL, got, first)
	}

	db.SetIdempotencyTTL(time.Hour)
	if got := db.IdempotencyTTL(); got != time.Hour {
		t.Fatalf("IdempotencyTTL() = %s after SetIdempotencyTTL(1h)", got)
	}
	again := db.claim(t, "k")
	if again.ResourceID == first.ResourceID || again.Response != nil {
		t.Fatalf("past the TTL: %+v, want a fresh record", again)
	}
	// The fresh record is the key's record now: a retry gets it back.
	if got := db.claim(t, "k"); got.ResourceID != again.ResourceID {
		t.Errorf("a retry after the fresh claim got %s, want %s", got.ResourceID, again.ResourceID)
	}
	if got := db.keys(t); !slices.Equal(got, []string{"k"}) {
		t.Errorf("keys %q, want the one", got)
	}

	db.SetIdempotencyTTL(0)
	if got := db.IdempotencyTTL(); got != idempotency.TTL {
		t.Errorf("IdempotencyTTL() = %s after SetIdempotencyTTL(0), want the default %s", got, idempotency.TTL)
	}
}
