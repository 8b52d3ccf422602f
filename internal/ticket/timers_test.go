package ticket_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/ticketflow/ticketflow/internal/ticket"
)

// policy is the configuration's default policy: the SLA of the fixture tickets (high) is 8h.
var policy = ticket.Policy{
	FirstResponseSLA: map[ticket.Priority]time.Duration{
		ticket.PriorityLow: 72 * time.Hour, ticket.PriorityNormal: 24 * time.Hour,
		ticket.PriorityHigh: 8 * time.Hour, ticket.PriorityUrgent: time.Hour,
	},
	MaxSLAEscalations: 3,
	AutoCloseAfter:    7 * 24 * time.Hour,
}

// with returns the default policy changed by fn.
func with(fn func(p *ticket.Policy)) ticket.Policy {
	p := policy
	p.FirstResponseSLA = map[ticket.Priority]time.Duration{}
	for k, v := range policy.FirstResponseSLA {
		p.FirstResponseSLA[k] = v
	}
	fn(&p)
	return p
}

func TestPolicyNext(t *testing.T) {
	// ticketIn's tickets were created at created and last changed an hour later.
	changed := created.Add(time.Hour)
	sla := func(n int) ticket.Deadline {
		return ticket.Deadline{Timer: ticket.TimerFirstResponse, At: created.Add(time.Duration(n) * 8 * time.Hour)}
	}
	autoClose := ticket.Deadline{Timer: ticket.TimerAutoClose, At: changed.Add(7 * 24 * time.Hour)}
	tests := []struct {
		name     string
		policy   ticket.Policy
		status   ticket.Status
		priority ticket.Priority // "" keeps the fixture's high
		done     int             // SLA escalations made so far
		want     *ticket.Deadline
	}{
		{"open: the SLA of its priority from creation", policy, ticket.StatusOpen, "", 0, ptr(sla(1))},
		{"open: after one SLA escalation, one period later", policy, ticket.StatusOpen, "", 1, ptr(sla(2))},
		{"open: the last escalation under the ceiling", policy, ticket.StatusOpen, "", 2, ptr(sla(3))},
		{"open: the ceiling reached", policy, ticket.StatusOpen, "", 3, nil},
		{"open: past the ceiling", policy, ticket.StatusOpen, "", 7, nil},
		{"open: low priority has its own SLA", policy, ticket.StatusOpen, ticket.PriorityLow, 0,
			&ticket.Deadline{Timer: ticket.TimerFirstResponse, At: created.Add(72 * time.Hour)}},
		{"open: urgent, second period", policy, ticket.StatusOpen, ticket.PriorityUrgent, 1,
			&ticket.Deadline{Timer: ticket.TimerFirstResponse, At: created.Add(2 * time.Hour)}},
		{"open: zero SLA of its priority is off", with(func(p *ticket.Policy) { p.FirstResponseSLA[ticket.PriorityHigh] = 0 }),
			ticket.StatusOpen, "", 0, nil},
		{"open: negative SLA is off", with(func(p *ticket.Policy) { p.FirstResponseSLA[ticket.PriorityHigh] = -time.Hour }),
			ticket.StatusOpen, "", 0, nil},
		{"open: a priority missing from the policy is off", with(func(p *ticket.Policy) { delete(p.FirstResponseSLA, ticket.PriorityHigh) }),
			ticket.StatusOpen, "", 0, nil},
		{"open: zero ceiling is off", with(func(p *ticket.Policy) { p.MaxSLAEscalations = 0 }), ticket.StatusOpen, "", 0, nil},
		{"open: a deadline beyond time.Duration never falls due",
			with(func(p *ticket.Policy) { p.FirstResponseSLA[ticket.PriorityHigh] = 200 * 365 * 24 * time.Hour }),
			ticket.StatusOpen, "", 1, nil},
		{"open: auto-close does not apply", with(func(p *ticket.Policy) { p.FirstResponseSLA = nil }), ticket.StatusOpen, "", 0, nil},
		{"answered: auto-close from the last change", policy, ticket.StatusAnswered, "", 0, &autoClose},
		{"awaiting: auto-close from the last change", policy, ticket.StatusAwaiting, "", 0, &autoClose},
		{"awaiting: the SLA count does not matter", policy, ticket.StatusAwaiting, "", 3, &autoClose},
		{"answered: zero auto-close is off", with(func(p *ticket.Policy) { p.AutoCloseAfter = 0 }), ticket.StatusAnswered, "", 0, nil},
		{"closed: no timer", policy, ticket.StatusClosed, "", 0, nil},
		{"the zero policy: no timer on open", ticket.Policy{}, ticket.StatusOpen, "", 0, nil},
		{"the zero policy: no timer on answered", ticket.Policy{}, ticket.StatusAnswered, "", 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tk := ticketIn(t, tt.status)
			if tt.priority != "" {
				tk.Priority = tt.priority
			}
			before := snapshot(tk)
			got, ok := tt.policy.Next(tk, ticket.TimerState{SLAEscalations: tt.done})
			assertUnchanged(t, before, tk)
			if tt.want == nil {
				if ok {
					t.Fatalf("Next = %+v, want no timer", got)
				}
				return
			}
			if !ok || !got.Equal(*tt.want) {
				t.Fatalf("Next = %+v, %v; want %+v", got, ok, *tt.want)
			}
		})
	}
}

func TestPolicyDue(t *testing.T) {
	tk := ticketIn(t, ticket.StatusAnswered)
	at := tk.UpdatedAt.Add(policy.AutoCloseAfter)
	tests := []struct {
		name string
		tk   ticket.Ticket
		now  time.Time
		want bool
	}{
		{"a microsecond early", tk, at.Add(-time.Microsecond), false},
		{"on the deadline", tk, at, true},
		{"late, as after a worker was down", tk, at.Add(3 * time.Hour), true},
		{"a change moved the deadline", func() ticket.Ticket { c := tk; c.UpdatedAt = at.Add(-time.Minute); return c }(), at, false},
		{"the ticket was closed", ticketIn(t, ticket.StatusClosed), at, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, ok := policy.Due(tt.tk, ticket.TimerState{}, tt.now)
			if ok != tt.want {
				t.Fatalf("Due = %+v, %v; want %v", d, ok, tt.want)
			}
			if ok && (d.Timer != ticket.TimerAutoClose || !d.At.Equal(at)) {
				t.Fatalf("Due = %+v, want auto_close at %s", d, at)
			}
		})
	}
}

func TestDeadlineCommand(t *testing.T) {
	tests := []struct {
		timer ticket.Timer
		want  ticket.Command
	}{
		{ticket.TimerFirstResponse, ticket.Command{Action: ticket.ActionEscalate, Actor: "ticketflow", Reason: "first_response_sla"}},
		{ticket.TimerAutoClose, ticket.Command{Action: ticket.ActionClose, Actor: "ticketflow", Reason: "timeout"}},
	}
	for _, tt := range tests {
		t.Run(string(tt.timer), func(t *testing.T) {
			got := ticket.Deadline{Timer: tt.timer, At: now}.Command()
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Command = %+v, want %+v", got, tt.want)
			}
			assertFields(t, got.Validate())
		})
	}
}

func TestTimerStateAfter(t *testing.T) {
	ts := ticket.TimerState{SLAEscalations: 1}
	if got := ts.After(ticket.Deadline{Timer: ticket.TimerFirstResponse}); got.SLAEscalations != 2 {
		t.Errorf("after an SLA escalation: %+v, want 2", got)
	}
	if got := ts.After(ticket.Deadline{Timer: ticket.TimerAutoClose}); got.SLAEscalations != 1 {
		t.Errorf("after an auto-close: %+v, want 1", got)
	}
}

// TestTimersDriveATicket lets the timers alone act on a ticket, as the workflow does: every
// deadline that falls due applies, the SLA stops at its ceiling, the answer stops it for good, and
// the auto-close ends the ticket with the reason timeout.
func TestTimersDriveATicket(t *testing.T) {
	p := with(func(p *ticket.Policy) { p.MaxSLAEscalations = 2 })
	opened, err := ticket.Open(ticketID, ticket.NewTicket{Title: "Printer on fire", Priority: "urgent"}, actor, rawNow)
	if err != nil {
		t.Fatal(err)
	}
	tk, ts := opened.Ticket, ticket.TimerState{}

	// fire applies the deadline that is due at its own instant, as a timer that fires on time does.
	fire := func(want ticket.Timer, at time.Time) ticket.Change {
		t.Helper()
		d, ok := p.Next(tk, ts)
		if !ok || d.Timer != want || !d.At.Equal(at) {
			t.Fatalf("Next = %+v, %v; want %s at %s", d, ok, want, at)
		}
		if _, early := p.Due(tk, ts, at.Add(-time.Nanosecond)); early {
			t.Fatalf("%s due before %s", want, at)
		}
		due, ok := p.Due(tk, ts, at)
		if !ok || !due.Equal(d) {
			t.Fatalf("Due at %s = %+v, %v", at, due, ok)
		}
		ch, err := tk.Apply(d.Command(), at)
		if err != nil {
			t.Fatalf("the %s deadline's command was refused: %v", want, err)
		}
		tk, ts = ch.Ticket, ts.After(d)
		return ch
	}

	for level := 1; level <= 2; level++ {
		ch := fire(ticket.TimerFirstResponse, now.Add(time.Duration(level)*time.Hour))
		assertEvents(t, ch.Events, ticket.Event{Type: ticket.EventEscalated, Actor: "ticketflow",
			At: now.Add(time.Duration(level) * time.Hour), Data: map[string]any{"level": level, "reason": "first_response_sla"}})
	}
	if d, ok := p.Next(tk, ts); ok {
		t.Fatalf("the SLA went past its ceiling of 2: %+v", d)
	}

	// A manual escalation raises the level but is not the SLA's: the ceiling still holds.
	manual, err := tk.Apply(ticket.Command{Action: ticket.ActionEscalate, Actor: actor}, now.Add(150*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	tk = manual.Ticket
	if d, ok := p.Next(tk, ts); ok || tk.EscalationLevel != 3 {
		t.Fatalf("after a manual escalation: level %d, next %+v %v", tk.EscalationLevel, d, ok)
	}

	answered := now.Add(3 * time.Hour)
	ch, err := tk.Apply(ticket.Command{Action: ticket.ActionAnswer, Actor: actor}, answered)
	if err != nil {
		t.Fatal(err)
	}
	tk = ch.Ticket
	closedAt := answered.Add(7 * 24 * time.Hour)
	ch = fire(ticket.TimerAutoClose, closedAt)
	if tk.Status != ticket.StatusClosed || tk.CloseReason == nil || *tk.CloseReason != "timeout" || !tk.ClosedAt.Equal(closedAt) {
		t.Fatalf("auto-closed ticket %+v", tk)
	}
	assertEvents(t, ch.Events, ticket.Event{Type: ticket.EventStatusChanged, FromStatus: ticket.StatusAnswered,
		ToStatus: ticket.StatusClosed, Actor: "ticketflow", At: closedAt, Data: map[string]any{"reason": "timeout"}})
	if d, ok := p.Next(tk, ts); ok {
		t.Fatalf("a closed ticket has a timer: %+v", d)
	}
}

// TestEveryDeadlineApplies checks, for every status and timer, that a deadline the policy gives is
// a change the lifecycle accepts: a fired timer always moves the ticket on, so it never fires again
// for the same deadline.
func TestEveryDeadlineApplies(t *testing.T) {
	for _, st := range ticket.Statuses {
		for _, pr := range ticket.Priorities {
			tk := ticketIn(t, st)
			tk.Priority = pr
			d, ok := policy.Next(tk, ticket.TimerState{})
			if !ok {
				if st != ticket.StatusClosed {
					t.Errorf("%s %s ticket has no timer under the default policy", pr, st)
				}
				continue
			}
			ch, err := tk.Apply(d.Command(), d.At)
			if err != nil {
				t.Errorf("%s %s: %s refused: %v", pr, st, d.Timer, err)
				continue
			}
			if next, ok := policy.Next(ch.Ticket, ticket.TimerState{}.After(d)); ok && !next.At.After(d.At) {
				t.Errorf("%s %s: after %s the next deadline %+v is not later", pr, st, d.Timer, next)
			}
		}
	}
}
