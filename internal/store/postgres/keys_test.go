package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/ticketflow/ticketflow/internal/auth"
	"github.com/ticketflow/ticketflow/internal/store/postgres/pgtest"
	"github.com/ticketflow/ticketflow/internal/ticket"
)

func TestKeys(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := t.Context()

	secret, hash := auth.NewSecret()
	k, err := db.CreateKey(ctx, auth.NewKey{Name: "alice", Role: "customer", Subject: "alice@example.com"}, hash)
	if err != nil || k.Role != auth.RoleCustomer || k.Subject != "alice@example.com" || k.RevokedAt != nil {
		t.Fatalf("create: %+v, %v", k, err)
	}
	got, err := db.KeyByHash(ctx, auth.Hash(secret))
	if err != nil || got.ID != k.ID {
		t.Fatalf("by hash: %+v, %v", got, err)
	}
	if _, err := db.KeyByHash(ctx, auth.Hash(secret+"x")); ticket.ErrorCode(err) != ticket.ENOTFOUND {
		t.Fatalf("unknown secret: %v", err)
	}
	if _, err := db.CreateKey(ctx, auth.NewKey{Name: "alice", Role: "agent"}, []byte("other")); ticket.ErrorCode(err) != ticket.ECONFLICT {
		t.Fatalf("duplicate name: %v", err)
	}
	if _, err := db.CreateKey(ctx, auth.NewKey{Name: "bob", Role: "customer"}, []byte("bob")); ticket.ErrorCode(err) != ticket.EINVALID {
		t.Fatalf("customer without subject: %v", err)
	}
	if _, err := db.CreateKey(ctx, auth.NewKey{Name: "eve", Role: "root"}, []byte("eve")); ticket.ErrorCode(err) != ticket.EINVALID {
		t.Fatalf("unknown role: %v", err)
	}

	revoked, err := db.RevokeKey(ctx, "alice")
	if err != nil || revoked.RevokedAt == nil {
		t.Fatalf("revoke by name: %+v, %v", revoked, err)
	}
	again, err := db.RevokeKey(ctx, k.ID)
	if err != nil || !again.RevokedAt.Equal(*revoked.RevokedAt) {
		t.Fatalf("revoke again by id: %+v, %v (first at %v)", again, err, revoked.RevokedAt)
	}
	if _, err := db.RevokeKey(ctx, "nobody"); ticket.ErrorCode(err) != ticket.ENOTFOUND {
		t.Fatalf("revoke unknown: %v", err)
	}
	keys, err := db.ListKeys(ctx)
	if err != nil || len(keys) != 1 || keys[0].RevokedAt == nil {
		t.Fatalf("list: %+v, %v", keys, err)
	}
}

// TestListenKeyChanges revokes a key and sees every listener told of it.
func TestListenKeyChanges(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	changed := make(chan struct{}, 10)
	go db.ListenKeyChanges(ctx, func() { changed <- struct{}{} })
	wait := func(what string) {
		t.Helper()
		select {
		case <-changed:
		case <-time.After(5 * time.Second):
			t.Fatalf("no call after %s", what)
		}
	}
	wait("listening") // a (re)connection counts as a change: what happened before is unknown
	_, hash := auth.NewSecret()
	if _, err := db.CreateKey(ctx, auth.NewKey{Name: "bot", Role: "automation"}, hash); err != nil {
		t.Fatal(err)
	}
	if _, err := db.RevokeKey(ctx, "bot"); err != nil {
		t.Fatal(err)
	}
	wait("a revocation")
}
