package postgres_test

import (
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
)

// slaPolicy escalates an open ticket of normal priority an hour after its creation and again an
// hour later, no more, and closes an answered or awaiting one after a day without a change. Other
// priorities have no SLA.
var slaPolicy = ticket.Policy{
	FirstResponseSLA:  map[ticket.Priority]time.Duration{ticket.PriorityNormal: time.Hour},
	MaxSLAEscalations: 2,
	AutoCloseAfter:    24 * time.Hour,
}

// sorts are every order of the listing of tickets, the default ("") included.
var sorts = []ticket.Sort{"", ticket.SortNewest, ticket.SortOldest, ticket.SortRecentUpdates, ticket.SortOldUpdates}

// TestPersistSLARoundTrip follows a ticket through its timers as the workflow stamps them: the
// first-response SLA escalates it twice, it is answered, and it closes by itself. Each change
// reads back as it was written, alone and in a listing, and the row holds its times.
func TestPersistSLARoundTrip(t *testing.T) {
	t.Parallel()
	dsn := pgtest.DSN(t)
	db, conn := open(t, dsn), connect(t, dsn)
	s, created := startWith(t, slaPolicy, base, ticket.NewTicket{Title: "Printer on fire", Requester: "alice@example.com"})
	fire := func(after time.Duration) ticket.Change {
		t.Helper()
		ch, ok := s.Fire(base.Add(after))
		if !ok {
			t.Fatalf("no timer fell due %v after the creation", after)
		}
		return ch
	}
	at := func(after time.Duration) *time.Time { return ptr(ticket.Timestamp(base.Add(after))) }
	steps := []struct {
		name                     string
		ch                       ticket.Change
		due, autoClose, breached *time.Time // what the domain stamped, to hold the test to it
	}{
		{"created", created, at(time.Hour), nil, nil},
		{"escalated by the SLA", fire(time.Hour), at(2 * time.Hour), nil, at(time.Hour)},
		{"escalated by the SLA the last time", fire(2 * time.Hour), nil, nil, at(time.Hour)},
		{"answered", change(t, s, ticket.Command{Action: ticket.ActionAnswer, Actor: "bob", Comment: "Unplug it",
			CommentID: newID(t)}, base.Add(3*time.Hour)), nil, at(27 * time.Hour), at(time.Hour)},
		{"commented", change(t, s, comment("Still smoking", newID(t)), base.Add(4*time.Hour)), nil, at(28 * time.Hour), at(time.Hour)},
		{"closed by itself", fire(28 * time.Hour), nil, nil, at(time.Hour)},
	}
	for _, step := range steps {
		want := step.ch.Ticket
		if !sameTimes(want, step.due, step.autoClose, step.breached) {
			t.Fatalf("%s: the domain stamped due %v, auto-close %v, breached %v; the test wants %v, %v, %v", step.name,
				deref(want.FirstResponseDueAt), deref(want.AutoCloseAt), deref(want.SLABreachedAt),
				deref(step.due), deref(step.autoClose), deref(step.breached))
		}
		persist(t, db, step.ch)
		requireStored(t, db, conn, step.name, want)
	}

	// Written again from the newest back, the row keeps the newest: a late write of an older
	// version neither brings back a due time nor clears when the SLA was breached.
	last := steps[len(steps)-1].ch
	for i := range steps {
		persist(t, db, steps[len(steps)-1-i].ch)
	}
	requireStored(t, db, conn, "written again", last.Ticket)
}

// TestPersistSLALaterAttemptWins: at an equal version the later stamp replaces the three times
// too, back to NULL included. The lost workflow task fired the SLA; its retry applied an answer
// that came in meanwhile, which stopped the SLA's timer before it fired.
func TestPersistSLALaterAttemptWins(t *testing.T) {
	t.Parallel()
	dsn := pgtest.DSN(t)
	db, conn := open(t, dsn), connect(t, dsn)
	id, n := newID(t), ticket.NewTicket{Title: "Printer on fire", Requester: "alice@example.com"}
	lostState, created, err := ticket.Start(id, n, "alice", slaPolicy, base)
	if err != nil {
		t.Fatal(err)
	}
	retryState, _, err := ticket.Start(id, n, "alice", slaPolicy, base)
	if err != nil {
		t.Fatal(err)
	}
	lost, ok := lostState.Fire(base.Add(time.Hour))
	if !ok || lost.Ticket.SLABreachedAt == nil || lost.Ticket.FirstResponseDueAt == nil {
		t.Fatalf("the SLA fired %v, to %+v; the test wants an escalation with a next due time", ok, lost.Ticket)
	}
	retried := change(t, &retryState, ticket.Command{Action: ticket.ActionAnswer, Actor: "bob"}, base.Add(time.Hour+time.Second))
	if retried.Ticket.Version != lost.Ticket.Version || retried.Ticket.AutoCloseAt == nil {
		t.Fatalf("the retry made %+v; the test wants the lost version, with an auto-close", retried.Ticket)
	}
	for _, ch := range []ticket.Change{created, lost, retried, lost} {
		persist(t, db, ch)
	}
	requireStored(t, db, conn, "the retry", retried.Ticket)
}

// requireStored checks that the ticket reads back as want, alone and in a listing, and that its row
// holds want's timer times; what names the write in the messages.
func requireStored(t *testing.T, db *postgres.DB, conn *pgx.Conn, what string, want ticket.Ticket) {
	t.Helper()
	got, err := db.Ticket(t.Context(), want.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s: read back\n%+v\nwant\n%+v", what, got, want)
	}
	page, err := db.ListTickets(t.Context(), ticket.ListFilter{PageRequest: ticket.PageRequest{Limit: ticket.MaxPageSize}})
	if err != nil {
		t.Fatal(err)
	}
	if i := slices.IndexFunc(page.Items, func(l ticket.Ticket) bool { return l.ID == want.ID }); i < 0 || !reflect.DeepEqual(page.Items[i], want) {
		t.Errorf("%s: listed\n%+v\nwant it with\n%+v", what, page.Items, want)
	}
	var row ticket.Ticket
	if err := conn.QueryRow(t.Context(), `SELECT first_response_due_at, auto_close_at, sla_breached_at FROM tickets WHERE id = $1`,
		want.ID).Scan(&row.FirstResponseDueAt, &row.AutoCloseAt, &row.SLABreachedAt); err != nil {
		t.Fatal(err)
	}
	if !sameTimes(row, want.FirstResponseDueAt, want.AutoCloseAt, want.SLABreachedAt) {
		t.Errorf("%s: the row holds due %v, auto-close %v, breached %v; want %v, %v, %v", what,
			deref(row.FirstResponseDueAt), deref(row.AutoCloseAt), deref(row.SLABreachedAt),
			deref(want.FirstResponseDueAt), deref(want.AutoCloseAt), deref(want.SLABreachedAt))
	}
}

// sameTimes reports whether tk's due, auto-close and breached times are the instants given, or nil
// where they are nil.
func sameTimes(tk ticket.Ticket, due, autoClose, breached *time.Time) bool {
	same := func(a, b *time.Time) bool { return (a == nil) == (b == nil) && (a == nil || a.Equal(*b)) }
	return same(tk.FirstResponseDueAt, due) && same(tk.AutoCloseAt, autoClose) && same(tk.SLABreachedAt, breached)
}

// TestListTicketsBreached lists the tickets whose first-response SLA was missed, as the workflow
// stamps them. Breached is what the SLA saw: open past its due time (whether or not the timer has
// fired yet), or ever escalated by it, whatever the ticket became since, closed included. A ticket
// answered or closed in time never was, escalated by hand or not, and neither is one without an
// SLA.
func TestListTicketsBreached(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	now := time.Now()
	ago := func(d time.Duration) time.Time { return now.Add(-d) }
	answer := ticket.Command{Action: ticket.ActionAnswer, Actor: "bob"}
	closing := ticket.Command{Action: ticket.ActionClose, Actor: "bob", Reason: "solved"}
	escalate := ticket.Command{Action: ticket.ActionEscalate, Actor: "bob", Reason: "VIP"}
	type step struct {
		cmd  *ticket.Command // nil: the timer that is due fires
		when time.Duration   // ago
	}
	specs := []struct {
		title    string
		priority ticket.Priority
		created  time.Duration // ago
		steps    []step
		breached bool
	}{
		{"open past due", ticket.PriorityNormal, 2 * time.Hour, nil, true},
		{"open, not yet due", ticket.PriorityNormal, 30 * time.Minute, nil, false},
		{"open without an SLA", ticket.PriorityLow, 3 * time.Hour, nil, false},
		{"escalated by the SLA, since answered", ticket.PriorityNormal, 3 * time.Hour,
			[]step{{nil, 2 * time.Hour}, {&answer, 90 * time.Minute}}, true},
		{"escalated by the SLA, since closed", ticket.PriorityNormal, 3 * time.Hour,
			[]step{{nil, 2 * time.Hour}, {&closing, time.Hour}}, true},
		{"open, the SLA's escalations used up", ticket.PriorityNormal, 3 * time.Hour,
			[]step{{nil, 2 * time.Hour}, {nil, time.Hour}}, true},
		{"answered in time, since closed", ticket.PriorityNormal, 3 * time.Hour,
			[]step{{&answer, 150 * time.Minute}, {&closing, time.Hour}}, false},
		{"escalated by hand, closed in time", ticket.PriorityNormal, 3 * time.Hour,
			[]step{{&escalate, 170 * time.Minute}, {&closing, 150 * time.Minute}}, false},
	}
	var all []ticket.Ticket
	for _, spec := range specs {
		s, ch := startWith(t, slaPolicy, ago(spec.created), ticket.NewTicket{Title: spec.title,
			Requester: "alice@example.com", Priority: string(spec.priority)})
		persist(t, db, ch)
		for _, st := range spec.steps {
			if st.cmd != nil {
				ch = change(t, s, *st.cmd, ago(st.when))
			} else {
				var ok bool
				if ch, ok = s.Fire(ago(st.when)); !ok {
					t.Fatalf("%s: no timer fell due %v ago", spec.title, st.when)
				}
			}
			persist(t, db, ch)
		}
		if matches(ticket.ListFilter{Breached: true}, ch.Ticket) != spec.breached {
			t.Fatalf("%s: the model holds breached %v of %+v, want %v", spec.title, !spec.breached, ch.Ticket, spec.breached)
		}
		all = append(all, ch.Ticket)
	}

	for _, tt := range []struct {
		name string
		f    ticket.ListFilter
		want []string
	}{
		{"breached", ticket.ListFilter{Breached: true}, []string{"open past due", "escalated by the SLA, since answered",
			"escalated by the SLA, since closed", "open, the SLA's escalations used up"}},
		{"breached, never escalated", ticket.ListFilter{Breached: true, Escalated: ptr(false)}, []string{"open past due"}},
		{"breached and closed", ticket.ListFilter{Breached: true, Status: ticket.StatusClosed},
			[]string{"escalated by the SLA, since closed"}},
		{"escalated", ticket.ListFilter{Escalated: ptr(true)}, []string{"escalated by the SLA, since answered",
			"escalated by the SLA, since closed", "open, the SLA's escalations used up", "escalated by hand, closed in time"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := tt.f
			f.Limit, f.Sort = ticket.MaxPageSize, ticket.SortOldest
			page, err := db.ListTickets(t.Context(), f)
			if err != nil {
				t.Fatal(err)
			}
			want := inOrder(slices.DeleteFunc(slices.Clone(all), func(tk ticket.Ticket) bool {
				return !slices.Contains(tt.want, tk.Title)
			}), f.Sort)
			if len(want) != len(tt.want) || !reflect.DeepEqual(page.Items, want) {
				t.Errorf("got\n%q\nwant\n%q", titles(page.Items), titles(want))
			}
		})
	}
}

// TestListTicketsSLAFilters lists by each new filter alone and with others, in every order and
// every page size: pages through ties in the sort's column, keyed on it.
func TestListTicketsSLAFilters(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	now := time.Now()
	t0 := ticket.Timestamp(now.Add(-24 * time.Hour))
	minute := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	specs := []struct {
		status      ticket.Status
		level       int
		due         time.Duration // from now: past due (-), not yet (+); 0 for no SLA timer
		slaBreached bool
		group       string
		// Tickets D and E, G and H share a creation time; A and B, D and G, E and F an update
		// time: the ID breaks the ties.
		created, updated int
	}{
		{ticket.StatusOpen, 0, -time.Hour, false, "billing", 0, 10},     // A: breached, open past due
		{ticket.StatusOpen, 0, time.Hour, false, "support", 1, 10},      // B: not yet due
		{ticket.StatusOpen, 0, 0, false, "support", 2, 2},               // C: no SLA
		{ticket.StatusAnswered, 1, 0, true, "billing", 3, 20},           // D: breached, escalated by the SLA, since answered
		{ticket.StatusClosed, 2, 0, true, "support", 3, 30},             // E: breached, since closed
		{ticket.StatusClosed, 1, 0, false, "billing", 4, 30},            // F: escalated by hand, closed
		{ticket.StatusAnswered, 0, -time.Hour, false, "support", 5, 20}, // G: a stale due time of an older worker
		{ticket.StatusOpen, 1, time.Hour, true, "billing", 5, 40},       // H: breached, its next escalation not yet due
		{ticket.StatusAwaiting, 1, 0, false, "support", 6, 6},           // I: escalated by hand
		{ticket.StatusOpen, 0, -time.Hour, false, "billing", 7, 7},      // J: breached, open past due
	}
	var all []ticket.Ticket
	for i, s := range specs {
		ch := openTicket(t, minute(s.created), "Ticket "+string(rune('A'+i)))
		tk := &ch.Ticket
		tk.Status, tk.EscalationLevel, tk.Group, tk.UpdatedAt = s.status, s.level, s.group, minute(s.updated)
		if s.due != 0 {
			tk.FirstResponseDueAt = ptr(ticket.Timestamp(now.Add(s.due)))
		}
		if s.slaBreached {
			tk.SLABreachedAt = ptr(minute(s.created + 60))
		}
		switch s.status {
		case ticket.StatusClosed:
			tk.ClosedAt = &tk.UpdatedAt
		case ticket.StatusAnswered, ticket.StatusAwaiting:
			tk.AutoCloseAt = ptr(tk.UpdatedAt.Add(24 * time.Hour))
		}
		persist(t, db, ch)
		all = append(all, *tk)
	}

	d := minute(3) // D's and E's creation
	cet := base.Location()
	requireFilters(t, db, all, []filterCase{
		{"all", ticket.ListFilter{}, 10},
		{"escalated", ticket.ListFilter{Escalated: ptr(true)}, 5},
		{"never escalated", ticket.ListFilter{Escalated: ptr(false)}, 5},
		{"breached", ticket.ListFilter{Breached: true}, 5},
		{"breached, never escalated", ticket.ListFilter{Breached: true, Escalated: ptr(false)}, 2},
		{"breached and escalated", ticket.ListFilter{Breached: true, Escalated: ptr(true)}, 3},
		{"breached and open", ticket.ListFilter{Breached: true, Status: ticket.StatusOpen}, 3},
		{"breached and group", ticket.ListFilter{Breached: true, Group: "billing"}, 4},
		{"breached and requester", ticket.ListFilter{Breached: true, Requester: "alice@example.com"}, 5},
		{"breached and another requester", ticket.ListFilter{Breached: true, Requester: "mallory@example.com"}, 0},
		{"created after, at a creation", ticket.ListFilter{CreatedAfter: d}, 5},
		{"created after, a nanosecond before it", ticket.ListFilter{CreatedAfter: d.Add(-time.Nanosecond)}, 7},
		{"created after, a nanosecond after it", ticket.ListFilter{CreatedAfter: d.Add(time.Nanosecond)}, 5},
		{"created before, at a creation", ticket.ListFilter{CreatedBefore: d}, 3},
		{"created before, a nanosecond after it", ticket.ListFilter{CreatedBefore: d.Add(time.Nanosecond).In(cet)}, 5},
		{"created before, a nanosecond before it", ticket.ListFilter{CreatedBefore: d.Add(-time.Nanosecond)}, 3},
		{"created between", ticket.ListFilter{CreatedAfter: minute(2), CreatedBefore: minute(5)}, 3},
		{"created between, none", ticket.ListFilter{CreatedAfter: minute(3), CreatedBefore: minute(3)}, 0},
		{"updated after, at an update", ticket.ListFilter{UpdatedAfter: minute(20)}, 3},
		{"updated after, in another zone", ticket.ListFilter{UpdatedAfter: minute(20).In(cet)}, 3},
		{"updated after, a nanosecond before it", ticket.ListFilter{UpdatedAfter: minute(20).Add(-time.Nanosecond)}, 5},
		{"updated after, a nanosecond after it", ticket.ListFilter{UpdatedAfter: minute(20).Add(time.Nanosecond)}, 3},
		{"escalated, group and created before", ticket.ListFilter{Escalated: ptr(true), Group: "billing", CreatedBefore: minute(5)}, 2},
		{"breached and updated after", ticket.ListFilter{Breached: true, UpdatedAfter: minute(10)}, 3},
		{"never escalated, open and updated after", ticket.ListFilter{Escalated: ptr(false), Status: ticket.StatusOpen,
			UpdatedAfter: minute(9)}, 2},
		{"breached, escalated and created after", ticket.ListFilter{Breached: true, Escalated: ptr(true), CreatedAfter: d}, 1},
		{"every new filter", ticket.ListFilter{Breached: true, Escalated: ptr(false), CreatedAfter: minute(0),
			CreatedBefore: minute(8), UpdatedAfter: minute(6)}, 1},
	})
}

// filterCase is a filter of the listing, and how many of the test's tickets it matches, to hold
// the model (matches) to the test's specs.
type filterCase struct {
	name string
	f    ticket.ListFilter
	n    int
}

// requireFilters lists by each case's filter, in every order and page size, and checks that the
// pages hold the tickets of all that the model matches, in the sort's order, each page's cursor
// keyed on the sort's column.
func requireFilters(t *testing.T, db *postgres.DB, all []ticket.Ticket, cases []filterCase) {
	t.Helper()
	for _, tt := range cases {
		matching := slices.DeleteFunc(slices.Clone(all), func(t ticket.Ticket) bool { return !matches(tt.f, t) })
		if len(matching) != tt.n {
			t.Fatalf("%s: the model matches %d tickets, want %d", tt.name, len(matching), tt.n)
		}
		for _, sort := range sorts {
			want := inOrder(matching, sort)
			for _, limit := range []int{1, 2, 3, ticket.MaxPageSize} {
				t.Run(tt.name+"/sort "+string(sort)+"/limit "+strconv.Itoa(limit), func(t *testing.T) {
					f := tt.f
					f.Limit, f.Sort = limit, sort
					got := collect(t, limit, len(want), func(after *ticket.Cursor) (ticket.Page[ticket.Ticket], error) {
						f.After = after
						page, err := db.ListTickets(t.Context(), f)
						if next := page.Next; err == nil && next != nil {
							last := page.Items[len(page.Items)-1]
							if !next.At.Equal(sortKey(last, sort)) || next.ID != last.ID {
								t.Errorf("the cursor after %s is %+v, want its %s", last.Title, *next, sort)
							}
						}
						return page, err
					})
					if !reflect.DeepEqual(got, want) {
						t.Errorf("got\n%v\nwant\n%v", titles(got), titles(want))
					}
				})
			}
		}
	}
}

// TestListTicketsBadSort: a sort that is none of ticket's is refused, not taken for the default.
func TestListTicketsBadSort(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	for _, sort := range []ticket.Sort{"bogus", "id", "-id", "+created_at", "-created_at ", "CREATED_AT", "-first_response_due_at"} {
		_, err := db.ListTickets(t.Context(), ticket.ListFilter{PageRequest: ticket.PageRequest{Limit: 10}, Sort: sort})
		if code := ticket.ErrorCode(err); code != ticket.EINVALID {
			t.Errorf("sort %q: got error %v (code %q), want code %q", sort, err, code, ticket.EINVALID)
		}
	}
}

// TestListTicketsSLAUseIndexes asks PostgreSQL how it would list a table of many tickets in each
// order, and by each new filter: in an index's order where one holds the listing, through the
// partial indexes of the breached tickets, which are few.
func TestListTicketsSLAUseIndexes(t *testing.T) {
	t.Parallel()
	dsn := pgtest.DSN(t)
	conn := connect(t, dsn)
	// 20,000 tickets, updated in an order of their own; 60% open, every open one under an SLA,
	// one in 500 past its due time; one in 50 escalated, one in 500 by the SLA.
	execAll(t, conn, `
INSERT INTO tickets (id, title, status, priority, version, created_at, updated_at, closed_at, escalation_level,
	first_response_due_at, sla_breached_at)
SELECT gen_random_uuid(), 'Ticket ' || i, status, 'normal', 1, at, up,
	CASE WHEN status = 'closed' THEN up END,
	CASE WHEN i % 50 = 0 THEN 1 ELSE 0 END,
	CASE WHEN status <> 'open' THEN NULL
	     WHEN i % 500 = 1 THEN now() - interval '1 minute'
	     ELSE now() + (i % 100 + 1) * interval '1 minute' END,
	CASE WHEN i % 500 = 0 THEN at + interval '1 hour' END
FROM generate_series(1, 20000) AS i, LATERAL (SELECT
	timestamptz '2026-01-01' + i * interval '1 minute',
	timestamptz '2026-01-01' + (i + i * 7919 % 20000) * interval '1 minute',
	(ARRAY['open', 'open', 'open', 'open', 'open', 'open', 'answered', 'answered', 'awaiting', 'closed'])[i % 10 + 1]
) AS t(at, up, status)`,
		`ANALYZE tickets`)
	later := ticket.PageRequest{After: &ticket.Cursor{At: time.Date(2026, 1, 8, 0, 0, 0, 0, time.UTC), ID: newID(t)}}
	from, to := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC), time.Date(2026, 1, 6, 0, 0, 0, 0, time.UTC)
	const created, updated = "tickets_created_idx", "tickets_updated_idx"
	tests := []struct {
		name    string
		f       ticket.ListFilter
		ordered bool
		indexes []string
	}{
		{"newest", ticket.ListFilter{}, true, []string{created}},
		{"newest, a later page", ticket.ListFilter{PageRequest: later}, true, []string{created}},
		{"oldest", ticket.ListFilter{Sort: ticket.SortOldest}, true, []string{created}},
		{"oldest, a later page", ticket.ListFilter{Sort: ticket.SortOldest, PageRequest: later}, true, []string{created}},
		{"recent updates", ticket.ListFilter{Sort: ticket.SortRecentUpdates}, true, []string{updated}},
		{"recent updates, a later page", ticket.ListFilter{Sort: ticket.SortRecentUpdates, PageRequest: later}, true, []string{updated}},
		{"old updates", ticket.ListFilter{Sort: ticket.SortOldUpdates}, true, []string{updated}},
		{"old updates, a later page", ticket.ListFilter{Sort: ticket.SortOldUpdates, PageRequest: later}, true, []string{updated}},
		{"escalated", ticket.ListFilter{Escalated: ptr(true)}, true, []string{"tickets_escalated_created_idx"}},
		{"escalated, oldest, a later page", ticket.ListFilter{Escalated: ptr(true), Sort: ticket.SortOldest, PageRequest: later},
			true, []string{"tickets_escalated_created_idx"}},
		{"never escalated", ticket.ListFilter{Escalated: ptr(false)}, true, []string{created}},
		{"breached", ticket.ListFilter{Breached: true}, false,
			[]string{"tickets_first_response_due_idx", "tickets_sla_breached_created_idx"}},
		{"breached, recent updates, a later page", ticket.ListFilter{Breached: true, Sort: ticket.SortRecentUpdates,
			PageRequest: later}, false, []string{"tickets_first_response_due_idx", "tickets_sla_breached_created_idx"}},
		{"created between", ticket.ListFilter{CreatedAfter: from, CreatedBefore: to}, true, []string{created}},
		{"created between, oldest", ticket.ListFilter{CreatedAfter: from, CreatedBefore: to, Sort: ticket.SortOldest},
			true, []string{created}},
		{"updated after, recent updates", ticket.ListFilter{UpdatedAfter: to, Sort: ticket.SortRecentUpdates}, true, []string{updated}},
		{"updated after, old updates, a later page", ticket.ListFilter{UpdatedAfter: to, Sort: ticket.SortOldUpdates,
			PageRequest: later}, true, []string{updated}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { requirePlan(t, conn, tt.f, tt.ordered, tt.indexes...) })
	}
}

// TestMigrateSLA migrates a database holding a ticket of the schema before 000006_sla: it reads
// no due times and no breach; the migration runs again harmlessly; down removes what it added and
// keeps the rows, and up after it leaves the times to be stamped again.
func TestMigrateSLA(t *testing.T) {
	t.Parallel()
	dsn := pgtest.DSN(t)
	if err := postgres.MigrateTo(dsn, 5); err != nil {
		t.Fatalf("down to 5: %v", err)
	}
	conn := connect(t, dsn)
	requireSLASchema(t, conn, false)

	id, at := newID(t), ticket.Timestamp(base)
	if _, err := conn.Exec(t.Context(), `INSERT INTO tickets (id, title, status, priority, requester, escalation_level,
		version, created_at, updated_at) VALUES ($1, 'Old', 'open', 'normal', 'dave@example.com', 1, 2, $2, $2)`, id, at); err != nil {
		t.Fatal(err)
	}
	old := ticket.Ticket{ID: id, Title: "Old", Status: ticket.StatusOpen, Priority: ticket.PriorityNormal,
		Requester: "dave@example.com", EscalationLevel: 1, Version: 2, CreatedAt: at, UpdatedAt: at, Group: ticket.DefaultGroup}
	reads := func(t *testing.T, want ...ticket.Ticket) {
		t.Helper()
		db := open(t, dsn)
		for _, w := range want {
			if got, err := db.Ticket(t.Context(), w.ID); err != nil || !reflect.DeepEqual(got, w) {
				t.Errorf("ticket %s reads\n%+v (%v)\nwant\n%+v", w.Title, got, err, w)
			}
		}
	}

	if err := postgres.Migrate(dsn); err != nil {
		t.Fatalf("up: %v", err)
	}
	requireSLASchema(t, conn, true)
	reads(t, old)
	runAgain(t, conn, "000006_sla.up.sql")
	requireSLASchema(t, conn, true)

	// A ticket of this schema, breached: down loses its times, and they stay lost after up.
	s, created := startWith(t, slaPolicy, base, ticket.NewTicket{Title: "New", Requester: "erin@example.com"})
	fired, ok := s.Fire(base.Add(time.Hour))
	if !ok {
		t.Fatal("the SLA did not fire")
	}
	db := open(t, dsn) // a pool of this schema: its statements' descriptions are cached
	persist(t, db, created)
	persist(t, db, fired)
	reads(t, old, fired.Ticket)

	if err := postgres.MigrateTo(dsn, 5); err != nil {
		t.Fatalf("down to 5 again: %v", err)
	}
	requireSLASchema(t, conn, false)
	var n int
	if err := conn.QueryRow(t.Context(), `SELECT count(*) FROM tickets WHERE id = ANY($1)`,
		[]string{id, fired.Ticket.ID}).Scan(&n); err != nil || n != 2 {
		t.Errorf("after down, %d of the 2 tickets are left (%v); want both kept", n, err)
	}
	if err := postgres.Migrate(dsn); err != nil {
		t.Fatalf("up again: %v", err)
	}
	requireSLASchema(t, conn, true)
	unstamped := fired.Ticket
	unstamped.FirstResponseDueAt, unstamped.AutoCloseAt, unstamped.SLABreachedAt = nil, nil, nil
	reads(t, old, unstamped)
}

// requireSLASchema checks that what 000006_sla adds is all there, its indexes valid, or that none
// of it is.
func requireSLASchema(t *testing.T, conn *pgx.Conn, want bool) {
	t.Helper()
	requireObjects(t, conn, "000006_sla", want, schemaObjects{
		columns: []string{"tickets.first_response_due_at", "tickets.auto_close_at", "tickets.sla_breached_at"},
		indexes: []string{"tickets_updated_idx", "tickets_escalated_created_idx", "tickets_first_response_due_idx",
			"tickets_sla_breached_created_idx"},
	})
}

// inOrder returns the tickets in the order of the sort, as the listing gives them: by the sort's
// column, then by the ID, both in the sort's direction. PostgreSQL orders UUIDs byte-wise, which
// for the canonical lower-case form is the order of the strings.
func inOrder(ts []ticket.Ticket, s ticket.Sort) []ticket.Ticket {
	desc := s == "" || s == ticket.SortNewest || s == ticket.SortRecentUpdates
	out := slices.Clone(ts)
	slices.SortFunc(out, func(a, b ticket.Ticket) int {
		c := sortKey(a, s).Compare(sortKey(b, s))
		if c == 0 {
			c = strings.Compare(a.ID, b.ID)
		}
		if desc {
			return -c
		}
		return c
	})
	return out
}

// sortKey is the ticket's time that the sort orders on, the At of its cursor.
func sortKey(t ticket.Ticket, s ticket.Sort) time.Time {
	if s == ticket.SortRecentUpdates || s == ticket.SortOldUpdates {
		return t.UpdatedAt
	}
	return t.CreatedAt
}
