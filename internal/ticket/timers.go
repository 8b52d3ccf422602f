package ticket

import "time"

// The actor and the reasons of the changes that a ticket's timers make, as its audit trail shows
// them: whoever reads the trail sees that nobody asked, and why the ticket moved anyway.
const (
	TimerActor             = "ticketflow"
	ReasonFirstResponseSLA = "first_response_sla"
	ReasonTimeout          = "timeout"
)

// Timer names one of the timers that act on a ticket by themselves.
type Timer string

// The timers of a ticket. At most one of them runs at a time: the first-response SLA while the
// ticket is open, the auto-close while it is answered or awaiting.
const (
	TimerFirstResponse Timer = "first_response_sla"
	TimerAutoClose     Timer = "auto_close"
)

// TimerState is what a ticket's timers have done so far that the ticket itself does not show. The
// workflow keeps it next to the ticket and carries it into its next run.
type TimerState struct {
	// SLAEscalations counts the escalations that the first-response SLA made. Escalations that
	// someone asked for raise the ticket's level too, but do not use up the SLA's ceiling.
	SLAEscalations int
}

// Deadline is when a ticket's next timer falls due, and which timer it is.
type Deadline struct {
	Timer Timer
	At    time.Time
}

// Equal reports whether d and o are the same timer falling due at the same instant.
func (d Deadline) Equal(o Deadline) bool {
	return d.Timer == o.Timer && d.At.Equal(o.At)
}

// Command returns the change that the deadline's timer makes when it falls due.
func (d Deadline) Command() Command {
	if d.Timer == TimerAutoClose {
		return Command{Action: ActionClose, Actor: TimerActor, Reason: ReasonTimeout}
	}
	return Command{Action: ActionEscalate, Actor: TimerActor, Reason: ReasonFirstResponseSLA}
}

// Next returns the ticket's next deadline under p, and false when no timer should run:
//   - open: the first-response SLA of its priority, counted from its creation, falls due after
//     each further period (created + 1, 2, 3… periods) until it has escalated MaxSLAEscalations
//     times. Counting from creation keeps the schedule when a timer fires late.
//   - answered or awaiting: the auto-close falls due AutoCloseAfter after the last accepted change
//     (UpdatedAt), so any change, a comment included, is activity that postpones it.
//   - closed: nothing.
//
// A zero (or negative) duration or ceiling turns its timer off.
func (p Policy) Next(t Ticket, ts TimerState) (Deadline, bool) {
	var d Deadline
	switch t.Status {
	case StatusOpen:
		sla := p.FirstResponseSLA[t.Priority]
		periods := int64(ts.SLAEscalations) + 1
		if sla <= 0 || ts.SLAEscalations >= p.MaxSLAEscalations || sla > maxDuration/time.Duration(periods) {
			return Deadline{}, false
		}
		d = Deadline{Timer: TimerFirstResponse, At: t.CreatedAt.Add(time.Duration(periods) * sla)}
	case StatusAnswered, StatusAwaiting:
		if p.AutoCloseAfter <= 0 {
			return Deadline{}, false
		}
		d = Deadline{Timer: TimerAutoClose, At: t.UpdatedAt.Add(p.AutoCloseAfter)}
	default:
		return Deadline{}, false
	}
	// The lifecycle has the last word: a timer never asks for a change the ticket would refuse, so
	// a deadline that falls due always moves the ticket on.
	if t.Check(d.Command()) != nil {
		return Deadline{}, false
	}
	return d, true
}

// Due returns the deadline that has fallen due for t at now, and false when none has. The workflow
// asks it when a fired timer's turn in the queue comes, since the changes queued before it may
// have moved the deadline or stopped the timer.
func (p Policy) Due(t Ticket, ts TimerState, now time.Time) (Deadline, bool) {
	d, ok := p.Next(t, ts)
	if !ok || now.Before(d.At) {
		return Deadline{}, false
	}
	return d, true
}

// After returns the timer state once the deadline's change has applied.
func (ts TimerState) After(d Deadline) TimerState {
	if d.Timer == TimerFirstResponse {
		ts.SLAEscalations++
	}
	return ts
}

// maxDuration is the longest time.Duration; a deadline further away than that never falls due.
const maxDuration = time.Duration(1<<63 - 1)
