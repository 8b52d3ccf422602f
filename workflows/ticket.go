// Package workflows holds TicketWorkflow, the single writer of a ticket. Every change to a ticket,
// whether an update from the API or a signal from an automation, goes through one queue in the
// workflow and is applied by internal/ticket, persisted by an activity, and only then answered.
package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"ticketflow/activities"
	"ticketflow/internal/ticket"
)

// Names of the workflow's query and of the update that confirms a ticket's creation. The updates
// and signals that change a ticket are named by its actions: comment, answer, await, close, escalate.
const (
	QueryTicket  = "ticket"
	UpdateCreate = "create"
)

// WorkflowID returns the ID of the workflow of ticket id.
func WorkflowID(id string) string { return "ticket-" + id }

// Input starts a ticket's workflow.
type Input struct {
	TicketID string           `json:"ticket_id"`
	New      ticket.NewTicket `json:"new"`
	Actor    string           `json:"actor"`
	Policy   ticket.Policy    `json:"policy"`
}

// Limits on how much of the queue one activity persists at once. Batching makes a burst of changes
// to one ticket cost one activity instead of one each; the byte bound keeps the activity's input
// well under Temporal's payload limits, since one comment can be 80 KB.
const (
	maxBatch      = 64
	maxBatchBytes = 256 << 10
)

// persistOptions retries a failed write for as long as it takes: a change that was accepted must
// reach PostgreSQL and the cache, and both ignore a write they already hold.
var persistOptions = workflow.ActivityOptions{
	StartToCloseTimeout: 10 * time.Second,
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval:    100 * time.Millisecond,
		BackoffCoefficient: 2,
		MaximumInterval:    5 * time.Second,
	},
}

// request is one change waiting in the queue, and its outcome once applied.
type request struct {
	cmd    ticket.Command
	signal bool // from a signal: nobody waits for the outcome, so a refusal is recorded as an event
	done   bool
	change ticket.Change
	err    error
}

// ticketState is the workflow's state. Only the run loop writes it.
type ticketState struct {
	ticket  ticket.Ticket
	lastSeq int64 // the seq of the newest event in the audit trail
	queue   []*request
	signals []workflow.ReceiveChannel
}

// TicketWorkflow runs one ticket from creation until it is closed.
func TicketWorkflow(ctx workflow.Context, in Input) (ticket.Ticket, error) {
	s := &ticketState{}
	if err := s.register(ctx); err != nil {
		return ticket.Ticket{}, err
	}
	created, err := ticket.Open(in.TicketID, in.New, in.Actor, workflow.Now(ctx))
	if err != nil {
		return ticket.Ticket{}, toApplicationError(err)
	}
	seq := number(&created, 0)
	if err := s.persist(ctx, []ticket.Change{created}); err != nil {
		return ticket.Ticket{}, err
	}
	s.ticket, s.lastSeq = created.Ticket, seq
	if err := s.run(ctx); err != nil {
		return ticket.Ticket{}, err
	}
	return s.ticket, nil
}

// register installs the query, the update handlers with their validators, and the signal reader.
func (s *ticketState) register(ctx workflow.Context) error {
	if err := workflow.SetQueryHandler(ctx, QueryTicket, func() (ticket.Ticket, error) {
		return s.ticket, nil
	}); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateCreate, s.awaitCreated,
		workflow.UpdateHandlerOptions{Description: "wait until the ticket is created and return it"}); err != nil {
		return err
	}
	for _, action := range ticket.Actions {
		handler := func(ctx workflow.Context, cmd ticket.Command) (ticket.Change, error) {
			cmd.Action = action
			return s.submit(ctx, cmd)
		}
		validator := func(ctx workflow.Context, cmd ticket.Command) error {
			cmd.Action = action
			return s.validate(cmd)
		}
		if err := workflow.SetUpdateHandlerWithOptions(ctx, string(action), handler, workflow.UpdateHandlerOptions{
			Validator:   validator,
			Description: string(action) + " the ticket; refused when the lifecycle forbids it",
		}); err != nil {
			return err
		}
	}
	for _, action := range signalOrder {
		s.signals = append(s.signals, workflow.GetSignalChannel(ctx, string(action)))
	}
	workflow.Go(ctx, s.readSignals)
	return nil
}

// awaitCreated is the update that UpdateWithStart sends along with the start, so that creating a
// ticket answers only once the ticket is persisted.
func (s *ticketState) awaitCreated(ctx workflow.Context) (ticket.Ticket, error) {
	if err := workflow.Await(ctx, func() bool { return s.ticket.Version > 0 }); err != nil {
		return ticket.Ticket{}, err
	}
	return s.ticket, nil
}

// validate refuses an update before it is written to history. It sees the ticket as it is now; the
// run loop checks again when the update's turn comes, since changes queued before it may have moved
// the ticket on.
func (s *ticketState) validate(cmd ticket.Command) error {
	if s.ticket.Version == 0 {
		// Not created yet: only the command's own fields can be checked.
		return toApplicationError(cmd.Normalize().Validate())
	}
	return toApplicationError(s.ticket.Check(cmd.Normalize()))
}

// submit queues an update's command and waits for its outcome.
func (s *ticketState) submit(ctx workflow.Context, cmd ticket.Command) (ticket.Change, error) {
	r := &request{cmd: cmd}
	s.queue = append(s.queue, r)
	if err := workflow.Await(ctx, func() bool { return r.done }); err != nil {
		return ticket.Change{}, err
	}
	return r.change, toApplicationError(r.err)
}

// signalOrder is the order in which signals that reach the workflow in the same workflow task are
// queued. Temporal keeps no order between channels of different names, so the workflow picks one:
// comments and transitions before escalation, and close last, so that nothing sent together with a
// close is refused only because it was read after it. Signals of one name keep their order, and
// signals of different tasks are queued in the order the tasks came.
var signalOrder = []ticket.Action{
	ticket.ActionComment, ticket.ActionAnswer, ticket.ActionAwait, ticket.ActionEscalate, ticket.ActionClose,
}

// readSignals moves signals into the queue. It never blocks in Receive: a signal stays counted in
// its channel's Len until it is queued, which is what lets finished see that one is waiting.
func (s *ticketState) readSignals(ctx workflow.Context) {
	for {
		if err := workflow.Await(ctx, s.signalWaiting); err != nil {
			return // the workflow is being cancelled
		}
		for i, ch := range s.signals {
			var cmd ticket.Command
			for ch.ReceiveAsync(&cmd) {
				cmd.Action = signalOrder[i]
				if cmd.Actor == "" {
					cmd.Actor = "automation"
				}
				s.queue = append(s.queue, &request{cmd: cmd, signal: true})
				cmd = ticket.Command{}
			}
		}
	}
}

func (s *ticketState) signalWaiting() bool {
	for _, ch := range s.signals {
		if ch.Len() > 0 {
			return true
		}
	}
	return false
}

// run applies queued changes, a batch at a time, until the ticket is closed and nothing is left to
// answer: no queued change, no unread signal, no running handler.
func (s *ticketState) run(ctx workflow.Context) error {
	for {
		if err := workflow.Await(ctx, func() bool { return len(s.queue) > 0 || s.finished(ctx) }); err != nil {
			return err
		}
		if len(s.queue) == 0 {
			return nil
		}
		if err := s.apply(ctx, s.take()); err != nil {
			return err
		}
	}
}

func (s *ticketState) finished(ctx workflow.Context) bool {
	return s.ticket.Status.IsFinal() && workflow.AllHandlersFinished(ctx) && !s.signalWaiting()
}

// take removes the next batch from the queue.
func (s *ticketState) take() []*request {
	n, size := 0, 0
	for n < len(s.queue) && n < maxBatch {
		size += len(s.queue[n].cmd.Comment)
		if n > 0 && size > maxBatchBytes {
			break
		}
		n++
	}
	batch := s.queue[:n:n]
	s.queue = s.queue[n:]
	return batch
}

// apply applies a batch in order, each command to the ticket the one before left, persists what
// they changed in one activity, and only then makes the new ticket the workflow's and answers.
func (s *ticketState) apply(ctx workflow.Context, batch []*request) error {
	now := workflow.Now(ctx)
	next, seq := s.ticket, s.lastSeq
	var changes []ticket.Change
	for _, r := range batch {
		ch, err := next.Apply(r.cmd, now)
		if err != nil {
			r.err = err
			if !r.signal {
				continue
			}
			ch = next.Reject(r.cmd, err, now)
		}
		seq = number(&ch, seq)
		next, r.change = ch.Ticket, ch
		changes = append(changes, ch)
	}
	if err := s.persist(ctx, changes); err != nil {
		return err
	}
	s.ticket, s.lastSeq = next, seq
	for _, r := range batch {
		r.done = true
	}
	return nil
}

// number gives the change's events the seqs after last and returns the last one given.
func number(ch *ticket.Change, last int64) int64 {
	for i := range ch.Events {
		last++
		ch.Events[i].Seq = last
	}
	return last
}

// persist runs the activity that writes changes to PostgreSQL and the cache.
func (s *ticketState) persist(ctx workflow.Context, changes []ticket.Change) error {
	if len(changes) == 0 {
		return nil
	}
	var a *activities.Activities
	ctx = workflow.WithActivityOptions(ctx, persistOptions)
	return workflow.ExecuteActivity(ctx, a.Persist, changes).Get(ctx, nil)
}
