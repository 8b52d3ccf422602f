package app_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/ticketflow/ticketflow/internal/auth"
	"github.com/ticketflow/ticketflow/internal/httpapi"
	"github.com/ticketflow/ticketflow/internal/ticket"
)

// The system tests of GET /api/v1/events, the feed of every ticket's events, on the real stack.

// feedPage is a page of the feed as clients read it.
type feedPage struct {
	Items      []httpapi.OutEvent `json:"items"`
	NextCursor string             `json:"next_cursor"`
}

// readFeed reads the feed with the query until a page comes back empty, and returns its events
// and the last next_cursor. Cursors must grow, as strings, from page to page and item to item.
func (s *system) readFeed(t *testing.T, q url.Values) ([]httpapi.OutEvent, string) {
	t.Helper()
	var all []httpapi.OutEvent
	after := q.Get("after")
	for range 100 {
		v := url.Values{}
		for k, vs := range q {
			v[k] = vs
		}
		if after != "" {
			v.Set("after", after)
		}
		var p feedPage
		s.do(t, "GET", "/api/v1/events?"+v.Encode(), nil).expect(t, http.StatusOK, &p)
		for _, e := range p.Items {
			if e.Cursor <= after {
				t.Fatalf("cursor %s after %s", e.Cursor, after)
			}
			after = e.Cursor
		}
		if p.NextCursor < after {
			t.Fatalf("next_cursor %s is behind %s", p.NextCursor, after)
		}
		after = p.NextCursor
		all = append(all, p.Items...)
		if len(p.Items) == 0 {
			return all, after
		}
	}
	t.Fatal("the feed does not end")
	return nil, ""
}

func outTypes(es []httpapi.OutEvent) []string {
	return each(es, func(e httpapi.OutEvent) string { return e.Type })
}

// TestFeed: a ticket's changes come out on the feed in order, each once, with the ticket as the
// change left it and the comment it records; the same event has the same ID and cursor on every
// read; a reader that polls with next_cursor gets each new event once, at once after the change
// was acknowledged; filters keep what they say; a customer reads their own tickets' events,
// without internal notes.
func TestFeed(t *testing.T) {
	s := startSystem(t)
	w := word()
	alice := s.as(s.newKey(t, "alice-"+w, auth.RoleCustomer, "alice-"+w+"@example.com"))
	bob := s.as(s.newKey(t, "bob-"+w, auth.RoleCustomer, "bob-"+w+"@example.com"))
	// Where the feed is now: the other tests' events come before it.
	_, start := s.readFeed(t, url.Values{"limit": {"200"}})

	tk := alice.open(t, map[string]any{"title": "Printer on fire " + w})
	s.comment(t, tk.ID, "On it", ticket.VisibilityPublic)
	s.comment(t, tk.ID, "The toner is from the bad batch", ticket.VisibilityInternal)
	s.act(t, tk.ID, ticket.ActionAnswer, map[string]string{"comment": "Replaced the toner"}).expect(t, http.StatusOK, nil)
	other := bob.open(t, map[string]any{"title": "VPN down " + w})

	mine := url.Values{"ticket": {tk.ID}, "after": {start}}
	got, _ := s.readFeed(t, mine)
	want := []string{"ticket.created", "ticket.commented", "ticket.commented", "ticket.commented", "ticket.status_changed"}
	if !slices.Equal(outTypes(got), want) {
		t.Fatalf("the ticket's events are %q, want %q", outTypes(got), want)
	}
	for i, e := range got {
		if e.Data.Ticket.ID != tk.ID || e.Data.Event.Seq != int64(i+1) {
			t.Errorf("event %d is %s's %d", i, e.Data.Ticket.ID, e.Data.Event.Seq)
		}
		if i > 0 && e.Data.Ticket.Version < got[i-1].Data.Ticket.Version {
			t.Errorf("event %d shows version %d after %d", i, e.Data.Ticket.Version, got[i-1].Data.Ticket.Version)
		}
		if (e.Data.Comment != nil) != (e.Type == "ticket.commented") {
			t.Errorf("event %d (%s) has comment %+v", i, e.Type, e.Data.Comment)
		}
		if e.Data.Ticket.InternalNotesCount == nil {
			t.Errorf("event %d: an agent's ticket shows no internal_notes_count", i)
		}
	}
	if c := got[2].Data.Comment; c == nil || c.Visibility != ticket.VisibilityInternal || c.Body != "The toner is from the bad batch" {
		t.Errorf("the note's event has comment %+v", c)
	}
	if last := got[4].Data.Ticket; last.Status != ticket.StatusAnswered || last.CommentsCount != 2 {
		t.Errorf("after the answer the ticket is %s with %d comments", last.Status, last.CommentsCount)
	}
	again, _ := s.readFeed(t, url.Values{"ticket": {tk.ID}, "after": {start}, "limit": {"1"}})
	for i := range again {
		if again[i].ID != got[i].ID || again[i].Cursor != got[i].Cursor {
			t.Errorf("event %d read again is %s at %s, was %s at %s", i, again[i].ID, again[i].Cursor, got[i].ID, got[i].Cursor)
		}
	}

	// Polling: each change's events come once, on the first read after its acknowledgement.
	_, next := s.readFeed(t, url.Values{"after": {start}})
	for _, action := range []ticket.Action{ticket.ActionAwait, ticket.ActionAnswer, ticket.ActionClose} {
		s.act(t, tk.ID, action, nil).expect(t, http.StatusOK, nil)
		var p feedPage
		s.do(t, "GET", "/api/v1/events?"+url.Values{"after": {next}, "ticket": {tk.ID}}.Encode(), nil).expect(t, http.StatusOK, &p)
		to, _ := action.Target()
		if len(p.Items) != 1 || p.Items[0].Type != "ticket.status_changed" || p.Items[0].Data.Event.ToStatus != to {
			t.Fatalf("after %s the feed holds %q", action, outTypes(p.Items))
		}
		next = p.NextCursor
	}

	// Filters.
	types, _ := s.readFeed(t, url.Values{"after": {start}, "ticket": {tk.ID}, "types": {"ticket.created,status_changed"}})
	if want := []string{"ticket.created", "ticket.status_changed", "ticket.status_changed", "ticket.status_changed", "ticket.status_changed"}; !slices.Equal(outTypes(types), want) {
		t.Errorf("types= gave %q, want %q", outTypes(types), want)
	}
	repeated, _ := s.readFeed(t, url.Values{"after": {start}, "ticket": {tk.ID}, "types": {"ticket.created", "ticket.status_changed"}})
	if !slices.Equal(outTypes(repeated), outTypes(types)) {
		t.Errorf("repeated types= gave %q, want %q", outTypes(repeated), outTypes(types))
	}

	// Customers: their own tickets, public content only.
	theirs, _ := alice.readFeed(t, url.Values{"after": {start}})
	if want := []string{"ticket.created", "ticket.commented", "ticket.commented", "ticket.status_changed",
		"ticket.status_changed", "ticket.status_changed", "ticket.status_changed"}; !slices.Equal(outTypes(theirs), want) {
		t.Errorf("alice's feed is %q, want %q", outTypes(theirs), want)
	}
	for _, e := range theirs {
		if e.Data.Ticket.ID != tk.ID {
			t.Errorf("alice's feed holds ticket %s", e.Data.Ticket.ID)
		}
		if e.Data.Ticket.InternalNotesCount != nil {
			t.Errorf("alice's feed shows internal_notes_count")
		}
		if c := e.Data.Comment; c != nil && (c.Visibility != ticket.VisibilityPublic || strings.Contains(c.Body, "toner is from")) {
			t.Errorf("alice's feed shows the note %q", c.Body)
		}
		if i := slices.IndexFunc(got, func(g httpapi.OutEvent) bool { return g.ID == e.ID }); i >= 0 && got[i].Cursor != e.Cursor {
			t.Errorf("event %s has cursor %s for alice, %s for the agent", e.ID, e.Cursor, got[i].Cursor)
		}
	}
	if others, _ := alice.readFeed(t, url.Values{"after": {start}, "ticket": {other.ID}}); len(others) != 0 {
		t.Errorf("alice reads bob's ticket's events: %q", outTypes(others))
	}
	if own, _ := bob.readFeed(t, url.Values{"after": {start}}); !slices.Equal(outTypes(own), []string{"ticket.created"}) {
		t.Errorf("bob's feed is %q", outTypes(own))
	}

	// Bad input.
	for _, q := range []string{
		"after=bogus", "after=" + url.QueryEscape(start[:len(start)-2]+"AA"), "after=0000000000000000001",
		"types=ticket.exploded", "types=commented,,nope", "ticket=42", "limit=0", "limit=201", "limit=x",
	} {
		s.do(t, "GET", "/api/v1/events?"+q, nil).expectProblem(t, http.StatusBadRequest, "/problems/bad-request")
	}
	s.as("").do(t, "GET", "/api/v1/events", nil).expectProblem(t, http.StatusUnauthorized, "/problems/unauthorized")
}
