package postgres_test

import (
	"encoding/json"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/ticketflow/ticketflow/internal/store/postgres"
	"github.com/ticketflow/ticketflow/internal/store/postgres/pgtest"
	"github.com/ticketflow/ticketflow/internal/ticket"
)

// base is a time with nanoseconds and a zone other than UTC, to prove that what is read back
// is what the domain keeps: UTC to the microsecond.
var base = time.Date(2026, 11, 26, 10, 0, 0, 123456789, time.FixedZone("CET", 3600))

func TestPersistCreatedTicket(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ch := openTicket(t, base, "Printer on fire")
	persist(t, db, ch)

	got, err := db.Ticket(t.Context(), ch.Ticket.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, ch.Ticket) {
		t.Errorf("read back\n%+v\nwant\n%+v", got, ch.Ticket)
	}
	if got.ClosedAt != nil || got.CloseReason != nil {
		t.Errorf("a new ticket has closed_at %v, close_reason %v; want nil", got.ClosedAt, got.CloseReason)
	}
	if got.CreatedAt.Location() != time.UTC {
		t.Errorf("created_at is in %v, want UTC", got.CreatedAt.Location())
	}
	equalEvents(t, allEvents(t, db, ch.Ticket.ID), ch.Events)
}

func TestPersistClosedTicket(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	open := openTicket(t, base, "Printer on fire")
	persist(t, db, open)
	closed := apply(t, open.Ticket, ticket.Command{Action: ticket.ActionClose, Actor: "bob", Reason: "fixed"},
		base.Add(time.Hour), 2)
	persist(t, db, closed)

	got, err := db.Ticket(t.Context(), open.Ticket.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, closed.Ticket) {
		t.Errorf("read back\n%+v\nwant\n%+v", got, closed.Ticket)
	}
	if got.ClosedAt == nil || got.CloseReason == nil || *got.CloseReason != "fixed" {
		t.Errorf("closed_at %v, close_reason %v; want both set", got.ClosedAt, got.CloseReason)
	}
}

// TestPersistRetried writes the same change twice, as an activity retried after a crash would.
func TestPersistRetried(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	created := openTicket(t, base, "Printer on fire")
	commented := apply(t, created.Ticket, comment("It smokes", newID(t)), base.Add(time.Minute), 2)
	for _, ch := range []ticket.Change{created, created, commented, commented} {
		persist(t, db, ch)
	}

	id := created.Ticket.ID
	got, err := db.Ticket(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, commented.Ticket) {
		t.Errorf("read back\n%+v\nwant\n%+v", got, commented.Ticket)
	}
	if comments := allComments(t, db, id); len(comments) != 1 || comments[0] != *commented.Comment {
		t.Errorf("comments %+v, want only %+v", comments, *commented.Comment)
	}
	equalEvents(t, allEvents(t, db, id), slices.Concat(created.Events, commented.Events))
}

// TestPersistStale writes a change after a newer one, as a late retry could: the row keeps the
// newer ticket, yet the late change's comment and events are still recorded.
func TestPersistStale(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	v1 := openTicket(t, base, "Printer on fire")
	v2 := apply(t, v1.Ticket, comment("It smokes", newID(t)), base.Add(time.Minute), 2)
	answer := comment("Unplug it", newID(t))
	answer.Action = ticket.ActionAnswer
	v3 := apply(t, v2.Ticket, answer, base.Add(2*time.Minute), 4)
	for _, ch := range []ticket.Change{v1, v3, v2} {
		persist(t, db, ch)
	}

	id := v1.Ticket.ID
	got, err := db.Ticket(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, v3.Ticket) {
		t.Errorf("read back\n%+v\nwant the newest\n%+v", got, v3.Ticket)
	}
	want := []ticket.Comment{*v2.Comment, *v3.Comment}
	if got := allComments(t, db, id); !reflect.DeepEqual(got, want) {
		t.Errorf("comments\n%+v\nwant\n%+v", got, want)
	}
	equalEvents(t, allEvents(t, db, id), slices.Concat(v1.Events, v2.Events, v3.Events))
}

// TestPersistRejected records a refused command: the change carries the ticket at the version it
// already has, and only its event is new.
func TestPersistRejected(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	created := openTicket(t, base, "Printer on fire")
	persist(t, db, created)

	cmd := ticket.Command{Action: ticket.ActionAwait, Actor: "automation", Reason: "no reply"}
	refusal := created.Ticket.Check(cmd)
	if refusal == nil {
		t.Fatal("awaiting an open ticket was allowed; the test needs a refused command")
	}
	rejected := number(created.Ticket.Reject(cmd, refusal, base.Add(time.Minute)), 2)
	// Same version, other content: were the row written at an equal version, this would show.
	rejected.Ticket.Title = "Overwritten"
	persist(t, db, rejected)
	persist(t, db, rejected)

	got, err := db.Ticket(t.Context(), created.Ticket.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, created.Ticket) {
		t.Errorf("read back\n%+v\nwant it untouched\n%+v", got, created.Ticket)
	}
	equalEvents(t, allEvents(t, db, created.Ticket.ID), slices.Concat(created.Events, rejected.Events))
}

// TestPersistAtomic proves that a change is written whole or not at all: its last statement
// fails, and the ticket written before it in the same batch is gone too.
func TestPersistAtomic(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ch := openTicket(t, base, "Printer on fire")
	ch.Events = append(ch.Events, ticket.Event{Seq: 2, Type: ticket.EventStatusChanged,
		FromStatus: "bogus", ToStatus: ticket.StatusAnswered, At: ch.Ticket.CreatedAt})

	err := db.Persist(t.Context(), ch)
	if code := ticket.ErrorCode(err); code != ticket.EINVALID {
		t.Fatalf("got error %v (code %q), want code %q", err, code, ticket.EINVALID)
	}
	if _, err := db.Ticket(t.Context(), ch.Ticket.ID); ticket.ErrorCode(err) != ticket.ENOTFOUND {
		t.Errorf("after a failed change, reading its ticket gave %v; want not found", err)
	}
	if events := allEvents(t, db, ch.Ticket.ID); len(events) != 0 {
		t.Errorf("after a failed change, %d events were stored; want none", len(events))
	}
}

func TestPersistInvalid(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	valid := func() ticket.Change {
		return apply(t, openTicket(t, base, "Printer on fire").Ticket, comment("It smokes", newID(t)), base, 2)
	}
	tests := []struct {
		name  string
		spoil func(*ticket.Change)
	}{
		{"ticket ID not a UUID", func(ch *ticket.Change) { ch.Ticket.ID = "42" }},
		{"comment ID not a UUID", func(ch *ticket.Change) { ch.Comment.ID = "" }},
		{"comment of another ticket", func(ch *ticket.Change) { ch.Comment.TicketID = newID(t) }},
		{"unnumbered event", func(ch *ticket.Change) { ch.Events[0].Seq = 0 }},
		{"unknown status", func(ch *ticket.Change) { ch.Ticket.Status = "pending" }},
		{"unknown priority", func(ch *ticket.Change) { ch.Ticket.Priority = "whenever" }},
		{"closed without a time", func(ch *ticket.Change) { ch.Ticket.Status = ticket.StatusClosed }},
		{"no group", func(ch *ticket.Change) { ch.Ticket.Group = "" }},
		{"too many tags", func(ch *ticket.Change) {
			ch.Ticket.Tags = nil
			for i := range ticket.MaxTags + 1 {
				ch.Ticket.Tags = append(ch.Ticket.Tags, "tag"+strconv.Itoa(100+i))
			}
		}},
		{"negative internal notes count", func(ch *ticket.Change) { ch.Ticket.InternalNotesCount = -1 }},
		{"unknown visibility", func(ch *ticket.Change) { ch.Comment.Visibility = "secret" }},
		{"no visibility", func(ch *ticket.Change) { ch.Comment.Visibility = "" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ch := valid()
			tt.spoil(&ch)
			err := db.Persist(t.Context(), ch)
			if code := ticket.ErrorCode(err); code != ticket.EINVALID {
				t.Errorf("got error %v (code %q), want code %q", err, code, ticket.EINVALID)
			}
		})
	}
}

func TestTicketNotFound(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	for _, id := range []string{newID(t), "not-a-uuid", "", "0193a0f4-0000-7000-8000-00000000000g", "'; DROP TABLE tickets; --"} {
		t.Run(id, func(t *testing.T) {
			_, err := db.Ticket(t.Context(), id)
			if code := ticket.ErrorCode(err); code != ticket.ENOTFOUND {
				t.Fatalf("got error %v (code %q), want code %q", err, code, ticket.ENOTFOUND)
			}
			if want := "ticket " + id + " not found"; ticket.ErrorMessage(err) != want {
				t.Errorf("got message %q, want %q", ticket.ErrorMessage(err), want)
			}
		})
	}
}

func TestListTickets(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	specs := []struct {
		status   ticket.Status
		priority ticket.Priority
		minute   int // tickets 5 and 6 share a creation time, so that the ID breaks the tie
	}{
		{ticket.StatusOpen, ticket.PriorityLow, 0},
		{ticket.StatusAnswered, ticket.PriorityNormal, 1},
		{ticket.StatusOpen, ticket.PriorityHigh, 2},
		{ticket.StatusClosed, ticket.PriorityNormal, 3},
		{ticket.StatusOpen, ticket.PriorityNormal, 4},
		{ticket.StatusAwaiting, ticket.PriorityHigh, 5},
		{ticket.StatusOpen, ticket.PriorityNormal, 5},
	}
	var all []ticket.Ticket
	for i, s := range specs {
		ch := openTicket(t, base.Add(time.Duration(s.minute)*time.Minute), "Ticket "+string(rune('A'+i)))
		tk := &ch.Ticket
		tk.Status, tk.Priority = s.status, s.priority
		if s.status == ticket.StatusClosed {
			tk.ClosedAt = &tk.CreatedAt
		}
		persist(t, db, ch)
		all = append(all, *tk)
	}
	all = inOrder(all, ticket.SortNewest)
	where := func(keep func(ticket.Ticket) bool) []ticket.Ticket {
		return slices.DeleteFunc(slices.Clone(all), func(t ticket.Ticket) bool { return !keep(t) })
	}

	tests := []struct {
		name     string
		status   ticket.Status
		priority ticket.Priority
		want     []ticket.Ticket
	}{
		{"all", "", "", all},
		{"status", ticket.StatusOpen, "", where(func(t ticket.Ticket) bool { return t.Status == ticket.StatusOpen })},
		{"priority", "", ticket.PriorityNormal, where(func(t ticket.Ticket) bool { return t.Priority == ticket.PriorityNormal })},
		{"status and priority", ticket.StatusOpen, ticket.PriorityNormal, where(func(t ticket.Ticket) bool {
			return t.Status == ticket.StatusOpen && t.Priority == ticket.PriorityNormal
		})},
		{"no match", ticket.StatusClosed, ticket.PriorityUrgent, []ticket.Ticket{}},
	}
	for _, tt := range tests {
		for _, limit := range []int{1, 2, 3, 4, 7, ticket.MaxPageSize} {
			t.Run(tt.name+"/limit "+strconv.Itoa(limit), func(t *testing.T) {
				f := ticket.ListFilter{Status: tt.status, Priority: tt.priority}
				f.Limit = limit
				got := collect(t, limit, len(tt.want), func(after *ticket.Cursor) (ticket.Page[ticket.Ticket], error) {
					f.After = after
					return db.ListTickets(t.Context(), f)
				})
				if !reflect.DeepEqual(got, tt.want) {
					t.Errorf("got\n%v\nwant\n%v", titles(got), titles(tt.want))
				}
			})
		}
	}
}

func TestListComments(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ch := openTicket(t, base, "Printer on fire")
	persist(t, db, ch)
	other := openTicket(t, base, "Another")
	persist(t, db, other)
	persist(t, db, apply(t, other.Ticket, comment("Not on the first ticket", newID(t)), base, 2))

	tk := ch.Ticket
	var want []ticket.Comment
	for i := range 5 {
		// Comments 2 and 3 share a time, so that the ID breaks the tie.
		at := base.Add(time.Duration(min(i, 3)) * time.Second)
		next := apply(t, tk, comment("Comment "+strconv.Itoa(i), newID(t)), at, int64(i+2))
		persist(t, db, next)
		tk = next.Ticket
		want = append(want, *next.Comment)
	}
	slices.SortStableFunc(want, func(a, b ticket.Comment) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})

	for _, limit := range []int{1, 2, 5, ticket.MaxPageSize} {
		t.Run("limit "+strconv.Itoa(limit), func(t *testing.T) {
			got := collect(t, limit, len(want), func(after *ticket.Cursor) (ticket.Page[ticket.Comment], error) {
				return db.ListComments(t.Context(), ch.Ticket.ID, ticket.PageRequest{Limit: limit, After: after}, ticket.VisibilityInternal)
			})
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got\n%+v\nwant\n%+v", got, want)
			}
		})
	}
}

func TestListEvents(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	created := openTicket(t, base, "Printer on fire")
	changes := []ticket.Change{created}
	tk := created.Ticket
	for i, cmd := range []ticket.Command{
		{Action: ticket.ActionEscalate, Actor: "automation", Reason: "VIP"},
		{Action: ticket.ActionAnswer, Actor: "bob", Comment: "Unplug it", CommentID: newID(t)},
		{Action: ticket.ActionClose, Actor: "alice", Reason: "solved"},
	} {
		ch := apply(t, tk, cmd, base.Add(time.Duration(i+1)*time.Minute), lastSeq(changes)+1)
		changes = append(changes, ch)
		tk = ch.Ticket
	}
	for _, ch := range changes {
		persist(t, db, ch)
	}
	var want []ticket.Event
	for _, ch := range changes {
		want = append(want, ch.Events...)
	}

	for _, limit := range []int{1, 2, 5, ticket.MaxPageSize} {
		t.Run("limit "+strconv.Itoa(limit), func(t *testing.T) {
			got := collect(t, limit, len(want), func(after *ticket.Cursor) (ticket.Page[ticket.Event], error) {
				return db.ListEvents(t.Context(), created.Ticket.ID, ticket.PageRequest{Limit: limit, After: after}, ticket.VisibilityInternal)
			})
			equalEvents(t, got, want)
		})
	}
}

func TestListEmpty(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	first := ticket.PageRequest{Limit: 10}
	for _, id := range []string{newID(t), "not-a-uuid"} {
		for _, upTo := range []ticket.Visibility{ticket.VisibilityPublic, ticket.VisibilityInternal} {
			t.Run(id+"/"+string(upTo), func(t *testing.T) {
				comments, err := db.ListComments(t.Context(), id, first, upTo)
				if err != nil {
					t.Fatal(err)
				}
				events, err := db.ListEvents(t.Context(), id, first, upTo)
				if err != nil {
					t.Fatal(err)
				}
				tickets, err := db.ListTickets(t.Context(), ticket.ListFilter{PageRequest: first})
				if err != nil {
					t.Fatal(err)
				}
				// Empty, not nil: the API writes the items as [], never null.
				if comments.Items == nil || len(comments.Items) != 0 || comments.Next != nil ||
					events.Items == nil || len(events.Items) != 0 || events.Next != nil ||
					tickets.Items == nil || len(tickets.Items) != 0 || tickets.Next != nil {
					t.Errorf("empty listings %+v, %+v, %+v; want empty items and no next page", comments, events, tickets)
				}
			})
		}
	}
}

func TestListBadRequest(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	id := newID(t)
	tests := []struct {
		name string
		req  ticket.PageRequest
	}{
		{"limit 0", ticket.PageRequest{Limit: 0}},
		{"limit too big", ticket.PageRequest{Limit: ticket.MaxPageSize + 1}},
		{"cursor ID not a UUID", ticket.PageRequest{Limit: 1, After: &ticket.Cursor{At: base, ID: "x"}}},
		{"cursor of events", ticket.PageRequest{Limit: 1, After: &ticket.Cursor{Seq: 3}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errTickets := db.ListTickets(t.Context(), ticket.ListFilter{PageRequest: tt.req})
			_, errComments := db.ListComments(t.Context(), id, tt.req, ticket.VisibilityPublic)
			for _, err := range []error{errTickets, errComments} {
				if code := ticket.ErrorCode(err); code != ticket.EINVALID {
					t.Errorf("got error %v (code %q), want code %q", err, code, ticket.EINVALID)
				}
			}
		})
	}
}

// collect pages through a listing from the start, checking that every page but the last is full
// and has a cursor, and returns every item. It goes through the cursor's string form, as a
// client does.
func collect[T any](t *testing.T, limit, total int, list func(*ticket.Cursor) (ticket.Page[T], error)) []T {
	t.Helper()
	items := []T{}
	var after *ticket.Cursor
	for pages := 1; ; pages++ {
		page, err := list(after)
		if err != nil {
			t.Fatalf("page %d: %v", pages, err)
		}
		if page.Items == nil {
			t.Fatalf("page %d: items is nil, want a slice", pages)
		}
		items = append(items, page.Items...)
		if page.Next == nil {
			if wantPages := max(1, (total+limit-1)/limit); pages != wantPages {
				t.Errorf("got %d pages of at most %d items, want %d", pages, limit, wantPages)
			}
			return items
		}
		if len(page.Items) != limit {
			t.Fatalf("page %d has %d items and a next cursor, want %d items", pages, len(page.Items), limit)
		}
		if pages > total {
			t.Fatalf("more than %d pages for %d items", pages, total)
		}
		after = page.Next
	}
}

// openTicket returns the change that creates a ticket at time at, its events numbered from 1.
func openTicket(t *testing.T, at time.Time, title string) ticket.Change {
	t.Helper()
	ch, err := ticket.Open(newID(t), ticket.NewTicket{Title: title, Requester: "alice@example.com"}, "alice", at)
	if err != nil {
		t.Fatal(err)
	}
	return number(ch, 1)
}

// apply returns the change that cmd makes to tk at time at, its events numbered from seq, as the
// workflow numbers them.
func apply(t *testing.T, tk ticket.Ticket, cmd ticket.Command, at time.Time, seq int64) ticket.Change {
	t.Helper()
	ch, err := tk.Apply(cmd, at)
	if err != nil {
		t.Fatal(err)
	}
	return number(ch, seq)
}

func comment(body, id string) ticket.Command {
	return ticket.Command{Action: ticket.ActionComment, Actor: "alice", Comment: body, CommentID: id}
}

func number(ch ticket.Change, seq int64) ticket.Change {
	ch.Events = slices.Clone(ch.Events)
	for i := range ch.Events {
		ch.Events[i].Seq = seq + int64(i)
	}
	return ch
}

func lastSeq(changes []ticket.Change) int64 {
	var seq int64
	for _, ch := range changes {
		for _, e := range ch.Events {
			seq = max(seq, e.Seq)
		}
	}
	return seq
}

func persist(t *testing.T, db *postgres.DB, ch ticket.Change) {
	t.Helper()
	if err := db.Persist(t.Context(), ch); err != nil {
		t.Fatalf("persist version %d: %v", ch.Ticket.Version, err)
	}
}

// allComments and allEvents return everything stored of a ticket, internal notes included.
func allComments(t *testing.T, db *postgres.DB, id string) []ticket.Comment {
	t.Helper()
	page, err := db.ListComments(t.Context(), id, ticket.PageRequest{Limit: ticket.MaxPageSize}, ticket.VisibilityInternal)
	if err != nil {
		t.Fatal(err)
	}
	return page.Items
}

func allEvents(t *testing.T, db *postgres.DB, id string) []ticket.Event {
	t.Helper()
	page, err := db.ListEvents(t.Context(), id, ticket.PageRequest{Limit: ticket.MaxPageSize}, ticket.VisibilityInternal)
	if err != nil {
		t.Fatal(err)
	}
	return page.Items
}

// equalEvents compares events as a client sees them, in JSON: Data travels as JSON, so a number
// written as an int reads back as a float64, and that is no difference.
func equalEvents(t *testing.T, got, want []ticket.Event) {
	t.Helper()
	for _, e := range got {
		if e.Data == nil {
			t.Errorf("event %d has nil data, want a map", e.Seq)
		}
		if e.At.Location() != time.UTC {
			t.Errorf("event %d is at %v, want UTC", e.Seq, e.At)
		}
	}
	g, err := json.MarshalIndent(got, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	w, err := json.MarshalIndent(want, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if string(g) != string(w) {
		t.Errorf("events\n%s\nwant\n%s", g, w)
	}
}

func newID(t *testing.T) string {
	t.Helper()
	id, err := uuid.NewV7()
	if err != nil {
		t.Fatal(err)
	}
	return id.String()
}

func titles(ts []ticket.Ticket) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.Title
	}
	return out
}
