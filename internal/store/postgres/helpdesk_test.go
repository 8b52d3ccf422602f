package postgres_test

import (
	"context"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ticketflow/ticketflow/internal/store/postgres"
	"github.com/ticketflow/ticketflow/internal/store/postgres/pgtest"
	"github.com/ticketflow/ticketflow/internal/ticket"
	"github.com/ticketflow/ticketflow/migrations"
)

// TestPersistHelpdeskRoundTrip writes every field of the working surface, through each change
// that sets one, and reads the ticket back as it was written, alone and in a listing.
func TestPersistHelpdeskRoundTrip(t *testing.T) {
	t.Parallel()
	dsn := pgtest.DSN(t)
	db, conn := open(t, dsn), connect(t, dsn)
	s, created := start(t, base, ticket.NewTicket{Title: "Invoice wrong", Requester: "carol@example.com",
		Group: "billing", Assignee: "bob", Tags: []string{"vip", "Invoice", "vip"}})
	if !slices.Equal(created.Ticket.Tags, []string{"invoice", "vip"}) {
		t.Fatalf("the domain made tags %q of the new ticket; the test wants them normalized", created.Ticket.Tags)
	}
	at := base
	next := func(cmd ticket.Command) ticket.Change {
		at = at.Add(time.Minute)
		return change(t, s, cmd, at)
	}
	nobody := ""
	steps := []struct {
		name string
		ch   ticket.Change
		// What the row holds: assignee NULL for nobody, tags an array, never NULL.
		assignee *string
		tags     []string
	}{
		{"created", created, ptr("bob"), []string{"invoice", "vip"}},
		{"internal note", next(ticket.Command{Action: ticket.ActionComment, Actor: "bob", Comment: "Check the ledger",
			CommentID: newID(t), Visibility: ticket.VisibilityInternal}), ptr("bob"), []string{"invoice", "vip"}},
		{"answered", next(ticket.Command{Action: ticket.ActionAnswer, Actor: "bob", Comment: "Fixed",
			CommentID: newID(t)}), ptr("bob"), []string{"invoice", "vip"}},
		{"retagged", next(ticket.Command{Action: ticket.ActionTags, Actor: "bob", AddTags: []string{"refund"},
			RemoveTags: []string{"invoice"}}), ptr("bob"), []string{"refund", "vip"}},
		{"unassigned and regrouped", next(ticket.Command{Action: ticket.ActionAssign, Actor: "bob", Assignee: &nobody,
			Group: "finance"}), nil, []string{"refund", "vip"}},
		{"every tag removed", next(ticket.Command{Action: ticket.ActionTags, Actor: "bob",
			RemoveTags: []string{"refund", "vip"}}), nil, []string{}},
	}
	var comments []ticket.Comment
	for _, step := range steps {
		persist(t, db, step.ch)
		want := step.ch.Ticket
		if len(want.Tags) == 0 {
			// No tags read back as nil, the domain's none; removing the last tag leaves the
			// workflow's ticket an empty slice, which is no other value.
			want.Tags = nil
		}
		requireStored(t, db, conn, step.name, want)

		var assignee *string
		var tags []string
		if err := conn.QueryRow(t.Context(), `SELECT assignee, tags FROM tickets WHERE id = $1`, want.ID).
			Scan(&assignee, &tags); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(assignee, step.assignee) || !reflect.DeepEqual(tags, step.tags) {
			t.Errorf("%s: the row holds assignee %v, tags %#v; want %v, %#v", step.name, deref(assignee), tags,
				deref(step.assignee), step.tags)
		}
		if c := step.ch.Comment; c != nil {
			comments = append(comments, *c)
		}
	}

	last := steps[len(steps)-1].ch.Ticket
	if last.InternalNotesCount != 1 || last.CommentsCount != 1 || last.FirstRespondedAt == nil || last.Group != "finance" {
		t.Fatalf("the domain's ticket is %+v; the test wants one note, one comment, a first response, group finance", last)
	}
	if got := allComments(t, db, last.ID); !reflect.DeepEqual(got, comments) {
		t.Errorf("comments\n%+v\nwant\n%+v", got, comments)
	}
	if comments[0].Visibility != ticket.VisibilityInternal || comments[1].Visibility != ticket.VisibilityPublic {
		t.Errorf("visibilities %q, %q; want internal, public", comments[0].Visibility, comments[1].Visibility)
	}
}

// TestPersistHelpdeskNewerWins writes a ticket's changes out of order: the row keeps the newest
// of each field, whatever came last.
func TestPersistHelpdeskNewerWins(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	s, v1 := start(t, base, ticket.NewTicket{Title: "Printer on fire", Requester: "alice@example.com"})
	bob := "bob"
	v2 := change(t, s, ticket.Command{Action: ticket.ActionAssign, Actor: "lead", Assignee: &bob, Group: "hardware"}, base.Add(time.Minute))
	v3 := change(t, s, ticket.Command{Action: ticket.ActionTags, Actor: "bob", AddTags: []string{"fire", "printer"}}, base.Add(2*time.Minute))
	v4 := change(t, s, ticket.Command{Action: ticket.ActionComment, Actor: "bob", Comment: "Call facilities",
		CommentID: newID(t), Visibility: ticket.VisibilityInternal}, base.Add(3*time.Minute))
	v5 := change(t, s, ticket.Command{Action: ticket.ActionAnswer, Actor: "bob"}, base.Add(4*time.Minute))
	for _, ch := range []ticket.Change{v1, v5, v3, v2, v4, v1} {
		persist(t, db, ch)
	}
	got, err := db.Ticket(t.Context(), v1.Ticket.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, v5.Ticket) {
		t.Errorf("read back\n%+v\nwant the newest\n%+v", got, v5.Ticket)
	}
	if got := allComments(t, db, v1.Ticket.ID); len(got) != 1 || got[0] != *v4.Comment {
		t.Errorf("comments %+v, want the late note %+v", got, *v4.Comment)
	}
}

// TestPersistHelpdeskLaterAttemptWins: at an equal version, the later stamp replaces every new
// field too, the assignee back to nobody included.
func TestPersistHelpdeskLaterAttemptWins(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	created := openTicket(t, base, "Printer on fire")
	persist(t, db, created)
	carol := "carol"
	lost := apply(t, created.Ticket, ticket.Command{Action: ticket.ActionAssign, Actor: "lead", Assignee: &carol,
		Group: "hardware"}, base.Add(time.Minute), 2)
	retried := apply(t, created.Ticket, ticket.Command{Action: ticket.ActionTags, Actor: "lead",
		AddTags: []string{"printer"}}, base.Add(time.Minute+time.Second), 2)
	for _, ch := range []ticket.Change{lost, retried, lost} {
		persist(t, db, ch)
	}
	got, err := db.Ticket(t.Context(), created.Ticket.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, retried.Ticket) {
		t.Errorf("read back\n%+v\nwant the retry's\n%+v", got, retried.Ticket)
	}
}

// TestListTicketsHelpdeskFilters lists by each new filter alone and with others, in every order and
// every page size.
func TestListTicketsHelpdeskFilters(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	specs := []struct {
		assignee, group string
		tags            []string
		status          ticket.Status
		minute          int // tickets 5 and 6 share a creation time, so that the ID breaks the tie
	}{
		{"bob", "support", []string{"vip"}, ticket.StatusOpen, 0},
		{"", "support", nil, ticket.StatusOpen, 1},
		{"bob", "billing", []string{"invoice", "vip"}, ticket.StatusAnswered, 2},
		{"carol", "billing", []string{"invoice"}, ticket.StatusOpen, 3},
		{"", "billing", []string{"invoice", "vip"}, ticket.StatusOpen, 4},
		{"carol", "support", []string{"vip"}, ticket.StatusAnswered, 5},
		{"bob", "support", []string{"invoice", "refund", "vip"}, ticket.StatusOpen, 5},
		{"", "support", []string{"refund"}, ticket.StatusOpen, 6},
	}
	var all []ticket.Ticket
	for i, s := range specs {
		ch := openTicket(t, base.Add(time.Duration(s.minute)*time.Minute), "Ticket "+string(rune('A'+i)))
		tk := &ch.Ticket
		tk.Assignee, tk.Group, tk.Tags, tk.Status = s.assignee, s.group, s.tags, s.status
		persist(t, db, ch)
		all = append(all, *tk)
	}

	requireFilters(t, db, all, []filterCase{
		{"all", ticket.ListFilter{}, 8},
		{"assignee", ticket.ListFilter{Assignee: "bob"}, 3},
		{"unassigned", ticket.ListFilter{Unassigned: true}, 3},
		{"group", ticket.ListFilter{Group: "billing"}, 3},
		{"one tag", ticket.ListFilter{Tags: []string{"vip"}}, 5},
		{"two tags", ticket.ListFilter{Tags: []string{"invoice", "vip"}}, 3},
		{"three tags", ticket.ListFilter{Tags: []string{"invoice", "refund", "vip"}}, 1},
		{"a tag nobody has", ticket.ListFilter{Tags: []string{"urgent"}}, 0},
		{"assignee and group", ticket.ListFilter{Assignee: "bob", Group: "support"}, 2},
		{"assignee and tag", ticket.ListFilter{Assignee: "carol", Tags: []string{"vip"}}, 1},
		{"unassigned and group", ticket.ListFilter{Unassigned: true, Group: "support"}, 2},
		{"unassigned, group and two tags", ticket.ListFilter{Unassigned: true, Group: "billing", Tags: []string{"invoice", "vip"}}, 1},
		{"group, tag and status", ticket.ListFilter{Group: "support", Tags: []string{"vip"}, Status: ticket.StatusOpen}, 2},
		{"assignee and unassigned", ticket.ListFilter{Assignee: "bob", Unassigned: true}, 0},
		{"requester and assignee", ticket.ListFilter{Requester: "alice@example.com", Assignee: "carol"}, 2},
		{"another requester", ticket.ListFilter{Requester: "mallory@example.com", Assignee: "carol"}, 0},
	})
}

// matches is the listing's filter as a model: every condition it sets holds, the breached one at
// the time of the call (the listing's now()), which the tests keep an hour from every due time.
func matches(f ticket.ListFilter, t ticket.Ticket) bool {
	hasAll := true
	for _, tag := range f.Tags {
		hasAll = hasAll && slices.Contains(t.Tags, tag)
	}
	pastDue := t.Status == ticket.StatusOpen && t.FirstResponseDueAt != nil && t.FirstResponseDueAt.Before(time.Now())
	return (f.Status == "" || t.Status == f.Status) && (f.Priority == "" || t.Priority == f.Priority) &&
		(f.Requester == "" || t.Requester == f.Requester) && (f.Assignee == "" || t.Assignee == f.Assignee) &&
		(!f.Unassigned || t.Assignee == "") && (f.Group == "" || t.Group == f.Group) && hasAll &&
		(f.Escalated == nil || *f.Escalated == (t.EscalationLevel > 0)) &&
		(!f.Breached || pastDue || t.SLABreachedAt != nil) &&
		(f.CreatedAfter.IsZero() || t.CreatedAt.After(f.CreatedAfter)) &&
		(f.CreatedBefore.IsZero() || t.CreatedAt.Before(f.CreatedBefore)) &&
		(f.UpdatedAfter.IsZero() || t.UpdatedAt.After(f.UpdatedAfter))
}

// TestListTicketsFiltersUseIndexes asks PostgreSQL how it would list a table of many tickets by
// each new filter: through the filter's index, and for the B-tree ones in the index's order, so
// that a page is one range scan that stops after limit+1 rows, on the first page as on a later one.
func TestListTicketsFiltersUseIndexes(t *testing.T) {
	t.Parallel()
	dsn := pgtest.DSN(t)
	conn := connect(t, dsn)
	// 20,000 tickets: 5% unassigned, the rest spread over 19 agents, 17 groups; one in 500 has the
	// tag rare (half of those vip too), half have common.
	execAll(t, conn, `
INSERT INTO tickets (id, title, status, priority, version, created_at, updated_at, group_name, assignee, tags)
SELECT gen_random_uuid(), 'Ticket ' || i, 'open', 'normal', 1, at, at,
	'group' || i % 17,
	CASE WHEN i % 20 <> 0 THEN 'agent' || i % 19 END,
	CASE WHEN i % 1000 = 0 THEN '{rare,vip}'::text[]
	     WHEN i % 1000 = 1 THEN '{rare}'::text[]
	     WHEN i % 2 = 0 THEN '{common}'::text[]
	     ELSE '{}'::text[] END
FROM generate_series(1, 20000) AS i, LATERAL (SELECT timestamptz '2026-01-01' + i * interval '1 minute') AS t(at)`,
		`ANALYZE tickets`)
	later := ticket.PageRequest{After: &ticket.Cursor{At: time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC), ID: newID(t)}}
	tests := []struct {
		name    string
		f       ticket.ListFilter
		index   string
		ordered bool // the index gives the listing's order: no sort
	}{
		{"assignee", ticket.ListFilter{Assignee: "agent3"}, "tickets_assignee_created_idx", true},
		{"assignee, a later page", ticket.ListFilter{Assignee: "agent3", PageRequest: later}, "tickets_assignee_created_idx", true},
		{"unassigned", ticket.ListFilter{Unassigned: true}, "tickets_unassigned_created_idx", true},
		{"unassigned, a later page", ticket.ListFilter{Unassigned: true, PageRequest: later}, "tickets_unassigned_created_idx", true},
		{"group", ticket.ListFilter{Group: "group7"}, "tickets_group_created_idx", true},
		{"group, a later page", ticket.ListFilter{Group: "group7", PageRequest: later}, "tickets_group_created_idx", true},
		{"one tag", ticket.ListFilter{Tags: []string{"rare"}}, "tickets_tags_idx", false},
		{"two tags", ticket.ListFilter{Tags: []string{"rare", "vip"}}, "tickets_tags_idx", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { requirePlan(t, conn, tt.f, tt.ordered, tt.index) })
	}
}

// requirePlan asks PostgreSQL how it would list a page of DefaultPageSize tickets by f: through
// every one of the indexes, and, if ordered, in their order, with no sort.
func requirePlan(t *testing.T, conn *pgx.Conn, f ticket.ListFilter, ordered bool, indexes ...string) {
	t.Helper()
	f.Limit = ticket.DefaultPageSize
	sql, args := postgres.ListTicketsQuery(f)
	rows, _ := conn.Query(t.Context(), "EXPLAIN "+sql, args...)
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	plan := strings.Join(lines, "\n")
	for _, index := range indexes {
		if !strings.Contains(plan, index) {
			t.Errorf("the plan does not use %s:\n%s", index, plan)
		}
	}
	if ordered && strings.Contains(plan, "Sort") {
		t.Errorf("the plan sorts, where %s gives the order:\n%s", indexes, plan)
	}
}

// execAll runs the statements one after the other on conn.
func execAll(t *testing.T, conn *pgx.Conn, statements ...string) {
	t.Helper()
	for _, sql := range statements {
		if _, err := conn.Exec(t.Context(), sql); err != nil {
			t.Fatal(err)
		}
	}
}

// TestListCommentsVisibility lists a ticket's comments as an agent (internal) and as a customer
// (public): the customer's listing never holds an internal note, and its pages are whole however
// the notes fall between them.
func TestListCommentsVisibility(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	changes, id := conversation(t)
	for _, ch := range changes {
		persist(t, db, ch)
	}
	var everything []ticket.Comment
	for _, ch := range changes {
		if ch.Comment != nil {
			everything = append(everything, *ch.Comment)
		}
	}
	slices.SortStableFunc(everything, func(a, b ticket.Comment) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	public := slices.DeleteFunc(slices.Clone(everything), func(c ticket.Comment) bool {
		return c.Visibility != ticket.VisibilityPublic
	})
	if len(everything) != 8 || len(public) != 3 {
		t.Fatalf("the conversation has %d comments, %d public; the test wants 8 and 3", len(everything), len(public))
	}

	for _, tt := range []struct {
		upTo ticket.Visibility
		want []ticket.Comment
	}{{ticket.VisibilityInternal, everything}, {ticket.VisibilityPublic, public}} {
		for _, limit := range []int{1, 2, 3, ticket.MaxPageSize} {
			t.Run(string(tt.upTo)+"/limit "+strconv.Itoa(limit), func(t *testing.T) {
				got := collect(t, limit, len(tt.want), func(after *ticket.Cursor) (ticket.Page[ticket.Comment], error) {
					return db.ListComments(t.Context(), id, ticket.PageRequest{Limit: limit, After: after}, tt.upTo)
				})
				if !reflect.DeepEqual(got, tt.want) {
					t.Errorf("got\n%+v\nwant\n%+v", got, tt.want)
				}
				for _, c := range got {
					if tt.upTo == ticket.VisibilityPublic && c.Visibility != ticket.VisibilityPublic {
						t.Errorf("the public listing holds the internal note %q", c.Body)
					}
				}
			})
		}
	}
}

// TestListEventsVisibility lists a ticket's audit trail as an agent and as a customer: the
// customer's leaves out the events of internal notes, keeps the trail's order and seq, and pages
// through it by seq.
func TestListEventsVisibility(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	changes, id := conversation(t)
	for _, ch := range changes {
		persist(t, db, ch)
	}
	var everything, public []ticket.Event
	for _, ch := range changes {
		for _, e := range ch.Events {
			everything = append(everything, e)
			if e.Data["visibility"] != "internal" {
				public = append(public, e)
			}
		}
	}
	if len(everything) != 12 || len(public) != 7 {
		t.Fatalf("the trail has %d events, %d public; the test wants 12 and 7", len(everything), len(public))
	}
	if last := everything[len(everything)-1]; last.Data["visibility"] != "internal" {
		t.Fatalf("the trail ends with %+v; the test wants it to end with an internal note", last)
	}

	for _, tt := range []struct {
		upTo ticket.Visibility
		want []ticket.Event
	}{{ticket.VisibilityInternal, everything}, {ticket.VisibilityPublic, public}} {
		for _, limit := range []int{1, 2, 4, ticket.MaxPageSize} {
			t.Run(string(tt.upTo)+"/limit "+strconv.Itoa(limit), func(t *testing.T) {
				got := collect(t, limit, len(tt.want), func(after *ticket.Cursor) (ticket.Page[ticket.Event], error) {
					return db.ListEvents(t.Context(), id, ticket.PageRequest{Limit: limit, After: after}, tt.upTo)
				})
				equalEvents(t, got, tt.want)
				for i, e := range got {
					if tt.upTo == ticket.VisibilityPublic && e.Data["visibility"] != nil {
						t.Errorf("the public listing holds event %d, %+v", e.Seq, e)
					}
					if i > 0 && e.Seq <= got[i-1].Seq {
						t.Errorf("event %d follows event %d", e.Seq, got[i-1].Seq)
					}
				}
			})
		}
	}
}

// TestListVisibilityUnknown: a listing that is not told what its reader may see refuses to guess.
func TestListVisibilityUnknown(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	changes, id := conversation(t)
	for _, ch := range changes {
		persist(t, db, ch)
	}
	for _, upTo := range []ticket.Visibility{"", "secret", "Public"} {
		_, errComments := db.ListComments(t.Context(), id, ticket.PageRequest{Limit: 10}, upTo)
		_, errEvents := db.ListEvents(t.Context(), id, ticket.PageRequest{Limit: 10}, upTo)
		for _, err := range []error{errComments, errEvents} {
			if code := ticket.ErrorCode(err); code != ticket.EINVALID {
				t.Errorf("visibility %q: got error %v (code %q), want code %q", upTo, err, code, ticket.EINVALID)
			}
		}
	}
}

// conversation returns the changes of a ticket with public comments and internal notes, some of
// them at the same time, and the ticket's ID. Its trail ends with an internal note.
func conversation(t *testing.T) ([]ticket.Change, string) {
	t.Helper()
	s, created := start(t, base, ticket.NewTicket{Title: "Printer on fire", Requester: "alice@example.com"})
	changes := []ticket.Change{created}
	note := func(body string) ticket.Command {
		return ticket.Command{Action: ticket.ActionComment, Actor: "bob", Comment: body, CommentID: newID(t),
			Visibility: ticket.VisibilityInternal}
	}
	bob := "bob"
	for _, step := range []struct {
		cmd ticket.Command
		sec int // notes 2 and 3 and comment 4 share a time, so that the ID breaks the tie
	}{
		{comment("It smokes", newID(t)), 1},
		{note("Customer sounds calm"), 2},
		{note("Facilities informed"), 3},
		{note("Second printer this week"), 3},
		{comment("Still smoking", newID(t)), 3},
		{ticket.Command{Action: ticket.ActionEscalate, Actor: "automation", Reason: "fire"}, 4},
		{note("Escalated to the lead"), 5},
		{ticket.Command{Action: ticket.ActionAnswer, Actor: "bob", Comment: "Unplug it", CommentID: newID(t)}, 6},
		{ticket.Command{Action: ticket.ActionAssign, Actor: "lead", Assignee: &bob}, 7},
		{note("Waiting for the reply"), 8},
	} {
		changes = append(changes, change(t, s, step.cmd, base.Add(time.Duration(step.sec)*time.Second)))
	}
	return changes, created.Ticket.ID
}

// TestAppliedChangeHelpdesk: the change a request made, as a retry reads it back, carries the
// ticket's new fields and the comment's visibility.
func TestAppliedChangeHelpdesk(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	s, created := start(t, base, ticket.NewTicket{Title: "Invoice wrong", Requester: "carol@example.com",
		Group: "billing", Assignee: "bob", Tags: []string{"invoice"}})
	persist(t, db, created)
	noted := change(t, s, ticket.Command{Action: ticket.ActionComment, Actor: "bob", Comment: "Check the ledger",
		CommentID: newID(t), Visibility: ticket.VisibilityInternal, RequestID: "req-1"}, base.Add(time.Minute))
	persist(t, db, noted)

	got, ok, err := db.AppliedChange(t.Context(), created.Ticket.ID, "req-1")
	if err != nil || !ok {
		t.Fatalf("AppliedChange: %v, %v; want the change", ok, err)
	}
	if !reflect.DeepEqual(got.Ticket, noted.Ticket) {
		t.Errorf("ticket\n%+v\nwant\n%+v", got.Ticket, noted.Ticket)
	}
	if got.Comment == nil || *got.Comment != *noted.Comment {
		t.Errorf("comment %+v, want %+v", got.Comment, *noted.Comment)
	}
}

// TestMigrateHelpdesk migrates a database holding tickets of the schema before 000005_helpdesk:
// they read the defaults; the migration runs again harmlessly; down removes what it added and
// keeps the rows, and refuses while there is an internal note that would turn public.
func TestMigrateHelpdesk(t *testing.T) {
	t.Parallel()
	dsn := pgtest.DSN(t)
	if err := postgres.MigrateTo(dsn, 4); err != nil {
		t.Fatalf("down to 4: %v", err)
	}
	conn := connect(t, dsn)
	requireSchema(t, conn, false)

	// A ticket, a comment and its event as the schema before wrote them.
	id, commentID := newID(t), newID(t)
	at := ticket.Timestamp(base)
	for _, stmt := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO tickets (id, title, status, priority, requester, comments_count, version, created_at, updated_at)
			VALUES ($1, 'Old', 'answered', 'normal', 'dave@example.com', 1, 3, $2, $2)`, []any{id, at}},
		{`INSERT INTO comments (id, ticket_id, body, author, created_at) VALUES ($1, $2, 'Hello', 'dave', $3)`,
			[]any{commentID, id, at}},
		{`INSERT INTO ticket_events (ticket_id, seq, type, to_status, actor, data, at)
			VALUES ($1, 1, 'created', 'open', 'dave', '{}', $2),
			       ($1, 2, 'commented', NULL, 'dave', jsonb_build_object('comment_id', $3::text), $2)`,
			[]any{id, at, commentID}},
	} {
		if _, err := conn.Exec(t.Context(), stmt.sql, stmt.args...); err != nil {
			t.Fatal(err)
		}
	}
	old := ticket.Ticket{ID: id, Title: "Old", Status: ticket.StatusAnswered, Priority: ticket.PriorityNormal,
		Requester: "dave@example.com", CommentsCount: 1, Version: 3, CreatedAt: at, UpdatedAt: at,
		Group: ticket.DefaultGroup}
	oldComment := ticket.Comment{ID: commentID, TicketID: id, Body: "Hello", Author: "dave", CreatedAt: at,
		Visibility: ticket.VisibilityPublic}
	readsDefaults := func(t *testing.T) {
		t.Helper()
		db := open(t, dsn)
		got, err := db.Ticket(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, old) {
			t.Errorf("the old ticket reads\n%+v\nwant\n%+v", got, old)
		}
		comments, err := db.ListComments(t.Context(), id, ticket.PageRequest{Limit: 10}, ticket.VisibilityPublic)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(comments.Items, []ticket.Comment{oldComment}) {
			t.Errorf("its public comments are %+v, want %+v", comments.Items, oldComment)
		}
		events, err := db.ListEvents(t.Context(), id, ticket.PageRequest{Limit: 10}, ticket.VisibilityPublic)
		if err != nil {
			t.Fatal(err)
		}
		if len(events.Items) != 2 {
			t.Errorf("its public events are %+v, want both", events.Items)
		}
	}

	if err := postgres.Migrate(dsn); err != nil {
		t.Fatalf("up: %v", err)
	}
	requireSchema(t, conn, true)
	readsDefaults(t)

	runAgain(t, conn, "000005_helpdesk.up.sql")
	requireSchema(t, conn, true)
	readsDefaults(t)

	if err := postgres.MigrateTo(dsn, 4); err != nil {
		t.Fatalf("down to 4 again: %v", err)
	}
	requireSchema(t, conn, false)
	var title string
	if err := conn.QueryRow(t.Context(), `SELECT title FROM tickets WHERE id = $1`, id).Scan(&title); err != nil || title != "Old" {
		t.Errorf("after down, the old ticket's title is %q (%v); want it kept", title, err)
	}
	if err := postgres.Migrate(dsn); err != nil {
		t.Fatalf("up again: %v", err)
	}
	requireSchema(t, conn, true)
	readsDefaults(t)

	// An internal note: down must not make it a public comment.
	tk := old
	noted, err := tk.Apply(ticket.Command{Action: ticket.ActionComment, Actor: "bob", Comment: "Dave again",
		CommentID: newID(t), Visibility: ticket.VisibilityInternal}, base.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	persist(t, open(t, dsn), number(noted, 3))
	err = postgres.MigrateTo(dsn, 4)
	if err == nil || !strings.Contains(err.Error(), "internal notes exist") {
		t.Errorf("down with an internal note: got error %v, want a refusal", err)
	}
	requireSchema(t, conn, true)
}

// runAgain runs the migration file on conn once more: each of its steps may run again, as the
// migrations promise for a failed one.
func runAgain(t *testing.T, conn *pgx.Conn, file string) {
	t.Helper()
	sql, err := migrations.FS.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(t.Context(), string(sql)); err != nil {
		t.Fatalf("%s again: %v", file, err)
	}
}

// requireSchema checks that what 000005_helpdesk adds is all there, its constraints validated and
// its indexes valid, or that none of it is.
func requireSchema(t *testing.T, conn *pgx.Conn, want bool) {
	t.Helper()
	requireObjects(t, conn, "000005_helpdesk", want, schemaObjects{
		columns: []string{"tickets.group_name", "tickets.assignee", "tickets.tags", "tickets.internal_notes_count",
			"tickets.first_responded_at", "comments.visibility"},
		constraints: []string{"tickets_group_name_check", "tickets_assignee_check", "tickets_tags_check",
			"tickets_internal_notes_count_check", "comments_visibility_check"},
		indexes: []string{"tickets_assignee_created_idx", "tickets_unassigned_created_idx", "tickets_group_created_idx",
			"tickets_tags_idx"},
	})
}

// schemaObjects are what a migration adds: columns as table.column, constraints and indexes.
type schemaObjects struct {
	columns, constraints, indexes []string
}

// requireObjects checks that the objects of the migration are all there, the constraints
// validated and the indexes valid, or (want false) that none of them is; and that no constraint
// of the database is left unvalidated.
func requireObjects(t *testing.T, conn *pgx.Conn, migration string, want bool, o schemaObjects) {
	t.Helper()
	var nColumns, nConstraints, nIndexes int
	err := conn.QueryRow(t.Context(), `
SELECT
	(SELECT count(*) FROM information_schema.columns
	 WHERE table_schema = current_schema() AND table_name || '.' || column_name = ANY($1)),
	(SELECT count(*) FROM pg_constraint WHERE conname = ANY($2) AND convalidated),
	(SELECT count(*) FROM pg_index JOIN pg_class ON pg_class.oid = indexrelid
	 WHERE relname = ANY($3) AND indisvalid)`, o.columns, o.constraints, o.indexes).Scan(&nColumns, &nConstraints, &nIndexes)
	if err != nil {
		t.Fatal(err)
	}
	wantColumns, wantConstraints, wantIndexes := 0, 0, 0
	if want {
		wantColumns, wantConstraints, wantIndexes = len(o.columns), len(o.constraints), len(o.indexes)
	}
	if nColumns != wantColumns || nConstraints != wantConstraints || nIndexes != wantIndexes {
		t.Errorf("%d columns, %d validated constraints, %d valid indexes of %s; want %d, %d, %d",
			nColumns, nConstraints, nIndexes, migration, wantColumns, wantConstraints, wantIndexes)
	}
	var notValidated int
	if err := conn.QueryRow(t.Context(), `SELECT count(*) FROM pg_constraint WHERE NOT convalidated`).Scan(&notValidated); err != nil {
		t.Fatal(err)
	}
	if notValidated != 0 {
		t.Errorf("%d constraints are not validated", notValidated)
	}
}

// start opens a ticket at time at as its workflow does, with no timers, and returns the
// workflow's state.
func start(t *testing.T, at time.Time, n ticket.NewTicket) (*ticket.State, ticket.Change) {
	t.Helper()
	return startWith(t, ticket.Policy{}, at, n)
}

// startWith opens a ticket as start does, with the timers of p.
func startWith(t *testing.T, p ticket.Policy, at time.Time, n ticket.NewTicket) (*ticket.State, ticket.Change) {
	t.Helper()
	s, ch, err := ticket.Start(newID(t), n, "alice", p, at)
	if err != nil {
		t.Fatal(err)
	}
	return &s, ch
}

// change applies cmd to the state at time at as the workflow does, its events numbered.
func change(t *testing.T, s *ticket.State, cmd ticket.Command, at time.Time) ticket.Change {
	t.Helper()
	ch, err := s.Apply(cmd, at)
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

// open returns a store on the database at dsn, closed when the test ends.
func open(t *testing.T, dsn string) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	return db
}

// connect returns a connection of its own to the database at dsn, closed when the test ends.
func connect(t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func ptr[T any](v T) *T { return &v }

// deref returns what p points to, or nil, for messages.
func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}
