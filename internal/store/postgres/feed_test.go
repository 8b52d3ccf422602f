package postgres_test

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/ticketflow/ticketflow/internal/store/postgres"
	"github.com/ticketflow/ticketflow/internal/store/postgres/pgtest"
	"github.com/ticketflow/ticketflow/internal/ticket"
)

// readFeedAll reads the feed from the start with pages of limit until a page comes back empty,
// checking that positions only grow and that Next never goes back.
func readFeedAll(t *testing.T, db *postgres.DB, f ticket.FeedFilter, limit int) []ticket.OutEvent {
	t.Helper()
	f.Limit = limit
	var all []ticket.OutEvent
	for range 1000 {
		page, err := db.ReadFeed(t.Context(), f)
		if err != nil {
			t.Fatal(err)
		}
		if page.Next < f.After {
			t.Fatalf("next %d is behind %d", page.Next, f.After)
		}
		for _, e := range page.Items {
			if e.Position <= f.After || (len(all) > 0 && e.Position <= all[len(all)-1].Position) {
				t.Fatalf("position %d after %d", e.Position, f.After)
			}
		}
		all = append(all, page.Items...)
		if len(page.Items) == 0 {
			return all
		}
		f.After = page.Next
	}
	t.Fatal("the feed does not end")
	return nil
}

// TestReadFeed persists the changes of two customers' tickets, an internal note among them, and
// reads them back from the feed: every event once, in the order they were written, each with the
// ticket as its change left it and the comment it records; the filters keep what they say.
func TestReadFeed(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	type written struct {
		ticketID string
		ev       ticket.Event
		tk       ticket.Ticket
		comment  *ticket.Comment
	}
	var want []written
	write := func(ch ticket.Change) {
		persist(t, db, ch)
		for _, e := range ch.Events {
			want = append(want, written{ch.Ticket.ID, e, ch.Ticket, ch.Comment})
		}
	}
	at := base
	next := func() time.Time { at = at.Add(time.Second); return at }
	alice, ch := start(t, next(), ticket.NewTicket{Title: "Printer on fire", Requester: "alice@example.com"})
	write(ch)
	bob, ch := start(t, next(), ticket.NewTicket{Title: "VPN down", Requester: "bob@example.com"})
	write(ch)
	write(change(t, alice, ticket.Command{Action: ticket.ActionComment, Actor: "eve", Comment: "On it",
		CommentID: newID(t)}, next()))
	write(change(t, alice, ticket.Command{Action: ticket.ActionComment, Actor: "eve", Comment: "Call the fire brigade",
		CommentID: newID(t), Visibility: ticket.VisibilityInternal}, next()))
	write(change(t, bob, ticket.Command{Action: ticket.ActionAnswer, Actor: "eve", Comment: "Reboot it",
		CommentID: newID(t)}, next())) // commented and status_changed, in one change
	write(change(t, alice, ticket.Command{Action: ticket.ActionTags, Actor: "eve", AddTags: []string{"fire"}}, next()))
	refused := alice.Reject(ticket.Command{Action: ticket.ActionAwait, Actor: "bot"},
		ticket.Errorf(ticket.EINVALIDTRANSITION, "open tickets cannot await"), next())
	write(refused)

	// Everything, as an agent, in one page and one event a page.
	for _, limit := range []int{ticket.MaxPageSize, 1, 2} {
		got := readFeedAll(t, db, ticket.FeedFilter{UpTo: ticket.VisibilityInternal}, limit)
		if len(got) != len(want) {
			t.Fatalf("limit %d: %d events, want %d", limit, len(got), len(want))
		}
		for i, e := range got {
			w := want[i]
			if e.Ticket.ID != w.ticketID || e.Event.Seq != w.ev.Seq || e.Event.Type != w.ev.Type {
				t.Fatalf("limit %d: event %d is %s's %d %s, want %s's %d %s", limit, i, e.Ticket.ID, e.Event.Seq,
					e.Event.Type, w.ticketID, w.ev.Seq, w.ev.Type)
			}
			if !reflect.DeepEqual(e.Ticket, w.tk) {
				t.Errorf("event %d: ticket\n%+v\nwant\n%+v", i, e.Ticket, w.tk)
			}
			equalEvents(t, []ticket.Event{e.Event}, []ticket.Event{w.ev})
			if wantComment := w.ev.Type == ticket.EventCommented; (e.Comment != nil) != wantComment ||
				(wantComment && !reflect.DeepEqual(*e.Comment, *w.comment)) {
				t.Errorf("event %d (%s): comment %+v, want %+v", i, e.Event.Type, e.Comment, w.comment)
			}
			if e.ID != ticket.EventID(w.ticketID, w.ev.Seq) {
				t.Errorf("event %d: ID %s, want %s", i, e.ID, ticket.EventID(w.ticketID, w.ev.Seq))
			}
		}
	}

	// The filters.
	kinds := func(es []ticket.OutEvent) []string {
		var out []string
		for _, e := range es {
			out = append(out, e.Ticket.Title+" "+string(e.Event.Type))
		}
		return out
	}
	for _, tt := range []struct {
		name string
		f    ticket.FeedFilter
		want []string
	}{
		{"one ticket", ticket.FeedFilter{TicketID: bob.Ticket.ID, UpTo: ticket.VisibilityInternal},
			[]string{"VPN down created", "VPN down commented", "VPN down status_changed"}},
		{"types", ticket.FeedFilter{Types: []ticket.EventType{ticket.EventCommented, ticket.EventTagsChanged}, UpTo: ticket.VisibilityInternal},
			[]string{"Printer on fire commented", "Printer on fire commented", "VPN down commented", "Printer on fire tags_changed"}},
		{"a customer's, public", ticket.FeedFilter{Requester: "alice@example.com", UpTo: ticket.VisibilityPublic},
			[]string{"Printer on fire created", "Printer on fire commented", "Printer on fire tags_changed", "Printer on fire transition_rejected"}},
		{"a customer's comments, public", ticket.FeedFilter{Requester: "alice@example.com", Types: []ticket.EventType{ticket.EventCommented}, UpTo: ticket.VisibilityPublic},
			[]string{"Printer on fire commented"}},
		{"another customer's ticket", ticket.FeedFilter{Requester: "alice@example.com", TicketID: bob.Ticket.ID, UpTo: ticket.VisibilityPublic}, nil},
		{"a ticket that does not exist", ticket.FeedFilter{TicketID: newID(t), UpTo: ticket.VisibilityInternal}, nil},
	} {
		for _, limit := range []int{1, 3, ticket.MaxPageSize} {
			if got := kinds(readFeedAll(t, db, tt.f, limit)); !slices.Equal(got, tt.want) {
				t.Errorf("%s, limit %d: %q, want %q", tt.name, limit, got, tt.want)
			}
		}
	}
	for _, e := range readFeedAll(t, db, ticket.FeedFilter{UpTo: ticket.VisibilityPublic, Requester: "alice@example.com"}, 10) {
		if c := e.Comment; c != nil && c.Visibility != ticket.VisibilityPublic {
			t.Errorf("a customer's feed holds the note %q", c.Body)
		}
	}

	// Written again, as a retried activity does: no event twice, none moved.
	before := readFeedAll(t, db, ticket.FeedFilter{UpTo: ticket.VisibilityInternal}, ticket.MaxPageSize)
	persist(t, db, refused)
	if after := readFeedAll(t, db, ticket.FeedFilter{UpTo: ticket.VisibilityInternal}, ticket.MaxPageSize); !reflect.DeepEqual(after, before) {
		t.Errorf("after a retry the feed is\n%+v\nwant\n%+v", after, before)
	}

	// The end of the feed: Next goes past what was read and past what the filter left out, and
	// the next event comes after it.
	page, err := db.ReadFeed(t.Context(), ticket.FeedFilter{Limit: 10, TicketID: bob.Ticket.ID, UpTo: ticket.VisibilityInternal})
	if err != nil {
		t.Fatal(err)
	}
	last := before[len(before)-1].Position
	if page.Next < last {
		t.Errorf("next %d, want at least %d, the last position of any ticket", page.Next, last)
	}
	write(change(t, bob, ticket.Command{Action: ticket.ActionClose, Actor: "eve"}, next()))
	got := readFeedAll(t, db, ticket.FeedFilter{After: page.Next, UpTo: ticket.VisibilityInternal}, 10)
	if kinds(got)[0] != "VPN down status_changed" || len(got) != 1 {
		t.Errorf("after %d: %q, want the closing", page.Next, kinds(got))
	}
}

// TestReadFeedWaitsForEarlierTransactions: an event whose transaction committed while an earlier
// transaction is still open is not shown until that one ends, since the earlier one could still
// write an event of a lower position; then it is.
func TestReadFeedWaitsForEarlierTransactions(t *testing.T) {
	// Not parallel: the open transaction holds back the feed of every database of the server, so
	// the other tests of this package wait until it ends.
	dsn := pgtest.DSN(t)
	db, conn := open(t, dsn), connect(t, dsn)
	_, ch := start(t, base, ticket.NewTicket{Title: "Before", Requester: "alice@example.com"})
	persist(t, db, ch)
	first := readFeedAll(t, db, ticket.FeedFilter{UpTo: ticket.VisibilityInternal}, 10)

	tx, err := conn.Begin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(t.Context())
	if _, err := tx.Exec(t.Context(), `SELECT pg_current_xact_id()`); err != nil { // takes an ID
		t.Fatal(err)
	}
	_, ch = start(t, base.Add(time.Second), ticket.NewTicket{Title: "After", Requester: "alice@example.com"})
	persist(t, db, ch)
	began := time.Now()
	page, err := db.ReadFeed(t.Context(), ticket.FeedFilter{After: first[0].Position, Limit: 10, UpTo: ticket.VisibilityInternal})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 0 {
		t.Fatalf("the feed shows %q while an earlier transaction is open", page.Items[0].Ticket.Title)
	}
	if waited := time.Since(began); waited > time.Second {
		t.Errorf("the read waited %s", waited)
	}
	if err := tx.Rollback(t.Context()); err != nil {
		t.Fatal(err)
	}
	got := readFeedAll(t, db, ticket.FeedFilter{After: page.Next, UpTo: ticket.VisibilityInternal}, 10)
	if len(got) != 1 || got[0].Ticket.Title != "After" {
		t.Fatalf("after the earlier transaction ended, the feed after %d holds %d events, want the one of After", page.Next, len(got))
	}
}
