// Package service is ticketflow's application layer: what any request may do with tickets,
// whatever transport carries it. It reads a ticket from the cache, then PostgreSQL, then the
// ticket's workflow; changes one through its workflow, a bounded number at a time per ticket;
// lists; keeps the Idempotency-Keys that make a change safe to retry; and says who may see what.
// The HTTP API depends on it alone, so that no handler knows Temporal, the store or the cache.
package service

import (
	"context"
	"log/slog"

	"github.com/ticketflow/ticketflow/internal/auth"
	"github.com/ticketflow/ticketflow/internal/health"
	"github.com/ticketflow/ticketflow/internal/idempotency"
	"github.com/ticketflow/ticketflow/internal/ticket"
	"github.com/ticketflow/ticketflow/internal/webhook"
)

// Workflows applies changes to tickets through their workflows.
type Workflows interface {
	// Create starts a ticket and returns it once persisted. Errors: EINVALID, ETIMEOUT, EUNAVAILABLE.
	Create(ctx context.Context, id string, n ticket.NewTicket, actor string) (ticket.Ticket, error)
	// Change applies cmd and returns what it changed once persisted. Errors: ENOTFOUND, EINVALID,
	// EINVALIDTRANSITION, ECLOSED, ETIMEOUT, EUNAVAILABLE.
	Change(ctx context.Context, id string, cmd ticket.Command) (ticket.Change, error)
	// Ticket returns the ticket as its running workflow holds it. Errors: ENOTFOUND, ETIMEOUT,
	// EUNAVAILABLE.
	Ticket(ctx context.Context, id string) (ticket.Ticket, error)
	// Ping checks that Temporal answers.
	Ping(ctx context.Context) error
}

// Store is the durable record. Its errors are domain errors: ENOTFOUND and EINVALID for what no
// retry changes, ETIMEOUT and EUNAVAILABLE when the database did not answer.
type Store interface {
	Ticket(ctx context.Context, id string) (ticket.Ticket, error)
	ListTickets(ctx context.Context, f ticket.ListFilter) (ticket.Page[ticket.Ticket], error)
	// SearchTickets lists the tickets that match f.Query, most relevant first, then newest, with
	// every other condition of f; the comments it searches are those a reader of visibility upTo
	// may see.
	SearchTickets(ctx context.Context, f ticket.ListFilter, upTo ticket.Visibility) (ticket.Page[ticket.Found], error)
	// ListComments and ListEvents show what a reader of visibility upTo may see: VisibilityInternal
	// shows everything; VisibilityPublic leaves out internal notes and the events that record them.
	ListComments(ctx context.Context, ticketID string, p ticket.PageRequest, upTo ticket.Visibility) (ticket.Page[ticket.Comment], error)
	ListEvents(ctx context.Context, ticketID string, p ticket.PageRequest, upTo ticket.Visibility) (ticket.Page[ticket.Event], error)
	// FeedStore reads the events out (stream.go).
	FeedStore
	// Webhooks keeps the webhooks (webhooks.go).
	Webhooks
	Ping(ctx context.Context) error
	idempotency.Store
	Keys
}

// Keys is where API keys are kept.
type Keys interface {
	// KeyByHash returns the key whose secret has the hash, revoked or not; ENOTFOUND when none.
	KeyByHash(ctx context.Context, hash []byte) (auth.Key, error)
	// CreateKey stores a new key with its secret's hash. Errors: EINVALID, ECONFLICT (name taken).
	CreateKey(ctx context.Context, n auth.NewKey, hash []byte) (auth.Key, error)
	// ListKeys returns every key, oldest first.
	ListKeys(ctx context.Context) ([]auth.Key, error)
	// RevokeKey revokes the key with this ID or name. Errors: ENOTFOUND.
	RevokeKey(ctx context.Context, idOrName string) (auth.Key, error)
}

// Cache holds ticket documents in front of the Store.
type Cache interface {
	// Get returns a cached ticket; false on a miss.
	Get(ctx context.Context, id string) (ticket.Ticket, bool, error)
	// Put stores t unless a newer or equal version is cached.
	Put(ctx context.Context, t ticket.Ticket) (bool, error)
	Ping(ctx context.Context) error
}

// Service does what requests ask of tickets and keys.
type Service struct {
	// Keys and webhooks are kept as they are; managing them needs nothing but the store, and a
	// webhook's URL checked.
	Keys
	Webhooks
	webhookURLs URLChecker
	workflows   Workflows
	store       Store
	cache       Cache
	log         *slog.Logger
	gates       gates
	// feed is the store's, apart so that the streams' logic can be tested on a feed of its own.
	feed FeedStore
	hub  *hub
}

// New returns a Service.
func New(w Workflows, st Store, c Cache, log *slog.Logger) *Service {
	if log == nil {
		log = slog.Default()
	}
	return &Service{Keys: st, Webhooks: st, webhookURLs: webhook.NewClient(false), workflows: w, store: st, cache: c, log: log, feed: st, hub: newHub(st, log)}
}

// Ready checks every dependency that serving requests needs, and names each that fails.
func (s *Service) Ready(ctx context.Context) (bool, map[string]error) {
	return health.Run(ctx, s.log, []health.Check{
		{Name: "postgres", Check: s.store.Ping},
		{Name: "redis", Check: s.cache.Ping},
		{Name: "temporal", Check: s.workflows.Ping},
	})
}
