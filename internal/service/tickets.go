package service

import (
	"context"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/ticketflow/ticketflow/internal/auth"
	"github.com/ticketflow/ticketflow/internal/ticket"
)

// IDs are what every retry of one request reuses: the ID of what it creates (a ticket, a comment)
// and the request ID that the ticket's workflow applies once. The zero IDs are for a request that
// nobody will retry as the same one: it gets new ones.
type IDs struct {
	Resource string
	Request  string
}

// CreateTicket opens a ticket and returns it once persisted. A customer opens tickets for
// themselves only, and may name the group they ask but not who works the ticket, nor its tags:
// those are the agents' to set.
func (s *Service) CreateTicket(ctx context.Context, by auth.Principal, n ticket.NewTicket, ids IDs) (ticket.Ticket, error) {
	if by.Role == auth.RoleCustomer {
		if n.Requester != "" && n.Requester != by.Subject {
			return ticket.Ticket{}, ticket.Errorf(ticket.EFORBIDDEN, "a customer key opens tickets only for its own requester")
		}
		if norm := n.Normalize(); norm.Assignee != "" || len(norm.Tags) > 0 {
			return ticket.Ticket{}, ticket.Errorf(ticket.EFORBIDDEN, "a customer key opens tickets with no assignee and no tags")
		}
		n.Requester = by.Subject
	}
	// Refuse bad input here, before a workflow is started for it.
	if err := n.Validate(); err != nil {
		return ticket.Ticket{}, err
	}
	id, err := ids.resource()
	if err != nil {
		return ticket.Ticket{}, err
	}
	return s.workflows.Create(ctx, id, n, by.Identity())
}

// ChangeTicket sends cmd to the ticket's workflow and returns what it changed once persisted.
// Input errors are found here, before the round trip; the workflow checks the lifecycle. At most
// maxChangesPerTicket changes of one ticket are in flight from this process; the rest wait their
// turn (gates.go).
func (s *Service) ChangeTicket(ctx context.Context, by auth.Principal, id string, cmd ticket.Command, ids IDs) (ticket.Change, error) {
	if !ValidID(id) {
		return ticket.Change{}, ticket.NotFound(id)
	}
	cmd.Actor = by.Identity() // who made the change, on every event
	if by.Role == auth.RoleCustomer {
		// To a customer another's ticket does not exist, so it cannot be changed either.
		if _, err := s.Ticket(ctx, by, id); err != nil {
			return ticket.Change{}, err
		}
		// A customer writes as the requester the key acts for, never as someone else.
		if author := strings.TrimSpace(cmd.Author); author != "" && author != by.Subject {
			return ticket.Change{}, ticket.Errorf(ticket.EFORBIDDEN, "a customer key writes comments only as its own requester")
		}
		// Nor what they could never read back.
		if cmd.Normalize().Visibility == ticket.VisibilityInternal {
			return ticket.Change{}, ticket.Errorf(ticket.EFORBIDDEN, "a customer key writes no internal notes")
		}
		cmd.Author = by.Subject
	}
	if cmd.Comment != "" {
		cid, err := ids.resource()
		if err != nil {
			return ticket.Change{}, err
		}
		cmd.CommentID = cid
	}
	cmd.RequestID = ids.Request
	cmd = cmd.Normalize()
	if err := cmd.Validate(); err != nil {
		return ticket.Change{}, err
	}
	release, err := s.gates.enter(ctx, id)
	if err != nil {
		return ticket.Change{}, err
	}
	defer release()
	return s.workflows.Change(ctx, id, cmd)
}

// Ticket returns a ticket that by may see; to a customer another's ticket is not found, since a
// refusal would tell them it exists.
func (s *Service) Ticket(ctx context.Context, by auth.Principal, id string) (ticket.Ticket, error) {
	t, err := s.read(ctx, id)
	if err != nil {
		return ticket.Ticket{}, err
	}
	if !by.Sees(t) {
		return ticket.Ticket{}, ticket.NotFound(id)
	}
	return t, nil
}

// read reads a ticket from the cache, then from PostgreSQL, then from its workflow. A ticket read
// from PostgreSQL is put in the cache, which keeps whichever version is newer, so a slow read
// never hides a change. A cache failure costs speed, never the read; a database that does not
// answer costs the read only when the ticket's workflow cannot answer either (it holds the ticket
// as persisted, and runs until the ticket is closed).
func (s *Service) read(ctx context.Context, id string) (ticket.Ticket, error) {
	if !ValidID(id) {
		return ticket.Ticket{}, ticket.NotFound(id)
	}
	t, hit, cacheErr := s.cache.Get(ctx, id)
	switch {
	case cacheErr != nil:
		s.log.WarnContext(ctx, "cache read failed; reading from postgres", "ticket_id", id, "error", cacheErr)
	case hit:
		return t, nil
	}
	t, err := s.store.Ticket(ctx, id)
	if ticket.ErrorCode(err) == ticket.EUNAVAILABLE {
		// Bounded: a workflow busy retrying its own writes to the same database answers a query
		// only after its task, and the client is better served by a prompt 503.
		qctx, cancel := context.WithTimeout(ctx, workflowReadTimeout)
		held, werr := s.workflows.Ticket(qctx, id)
		cancel()
		if werr == nil {
			s.log.WarnContext(ctx, "postgres read failed; read the ticket's workflow", "ticket_id", id, "error", err)
			return held, nil
		}
	}
	if err != nil {
		return ticket.Ticket{}, err
	}
	if cacheErr == nil { // after a failed read, a fill would only wait for the same failure
		if _, err := s.cache.Put(ctx, t); err != nil {
			s.log.WarnContext(ctx, "cache fill failed", "ticket_id", id, "error", err)
		}
	}
	return t, nil
}

// workflowReadTimeout bounds the read of a ticket from its workflow when PostgreSQL cannot answer.
const workflowReadTimeout = time.Second

// ListTickets returns a page of the tickets that by may see, with every condition of f. To a
// customer other requesters' tickets do not exist: their listing is of their own tickets, and
// one that asks for another requester's is empty, as it would be if they had none.
//
// With f.Query it is a search: the tickets that match it, most relevant first, then newest, each
// with how well it matched and the words around the match. The comments it searches are those by
// may read, so a customer's search never matches an internal note, not even on their own ticket.
// Without it, each ticket is found with no rank and no snippet, in the order of f.Sort: one
// listing, whichever it is, for the API to show.
func (s *Service) ListTickets(ctx context.Context, by auth.Principal, f ticket.ListFilter) (ticket.Page[ticket.Found], error) {
	if by.Role == auth.RoleCustomer {
		if f.Requester != "" && f.Requester != by.Subject {
			return ticket.Page[ticket.Found]{}, nil
		}
		f.Requester = by.Subject
	}
	if f.Query != "" {
		return s.store.SearchTickets(ctx, f, by.Reads())
	}
	page, err := s.store.ListTickets(ctx, f)
	if err != nil {
		return ticket.Page[ticket.Found]{}, err
	}
	found := make([]ticket.Found, len(page.Items))
	for i, t := range page.Items {
		found[i] = ticket.Found{Ticket: t}
	}
	return ticket.Page[ticket.Found]{Items: found, Next: page.Next}, nil
}

// ListComments returns a page of a ticket's comments that by may read, without internal notes for
// a customer: ENOTFOUND when by may not see the ticket, rather than an empty page.
func (s *Service) ListComments(ctx context.Context, by auth.Principal, id string, p ticket.PageRequest) (ticket.Page[ticket.Comment], error) {
	return listUnder(ctx, s, by, id, p, s.store.ListComments)
}

// ListEvents returns a page of a ticket's audit trail that by may read, without the events of
// internal notes for a customer: ENOTFOUND when by may not see the ticket.
func (s *Service) ListEvents(ctx context.Context, by auth.Principal, id string, p ticket.PageRequest) (ticket.Page[ticket.Event], error) {
	return listUnder(ctx, s, by, id, p, s.store.ListEvents)
}

// listUnder lists the items of a ticket that by may see, up to the visibility by may read.
func listUnder[T any](ctx context.Context, s *Service, by auth.Principal, id string, p ticket.PageRequest,
	list func(context.Context, string, ticket.PageRequest, ticket.Visibility) (ticket.Page[T], error)) (ticket.Page[T], error) {
	if _, err := s.Ticket(ctx, by, id); err != nil {
		return ticket.Page[T]{}, err
	}
	return list(ctx, id, p, by.Reads())
}

// ValidID reports whether id can name a ticket; anything else is not found without a lookup.
func ValidID(id string) bool {
	_, err := uuid.Parse(id)
	return err == nil && len(id) == 36
}

// resource returns the resource ID of ids, or a new one.
func (ids IDs) resource() (string, error) {
	if ids.Resource != "" {
		return ids.Resource, nil
	}
	return newID()
}

// newID returns a version 7 UUID, which sorts by creation time.
func newID() (string, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return "", ticket.Errorf(ticket.EUNAVAILABLE, "could not generate an id; retry")
	}
	return id.String(), nil
}
