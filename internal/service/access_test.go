package service

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/ticketflow/ticketflow/internal/auth"
	"github.com/ticketflow/ticketflow/internal/ticket"
)

// What the fakes of tickets_test.go record of the changes and listings asked of them.

func (w *fakeWorkflows) Create(_ context.Context, id string, n ticket.NewTicket, actor string) (ticket.Ticket, error) {
	w.actor = actor
	ch, err := ticket.Open(id, n, actor, ticketTime)
	return ch.Ticket, err
}

func (w *fakeWorkflows) Change(_ context.Context, id string, cmd ticket.Command) (ticket.Change, error) {
	w.changed = append(w.changed, cmd)
	return ticket.Change{Ticket: *w.held}, nil
}

func (s *fakeStore) ListTickets(_ context.Context, f ticket.ListFilter) (ticket.Page[ticket.Ticket], error) {
	s.listed = append(s.listed, f)
	return ticket.Page[ticket.Ticket]{Items: []ticket.Ticket{*s.held}}, nil
}

func (s *fakeStore) SearchTickets(_ context.Context, f ticket.ListFilter, upTo ticket.Visibility) (ticket.Page[ticket.Found], error) {
	s.searched = append(s.searched, f)
	s.upTo = append(s.upTo, upTo)
	return ticket.Page[ticket.Found]{Items: []ticket.Found{{Ticket: *s.held, Rank: 0.5, Snippet: "the printer"}}}, nil
}

func (s *fakeStore) ListComments(_ context.Context, _ string, _ ticket.PageRequest, upTo ticket.Visibility) (ticket.Page[ticket.Comment], error) {
	s.upTo = append(s.upTo, upTo)
	return ticket.Page[ticket.Comment]{}, nil
}

func (s *fakeStore) ListEvents(_ context.Context, _ string, _ ticket.PageRequest, upTo ticket.Visibility) (ticket.Page[ticket.Event], error) {
	s.upTo = append(s.upTo, upTo)
	return ticket.Page[ticket.Event]{}, nil
}

// ticketTime is when the fake workflows open tickets.
var ticketTime = time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)

// The keys of these tests: agents with and without a subject, and alice, a customer.
var (
	dana  = auth.Principal{Name: "agent-7", Role: auth.RoleAgent, Subject: "dana@example.com"}
	bare  = auth.Principal{Name: "agent-8", Role: auth.RoleAgent}
	alice = auth.Principal{Name: "alice", Role: auth.RoleCustomer, Subject: "alice@example.com"}
)

const alicesTicket = "0193b7c2-0000-7000-8000-000000000002"

// accessService returns a Service that holds one ticket of alice's.
func accessService() (*Service, *fakeStore, *fakeWorkflows) {
	held := &ticket.Ticket{ID: alicesTicket, Requester: "alice@example.com", Status: ticket.StatusOpen, Version: 1}
	st, wf := &fakeStore{held: held}, &fakeWorkflows{held: held}
	return New(wf, st, &fakeCache{}, slog.New(slog.DiscardHandler)), st, wf
}

// TestInternalNotesAreNotForCustomers checks that a customer reads the conversation without its
// internal notes, and every other key the whole of it.
func TestInternalNotesAreNotForCustomers(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		by   auth.Principal
		want ticket.Visibility
	}{
		{alice, ticket.VisibilityPublic},
		{dana, ticket.VisibilityInternal},
		{auth.Principal{Name: "bot", Role: auth.RoleAutomation}, ticket.VisibilityInternal},
		{auth.Principal{Name: "root", Role: auth.RoleAdmin}, ticket.VisibilityInternal},
	} {
		s, st, _ := accessService()
		if _, err := s.ListComments(ctx, tc.by, alicesTicket, ticket.PageRequest{Limit: 10}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ListEvents(ctx, tc.by, alicesTicket, ticket.PageRequest{Limit: 10}); err != nil {
			t.Fatal(err)
		}
		if len(st.upTo) != 2 || st.upTo[0] != tc.want || st.upTo[1] != tc.want {
			t.Errorf("%s lists up to %v, want %s", tc.by.Role, st.upTo, tc.want)
		}
	}
	s, st, _ := accessService()
	bob := auth.Principal{Name: "bob", Role: auth.RoleCustomer, Subject: "bob@example.com"}
	if _, err := s.ListEvents(ctx, bob, alicesTicket, ticket.PageRequest{Limit: 10}); ticket.ErrorCode(err) != ticket.ENOTFOUND || len(st.upTo) != 0 {
		t.Errorf("another customer's events: %v, listed %v; want not found, nothing listed", err, st.upTo)
	}
}

// TestCustomerChanges checks what a customer may not ask, and that it is refused before the
// ticket's workflow hears of it.
func TestCustomerChanges(t *testing.T) {
	ctx := context.Background()
	s, _, wf := accessService()
	note := ticket.Command{Action: ticket.ActionComment, Comment: "between us", Visibility: ticket.VisibilityInternal}
	if _, err := s.ChangeTicket(ctx, alice, alicesTicket, note, IDs{}); ticket.ErrorCode(err) != ticket.EFORBIDDEN {
		t.Errorf("a customer's internal note: %v, want forbidden", err)
	}
	if len(wf.changed) != 0 {
		t.Errorf("the workflow was sent %v", wf.changed)
	}
	public := ticket.Command{Action: ticket.ActionComment, Comment: "hello", Visibility: ticket.VisibilityPublic}
	if _, err := s.ChangeTicket(ctx, alice, alicesTicket, public, IDs{}); err != nil {
		t.Errorf("a customer's public comment: %v", err)
	}
	if _, err := s.ChangeTicket(ctx, dana, alicesTicket, note, IDs{}); err != nil {
		t.Errorf("an agent's internal note: %v", err)
	}

	for _, n := range []ticket.NewTicket{
		{Title: "mine", Assignee: "dana@example.com"},
		{Title: "mine", Tags: []string{"vip"}},
	} {
		if _, err := s.CreateTicket(ctx, alice, n, IDs{}); ticket.ErrorCode(err) != ticket.EFORBIDDEN {
			t.Errorf("a customer opens %+v: %v, want forbidden", n, err)
		}
	}
	tk, err := s.CreateTicket(ctx, alice, ticket.NewTicket{Title: "mine", Group: "billing", Assignee: "  "}, IDs{})
	if err != nil || tk.Group != "billing" || tk.Requester != alice.Subject {
		t.Errorf("a customer opens a ticket for a group: %+v, %v", tk, err)
	}
}

// TestActors checks that a change is recorded as the key's holder: its subject when it has one,
// else its name; a customer's as the key's name, written as its requester.
func TestActors(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		by           auth.Principal
		actor, wrote string
	}{
		{dana, "dana@example.com", ""},
		{bare, "agent-8", ""},
		{alice, "alice", "alice@example.com"},
	} {
		s, _, wf := accessService()
		if _, err := s.ChangeTicket(ctx, tc.by, alicesTicket, ticket.Command{Action: ticket.ActionComment, Comment: "hi"}, IDs{}); err != nil {
			t.Fatal(err)
		}
		if got := wf.changed[0]; got.Actor != tc.actor || got.Author != tc.wrote {
			t.Errorf("%s: actor %q author %q, want %q and %q", tc.by.Name, got.Actor, got.Author, tc.actor, tc.wrote)
		}
		if _, err := s.CreateTicket(ctx, tc.by, ticket.NewTicket{Title: "t"}, IDs{}); err != nil || wf.actor != tc.actor {
			t.Errorf("%s opened a ticket as %q (%v), want %q", tc.by.Name, wf.actor, err, tc.actor)
		}
	}
}

// TestCustomerListings checks whose tickets a listing holds: a customer's, their own whatever
// requester it names, and none of another's, without asking the store; an agent's, the
// requester it names, or everyone's.
func TestCustomerListings(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name      string
		by        auth.Principal
		requester string
		want      string // the requester the store is asked for; "-" when it is not asked
	}{
		{"a customer's listing", alice, "", alice.Subject},
		{"a customer's own tickets", alice, alice.Subject, alice.Subject},
		{"another's tickets, to a customer", alice, "bob@example.com", "-"},
		{"an agent's listing", dana, "", ""},
		{"an agent's listing of a requester", dana, "bob@example.com", "bob@example.com"},
	} {
		s, st, _ := accessService()
		f := ticket.ListFilter{Requester: tc.requester, Group: "hardware", PageRequest: ticket.PageRequest{Limit: 10}}
		page, err := s.ListTickets(ctx, tc.by, f)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if tc.want == "-" {
			if len(st.listed) != 0 || len(page.Items) != 0 || page.Next != nil {
				t.Errorf("%s: asked the store %+v, answered %+v; want an empty page", tc.name, st.listed, page)
			}
			continue
		}
		if len(st.listed) != 1 || st.listed[0].Requester != tc.want || st.listed[0].Group != "hardware" {
			t.Errorf("%s: asked the store %+v, want requester %q and the rest of the filter", tc.name, st.listed, tc.want)
		}
	}
}

// TestSearches checks what a search asks of the store: the comments that the key may read, a
// customer's own tickets only and none of another's, and the rest of the filter; and that a
// listing without a query is no search.
func TestSearches(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name      string
		by        auth.Principal
		requester string
		want      string // the requester the store is asked for; "-" when it is not asked
		upTo      ticket.Visibility
	}{
		{"a customer's search", alice, "", alice.Subject, ticket.VisibilityPublic},
		{"a customer's search of another's tickets", alice, "bob@example.com", "-", ""},
		{"an agent's search", dana, "", "", ticket.VisibilityInternal},
		{"an agent's search of a requester's tickets", dana, "bob@example.com", "bob@example.com", ticket.VisibilityInternal},
		{"an automation's search", auth.Principal{Name: "bot", Role: auth.RoleAutomation}, "", "", ticket.VisibilityInternal},
	} {
		s, st, _ := accessService()
		f := ticket.ListFilter{Requester: tc.requester, Group: "hardware", Query: "printer", PageRequest: ticket.PageRequest{Limit: 10}}
		page, err := s.ListTickets(ctx, tc.by, f)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if len(st.listed) != 0 {
			t.Errorf("%s: listed %+v instead of searching", tc.name, st.listed)
		}
		if tc.want == "-" {
			if len(st.searched) != 0 || len(page.Items) != 0 || page.Next != nil {
				t.Errorf("%s: asked the store %+v, answered %+v; want an empty page", tc.name, st.searched, page)
			}
			continue
		}
		if len(st.searched) != 1 || st.searched[0].Requester != tc.want || st.searched[0].Group != "hardware" || st.searched[0].Query != "printer" {
			t.Errorf("%s: asked the store %+v, want requester %q and the rest of the filter", tc.name, st.searched, tc.want)
		}
		if len(st.upTo) != 1 || st.upTo[0] != tc.upTo {
			t.Errorf("%s: searched up to %v, want %s", tc.name, st.upTo, tc.upTo)
		}
		if len(page.Items) != 1 || page.Items[0].Snippet != "the printer" || page.Items[0].Ticket.ID != alicesTicket {
			t.Errorf("%s: answered %+v, want what the store found", tc.name, page)
		}
	}

	s, st, _ := accessService()
	page, err := s.ListTickets(ctx, dana, ticket.ListFilter{PageRequest: ticket.PageRequest{Limit: 10}})
	if err != nil || len(st.searched) != 0 || len(st.listed) != 1 {
		t.Fatalf("a listing without a query: %v, searched %+v, listed %+v", err, st.searched, st.listed)
	}
	if len(page.Items) != 1 || page.Items[0].Ticket.ID != alicesTicket || page.Items[0].Rank != 0 || page.Items[0].Snippet != "" {
		t.Errorf("a listing without a query answered %+v, want the ticket with no rank or snippet", page)
	}
}
