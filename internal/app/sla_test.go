package app_test

// The SLA clock on the ticket and the listings by it, end to end: the due times that a ticket
// shows are the timers its workflow holds, and they fire when they say so; GET /tickets filters
// by requester, escalation, breach and time, and sorts, page by page. Each test keeps its tickets
// in a group of its own, and lists within it.

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/ticketflow/ticketflow/internal/apiclient"
	"github.com/ticketflow/ticketflow/internal/auth"
	"github.com/ticketflow/ticketflow/internal/httpapi"
	"github.com/ticketflow/ticketflow/internal/ticket"
)

// ownGroup returns a group that no other test's tickets are in.
func ownGroup() string { return "sla-" + uuid.NewString()[:8] }

// titlesOf returns the titles of the tickets, in their order.
func titlesOf(tks []httpapi.Ticket) []string {
	var out []string
	for _, tk := range tks {
		out = append(out, tk.Title)
	}
	return out
}

// listTitles reads every page of GET /tickets with the query, limit tickets a page, and returns
// the titles in the order the pages gave them.
func (s *system) listTitles(t *testing.T, query string, limit int) []string {
	t.Helper()
	return titlesOf(listPages[httpapi.Ticket](t, s, "/api/v1/tickets?"+query, limit, nil))
}

// queryTime writes a time as the value of a query parameter, in the offset of loc.
func queryTime(at time.Time, loc *time.Location) string {
	return url.QueryEscape(at.In(loc).Format(time.RFC3339Nano))
}

// plus2 is an offset other than UTC, whose + a query string must encode.
var plus2 = time.FixedZone("+02:00", 2*60*60)

// later returns at + d, as a due time.
func later(at time.Time, d time.Duration) *time.Time {
	due := at.Add(d)
	return &due
}

func showTime(at *time.Time) string {
	if at == nil {
		return "null"
	}
	return at.Format(time.RFC3339Nano)
}

// expectClock fails the test unless the ticket shows the due times: when its first-response SLA
// escalates it next and when it closes by itself, nil for none.
func expectClock(t *testing.T, what string, tk httpapi.Ticket, due, closes *time.Time) {
	t.Helper()
	same := func(a, b *time.Time) bool { return (a == nil) == (b == nil) && (a == nil || a.Equal(*b)) }
	if !same(tk.FirstResponseDueAt, due) || !same(tk.AutoCloseAt, closes) {
		t.Errorf("%s (%s, v%d): first response due %s, auto-close %s; want %s, %s", what, tk.Status, tk.Version,
			showTime(tk.FirstResponseDueAt), showTime(tk.AutoCloseAt), showTime(due), showTime(closes))
	}
}

// TestSLADueTimes follows the clock through a ticket's life with SLAs of hours: a new ticket is
// due its priority's SLA after it opened (never, for a priority without one); an escalation by a
// key does not move it; answering records the first response, ends the SLA and starts the
// auto-close, which every later change puts off; closing ends it. Every read shows what the
// change answered, and a customer sees the due times of their own tickets.
func TestSLADueTimes(t *testing.T) {
	const autoClose = 72 * time.Hour
	sla := map[ticket.Priority]time.Duration{ticket.PriorityLow: 0, ticket.PriorityNormal: 24 * time.Hour,
		ticket.PriorityHigh: 8 * time.Hour, ticket.PriorityUrgent: time.Hour}
	cfg := testConfig(t)
	cfg.SLALow, cfg.SLANormal, cfg.SLAHigh, cfg.SLAUrgent = sla[ticket.PriorityLow], sla[ticket.PriorityNormal],
		sla[ticket.PriorityHigh], sla[ticket.PriorityUrgent]
	cfg.SLAMaxEscalations = 3
	cfg.AutoCloseAfter = autoClose
	s := startSystem(t, withConfig(cfg))
	group := ownGroup()

	opened := map[ticket.Priority]httpapi.Ticket{}
	for _, p := range ticket.Priorities {
		tk := s.openTicket(t, map[string]any{"title": "due " + string(p), "priority": p, "group": group})
		var due *time.Time
		if sla[p] > 0 {
			due = later(tk.CreatedAt, sla[p])
		}
		expectClock(t, "a new "+string(p)+" ticket", tk, due, nil)
		expectClock(t, "a new "+string(p)+" ticket, read back", s.get(t, tk.ID), due, nil)
		if tk.FirstRespondedAt != nil {
			t.Errorf("a new ticket was first responded to at %s", showTime(tk.FirstRespondedAt))
		}
		opened[p] = tk
	}
	urgent := opened[ticket.PriorityUrgent]
	escalated := s.changed(t, urgent.ID, ticket.ActionEscalate, map[string]any{"reason": "VIP"})
	expectClock(t, "escalated by a key", escalated, later(urgent.CreatedAt, time.Hour), nil)

	tk := opened[ticket.PriorityNormal]
	answered := s.changed(t, tk.ID, ticket.ActionAnswer, map[string]any{"comment": "On it."})
	if answered.FirstRespondedAt == nil || !answered.FirstRespondedAt.Equal(answered.UpdatedAt) {
		t.Errorf("answered at %s, first responded at %s", answered.UpdatedAt.Format(time.RFC3339Nano), showTime(answered.FirstRespondedAt))
	}
	expectClock(t, "answered", answered, nil, later(answered.UpdatedAt, autoClose))
	s.act(t, tk.ID, ticket.ActionComment, map[string]any{"body": "Any luck?"}).expect(t, http.StatusCreated, nil)
	commented := s.get(t, tk.ID)
	if !commented.UpdatedAt.After(answered.UpdatedAt) {
		t.Fatalf("a comment left updated_at at %s", commented.UpdatedAt)
	}
	expectClock(t, "commented on", commented, nil, later(commented.UpdatedAt, autoClose))
	awaiting := s.changed(t, tk.ID, ticket.ActionAwait, nil)
	expectClock(t, "awaiting", awaiting, nil, later(awaiting.UpdatedAt, autoClose))
	again := s.changed(t, tk.ID, ticket.ActionAnswer, nil)
	expectClock(t, "answered again", again, nil, later(again.UpdatedAt, autoClose))
	if again.FirstRespondedAt == nil || !again.FirstRespondedAt.Equal(*answered.FirstRespondedAt) {
		t.Errorf("answered again: first responded at %s, want the first answer's %s", showTime(again.FirstRespondedAt),
			showTime(answered.FirstRespondedAt))
	}
	closed := s.changed(t, tk.ID, ticket.ActionClose, nil)
	expectClock(t, "closed", closed, nil, nil)
	expectClock(t, "closed, read back", s.get(t, tk.ID), nil, nil)

	// A customer sees the due times of their own tickets, however they read them.
	alice := s.as(s.newKey(t, "alice", auth.RoleCustomer, "alice@example.com"))
	mine := alice.openTicket(t, map[string]any{"title": "mine", "priority": "high", "group": group})
	due := later(mine.CreatedAt, sla[ticket.PriorityHigh])
	expectClock(t, "the customer's new ticket", mine, due, nil)
	expectClock(t, "the customer's ticket, read by them", alice.get(t, mine.ID), due, nil)
	listed := listPages[httpapi.Ticket](t, alice, "/api/v1/tickets?group="+url.QueryEscape(group), 200, nil)
	if len(listed) != 1 || listed[0].ID != mine.ID {
		t.Fatalf("the customer lists %q, want only their own", titlesOf(listed))
	}
	expectClock(t, "the customer's ticket, listed by them", listed[0], due, nil)
	reply := s.changed(t, mine.ID, ticket.ActionAnswer, map[string]any{"comment": "Try turning it off and on."})
	expectClock(t, "the customer's answered ticket, read by them", alice.get(t, mine.ID), nil, later(reply.UpdatedAt, autoClose))
}

// TestSLATimersFire runs the clock with a first-response SLA of seconds and measures it: the SLA
// escalates an urgent ticket when its due time comes, each time one period after the last, until
// its ceiling (then it is due no more); the ticket is breached, unlike a fresh one or one that a
// key escalated, and stays breached once answered; answering starts the auto-close, which closes
// the ticket (reason timeout) when its auto_close_at comes.
func TestSLATimersFire(t *testing.T) {
	const sla, autoClose, ceiling = 3 * time.Second, 3 * time.Second, 2
	// How late a timer may fire on a loaded test stack; the measured lags are logged.
	const maxLag = 3 * time.Second
	cfg := testConfig(t)
	cfg.SLAUrgent, cfg.SLANormal = sla, time.Hour
	cfg.SLAMaxEscalations = ceiling
	cfg.AutoCloseAfter = autoClose
	s := startSystem(t, withConfig(cfg))
	group := ownGroup()
	in := "group=" + url.QueryEscape(group)

	late := s.openTicket(t, map[string]any{"title": "left open", "priority": "urgent", "group": group})
	fresh := s.openTicket(t, map[string]any{"title": "fresh", "group": group})
	pushed := s.openTicket(t, map[string]any{"title": "escalated by a key", "group": group})
	s.changed(t, pushed.ID, ticket.ActionEscalate, map[string]any{"reason": "VIP"})
	expectClock(t, "the urgent ticket", late, later(late.CreatedAt, sla), nil)
	if got := s.listTitles(t, in+"&breached=true", 10); len(got) != 0 && time.Now().Before(late.CreatedAt.Add(sla)) {
		t.Fatalf("breached before any due time passed: %q", got)
	}

	for n := 1; n <= ceiling; n++ {
		due := late.CreatedAt.Add(time.Duration(n) * sla)
		var got httpapi.Ticket
		waitFor(t, time.Until(due.Add(20*time.Second)), fmt.Sprintf("escalation %d by the SLA", n), func() bool {
			got = s.get(t, late.ID)
			return got.EscalationLevel >= n
		})
		if got.EscalationLevel != n {
			t.Fatalf("escalation level %d, want %d: the test looked too late", got.EscalationLevel, n)
		}
		ev := eventsOf(s.trail(t, late.ID), ticket.EventEscalated)[n-1]
		if ev.Actor != ticket.TimerActor || ev.Data["reason"] != ticket.ReasonFirstResponseSLA || !ev.At.Equal(got.UpdatedAt) {
			t.Errorf("escalation %d: %+v, ticket updated at %s", n, ev, got.UpdatedAt)
		}
		lag := ev.At.Sub(due)
		t.Logf("SLA escalation %d: due %s, escalated %s, %v after", n, due.Format(time.StampMicro), ev.At.Format(time.StampMicro), lag)
		if lag < 0 || lag > maxLag {
			t.Errorf("escalation %d came %v after its due time, want 0 to %v", n, lag, maxLag)
		}
		var next *time.Time
		if n < ceiling {
			next = later(late.CreatedAt, time.Duration(n+1)*sla)
		}
		expectClock(t, fmt.Sprintf("escalated %d times by the SLA", n), got, next, nil)
	}

	for _, tc := range []struct {
		query string
		want  []string // newest first
	}{
		{"breached=true", []string{"left open"}},
		{"breached=true&status=open&escalated=true", []string{"left open"}},
		{"escalated=true", []string{"escalated by a key", "left open"}},
		{"escalated=false", []string{"fresh"}},
		{"breached=true&escalated=false", nil},
	} {
		if got := s.listTitles(t, in+"&"+tc.query, 1); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %q, want %q", tc.query, got, tc.want)
		}
	}

	answered := s.changed(t, late.ID, ticket.ActionAnswer, map[string]any{"comment": "Sorry for the wait."})
	if answered.FirstRespondedAt == nil || !answered.FirstRespondedAt.Equal(answered.UpdatedAt) || answered.EscalationLevel != ceiling {
		t.Errorf("answered at %s at level %d, first responded at %s", answered.UpdatedAt, answered.EscalationLevel,
			showTime(answered.FirstRespondedAt))
	}
	closes := later(answered.UpdatedAt, autoClose)
	expectClock(t, "answered", answered, nil, closes)
	expectClock(t, "answered, read back", s.get(t, late.ID), nil, closes)
	if got := s.listTitles(t, in+"&breached=true", 1); !slices.Equal(got, []string{"left open"}) {
		t.Errorf("breached once answered: %q, want the ticket still", got)
	}
	if got := s.listTitles(t, in+"&breached=true&status=open", 1); len(got) != 0 {
		t.Errorf("breached and open once answered: %q, want none", got)
	}

	waitCompleted(t, s, late.ID)
	final := s.get(t, late.ID)
	if final.Status != ticket.StatusClosed || final.CloseReason == nil || *final.CloseReason != ticket.ReasonTimeout || final.ClosedAt == nil {
		t.Fatalf("after the auto-close: %+v", final)
	}
	lag := final.ClosedAt.Sub(*closes)
	t.Logf("auto-close: due %s, closed %s, %v after", closes.Format(time.StampMicro), final.ClosedAt.Format(time.StampMicro), lag)
	if lag < 0 || lag > maxLag {
		t.Errorf("the auto-close came %v after auto_close_at, want 0 to %v", lag, maxLag)
	}
	expectClock(t, "closed by the auto-close", final, nil, nil)
	trail := s.trail(t, late.ID)
	if last := trail[len(trail)-1]; last.Type != ticket.EventStatusChanged || last.Actor != ticket.TimerActor ||
		last.Data["reason"] != ticket.ReasonTimeout || !last.At.Equal(*final.ClosedAt) {
		t.Errorf("the auto-close's event: %+v", last)
	}

	// The others' SLA is an hour: nothing happened to them meanwhile.
	for _, tc := range []struct {
		tk    httpapi.Ticket
		level int
	}{{fresh, 0}, {pushed, 1}} {
		got := s.get(t, tc.tk.ID)
		expectClock(t, tc.tk.Title, got, later(tc.tk.CreatedAt, time.Hour), nil)
		if got.Status != ticket.StatusOpen || got.EscalationLevel != tc.level {
			t.Errorf("%s: %s at level %d, want open at level %d", tc.tk.Title, got.Status, got.EscalationLevel, tc.level)
		}
	}
}

// TestListFiltersAndSorts lists five tickets of two requesters, two of them escalated and two
// changed after they were opened, by every filter and order of GET /tickets alone and combined,
// at one, two and all tickets a page; a customer's listing holds only their own tickets whatever
// requester it names; a cursor continues only its own listing; a bad value is a 400 that names it.
func TestListFiltersAndSorts(t *testing.T) {
	s := startSystem(t)
	group := ownGroup()
	in := "group=" + url.QueryEscape(group)
	const alice, bob = "alice@example.com", "bob@example.com"
	made := map[string]httpapi.Ticket{}
	for _, tc := range []struct{ title, requester string }{
		{"t1", alice}, {"t2", bob}, {"t3", alice}, {"t4", bob}, {"t5", alice},
	} {
		made[tc.title] = s.openTicket(t, map[string]any{"title": tc.title, "requester": tc.requester, "group": group})
	}
	s.changed(t, made["t4"].ID, ticket.ActionEscalate, nil)
	s.changed(t, made["t2"].ID, ticket.ActionEscalate, nil)
	s.act(t, made["t1"].ID, ticket.ActionComment, map[string]any{"body": "Still there?"}).expect(t, http.StatusCreated, nil)
	tk := map[string]httpapi.Ticket{}
	for title, made := range made {
		tk[title] = s.get(t, made.ID)
	}
	// What the orders below are written for: opened t1 to t5, last changed t3, t5, t4, t2, t1.
	for i, byUpdate := 1, []string{"t3", "t5", "t4", "t2", "t1"}; i < len(byUpdate); i++ {
		older, newer := tk[fmt.Sprint("t", i)], tk[fmt.Sprint("t", i+1)]
		if before, after := tk[byUpdate[i-1]], tk[byUpdate[i]]; !older.CreatedAt.Before(newer.CreatedAt) || !before.UpdatedAt.Before(after.UpdatedAt) {
			t.Fatalf("the tickets were not opened and changed in the order of the test: %+v", tk)
		}
	}

	at := func(title string, loc *time.Location) string { return queryTime(tk[title].CreatedAt, loc) }
	tests := []struct {
		query string
		want  []string
	}{
		{"", []string{"t5", "t4", "t3", "t2", "t1"}},
		{"sort=-created_at", []string{"t5", "t4", "t3", "t2", "t1"}},
		{"sort=created_at", []string{"t1", "t2", "t3", "t4", "t5"}},
		{"sort=-updated_at", []string{"t1", "t2", "t4", "t5", "t3"}},
		{"sort=updated_at", []string{"t3", "t5", "t4", "t2", "t1"}},
		{"requester=" + url.QueryEscape(alice), []string{"t5", "t3", "t1"}},
		{"requester=" + url.QueryEscape(" "+bob+" ") + "&sort=created_at", []string{"t2", "t4"}},
		{"requester=carol%40example.com", nil},
		{"escalated=true", []string{"t4", "t2"}},
		{"escalated=true&sort=-updated_at", []string{"t2", "t4"}},
		{"escalated=false&sort=updated_at", []string{"t3", "t5", "t1"}},
		{"escalated=true&requester=" + url.QueryEscape(alice), nil},
		{"breached=true", nil}, // escalated by keys, with no SLA
		{"created_after=" + at("t2", time.UTC), []string{"t5", "t4", "t3"}},
		{"created_after=" + at("t2", plus2), []string{"t5", "t4", "t3"}},
		{"created_before=" + at("t4", time.UTC), []string{"t3", "t2", "t1"}},
		{"created_after=" + at("t1", plus2) + "&created_before=" + at("t5", time.UTC) + "&sort=created_at", []string{"t2", "t3", "t4"}},
		{"updated_after=" + at("t5", time.UTC), []string{"t4", "t2", "t1"}},
		{"updated_after=" + at("t5", plus2) + "&sort=updated_at", []string{"t4", "t2", "t1"}},
		{"updated_after=" + queryTime(tk["t1"].UpdatedAt, time.UTC), nil},
		{"requester=" + url.QueryEscape(alice) + "&updated_after=" + at("t3", time.UTC) + "&sort=-updated_at", []string{"t1", "t5"}},
		{"status=open&escalated=false&requester=" + url.QueryEscape(alice) + "&created_before=" + at("t5", time.UTC), []string{"t3", "t1"}},
	}
	for _, tc := range tests {
		for _, limit := range []int{1, 2, 200} {
			if got := s.listTitles(t, in+"&"+tc.query, limit); !slices.Equal(got, tc.want) {
				t.Errorf("%s, %d a page: %q, want %q", tc.query, limit, got, tc.want)
			}
		}
	}

	// A customer lists their own tickets: by any filter and order, and none of another's.
	customer := s.as(s.newKey(t, "alice", auth.RoleCustomer, alice))
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"", []string{"t5", "t3", "t1"}},
		{"requester=" + url.QueryEscape(alice), []string{"t5", "t3", "t1"}},
		{"requester=" + url.QueryEscape(bob), nil},
		{"sort=-updated_at", []string{"t1", "t5", "t3"}},
		{"created_after=" + at("t1", time.UTC) + "&sort=created_at", []string{"t3", "t5"}},
	} {
		if got := customer.listTitles(t, in+"&"+tc.query, 1); !slices.Equal(got, tc.want) {
			t.Errorf("the customer's %s: %q, want %q", tc.query, got, tc.want)
		}
	}

	// A cursor continues only the listing that made it: its filters, its order, its reader.
	cursorOf := func(by *system, query string) string {
		t.Helper()
		var first page[httpapi.Ticket]
		by.do(t, "GET", "/api/v1/tickets?"+in+"&limit=1&"+query, nil).expect(t, http.StatusOK, &first)
		if first.NextCursor == nil {
			t.Fatalf("%s: no next page", query)
		}
		return url.QueryEscape(*first.NextCursor)
	}
	for _, tc := range []struct {
		made, used string
		by         *system // who uses the cursor, which the agent made
		ok         bool
	}{
		{"", "", s, true},
		{"sort=-created_at", "", s, true},
		{"sort=created_at", "sort=created_at", s, true},
		{"sort=created_at", "", s, false},
		{"sort=updated_at", "sort=-updated_at", s, false},
		{"sort=updated_at", "sort=created_at", s, false},
		{"requester=" + url.QueryEscape(alice), "requester=" + url.QueryEscape(alice), s, true},
		{"requester=" + url.QueryEscape(alice), "requester=" + url.QueryEscape(bob), s, false},
		{"requester=" + url.QueryEscape(alice), "", customer, false},
		{"escalated=false", "escalated=false", s, true},
		{"escalated=false", "escalated=true", s, false},
		{"escalated=false", "", s, false},
		{"created_after=" + at("t1", time.UTC), "created_after=" + at("t1", plus2), s, true},
		{"created_after=" + at("t1", time.UTC), "created_after=" + at("t2", time.UTC), s, false},
		{"created_before=" + at("t5", time.UTC), "", s, false},
		{"updated_after=" + at("t1", time.UTC), "created_after=" + at("t1", time.UTC), s, false},
	} {
		r := tc.by.do(t, "GET", "/api/v1/tickets?"+in+"&limit=1&"+tc.used+"&cursor="+cursorOf(s, tc.made), nil)
		if tc.ok {
			r.expect(t, http.StatusOK, nil)
		} else {
			r.expectProblem(t, http.StatusBadRequest, "/problems/bad-request")
		}
	}
	// The customer's own listing, and an agent's of the customer's tickets, are not one listing.
	s.do(t, "GET", "/api/v1/tickets?"+in+"&limit=1&requester="+url.QueryEscape(alice)+"&cursor="+cursorOf(customer, ""), nil).
		expectProblem(t, http.StatusBadRequest, "/problems/bad-request")

	for _, bad := range []struct{ param, query string }{
		{"escalated", "escalated=yes"},
		{"escalated", "escalated=1"},
		{"breached", "breached=false"},
		{"breached", "breached=TRUE"},
		{"created_after", "created_after=2026-11-26"},
		{"created_after", "created_after=2026-11-26T10:00:00+02:00"}, // a + that is not %2B is a space
		{"created_before", "created_before=tomorrow"},
		{"updated_after", "updated_after=2026-13-01T00:00:00Z"},
		{"created_after", "created_after=" + at("t3", time.UTC) + "&created_before=" + at("t3", plus2)},
		{"created_after", "created_after=" + at("t4", time.UTC) + "&created_before=" + at("t2", time.UTC)},
		{"sort", "sort=title"},
		{"sort", "sort=created"},
		{"sort", "sort=+created_at"},
		{"requester", "requester=" + strings.Repeat("r", ticket.MaxPersonLen+1)},
		{"requester", "requester=a%07b"},
	} {
		p := s.do(t, "GET", "/api/v1/tickets?"+in+"&"+bad.query, nil).expectProblem(t, http.StatusBadRequest, "/problems/bad-request")
		if !strings.Contains(p.Detail, bad.param) {
			t.Errorf("%s: the detail %q does not name %s", bad.query, p.Detail, bad.param)
		}
	}

	// The generated client sends every filter as the document says, an offset's + included.
	c := s.generatedClient(t)
	after := tk["t1"].CreatedAt.In(plus2)
	params := &apiclient.ListTicketsParams{Group: &group, Requester: ptr(alice), Escalated: ptr(false),
		CreatedAfter: &after, Sort: ptr(apiclient.ListTicketsParamsSortUpdatedAt), Limit: ptr(1)}
	var titles []string
	for range 5 {
		r := must[*apiclient.ListTicketsResponse](t, http.StatusOK)(c.ListTicketsWithResponse(context.Background(), params))
		for _, it := range r.JSON200.Items {
			titles = append(titles, it.Title)
			if it.FirstResponseDueAt != nil || it.AutoCloseAt != nil {
				t.Errorf("%s has due times with no timer running: %v, %v", it.Title, it.FirstResponseDueAt, it.AutoCloseAt)
			}
		}
		if params.Cursor = r.JSON200.NextCursor; params.Cursor == nil {
			break
		}
	}
	if want := []string{"t3", "t5"}; !slices.Equal(titles, want) {
		t.Errorf("the generated client lists %q, want %q", titles, want)
	}
}
