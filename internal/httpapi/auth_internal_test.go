package httpapi

import (
	"context"
	"errors"
	"testing"
	"time"

	"ticketflow/internal/auth"
	"ticketflow/internal/ticket"
)

// flakyKeys is a key store that holds one key and can be taken down.
type flakyKeys struct {
	Keys
	key   auth.Key
	hash  string
	down  bool
	calls int
}

func (f *flakyKeys) KeyByHash(_ context.Context, hash []byte) (auth.Key, error) {
	f.calls++
	if f.down {
		return auth.Key{}, errors.New("dial tcp: connection refused")
	}
	if string(hash) != f.hash {
		return auth.Key{}, ticket.Errorf(ticket.ENOTFOUND, "no such key")
	}
	return f.key, nil
}

// TestKeysTrustedWhileStoreIsDown checks what an API key is worth while the key store cannot be
// read: a key checked within keyStaleTTL still lets its client in (so that cached reads go on
// during a PostgreSQL outage), one checked longer ago or never gets a 503, and an unknown key is
// refused as soon as the store answers again.
func TestKeysTrustedWhileStoreIsDown(t *testing.T) {
	const secret = "tf_secret"
	keys := &flakyKeys{key: auth.Key{ID: "k1", Name: "agent-1", Role: auth.RoleAgent}, hash: string(auth.Hash(secret))}
	a := newAuthenticator(keys, Options{RateLimit: 100, RateBurst: 100})
	ctx := context.Background()

	if p, err := a.principal(ctx, secret); err != nil || p.Name != "agent-1" {
		t.Fatalf("principal with the store up = (%+v, %v), want agent-1", p, err)
	}
	keys.down = true
	age := func(d time.Duration) {
		h := string(auth.Hash(secret))
		k := a.known[h]
		k.checked = time.Now().Add(-d)
		a.known[h] = k
	}

	age(keyCacheTTL + time.Second) // due for a check, which fails
	before := keys.calls
	if p, err := a.principal(ctx, secret); err != nil || p.Name != "agent-1" {
		t.Errorf("principal of a key checked %v ago, store down = (%+v, %v), want agent-1", keyCacheTTL, p, err)
	}
	if keys.calls != before+1 {
		t.Errorf("the store was asked %d times, want once: a key past keyCacheTTL is checked again", keys.calls-before)
	}

	age(keyStaleTTL + time.Second)
	if _, err := a.principal(ctx, secret); ticket.ErrorCode(err) != ticket.EUNAVAILABLE {
		t.Errorf("principal of a key checked %v ago, store down: %v, want EUNAVAILABLE", keyStaleTTL, err)
	}
	if _, err := a.principal(ctx, "tf_never_seen"); ticket.ErrorCode(err) != ticket.EUNAVAILABLE {
		t.Errorf("principal of a key never checked, store down: %v, want EUNAVAILABLE", err)
	}

	keys.down = false
	if _, err := a.principal(ctx, "tf_never_seen"); ticket.ErrorCode(err) != codeUnauthorized {
		t.Errorf("principal of an unknown key, store up: %v, want %s", err, codeUnauthorized)
	}
}
