package service

import (
	"context"
	"errors"
	"log/slog"
	"testing"

	"github.com/ticketflow/ticketflow/internal/auth"
	"github.com/ticketflow/ticketflow/internal/ticket"
)

// The fakes hold at most one ticket each and record what was asked of them.
type (
	fakeCache struct {
		Cache
		held    *ticket.Ticket
		getErr  error
		putDone []int64
	}
	fakeStore struct {
		Store
		held   *ticket.Ticket
		err    error
		upTo   []ticket.Visibility // of each listing of comments or events
		listed []ticket.ListFilter // of each listing of tickets
		// searched is the filter of each search
		searched []ticket.ListFilter
	}
	fakeWorkflows struct {
		Workflows
		held    *ticket.Ticket
		queried int
		actor   string           // of the last ticket created
		changed []ticket.Command // every change sent
	}
)

func (c *fakeCache) Get(_ context.Context, id string) (ticket.Ticket, bool, error) {
	if c.getErr != nil || c.held == nil {
		return ticket.Ticket{}, false, c.getErr
	}
	return *c.held, true, nil
}

func (c *fakeCache) Put(_ context.Context, t ticket.Ticket) (bool, error) {
	c.putDone = append(c.putDone, t.Version)
	return true, nil
}

func (s *fakeStore) Ticket(_ context.Context, id string) (ticket.Ticket, error) {
	switch {
	case s.err != nil:
		return ticket.Ticket{}, s.err
	case s.held == nil:
		return ticket.Ticket{}, ticket.NotFound(id)
	}
	return *s.held, nil
}

func (w *fakeWorkflows) Ticket(_ context.Context, id string) (ticket.Ticket, error) {
	w.queried++
	if w.held == nil {
		return ticket.Ticket{}, ticket.NotFound(id)
	}
	return *w.held, nil
}

// TestRead checks where a ticket is read from: the cache first; on a miss the record, which then
// fills the cache; when the record does not answer, the ticket's workflow; and that a customer
// reads only their own ticket, with the answer a missing one gets.
func TestRead(t *testing.T) {
	const id = "0193b7c2-0000-7000-8000-000000000001"
	alices := func(v int64) *ticket.Ticket {
		return &ticket.Ticket{ID: id, Requester: "alice@example.com", Version: v}
	}
	down := errors.Join(ticket.Errorf(ticket.EUNAVAILABLE, "the database is unavailable; retry later"), errors.New("dial tcp: refused"))
	agent := auth.Principal{Name: "agent", Role: auth.RoleAgent}
	bob := auth.Principal{Name: "bob", Role: auth.RoleCustomer, Subject: "bob@example.com"}
	tests := []struct {
		name        string
		cache       *fakeCache
		store       *fakeStore
		workflows   *fakeWorkflows
		by          auth.Principal
		wantVersion int64
		wantCode    string
		wantFill    bool
		wantQuery   bool
	}{
		{name: "cache hit", cache: &fakeCache{held: alices(3)}, store: &fakeStore{held: alices(2)}, workflows: &fakeWorkflows{}, by: agent, wantVersion: 3},
		{name: "cache miss", cache: &fakeCache{}, store: &fakeStore{held: alices(2)}, workflows: &fakeWorkflows{}, by: agent, wantVersion: 2, wantFill: true},
		{name: "cache down", cache: &fakeCache{getErr: errors.New("cluster down")}, store: &fakeStore{held: alices(2)}, workflows: &fakeWorkflows{}, by: agent, wantVersion: 2},
		{name: "record down", cache: &fakeCache{}, store: &fakeStore{err: down}, workflows: &fakeWorkflows{held: alices(4)}, by: agent, wantVersion: 4, wantQuery: true},
		{name: "record and workflow down", cache: &fakeCache{}, store: &fakeStore{err: down}, workflows: &fakeWorkflows{}, by: agent, wantCode: ticket.EUNAVAILABLE, wantQuery: true},
		{name: "not found", cache: &fakeCache{}, store: &fakeStore{}, workflows: &fakeWorkflows{}, by: agent, wantCode: ticket.ENOTFOUND},
		{name: "another's ticket", cache: &fakeCache{held: alices(3)}, store: &fakeStore{}, workflows: &fakeWorkflows{}, by: bob, wantCode: ticket.ENOTFOUND},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(tt.workflows, tt.store, tt.cache, slog.New(slog.DiscardHandler))
			got, err := s.Ticket(context.Background(), tt.by, id)
			if code := ticket.ErrorCode(err); code != tt.wantCode {
				t.Fatalf("error %v, want code %q", err, tt.wantCode)
			}
			if err == nil && got.Version != tt.wantVersion {
				t.Errorf("read version %d, want %d", got.Version, tt.wantVersion)
			}
			if filled := len(tt.cache.putDone) > 0; filled != tt.wantFill {
				t.Errorf("cache filled: %v, want %v", filled, tt.wantFill)
			}
			if queried := tt.workflows.queried > 0; queried != tt.wantQuery {
				t.Errorf("workflow queried: %v, want %v", queried, tt.wantQuery)
			}
		})
	}
	if _, err := New(&fakeWorkflows{}, &fakeStore{}, &fakeCache{}, nil).Ticket(context.Background(), agent, "not-an-id"); ticket.ErrorCode(err) != ticket.ENOTFOUND {
		t.Errorf("a malformed ID: %v, want not found", err)
	}
}
