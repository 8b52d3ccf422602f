package service

import (
	"context"

	"github.com/ticketflow/ticketflow/internal/auth"
	"github.com/ticketflow/ticketflow/internal/ticket"
)

// Feed returns a page of the events out that by may read, with f's conditions: a customer's are
// those of their own tickets, without internal notes, whatever f asks.
func (s *Service) Feed(ctx context.Context, by auth.Principal, f ticket.FeedFilter) (ticket.FeedPage, error) {
	if by.Role == auth.RoleCustomer {
		f.Requester = by.Subject
	}
	f.UpTo = by.Reads()
	return s.feed.ReadFeed(ctx, f)
}
