package ticket_test

import (
	"testing"

	"github.com/ticketflow/ticketflow/internal/ticket"
)

// TestEventID: an event's ID is a version 5 UUID of its ticket and number, the same every time,
// and another for another event. The value was computed with github.com/google/uuid's NewSHA1.
func TestEventID(t *testing.T) {
	id := "01a23ced-4d30-7b8a-9fdc-cfaeaef7fdf5"
	if got := ticket.EventID(id, 7); got != "c8344d44-87ce-5e83-a1a1-f8b082c4e989" {
		t.Errorf("EventID = %s", got)
	}
	if ticket.EventID(id, 7) == ticket.EventID(id, 8) || ticket.EventID(id, 1) == ticket.EventID("01a23ced-4d30-7b8a-9fdc-cfaeaef7fdf6", 1) {
		t.Error("two events have one ID")
	}
}

// TestFeedFilterMatches: the filter keeps what the store's feed keeps.
func TestFeedFilterMatches(t *testing.T) {
	note := ticket.OutEvent{Event: ticket.Event{Type: ticket.EventCommented, Data: map[string]any{"visibility": "internal"}},
		Ticket: ticket.Ticket{ID: "t1", Requester: "alice"}}
	reply := ticket.OutEvent{Event: ticket.Event{Type: ticket.EventCommented, Data: map[string]any{}},
		Ticket: ticket.Ticket{ID: "t1", Requester: "alice"}}
	closed := ticket.OutEvent{Event: ticket.Event{Type: ticket.EventStatusChanged}, Ticket: ticket.Ticket{ID: "t2", Requester: "bob"}}
	for _, tt := range []struct {
		name string
		f    ticket.FeedFilter
		e    ticket.OutEvent
		want bool
	}{
		{"an agent, a note", ticket.FeedFilter{UpTo: ticket.VisibilityInternal}, note, true},
		{"a customer, a note", ticket.FeedFilter{UpTo: ticket.VisibilityPublic, Requester: "alice"}, note, false},
		{"a customer, a reply", ticket.FeedFilter{UpTo: ticket.VisibilityPublic, Requester: "alice"}, reply, true},
		{"a customer, another's", ticket.FeedFilter{UpTo: ticket.VisibilityPublic, Requester: "alice"}, closed, false},
		{"a type", ticket.FeedFilter{UpTo: ticket.VisibilityInternal, Types: []ticket.EventType{ticket.EventStatusChanged}}, reply, false},
		{"its type", ticket.FeedFilter{UpTo: ticket.VisibilityInternal, Types: []ticket.EventType{ticket.EventStatusChanged}}, closed, true},
		{"another ticket", ticket.FeedFilter{UpTo: ticket.VisibilityInternal, TicketID: "t1"}, closed, false},
		{"its ticket", ticket.FeedFilter{UpTo: ticket.VisibilityInternal, TicketID: "t2"}, closed, true},
	} {
		if got := tt.f.Matches(tt.e); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
		// A filter that keeps every event keeps this one; one that keeps this one but not the
		// other events here does not say it keeps every event.
		all := tt.f.MatchesAll()
		for _, e := range []ticket.OutEvent{note, reply, closed} {
			if all && !tt.f.Matches(e) {
				t.Errorf("%s: says it keeps every event, but not %v", tt.name, e.Event.Type)
			}
		}
		if keepsAll := tt.f.Matches(note) && tt.f.Matches(reply) && tt.f.Matches(closed); all != keepsAll {
			t.Errorf("%s: MatchesAll %v, but it keeps all three events: %v", tt.name, all, keepsAll)
		}
	}
}
