package ticket_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/ticketflow/ticketflow/internal/ticket"
	"github.com/ticketflow/ticketflow/internal/wire"
)

func started(t *testing.T) ticket.State {
	t.Helper()
	s, ch, err := ticket.Start(ticketID, ticket.NewTicket{Title: "Printer on fire"}, actor, ticket.Policy{}, rawNow)
	if err != nil {
		t.Fatal(err)
	}
	if len(ch.Events) != 1 || ch.Events[0].Seq != 1 || s.LastSeq != 1 || !reflect.DeepEqual(s.Ticket, ch.Ticket) {
		t.Fatalf("start: state %+v, change %+v", s, ch)
	}
	return s
}

// TestStateNumbersEvents: every change's events follow the last one without a gap, refused
// signals' records included, and the state's ticket is the last change's.
func TestStateNumbersEvents(t *testing.T) {
	s := started(t)
	steps := []ticket.Command{
		{Action: ticket.ActionAnswer, Actor: actor, Comment: "done", CommentID: "c-1"}, // two events
		{Action: ticket.ActionEscalate, Actor: actor},
	}
	var seqs []int64
	for _, c := range steps {
		ch, err := s.Apply(c, rawNow)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ch.Events {
			seqs = append(seqs, e.Seq)
		}
		if !reflect.DeepEqual(s.Ticket, ch.Ticket) {
			t.Fatalf("state holds version %d, the change made %d", s.Ticket.Version, ch.Ticket.Version)
		}
	}
	refused := ticket.Command{Action: ticket.ActionAnswer, Actor: "bot"}
	_, err := s.Apply(refused, rawNow)
	assertCode(t, err, ticket.EINVALIDTRANSITION)
	rec := s.Reject(refused, err, rawNow)
	seqs = append(seqs, rec.Events[0].Seq)
	if got, want := fmt.Sprint(seqs), "[2 3 4 5]"; got != want || s.LastSeq != 5 {
		t.Fatalf("seqs %s, last %d; want %s, 5", got, s.LastSeq, want)
	}
	if s.Ticket.Version != 3 {
		t.Fatalf("a rejection changed the version to %d", s.Ticket.Version)
	}
}

// TestStateAppliesARequestOnce: a request ID applied once is refused after, right away and after
// the state went through its payload (continue-as-new); a refused request is not remembered.
func TestStateAppliesARequestOnce(t *testing.T) {
	s := started(t)
	esc := ticket.Command{Action: ticket.ActionEscalate, Actor: "bot", RequestID: "r-1"}
	if _, err := s.Apply(esc, rawNow); err != nil {
		t.Fatal(err)
	}
	before := s
	_, err := s.Apply(esc, rawNow)
	assertCode(t, err, ticket.EAPPLIED)
	if !reflect.DeepEqual(s.Ticket, before.Ticket) || s.LastSeq != before.LastSeq {
		t.Fatal("a repeated request changed the state")
	}

	b, err := json.Marshal(wire.FromState(s))
	if err != nil {
		t.Fatal(err)
	}
	var payload wire.State
	if err := json.Unmarshal(b, &payload); err != nil {
		t.Fatal(err)
	}
	next := payload.Domain()
	_, err = next.Apply(esc, rawNow)
	assertCode(t, err, ticket.EAPPLIED)
	if next.Ticket.EscalationLevel != 1 {
		t.Fatalf("escalation level %d after the next run", next.Ticket.EscalationLevel)
	}

	refused := ticket.Command{Action: ticket.ActionAwait, Actor: "bot", RequestID: "r-2"}
	if _, err := next.Apply(refused, rawNow); ticket.ErrorCode(err) != ticket.EINVALIDTRANSITION {
		t.Fatalf("await an open ticket: %v", err)
	}
	if next.Seen("r-2") {
		t.Fatal("a refused request was remembered: it could never be sent again")
	}
}

// TestStateForgetsOldestRequests: the memory of request IDs is bounded, and keeps the latest.
func TestStateForgetsOldestRequests(t *testing.T) {
	s := started(t)
	n := ticket.MaxRecentRequests + 10
	for i := range n {
		c := ticket.Command{Action: ticket.ActionComment, Actor: actor, Comment: "x",
			CommentID: fmt.Sprint("c-", i), RequestID: fmt.Sprint("r-", i)}
		if _, err := s.Apply(c, rawNow); err != nil {
			t.Fatal(err)
		}
	}
	if len(s.Requests) != ticket.MaxRecentRequests || s.Seen("r-0") || s.Seen("r-9") ||
		!s.Seen("r-10") || !s.Seen(fmt.Sprint("r-", n-1)) {
		t.Fatalf("remembers %d IDs, from %s", len(s.Requests), s.Requests[0])
	}
}

// TestStateFire: a due timer applies its change and counts itself; one not due yet changes
// nothing.
func TestStateFire(t *testing.T) {
	p := ticket.Policy{FirstResponseSLA: map[ticket.Priority]time.Duration{ticket.PriorityNormal: time.Hour},
		MaxSLAEscalations: 1}
	s := started(t)
	s.Policy = p
	if _, due := s.Fire(now.Add(59 * time.Minute)); due {
		t.Fatal("fired before the deadline")
	}
	ch, due := s.Fire(now.Add(time.Hour))
	if !due || ch.Events[0].Type != ticket.EventEscalated || ch.Events[0].Seq != 2 ||
		s.Timers.SLAEscalations != 1 || s.Ticket.EscalationLevel != 1 {
		t.Fatalf("fire: due %v, change %+v, timers %+v", due, ch, s.Timers)
	}
	if at := ch.Ticket.SLABreachedAt; at == nil || !at.Equal(now.Add(time.Hour)) {
		t.Fatalf("SLABreachedAt %v, want when the SLA escalated", at)
	}
	if ch.Ticket.FirstResponseDueAt != nil || ch.Ticket.AutoCloseAt != nil {
		t.Fatalf("due times %v, %v after the last escalation the SLA allows, want none",
			ch.Ticket.FirstResponseDueAt, ch.Ticket.AutoCloseAt)
	}
	if _, due := s.Fire(now.Add(3 * time.Hour)); due {
		t.Fatal("fired past its ceiling")
	}
}

// TestStateStampsDueTimes: every change leaves on its ticket the deadline that Policy.Next gives
// for it, as the first-response due time while open and as the auto-close time while answered or
// awaiting, so that what a reader sees is the timer the workflow holds.
func TestStateStampsDueTimes(t *testing.T) {
	p := ticket.Policy{FirstResponseSLA: map[ticket.Priority]time.Duration{ticket.PriorityNormal: time.Hour},
		MaxSLAEscalations: 2, AutoCloseAfter: 24 * time.Hour}
	s, created, err := ticket.Start(ticketID, ticket.NewTicket{Title: "Printer on fire"}, actor, p, rawNow)
	if err != nil {
		t.Fatal(err)
	}
	want := func(ch ticket.Change) {
		t.Helper()
		d, ok := p.Next(ch.Ticket, s.Timers)
		var due, closes *time.Time
		switch {
		case ok && d.Timer == ticket.TimerFirstResponse:
			due = &d.At
		case ok:
			closes = &d.At
		}
		if !reflect.DeepEqual(ch.Ticket.FirstResponseDueAt, due) || !reflect.DeepEqual(ch.Ticket.AutoCloseAt, closes) {
			t.Errorf("v%d %s: due %v, closes %v; want %v, %v", ch.Ticket.Version, ch.Ticket.Status,
				ch.Ticket.FirstResponseDueAt, ch.Ticket.AutoCloseAt, due, closes)
		}
		if !reflect.DeepEqual(s.Ticket, ch.Ticket) {
			t.Errorf("v%d: the state's ticket is not the change's", ch.Ticket.Version)
		}
	}
	want(created)
	if created.Ticket.FirstResponseDueAt == nil || !created.Ticket.FirstResponseDueAt.Equal(now.Add(time.Hour)) {
		t.Fatalf("a new ticket is due %v, want an hour after it opened", created.Ticket.FirstResponseDueAt)
	}
	fired, _ := s.Fire(now.Add(time.Hour))
	want(fired)
	for i, cmd := range []ticket.Command{
		{Action: ticket.ActionAnswer, Actor: actor},
		{Action: ticket.ActionComment, Actor: actor, Comment: "hi", CommentID: "c-1"},
		{Action: ticket.ActionAwait, Actor: actor},
		{Action: ticket.ActionClose, Actor: actor},
	} {
		ch, err := s.Apply(cmd, now.Add(time.Duration(2+i)*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		want(ch)
	}
	if s.Ticket.FirstResponseDueAt != nil || s.Ticket.AutoCloseAt != nil {
		t.Fatal("a closed ticket has a due time")
	}
}

// TestStateNoOp: an assign or tags that changes nothing uses no seq and leaves the state's ticket
// as it was; the next change's events follow the last ones without a gap. Its request is not
// remembered: sent again, it is applied again, a no-op again while the ticket is as it was.
func TestStateNoOp(t *testing.T) {
	s := started(t)
	if _, err := s.Apply(ticket.Command{Action: ticket.ActionAssign, Actor: actor, Assignee: ptr("bob"), RequestID: "r-1"}, rawNow); err != nil {
		t.Fatal(err)
	}
	before := snapshot(s.Ticket) // version 2, assigned to bob; LastSeq 2
	noops := []ticket.Command{
		{Action: ticket.ActionAssign, Actor: actor, Assignee: ptr("bob"), RequestID: "r-2"},
		{Action: ticket.ActionTags, Actor: actor, RemoveTags: []string{"absent"}, RequestID: "r-3"},
		{Action: ticket.ActionAssign, Actor: actor},
	}
	for _, c := range noops {
		ch, err := s.Apply(c, rawNow.Add(time.Minute))
		if err != nil {
			t.Fatalf("%s: %v", c.Action, err)
		}
		if len(ch.Events) != 0 || s.LastSeq != 2 {
			t.Fatalf("%s: events %+v, last seq %d; want none, 2", c.Action, ch.Events, s.LastSeq)
		}
		assertTicket(t, s.Ticket, before)
		assertTicket(t, ch.Ticket, before)
	}
	ch, err := s.Apply(ticket.Command{Action: ticket.ActionTags, Actor: actor, AddTags: []string{"vip"}, RequestID: "r-4"}, rawNow)
	if err != nil {
		t.Fatal(err)
	}
	if len(ch.Events) != 1 || ch.Events[0].Seq != 3 || s.LastSeq != 3 || s.Ticket.Version != 3 {
		t.Fatalf("after the no-ops: events %+v, last seq %d, version %d", ch.Events, s.LastSeq, s.Ticket.Version)
	}
	if !s.Seen("r-1") || !s.Seen("r-4") {
		t.Fatal("a request that changed the ticket was not remembered")
	}
	if s.Seen("r-2") || s.Seen("r-3") || len(s.Requests) != 2 {
		t.Fatalf("remembers %v; a no-op's request is not to be remembered", s.Requests)
	}
	again, err := s.Apply(noops[0], rawNow)
	if err != nil || len(again.Events) != 0 || s.LastSeq != 3 {
		t.Fatalf("a no-op sent again: %+v, %v", again, err)
	}
	// Once the ticket has moved on, the same request is a change like any other.
	if _, err := s.Apply(ticket.Command{Action: ticket.ActionAssign, Actor: actor, Assignee: ptr("alice")}, rawNow); err != nil {
		t.Fatal(err)
	}
	ch, err = s.Apply(noops[0], rawNow)
	if err != nil || len(ch.Events) != 1 || ch.Events[0].Seq != 5 || s.Ticket.Assignee != "bob" || !s.Seen("r-2") {
		t.Fatalf("r-2 after a reassignment: %+v, %v", ch, err)
	}
}

// TestStateRemembersOnlyWhatTheTrailNames: a request the state remembers is refused with EAPPLIED
// from then on, even in a later run, and whoever sent it is told to read its outcome from the
// trail: workflows.Client.Change asks the store's AppliedChange, which looks for an event whose
// data names the request, and answers EAPPLIED (409) when it finds none. So every request the
// state remembers must be named by an event it wrote. A no-op writes none; like a refused
// request (see Reject), it changed nothing, so it is nothing to apply twice and must not be
// remembered.
func TestStateRemembersOnlyWhatTheTrailNames(t *testing.T) {
	s := started(t)
	named := map[string]bool{}
	for _, c := range []ticket.Command{
		{Action: ticket.ActionAssign, Assignee: ptr("bob"), RequestID: "r-1"},
		{Action: ticket.ActionAssign, Assignee: ptr("bob"), RequestID: "r-2"},         // no-op
		{Action: ticket.ActionTags, RemoveTags: []string{"absent"}, RequestID: "r-3"}, // no-op
		{Action: ticket.ActionComment, Comment: "x", CommentID: "c", RequestID: "r-4"},
	} {
		ch, err := s.Apply(c, rawNow)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ch.Events {
			if id, ok := e.Data["request_id"].(string); ok {
				named[id] = true
			}
		}
	}
	for _, id := range s.Requests {
		if !named[id] {
			t.Errorf("request %s is remembered (a retry gets EAPPLIED) but no event names it", id)
		}
	}
}

// TestStateLateAnswerBreaches: a ticket answered after its first response was due, before the
// SLA's timer fired, missed its SLA all the same; one answered in time did not.
func TestStateLateAnswerBreaches(t *testing.T) {
	p := ticket.Policy{FirstResponseSLA: map[ticket.Priority]time.Duration{ticket.PriorityNormal: time.Hour},
		MaxSLAEscalations: 1}
	for _, tt := range []struct {
		name     string
		after    time.Duration
		breached bool
	}{{"in time", 59 * time.Minute, false}, {"when due", time.Hour, true}, {"late", 2 * time.Hour, true}} {
		t.Run(tt.name, func(t *testing.T) {
			s, _, err := ticket.Start(ticketID, ticket.NewTicket{Title: "Printer on fire"}, actor, p, rawNow)
			if err != nil {
				t.Fatal(err)
			}
			ch, err := s.Apply(ticket.Command{Action: ticket.ActionAnswer, Actor: actor}, now.Add(tt.after))
			if err != nil {
				t.Fatal(err)
			}
			switch at := ch.Ticket.SLABreachedAt; {
			case !tt.breached && at != nil:
				t.Fatalf("answered in time, yet breached at %v", at)
			case tt.breached && (at == nil || !at.Equal(now.Add(time.Hour))):
				t.Fatalf("breached at %v, want when the first response was due", at)
			}
		})
	}
}
