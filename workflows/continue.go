package workflows

import (
	"go.temporal.io/sdk/workflow"

	"ticketflow/internal/ticket"
)

// State is what a ticket's workflow carries into its next run when it continues as new: all that
// the run's history held and the ticket does not show.
type State struct {
	Ticket  ticket.Ticket     `json:"ticket"`
	LastSeq int64             `json:"last_seq"` // the seq of the newest event in the audit trail
	Timers  ticket.TimerState `json:"timers"`
	// Requests are the IDs of the latest requests applied, oldest first (see recentRequests).
	Requests []string `json:"requests,omitempty"`
}

// defaultRunLimit is how many updates and signals one run takes before it continues as new. The
// server refuses updates past 2,000 in one run and signals past 10,000, and each message adds
// events to the history; continuing at half the first keeps every run well inside all of them.
const defaultRunLimit = 1000

// restore takes up the ticket where the previous run left it.
func (s *ticketState) restore(st State) {
	s.ticket, s.lastSeq, s.timers = st.Ticket, st.LastSeq, st.Timers
	for _, id := range st.Requests {
		s.requests.add(id)
	}
}

// continueDue reports whether the run should end and hand the ticket to a new one.
func (s *ticketState) continueDue(ctx workflow.Context) bool {
	if !s.automated {
		return false
	}
	limit := s.in.RunLimit
	if limit <= 0 {
		limit = defaultRunLimit
	}
	return s.handled >= limit || workflow.GetInfo(ctx).GetContinueAsNewSuggested()
}

// continueAsNew ends the run and starts the next with the whole state. The run loop calls it only
// when nothing is left: no queued change or tick, no unread signal, no held answer and no running
// handler, all within the workflow task that completes the run, so nothing is lost or applied
// twice. The pending timer needs no carrying: the next run arms it again from the state.
func (s *ticketState) continueAsNew(ctx workflow.Context) error {
	next := s.in
	next.State = &State{Ticket: s.ticket, LastSeq: s.lastSeq, Timers: s.timers, Requests: s.requests.order}
	return workflow.NewContinueAsNewError(ctx, TicketWorkflow, next)
}

// maxRecentRequests bounds the request IDs a ticket remembers across runs. Within one run Temporal
// itself answers a repeated update ID with the first outcome; a run takes at most defaultRunLimit
// messages, so remembering as many again covers a retry that spans one continue-as-new.
const maxRecentRequests = 2 * defaultRunLimit

// recentRequests remembers the IDs of the latest requests applied to the ticket, so that a request
// retried after its run continued as new is recognised instead of applied twice.
type recentRequests struct {
	order []string // oldest first; what continue-as-new carries
	seen  map[string]bool
}

func (r *recentRequests) add(id string) {
	if id == "" || r.seen[id] {
		return
	}
	if r.seen == nil {
		r.seen = map[string]bool{}
	}
	r.order = append(r.order, id)
	r.seen[id] = true
	if len(r.order) > maxRecentRequests {
		delete(r.seen, r.order[0])
		r.order = r.order[1:]
	}
}

func (r *recentRequests) has(id string) bool { return id != "" && r.seen[id] }
