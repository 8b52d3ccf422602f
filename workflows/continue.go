package workflows

import (
	"go.temporal.io/sdk/workflow"

	"github.com/ticketflow/ticketflow/internal/ticket"
	"github.com/ticketflow/ticketflow/internal/wire"
)

// defaultRunLimit is how many updates and signals one run takes before it continues as new. The
// server refuses updates past 2,000 in one run and signals past 10,000, and each message adds
// events to the history; continuing at half the first keeps every run well inside all of them.
const defaultRunLimit = 1000

// restore takes up the ticket where the previous run left it.
func (s *ticketState) restore(st ticket.State) {
	st.Policy = s.policy
	s.state, s.ticket = st, st.Ticket
}

// continueDue reports whether the run should end and hand the ticket to a new one.
func (s *ticketState) continueDue(ctx workflow.Context) bool {
	if !s.has.automated {
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
	state := wire.FromState(s.state)
	next.State = &state
	return workflow.NewContinueAsNewError(ctx, TicketWorkflow, next)
}
