package ticket

import "time"

// MaxRecentRequests bounds the request IDs a State remembers. A retry comes soon after its first
// attempt, so the latest IDs are the ones that matter; the workflow continues as new long before a
// run takes this many changes (its run limit is half of it), so the memory spans more than a run.
const MaxRecentRequests = 2000

// State is a ticket as its single writer holds it: the ticket, and what the ticket does not show
// but every change needs: the seq of the newest event (events are numbered without gaps), what the
// timers did, and the IDs of the latest requests applied, so that a request sent again, in the
// same batch, later or in another run, is recognised instead of applied twice.
//
// State is written by its methods only. The workflow carries it across continue-as-new, as
// internal/wire's State.
type State struct {
	Ticket  Ticket
	LastSeq int64
	Timers  TimerState
	// Requests are the IDs of the latest requests applied, oldest first.
	Requests []string
	// Policy is the ticket's timers, which the due times on the ticket follow. The workflow gives
	// it from its input, which carries it across continue-as-new too.
	Policy Policy

	seen map[string]bool // the set of Requests, built on first use
}

// Start opens a ticket with the timers of p, as Open does, and returns its state and the change
// that created it.
func Start(id string, n NewTicket, actor string, p Policy, now time.Time) (State, Change, error) {
	ch, err := Open(id, n, actor, now)
	if err != nil {
		return State{}, Change{}, err
	}
	s := State{Policy: p}
	s.record(&ch)
	return s, ch, nil
}

// Seen reports whether the request id has been applied already.
func (s *State) Seen(id string) bool {
	if id == "" {
		return false
	}
	s.index()
	return s.seen[id]
}

// Apply applies the command (see Ticket.Apply) and returns its change with its events numbered.
// A command whose RequestID was applied already is refused with EAPPLIED and changes nothing: the
// change it asks for is the one that request made.
func (s *State) Apply(c Command, now time.Time) (Change, error) {
	if s.Seen(c.RequestID) {
		return Change{}, Errorf(EAPPLIED, "request %s was applied already", c.RequestID)
	}
	ch, err := s.Ticket.Apply(c, now)
	if err != nil {
		return Change{}, err
	}
	s.record(&ch)
	if len(ch.Events) > 0 {
		// A request that changed nothing is not remembered: were it sent again, the record
		// would have no change of it to answer with, and sending it again changes nothing.
		s.remember(c.RequestID)
	}
	return ch, nil
}

// Reject records a refused command (see Ticket.Reject) and returns its change, numbered. The
// request is not remembered: it changed nothing, so nothing is applied twice if it comes again.
func (s *State) Reject(c Command, refusal error, now time.Time) Change {
	ch := s.Ticket.Reject(c, refusal, now)
	s.record(&ch)
	return ch
}

// Fire applies the timer that has fallen due at now, if one has, and returns its change. The
// timer fired for the ticket as it was when the timer was set; the changes applied since may have
// moved its deadline or ended it, so it is decided here, not when it was set.
func (s *State) Fire(now time.Time) (Change, bool) {
	d, due := s.Policy.Due(s.Ticket, s.Timers, now)
	if !due {
		return Change{}, false
	}
	ch, err := s.Apply(d.Command(), now)
	if err != nil {
		return Change{}, false // never: Policy.Next gives only deadlines whose change applies
	}
	s.Timers = s.Timers.After(d)
	if d.Timer == TimerFirstResponse && ch.Ticket.SLABreachedAt == nil {
		breached := ch.Ticket.UpdatedAt
		ch.Ticket.SLABreachedAt = &breached
	}
	s.stamp(&ch) // the timers moved on: so does the next deadline
	return ch, true
}

// record numbers the change's events after the last one, stamps its ticket with its due times,
// and makes it the state's.
func (s *State) record(ch *Change) {
	for i := range ch.Events {
		s.LastSeq++
		ch.Events[i].Seq = s.LastSeq
	}
	s.stamp(ch)
}

// stamp sets the change's due times from the deadline its ticket's timer has now, and makes its
// ticket the state's.
func (s *State) stamp(ch *Change) {
	t := &ch.Ticket
	t.FirstResponseDueAt, t.AutoCloseAt = nil, nil
	if d, ok := s.Policy.Next(*t, s.Timers); ok {
		at := d.At
		if d.Timer == TimerFirstResponse {
			t.FirstResponseDueAt = &at
		} else {
			t.AutoCloseAt = &at
		}
	}
	s.Ticket = *t
}

func (s *State) remember(id string) {
	if id == "" {
		return
	}
	s.index()
	s.Requests = append(s.Requests, id)
	s.seen[id] = true
	if len(s.Requests) > MaxRecentRequests {
		delete(s.seen, s.Requests[0])
		s.Requests = s.Requests[1:]
	}
}

func (s *State) index() {
	if s.seen != nil {
		return
	}
	s.seen = make(map[string]bool, len(s.Requests))
	for _, id := range s.Requests {
		s.seen[id] = true
	}
}
