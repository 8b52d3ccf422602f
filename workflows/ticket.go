// Package workflows holds TicketWorkflow, the single writer of a ticket. Every change to a ticket,
// whether an update from the API or a signal from an automation, goes through one queue in the
// workflow and is applied by internal/ticket, persisted by an activity, and only then answered.
package workflows

import (
	"errors"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/ticketflow/ticketflow"
	"github.com/ticketflow/ticketflow/activities"
	"github.com/ticketflow/ticketflow/internal/ticket"
	"github.com/ticketflow/ticketflow/internal/wire"
)

// The names of the workflow's messages and its ID are the public package's (ticketflow), which
// also holds the payloads they carry. The updates and signals that change a ticket are named by
// its actions: comment, answer, await, close, escalate.
const (
	QueryTicket  = ticketflow.QueryTicket
	UpdateCreate = ticketflow.UpdateCreate
)

// WorkflowID returns the ID of the workflow of ticket id.
func WorkflowID(id string) string { return ticketflow.WorkflowID(id) }

// Input starts a ticket's workflow. Like every payload of the workflow it holds wire types, never
// the domain's (see internal/wire).
type Input struct {
	TicketID string         `json:"ticket_id"`
	New      wire.NewTicket `json:"new"`
	Actor    string         `json:"actor"`
	Policy   wire.Policy    `json:"policy"`
	// State is where the run before this one left the ticket when it continued as new; nil when
	// the workflow starts a new ticket.
	State *wire.State `json:"state,omitempty"`
	// RunLimit is how many updates and signals one run takes before it continues as new; 0 means
	// defaultRunLimit. Tests set it low to see several runs.
	RunLimit int `json:"run_limit,omitempty"`
}

// changeAutomations guards what this workflow added to the commands of the first ones: the
// timers, the search attributes and memo, and continue-as-new. Runs recorded before it (version
// workflow.DefaultVersion) replay without any of them.
const changeAutomations = "timers-and-search-attributes"

// changeLocalPersist guards the changes that cut what a change costs the server. Version 1: persisting with a
// local activity instead of a scheduled one (see persist). Version 2: keeping an armed timer that
// fires no later than the ticket's next deadline instead of cancelling it (see rearm). Runs
// recorded before a version replay as they were recorded; one change ID for both keeps a run to
// one marker.
const changeLocalPersist = "persist-local-activity"

// changeHelpdesk guards the search attributes of the queue (TicketAssignee, TicketGroup,
// TicketTags): runs recorded before it (workflow.DefaultVersion) set only the first three. Assign,
// tags and internal notes need no guard: a message of a new name is no command, and a run that
// began before still applies them.
const changeHelpdesk = "helpdesk-search-attributes"

// changeRequestOnce guards refusing a request that a batch holds twice (ticket.State.Apply).
const changeRequestOnce = "request-once-in-batch"

// changePersistUntilDone guards retrying a write that failed for good instead of failing the
// workflow (see persist).
const changePersistUntilDone = "persist-until-done"

// Limits on how much of the queue one activity persists at once. Batching makes a burst of changes
// to one ticket cost one activity instead of one each; the byte bound keeps the activity's input
// well under Temporal's payload limits, since one comment can be 80 KB.
const (
	maxBatch      = 64
	maxBatchBytes = 256 << 10
)

// persistOptions retries a failed write for as long as it takes: a change that was accepted must
// reach PostgreSQL and the cache, and both ignore a write they already hold. It is the durable
// path: the only one of runs from before changeLocalPersist, and the one that takes over from the
// local attempts (persistLocalOptions) when they do not succeed.
var persistOptions = workflow.ActivityOptions{
	StartToCloseTimeout: 10 * time.Second,
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval:    100 * time.Millisecond,
		BackoffCoefficient: 2,
		MaximumInterval:    5 * time.Second,
	},
}

// persistLocalOptions bound the local attempts at a write. A local activity runs in the worker
// within the workflow task that applied the change, so a change costs one workflow task and no
// activity task: no round trip through the server's task queues, and far fewer history events.
// Its retries run in the worker too, each backoff shorter than the workflow task timeout, while
// the worker keeps the task alive; that is right for a blip (a failover, a dropped connection),
// wrong for an outage, during which every heartbeat of the task adds events to the history and
// the ticket cannot continue as new. So the local attempts stop after MaximumAttempts (about 11 s
// of backoff) and the scheduled activity (persistOptions) takes over, which the server retries
// for as long as it takes without adding to the history. The attempts are counted rather than
// bounded in time: the SDK takes a retry's ScheduleToClose deadline from the workflow's clock and
// checks it against the worker's, so a deadline that could be reached would let a skew between the
// two (or a test's clock set in the past) cut the attempts short; hence one that cannot be.
var persistLocalOptions = workflow.LocalActivityOptions{
	ScheduleToCloseTimeout: 100 * 365 * 24 * time.Hour,
	StartToCloseTimeout:    10 * time.Second,
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval:    100 * time.Millisecond,
		BackoffCoefficient: 2,
		MaximumInterval:    5 * time.Second,
		MaximumAttempts:    8,
	},
}

// request is one change waiting in the queue, and its outcome once applied.
type request struct {
	cmd    ticket.Command
	signal bool // from a signal: nobody waits for the outcome, so a refusal is recorded as an event
	tick   bool // from a fired timer: its command is decided when its turn comes (see apply)
	done   bool
	change ticket.Change
	err    error
}

// ticketState is the workflow's state. Only the run loop writes it, except the queue and the count
// of messages taken, which the update handlers and the signal reader add to.
type ticketState struct {
	in     Input
	policy ticket.Policy // in.Policy
	// state is the ticket with all that its changes need (internal/ticket.State); the run loop
	// applies each change to it. ticket is the ticket as persisted, which the query and the
	// validators see: a change shows once it is written, never while it is being written.
	state   ticket.State
	ticket  ticket.Ticket
	queue   []*request
	signals []workflow.ReceiveChannel
	writing bool // a batch applied to state is being persisted
	// untilDone and onceInBatch cache persistsUntilDone and appliesOnceInBatch, nil until asked.
	untilDone, onceInBatch *bool

	// has says which of the workflow's versioned changes this run makes, fixed when it begins.
	has        versions
	timer      *armedTimer // the timer waiting for the ticket's next deadline, nil when none is
	tickQueued bool        // a fired timer's tick waits in the queue

	handled  int        // updates and signals this run has taken, to continue as new in time
	draining bool       // continuing as new: answers are held until nothing is left to apply
	held     []*request // applied and persisted, answered when the drain ends
}

// versions says which versioned changes a run makes; runs recorded before a change replay without
// it, as they were recorded.
type versions struct {
	// automated is false in runs that began before changeAutomations: they keep no timer, set no
	// search attribute and never continue as new.
	automated bool
	// localPersist is false in runs that began before changeLocalPersist: they persist with a
	// scheduled activity only. keepEarlierTimer is false in runs before its version 2.
	localPersist     bool
	keepEarlierTimer bool
	// helpdesk is false in runs that began before changeHelpdesk.
	helpdesk bool
}

// TicketWorkflow runs one ticket from creation until it is closed, continuing as new when its
// history grows long.
func TicketWorkflow(ctx workflow.Context, in Input) (ticketflow.Ticket, error) {
	persistVersion := workflow.GetVersion(ctx, changeLocalPersist, workflow.DefaultVersion, 2)
	s := &ticketState{in: in, policy: in.Policy.Domain(), has: versions{
		automated:        workflow.GetVersion(ctx, changeAutomations, workflow.DefaultVersion, 1) >= 1,
		localPersist:     persistVersion >= 1,
		keepEarlierTimer: persistVersion >= 2,
		helpdesk:         workflow.GetVersion(ctx, changeHelpdesk, workflow.DefaultVersion, 1) >= 1,
	}}
	if in.State != nil {
		s.restore(in.State.Domain()) // before the handlers, so that their validators see the ticket
	}
	if err := s.register(ctx); err != nil {
		return ticketflow.Ticket{}, err
	}
	if in.State == nil {
		if err := s.create(ctx); err != nil {
			return ticketflow.Ticket{}, err
		}
	}
	if err := s.run(ctx); err != nil {
		return ticketflow.Ticket{}, err // a ContinueAsNewError too
	}
	return wire.FromTicket(s.ticket), nil
}

// create opens the ticket, persists it, and only then makes it the workflow's.
func (s *ticketState) create(ctx workflow.Context) error {
	state, created, err := ticket.Start(s.in.TicketID, s.in.New.Domain(), s.in.Actor, s.policy, workflow.Now(ctx))
	if err != nil {
		return toApplicationError(err)
	}
	if err := s.persist(ctx, []ticket.Change{created}, false); err != nil {
		return err
	}
	s.state, s.ticket = state, state.Ticket
	if s.has.automated {
		return s.describe(ctx)
	}
	return nil
}

// register installs the query, the update handlers with their validators, and the signal reader.
func (s *ticketState) register(ctx workflow.Context) error {
	if err := workflow.SetQueryHandler(ctx, QueryTicket, func() (ticketflow.Ticket, error) {
		return wire.FromTicket(s.ticket), nil
	}); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateCreate, s.awaitCreated,
		workflow.UpdateHandlerOptions{Description: "wait until the ticket is created and return it"}); err != nil {
		return err
	}
	for _, action := range ticket.Actions {
		handler := func(ctx workflow.Context, cmd ticketflow.Command) (ticketflow.Change, error) {
			ch, err := s.submit(ctx, wire.DomainCommand(action, cmd))
			return wire.FromChange(ch), err
		}
		validator := func(ctx workflow.Context, cmd ticketflow.Command) error {
			return s.validate(wire.DomainCommand(action, cmd))
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
func (s *ticketState) awaitCreated(ctx workflow.Context) (ticketflow.Ticket, error) {
	s.handled++
	if err := workflow.Await(ctx, func() bool { return s.ticket.Version > 0 }); err != nil {
		return ticketflow.Ticket{}, err
	}
	return wire.FromTicket(s.ticket), nil
}

// validate refuses an update before it is written to history. It sees the ticket as it is now; the
// run loop checks again when the update's turn comes, since changes queued before it may have moved
// the ticket on.
func (s *ticketState) validate(cmd ticket.Command) error {
	if s.state.Seen(cmd.RequestID) {
		if s.writing {
			// Perhaps applied in the batch being written: the caller could not read the change
			// from the record yet. Its turn in the queue comes after the write, and the run
			// loop answers it EAPPLIED then.
			return nil
		}
		// Applied, perhaps in an earlier run; the caller reads the change from the record.
		return toApplicationError(ticket.Errorf(ticket.EAPPLIED, "request %s was applied already", cmd.RequestID))
	}
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
	s.handled++
	if err := workflow.Await(ctx, func() bool { return r.done }); err != nil {
		return ticket.Change{}, err
	}
	return r.change, toApplicationError(r.err)
}

// signalOrder is the order in which signals that reach the workflow in the same workflow task are
// queued. Temporal keeps no order between channels of different names, so the workflow picks one:
// comments and transitions, then assign and tags, then escalation, and close last, so that nothing sent together with a
// close is refused only because it was read after it. Signals of one name keep their order, and
// signals of different tasks are queued in the order the tasks came.
var signalOrder = []ticket.Action{
	ticket.ActionComment, ticket.ActionAnswer, ticket.ActionAwait, ticket.ActionAssign, ticket.ActionTags,
	ticket.ActionEscalate, ticket.ActionClose,
}

// readSignals moves signals into the queue. It never blocks in Receive: a signal stays counted in
// its channel's Len until it is queued, which is what lets wake see that one is waiting.
func (s *ticketState) readSignals(ctx workflow.Context) {
	for {
		if err := workflow.Await(ctx, s.signalWaiting); err != nil {
			return // the workflow is being cancelled
		}
		for i, ch := range s.signals {
			var payload ticketflow.Command
			for ch.ReceiveAsync(&payload) {
				cmd := wire.DomainCommand(signalOrder[i], payload)
				if cmd.Actor == "" {
					cmd.Actor = "automation"
				}
				s.queue = append(s.queue, &request{cmd: cmd, signal: true})
				s.handled++
				payload = ticketflow.Command{}
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
// answer: no queued change, no unread signal, no running handler. It returns a ContinueAsNewError
// when the run has taken enough messages, or Temporal suggests it, once the same holds.
func (s *ticketState) run(ctx workflow.Context) error {
	for {
		if err := s.showOutside(ctx); err != nil {
			return err
		}
		if err := workflow.Await(ctx, func() bool { return s.wake(ctx) }); err != nil {
			return err
		}
		if !s.signalWaiting() {
			s.takeTimer()
		}
		switch {
		case len(s.queue) > 0:
			// Once the run is due to continue as new, it answers nothing more until the queue is
			// empty (see answer).
			s.draining = s.draining || s.continueDue(ctx)
			if err := s.apply(ctx, s.take()); err != nil {
				return err
			}
		case len(s.held) > 0:
			s.release()
		case s.ticket.Status.IsFinal():
			return nil
		default:
			return s.continueAsNew(ctx)
		}
	}
}

// wake tells the run loop that it has something to do: a change to apply, a timer that fired,
// answers to release, or, when everything is answered and read, the end of the run. A fired timer
// waits for the signals of its task to be queued (see takeTimer).
func (s *ticketState) wake(ctx workflow.Context) bool {
	if len(s.queue) > 0 {
		return true
	}
	if s.signalWaiting() {
		return false // readSignals queues it first
	}
	return s.timerFired() || len(s.held) > 0 ||
		workflow.AllHandlersFinished(ctx) && (s.ticket.Status.IsFinal() || s.continueDue(ctx))
}

// showOutside shows the ticket as it now stands outside the workflow: in its search attributes, and
// in the timer that waits for its next deadline. A draining run arms no new timer: it ends within
// a batch or two, and the next run arms the timer from the state it carries.
func (s *ticketState) showOutside(ctx workflow.Context) error {
	if !s.has.automated {
		return nil
	}
	if err := s.publish(ctx); err != nil {
		return err
	}
	if !s.draining {
		s.rearm(ctx)
	}
	return nil
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
// they changed in one activity, and only then makes the new ticket the one the workflow shows and
// answers.
func (s *ticketState) apply(ctx workflow.Context, batch []*request) error {
	now := workflow.Now(ctx)
	var changes []ticket.Change
	inBatch := map[string]bool{} // the request IDs this batch applied
	for _, r := range batch {
		var ch ticket.Change
		switch {
		case r.tick:
			s.tickQueued = false
			var due bool
			if ch, due = s.state.Fire(now); !due {
				continue
			}
		default:
			var err error
			ch, err = s.state.Apply(r.cmd, now)
			if ticket.ErrorCode(err) == ticket.EAPPLIED && inBatch[r.cmd.RequestID] && !s.appliesOnceInBatch(ctx) {
				// Runs before changeRequestOnce applied a request again within its batch.
				again := r.cmd
				again.RequestID = ""
				ch, err = s.state.Apply(again, now)
			}
			if err == nil && len(ch.Events) == 0 {
				r.change = ch // an assign or tags that changes nothing: nothing to write
				continue
			}
			if err == nil {
				inBatch[r.cmd.RequestID] = true
			} else {
				r.err = err
				if !r.signal {
					continue // the update's caller learns of it
				}
				if ticket.ErrorCode(err) == ticket.EAPPLIED {
					continue // an automation sent the same signal again
				}
				ch = s.state.Reject(r.cmd, err, now)
			}
		}
		r.change = ch
		changes = append(changes, ch)
	}
	// A batch after which the run may end (the ticket closes, or the run drains to continue as
	// new) is written by a scheduled activity, never a local one; see persist.
	s.writing = true
	if err := s.persist(ctx, changes, s.draining || s.state.Ticket.Status.IsFinal()); err != nil {
		return err
	}
	s.writing = false
	s.ticket = s.state.Ticket
	s.answer(batch)
	return nil
}

// answer lets the updates of a persisted batch return. While the run drains before continuing as
// new it holds them until nothing is left to apply: a caller waiting for its answer sends nothing
// new, so the drain ends even under steady traffic. An update that reaches the server while the
// run's last task completes is never accepted by this run; the server has its caller retry it on
// the next one.
func (s *ticketState) answer(batch []*request) {
	if s.draining {
		s.held = append(s.held, batch...)
		return
	}
	for _, r := range batch {
		r.done = true
	}
}

// release answers the updates held by the drain.
func (s *ticketState) release() {
	for _, r := range s.held {
		r.done = true
	}
	s.held = nil
}

// persist runs the activity that writes changes to PostgreSQL and the cache, and returns once they
// are written, however long that takes: a change that was accepted must be written, and a ticket's
// workflow ends only by closing. In runs since changeLocalPersist it runs a local activity first
// (see persistLocalOptions), and a scheduled one when the local attempts did not succeed; a write
// done twice, locally and then by the scheduled activity, writes nothing twice. The activity marks
// no failure as final, so the server retries the scheduled one with capped backoff until the cause
// is gone (a dependency back, a fixed build deployed); the activities report each failure to ops.
//
// durable asks for the scheduled activity at once. A local activity writes before the workflow
// task that ran it is recorded, so that task must not fail after it: a failed task takes with it
// the updates it accepted (their callers hear that the outcome is unknown, though the changes are
// written), and the task that replaces it may apply another change first, under the versions and
// event numbers already written. A task that ends the run is the one that can fail for no fault
// of the worker: the server refuses to end a run while new messages wait for it (UnhandledCommand).
// So the batches after which the run may end, a close or the drain before continuing as new, are
// written by a scheduled activity: the task that schedules it records the updates it accepted,
// and the run ends in a later task. That is one ticket's close and one batch in a thousand.
func (s *ticketState) persist(ctx workflow.Context, changes []ticket.Change, durable bool) error {
	if len(changes) == 0 {
		return nil
	}
	var a *activities.Activities
	if s.has.localPersist && !durable {
		lctx := workflow.WithLocalActivityOptions(ctx, persistLocalOptions)
		err := workflow.ExecuteLocalActivity(lctx, a.Persist, wire.FromChanges(changes)).Get(lctx, nil)
		if err == nil || temporal.IsCanceledError(err) || nonRetryable(err) && !s.persistsUntilDone(ctx) {
			return err
		}
		workflow.GetLogger(ctx).Warn("persisting locally failed; retrying with a scheduled activity",
			"ticket_id", s.in.TicketID, "error", err)
	}
	actx := workflow.WithActivityOptions(ctx, persistOptions)
	for {
		err := workflow.ExecuteActivity(actx, a.Persist, wire.FromChanges(changes)).Get(actx, nil)
		if err == nil || temporal.IsCanceledError(err) || !s.persistsUntilDone(ctx) {
			return err
		}
		// The server gave up on the activity, which only a failure marked non-retryable makes it do.
		// Try again later rather than fail the ticket for good.
		workflow.GetLogger(ctx).Error("persisting failed; trying again later",
			"ticket_id", s.in.TicketID, "retry_in", persistRetryAfter, "error", err)
		if err := workflow.Sleep(ctx, persistRetryAfter); err != nil {
			return err
		}
	}
}

// appliesOnceInBatch reports whether this run refuses a request sent again within one batch; runs
// before changeRequestOnce checked a batch's requests only against those applied before it. It is
// asked only when a batch holds a request twice, so that other histories carry no marker.
func (s *ticketState) appliesOnceInBatch(ctx workflow.Context) bool {
	if s.onceInBatch == nil {
		v := workflow.GetVersion(ctx, changeRequestOnce, workflow.DefaultVersion, 1) >= 1
		s.onceInBatch = &v
	}
	return *s.onceInBatch
}

// persistRetryAfter is how long a write that the activity's retries gave up on waits before it is
// tried again.
const persistRetryAfter = time.Minute

// persistsUntilDone reports whether this run retries a failed write for as long as it takes;
// runs before changePersistUntilDone failed the workflow when the activity failed for good. It is
// asked only once a write has failed, so that histories with no failure carry no marker.
func (s *ticketState) persistsUntilDone(ctx workflow.Context) bool {
	if s.untilDone == nil {
		v := workflow.GetVersion(ctx, changePersistUntilDone, workflow.DefaultVersion, 1) >= 1
		s.untilDone = &v
	}
	return *s.untilDone
}

// nonRetryable reports whether the activity marked err as one that no retry can fix. Runs before
// changePersistUntilDone failed the workflow on it; today's activities mark no failure so.
func nonRetryable(err error) bool {
	var app *temporal.ApplicationError
	return errors.As(err, &app) && app.NonRetryable()
}
