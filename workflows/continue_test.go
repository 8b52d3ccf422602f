package workflows_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/workflow"

	"github.com/ticketflow/ticketflow/internal/ticket"
	"github.com/ticketflow/ticketflow/internal/wire"
	"github.com/ticketflow/ticketflow/workflows"
)

// requireContinued fails unless the workflow continued as new as a TicketWorkflow, and returns the
// input of its next run.
func (h *harness) requireContinued() workflows.Input {
	h.t.Helper()
	err := h.env.GetWorkflowError()
	var can *workflow.ContinueAsNewError
	require.True(h.t, errors.As(err, &can), "workflow ended with %v, want continue-as-new", err)
	require.Equal(h.t, "TicketWorkflow", can.WorkflowType.Name)
	var next workflows.Input
	require.NoError(h.t, converter.GetDefaultDataConverter().FromPayloads(can.Input, &next))
	require.NotNil(h.t, next.State, "the next run carries no state")
	return next
}

// nextRun returns a harness for the run that h's workflow continued as, starting after h's
// workflow at the given time.
func (h *harness) nextRun(t *testing.T, at time.Duration) *harness {
	t.Helper()
	next := newHarness(t)
	next.in = h.requireContinued()
	next.env.SetStartTime(start.Add(at))
	return next
}

// comments returns n comment updates.
func comments(from, n int) []msg {
	var msgs []msg
	for i := from; i < from+n; i++ {
		msgs = append(msgs, update(ticket.ActionComment, ticket.Command{Actor: agent,
			Comment: fmt.Sprintf("comment %d", i), CommentID: fmt.Sprintf("c-%d", i)}))
	}
	return msgs
}

// TestContinueAsNewAfterRunLimit lets one run take RunLimit messages: it then continues as new
// with the whole state, and the next run goes on where it stopped, answering the same ticket.
func TestContinueAsNewAfterRunLimit(t *testing.T) {
	h := newHarness(t)
	h.in.RunLimit = 5
	created := h.sendAt(0, createUpdate)[0]
	outs, _ := h.steps(time.Minute, comments(1, 4)...) // the create and 4 comments make 5
	h.run()

	require.True(t, created.completed)
	for _, o := range outs {
		requireApplied(t, o)
	}
	first := h.rec.changes()
	requireTrail(t, first)
	last := first[len(first)-1]
	next := h.requireContinued()
	require.Equal(t, &wire.State{Ticket: wire.FromTicket(last.Ticket), LastSeq: last.Events[len(last.Events)-1].Seq},
		roundTrip[*wire.State](next.State))
	want := h.in
	want.State = next.State
	require.Equal(t, roundTrip[workflows.Input](want), next, "the next run starts with the same input and the state")

	// The next run takes up the ticket: no second creation, the version and the trail go on.
	h2 := h.nextRun(t, 5*time.Minute)
	again := h2.sendAt(0, createUpdate)[0]
	queried := h2.queryAt(time.Second)
	more := h2.sendAt(time.Minute, comments(5, 1)...)[0]
	h2.run()
	h2.requireCancelled()

	require.True(t, again.completed)
	require.Equal(t, last.Ticket, answeredTicket(again.value), "a retried create finds the ticket")
	require.Equal(t, last.Ticket, *queried)
	ch := requireApplied(t, more)
	require.Equal(t, last.Ticket.Version+1, ch.Ticket.Version)
	require.Equal(t, 5, ch.Ticket.CommentsCount)
	requireTrail(t, slices.Concat(first, h2.rec.changes()))
	require.Len(t, h2.rec.changes(), 1, "the next run persisted only its own change")
}

// TestContinueAsNewWhenSuggested continues as soon as Temporal suggests it and nothing is pending.
func TestContinueAsNewWhenSuggested(t *testing.T) {
	h := newHarness(t)
	h.env.SetContinueAsNewSuggested(true)
	created := h.sendAt(0, createUpdate)[0]
	h.run()

	require.True(t, created.completed, "the create answered before the run ended")
	next := h.requireContinued()
	require.Equal(t, wantCreated(t).Ticket, next.State.Domain().Ticket)
	require.Equal(t, int64(1), next.State.LastSeq)
}

// TestContinueAsNewDrains sends a burst of updates and signals, some of them in the task that
// persists a batch, to a run that is due to continue: every one applies exactly once before the
// run ends, every update is answered, and the state carries all of it.
func TestContinueAsNewDrains(t *testing.T) {
	h := newHarness(t)
	h.in.RunLimit = 3
	late := signal(ticket.ActionEscalate, ticket.Command{Actor: "bot", Reason: "late"})
	late.skipTask = true
	lateComment := signal(ticket.ActionComment, ticket.Command{Actor: "bot", Comment: "late too", CommentID: "s-2"})
	lateComment.skipTask = true
	burst := append(comments(1, 6),
		signal(ticket.ActionComment, ticket.Command{Actor: "bot", Comment: "from bot", CommentID: "s-1"}),
		update(ticket.ActionAnswer, ticket.Command{Actor: agent}),
		late, lateComment)
	outs := h.sendAt(time.Minute, burst...)
	h.run()

	for i, o := range outs {
		if o != nil {
			requireApplied(t, o)
			require.Equal(t, start.Add(time.Minute), o.doneAt, "update %d", i)
		}
	}
	changes := h.rec.changes()
	requireTrail(t, changes)
	require.Len(t, changes, 1+len(burst), "every message applied once")
	for _, ch := range changes {
		require.False(t, isRejection(ch), "refused: %+v", ch.Events)
	}
	next := h.requireContinued()
	final := changes[len(changes)-1].Ticket
	require.Equal(t, final, next.State.Domain().Ticket)
	require.Equal(t, 8, final.CommentsCount)
	require.Equal(t, 1, final.EscalationLevel)
	require.Equal(t, ticket.StatusAnswered, final.Status)
}

// TestContinueAsNewHoldsAnswers checks the drain's hold: once the run is due to continue, the
// updates it applies are answered together when nothing is left, not batch by batch.
func TestContinueAsNewHoldsAnswers(t *testing.T) {
	h := newHarness(t)
	h.in.RunLimit = 2
	// The second batch's Persist fails once, so the drain spans two batches and a retry.
	h.rec.fail = func(attempt int32, changes []ticket.Change) error {
		if attempt == 1 && changes[0].Ticket.Version == 3 {
			return errors.New("connection reset")
		}
		return nil
	}
	first := h.sendAt(time.Minute, comments(1, 1)...)[0]
	due := h.sendAt(2*time.Minute, comments(2, 1)...)[0]                       // the run's second message
	later := h.sendAt(2*time.Minute+50*time.Millisecond, comments(3, 1)...)[0] // during the retry
	h.run()

	requireApplied(t, first)
	require.Equal(t, start.Add(time.Minute), first.doneAt, "answered with its batch")
	requireApplied(t, due)
	laterChange := requireApplied(t, later)
	require.Contains(t, due.persisted, laterChange,
		"the update that made the run due was answered before the drain had applied everything")
	require.Equal(t, start.Add(2*time.Minute+100*time.Millisecond), due.doneAt)
	require.Equal(t, int64(4), h.requireContinued().State.Ticket.Version)
}

// TestContinueAsNewCarriesTimers continues a ticket in the middle of its timers: the next run arms
// them again from the state, so the SLA keeps its schedule and ceiling, and the auto-close its
// deadline.
func TestContinueAsNewCarriesTimers(t *testing.T) {
	t.Run("first-response SLA", func(t *testing.T) {
		h := newHarness(t)
		h.in.Policy = wire.FromPolicy(policy)
		h.in.RunLimit = 2
		h.sendAt(9*time.Hour, comments(1, 2)...) // after the first escalation at 8h
		h.run()
		next := h.requireContinued()
		require.Equal(t, ticket.TimerState{SLAEscalations: 1}, next.State.Domain().Timers)

		h2 := h.nextRun(t, 9*time.Hour)
		h2.until = 3 * day
		h2.run()
		h2.requireCancelled()
		all := slices.Concat(h.rec.changes(), h2.rec.changes())
		requireTrail(t, all)
		require.Equal(t, []automated{escalatedAt(8*time.Hour, 1), escalatedAt(16*time.Hour, 2), escalatedAt(24*time.Hour, 3)},
			timerChanges(t, all))
	})
	t.Run("auto-close", func(t *testing.T) {
		h := newHarness(t)
		h.in.Policy = wire.FromPolicy(policy)
		h.in.RunLimit = 2
		h.steps(time.Minute, update(ticket.ActionAnswer, ticket.Command{Actor: agent}),
			update(ticket.ActionComment, ticket.Command{Actor: agent, Comment: "done?", CommentID: "c-1"}))
		h.run()
		h.requireContinued()

		h2 := h.nextRun(t, 2*time.Minute)
		h2.until = 30 * day
		h2.run()
		all := slices.Concat(h.rec.changes(), h2.rec.changes())
		requireTrail(t, all)
		require.Equal(t, []automated{closedAt(2*time.Minute + 7*day)}, timerChanges(t, all))
		require.Equal(t, ticket.StatusClosed, h2.requireCompleted().Status)
	})
}

// TestClosedTicketCompletesInsteadOfContinuing reaches the run limit with the close: the workflow
// completes, since a closed ticket has nothing to continue.
func TestClosedTicketCompletesInsteadOfContinuing(t *testing.T) {
	h := newHarness(t)
	h.in.RunLimit = 2
	h.steps(time.Minute, update(ticket.ActionAnswer, ticket.Command{Actor: agent}),
		update(ticket.ActionClose, ticket.Command{Actor: agent}))
	h.run()
	require.Equal(t, ticket.StatusClosed, h.requireCompleted().Status)
}

// TestRunsBeforeAutomations runs the workflow as a history recorded before changeAutomations
// replays it: no timer, no search attribute, no memo, no continue-as-new, whatever the input says.
func TestRunsBeforeAutomations(t *testing.T) {
	h := newHarness(t)
	h.env.OnGetVersion("timers-and-search-attributes", workflow.DefaultVersion, 1).Return(workflow.DefaultVersion)
	upserts := h.recordVisibility()
	timers := h.logTimers()
	h.in.Policy = wire.FromPolicy(policy)
	h.in.RunLimit = 1
	h.until = 30 * day
	h.steps(time.Minute, append(comments(1, 3), update(ticket.ActionAnswer, ticket.Command{Actor: agent}))...)
	h.run()
	h.requireCancelled()

	require.Len(t, h.rec.changes(), 5)
	require.Empty(t, timerChanges(t, h.rec.changes()))
	require.Empty(t, timers.started)
	require.Empty(t, upserts.attributes)
	require.Empty(t, upserts.memos)
}

// TestRetriedRequestAcrossContinueAsNew retries a request after the run that applied it continued
// as new. Temporal recognises a repeated update ID only within one run, so the workflow carries the
// IDs of recent requests: the retry is refused as already applied, and nothing is applied twice,
// whether it comes as an update or as an automation's signal.
func TestRetriedRequestAcrossContinueAsNew(t *testing.T) {
	h := newHarness(t)
	h.in.RunLimit = 3
	h.sendAt(0, createUpdate)
	first := update(ticket.ActionComment, ticket.Command{Actor: agent, Comment: "once", CommentID: "c-1", RequestID: "req-1"})
	outs, _ := h.steps(time.Minute, first, update(ticket.ActionEscalate, ticket.Command{Actor: agent}))
	h.run()
	requireApplied(t, outs[0])
	next := h.requireContinued()
	require.Equal(t, []string{"req-1"}, next.State.Requests)

	h2 := h.nextRun(t, 5*time.Minute)
	retried := h2.sendAt(time.Minute, first)[0]
	h2.sendAt(2*time.Minute, signal(ticket.ActionComment, ticket.Command{Actor: "bot", Comment: "once", CommentID: "c-1", RequestID: "req-1"}))
	fresh := h2.sendAt(3*time.Minute, update(ticket.ActionComment, ticket.Command{Actor: agent, Comment: "new", CommentID: "c-2", RequestID: "req-2"}))[0]
	h2.run()
	requireRefused(t, retried, ticket.EAPPLIED)
	ch := requireApplied(t, fresh)
	require.Equal(t, next.State.Ticket.Version+1, ch.Ticket.Version, "the retry or the resent signal was applied")
	require.Equal(t, 2, ch.Ticket.CommentsCount)
}
