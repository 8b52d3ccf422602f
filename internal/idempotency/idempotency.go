// Package idempotency holds the records that make a POST with an Idempotency-Key safe to retry:
// what the request was, which IDs its effect was given, and its first outcome.
package idempotency

import (
	"context"
	"time"
)

// TTL is how long a key is kept unless IDEMPOTENCY_TTL says otherwise: a retry within it gets the
// first outcome, and after it the same key starts afresh. The contract promises at least 24 hours.
const TTL = 48 * time.Hour

// SweepInterval is how often the expired keys are deleted unless IDEMPOTENCY_SWEEP_INTERVAL says
// otherwise.
const SweepInterval = time.Minute

// Record is what is kept for one key.
type Record struct {
	Scope       string // the method and path: keys are scoped per endpoint and per ticket
	Key         string
	RequestHash []byte // a fingerprint of the request, to refuse a key reused for another one
	ResourceID  string // the ID the request's effect gets, the same for every retry
	Response    *Response
}

// Response is a request's first outcome, replayed to every retry.
type Response struct {
	Status int               `json:"status"`
	Header map[string]string `json:"header"`
	Body   []byte            `json:"body"`
}

// Store keeps records.
type Store interface {
	// Claim stores rec unless its scope and key are taken, and returns the record that holds
	// them: rec itself, or the one an earlier request stored (with its response, once known).
	Claim(ctx context.Context, rec Record) (Record, error)
	// Complete stores the first outcome of a key's request. An outcome already stored is kept.
	Complete(ctx context.Context, scope, key string, resp Response) error
}
