package postgres_test

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/ticketflow/ticketflow/internal/store/postgres/pgtest"
	"github.com/ticketflow/ticketflow/internal/ticket"
)

// TestPersistLaterAttemptWins writes a change from a workflow task that was then lost, and the
// change that the task's retry gave the same version and event number instead, later: the record
// ends as the retry wrote it, and a late copy of the lost write changes nothing.
func TestPersistLaterAttemptWins(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	created := openTicket(t, base, "Printer on fire")
	persist(t, db, created)

	answer := ticket.Command{Action: ticket.ActionAnswer, Actor: "agent"}
	lost := apply(t, created.Ticket, answer, base.Add(time.Minute), 2)
	persist(t, db, lost)
	// The retry applied a comment that arrived meanwhile first, a second later, then the answer.
	retried := apply(t, created.Ticket, comment("Any news?", newID(t)), base.Add(time.Minute+time.Second), 2)
	again := apply(t, retried.Ticket, answer, base.Add(time.Minute+time.Second), 3)
	for _, ch := range []ticket.Change{retried, lost, again, retried, lost} {
		persist(t, db, ch)
	}

	id := created.Ticket.ID
	got, err := db.Ticket(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, again.Ticket) {
		t.Errorf("read back\n%+v\nwant the retry's\n%+v", got, again.Ticket)
	}
	equalEvents(t, allEvents(t, db, id), slices.Concat(created.Events, retried.Events, again.Events))
}

// TestPersistSameStampKeeps writes another change at the version and stamp of a stored one, as no
// workflow does: the stored one stays, so that only a later attempt can replace a write.
func TestPersistSameStampKeeps(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	created := openTicket(t, base, "Printer on fire")
	persist(t, db, created)
	first := apply(t, created.Ticket, comment("First", newID(t)), base.Add(time.Minute), 2)
	persist(t, db, first)
	other := apply(t, created.Ticket, ticket.Command{Action: ticket.ActionAnswer, Actor: "agent"}, base.Add(time.Minute), 2)
	persist(t, db, other)

	got, err := db.Ticket(t.Context(), created.Ticket.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, first.Ticket) {
		t.Errorf("read back\n%+v\nwant the first\n%+v", got, first.Ticket)
	}
	equalEvents(t, allEvents(t, db, created.Ticket.ID), slices.Concat(created.Events, first.Events))
}

// TestPersistRetriedCreateAndComment covers the two rows that a lost workflow task can leave with
// the wrong stamp when its retry makes the same change later: the ticket's creation (created_at)
// and a comment, which keeps its ID. Both end as the retry wrote them; a late copy of the lost
// writes changes nothing.
func TestPersistRetriedCreateAndComment(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	id := newID(t)
	open := func(at time.Time) ticket.Change {
		ch, err := ticket.Open(id, ticket.NewTicket{Title: "Printer on fire", Requester: "alice@example.com"}, "alice", at)
		if err != nil {
			t.Fatal(err)
		}
		return number(ch, 1)
	}
	lostCreate, created := open(base), open(base.Add(time.Second))
	commentID := newID(t)
	lostComment := apply(t, created.Ticket, comment("Any news?", commentID), base.Add(time.Minute), 2)
	retriedComment := apply(t, created.Ticket, comment("Any news?", commentID), base.Add(time.Minute+time.Second), 2)
	for _, ch := range []ticket.Change{lostCreate, created, lostCreate, lostComment, retriedComment, lostComment} {
		persist(t, db, ch)
	}

	got, err := db.Ticket(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, retriedComment.Ticket) {
		t.Errorf("read back\n%+v\nwant the retries'\n%+v", got, retriedComment.Ticket)
	}
	if !got.CreatedAt.Equal(created.Ticket.CreatedAt) {
		t.Errorf("created_at %v, want the retried creation's %v", got.CreatedAt, created.Ticket.CreatedAt)
	}
	comments := allComments(t, db, id)
	if len(comments) != 1 || !reflect.DeepEqual(comments[0], *retriedComment.Comment) {
		t.Errorf("comments %+v, want only the retried one %+v", comments, *retriedComment.Comment)
	}
	equalEvents(t, allEvents(t, db, id), slices.Concat(created.Events, retriedComment.Events))
}
