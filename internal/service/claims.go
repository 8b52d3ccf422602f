package service

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"

	"github.com/ticketflow/ticketflow/internal/idempotency"
)

// ErrKeyReused is the answer to an Idempotency-Key that was claimed for another request.
var ErrKeyReused = errors.New("this Idempotency-Key was used for a different request; use a new key")

// Claimed is what claiming an Idempotency-Key gives a request: the IDs that every retry of it
// reuses, and the first request's outcome once it is known.
type Claimed struct {
	IDs      IDs
	Response *idempotency.Response // nil while the first request's outcome is not known
}

// Claim claims key within scope for the request whose fingerprint is given, or finds the claim of
// an earlier request with the same key: a retry of the same request (same fingerprint) gets the
// same IDs, so that it drives the very change the first one did, which the workflow applies once;
// another request gets ErrKeyReused.
func (s *Service) Claim(ctx context.Context, scope, key string, fingerprint []byte) (Claimed, error) {
	resourceID, err := newID()
	if err != nil {
		return Claimed{}, err
	}
	rec, err := s.store.Claim(ctx, idempotency.Record{
		Scope: scope, Key: key, RequestHash: fingerprint, ResourceID: resourceID,
	})
	if err != nil {
		return Claimed{}, err
	}
	if !bytes.Equal(rec.RequestHash, fingerprint) {
		return Claimed{}, ErrKeyReused
	}
	// The update ID that Temporal applies once per workflow run.
	sum := sha256.Sum256([]byte(scope + "\x00" + key))
	return Claimed{
		IDs:      IDs{Resource: rec.ResourceID, Request: "idem-" + hex.EncodeToString(sum[:16])},
		Response: rec.Response,
	}, nil
}

// Complete keeps the first outcome of a key's request, for its retries.
func (s *Service) Complete(ctx context.Context, scope, key string, resp idempotency.Response) error {
	return s.store.Complete(ctx, scope, key, resp)
}
