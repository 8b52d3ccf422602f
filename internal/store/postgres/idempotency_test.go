package postgres_test

import (
	"bytes"
	"reflect"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/ticketflow/ticketflow/internal/idempotency"
	"github.com/ticketflow/ticketflow/internal/store/postgres/pgtest"
)

func TestClaimAndComplete(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := t.Context()
	first := idempotency.Record{Scope: "POST /api/v1/tickets", Key: "k1", RequestHash: []byte("h1"), ResourceID: uuid.NewString()}

	got, err := db.Claim(ctx, first)
	if err != nil || got.ResourceID != first.ResourceID || got.Response != nil || !bytes.Equal(got.RequestHash, first.RequestHash) {
		t.Fatalf("first claim: %+v, %v", got, err)
	}
	// A retry, even with another resource ID and hash, gets the first record back.
	retry := first
	retry.ResourceID, retry.RequestHash = uuid.NewString(), []byte("h2")
	if got, err = db.Claim(ctx, retry); err != nil || got.ResourceID != first.ResourceID || !bytes.Equal(got.RequestHash, first.RequestHash) {
		t.Fatalf("retry claim: %+v, %v", got, err)
	}
	// The same key in another scope is another key.
	other := first
	other.Scope, other.ResourceID = "POST /api/v1/tickets/x/answer", uuid.NewString()
	if got, err = db.Claim(ctx, other); err != nil || got.ResourceID != other.ResourceID {
		t.Fatalf("claim in another scope: %+v, %v", got, err)
	}

	resp := idempotency.Response{Status: 201, Header: map[string]string{"Location": "/x", "ETag": `"1"`}, Body: []byte(`{"id":"x"}`)}
	if err := db.Complete(ctx, first.Scope, first.Key, resp); err != nil {
		t.Fatal(err)
	}
	// The first outcome is kept: a later Complete does not replace it.
	if err := db.Complete(ctx, first.Scope, first.Key, idempotency.Response{Status: 500}); err != nil {
		t.Fatal(err)
	}
	got, err = db.Claim(ctx, first)
	if err != nil || got.Response == nil || !reflect.DeepEqual(*got.Response, resp) {
		t.Fatalf("claim after complete: %+v, %v; want response %+v", got.Response, err, resp)
	}
}

// TestClaimRace claims one key from many goroutines at once: every one gets the same record.
func TestClaimRace(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	const n = 20
	ids := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			rec, err := db.Claim(t.Context(), idempotency.Record{Scope: "s", Key: "k", RequestHash: []byte("h"), ResourceID: uuid.NewString()})
			if err != nil {
				t.Error(err)
			}
			ids[i] = rec.ResourceID
		})
	}
	wg.Wait()
	for _, id := range ids {
		if id != ids[0] {
			t.Fatalf("claims returned different records: %v", ids)
		}
	}
}
