package postgres_test

import (
	"bytes"
	"context"
	"sync"
	"testing"

	"github.com/ticketflow/ticketflow/internal/store/postgres/pgtest"
)

// TestSecretIsShared checks that processes asking for a secret at once all get the same one, that
// it stays the same, and that another name is another secret.
func TestSecretIsShared(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	got := make([][]byte, 8)
	var wg sync.WaitGroup
	for i := range got {
		wg.Go(func() {
			s, err := db.Secret(ctx, "cursor")
			if err != nil {
				t.Errorf("secret: %v", err)
			}
			got[i] = s
		})
	}
	wg.Wait()
	for i, s := range got {
		if len(s) != 32 || !bytes.Equal(s, got[0]) {
			t.Fatalf("secret %d is %x, the first %x: want one 32-byte secret", i, s, got[0])
		}
	}
	again, err := db.Secret(ctx, "cursor")
	if err != nil || !bytes.Equal(again, got[0]) {
		t.Errorf("asked again: %x (%v), want %x", again, err, got[0])
	}
	other, err := db.Secret(ctx, "other")
	if err != nil || bytes.Equal(other, got[0]) {
		t.Errorf("another name: %x (%v), want a secret of its own", other, err)
	}
}
