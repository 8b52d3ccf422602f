package workflows_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/ticketflow/ticketflow"
	"github.com/ticketflow/ticketflow/internal/ticket"
	"github.com/ticketflow/ticketflow/internal/wire"
	"github.com/ticketflow/ticketflow/workflows"
)

// start is when every test's workflow starts, on the test environment's clock.
var start = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

const (
	ticketID  = "0193a0f4-0000-7000-8000-000000000001"
	requester = "alice@example.com"
	agent     = "agent@example.com"
)

// input opens the ticket that every test works on.
var input = workflows.Input{
	TicketID: ticketID,
	New: wire.NewTicket{Title: " Printer on fire ", Description: "It is on fire.", Priority: "high",
		Requester: requester},
	Actor: requester,
}

// persistName is the name the workflow's a.Persist method reference resolves to.
const persistName = "Persist"

// recorder stands in for the Persist activity: it keeps every batch it is given, in order. fail, if
// set, is asked before each attempt and fails it with the error it returns; it runs on the
// activity's goroutine, with the recorder locked.
type recorder struct {
	mu       sync.Mutex
	batches  [][]ticket.Change // the batches that were persisted, oldest first
	attempts [][]ticket.Change // every attempt, failed or not
	fail     func(attempt int32, changes []ticket.Change) error
}

// Persist has the signature of (*activities.Activities).Persist, and maps its payload to the
// domain's changes as that does.
func (r *recorder) Persist(ctx context.Context, payload []ticketflow.Change) error {
	// A local activity is handed the workflow's own values, a scheduled one what its input reads
	// as after a trip through JSON (numbers in event data become float64). Record the latter for
	// both, which is also what the store writes.
	changes := wire.DomainChanges(roundTrip[[]ticketflow.Change](payload))
	r.mu.Lock()
	defer r.mu.Unlock()
	r.attempts = append(r.attempts, changes)
	if r.fail != nil {
		if err := r.fail(activity.GetInfo(ctx).Attempt, changes); err != nil {
			return err
		}
	}
	r.batches = append(r.batches, changes)
	return nil
}

// changes returns every persisted change, oldest first.
func (r *recorder) changes() []ticket.Change {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Concat(r.batches...)
}

func (r *recorder) batchSizes() []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	sizes := make([]int, len(r.batches))
	for i, b := range r.batches {
		sizes[i] = len(b)
	}
	return sizes
}

// harness runs one TicketWorkflow in the test environment and records what it persisted and what
// its updates answered.
type harness struct {
	t      *testing.T
	env    *testsuite.TestWorkflowEnvironment
	rec    *recorder
	nextID int
	in     workflows.Input // what the workflow starts with: input unless a test changes it
	until  time.Duration   // when run cancels a workflow that is still running
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	// Warnings, such as a workflow that completes with handlers still running, show with the test.
	suite.SetLogger(log.NewStructuredLogger(slog.New(slog.NewTextHandler(t.Output(),
		&slog.HandlerOptions{Level: slog.LevelWarn}))))
	env := suite.NewTestWorkflowEnvironment()
	env.SetStartTime(start)
	env.RegisterWorkflow(workflows.TicketWorkflow)
	rec := &recorder{}
	env.RegisterActivityWithOptions(rec.Persist, activity.RegisterOptions{Name: persistName})
	return &harness{t: t, env: env, rec: rec, in: input, until: 24 * time.Hour}
}

// msg is an update or a signal to send to the workflow.
type msg struct {
	action   string
	cmd      *ticket.Command // nil sends no argument
	signal   bool
	skipTask bool // a signal delivered without a workflow task of its own: it shares the next one
}

func update(a ticket.Action, cmd ticket.Command) msg { return msg{action: string(a), cmd: &cmd} }

func signal(a ticket.Action, cmd ticket.Command) msg {
	return msg{action: string(a), cmd: &cmd, signal: true}
}

// createUpdate is the update that UpdateWithStart sends along with the start.
var createUpdate = msg{action: workflows.UpdateCreate}

// outcome is what happened to one update.
type outcome struct {
	id        string
	accepted  bool
	rejected  bool
	completed bool
	err       error
	value     any
	doneAt    time.Time       // when it was rejected or completed, on the workflow's clock
	persisted []ticket.Change // what Persist held when the update completed
}

// at runs fn d after the workflow starts.
func (h *harness) at(d time.Duration, fn func()) {
	h.env.RegisterDelayedCallback(fn, d)
}

// sendAt sends msgs one after the other in the same instant, d after the workflow starts. It
// returns the outcomes of the updates among them, at the same index (nil for a signal).
func (h *harness) sendAt(d time.Duration, msgs ...msg) []*outcome {
	outs := make([]*outcome, len(msgs))
	for i, m := range msgs {
		if !m.signal {
			h.nextID++
			outs[i] = &outcome{id: fmt.Sprintf("%s-%d", m.action, h.nextID)}
		}
	}
	h.at(d, func() {
		for i, m := range msgs {
			h.send(m, outs[i])
		}
	})
	return outs
}

// steps sends msgs one a minute, the first at from, and returns their outcomes and the time after
// the last.
func (h *harness) steps(from time.Duration, msgs ...msg) ([]*outcome, time.Duration) {
	var outs []*outcome
	for _, m := range msgs {
		outs = append(outs, h.sendAt(from, m)[0])
		from += time.Minute
	}
	return outs, from
}

func (h *harness) send(m msg, o *outcome) {
	var args []any
	if m.cmd != nil {
		args = append(args, wire.FromCommand(*m.cmd))
	}
	switch {
	case m.signal && m.skipTask:
		h.env.SignalWorkflowSkippingWorkflowTask(m.action, args[0])
	case m.signal:
		h.env.SignalWorkflow(m.action, args[0])
	default:
		h.env.UpdateWorkflow(m.action, o.id, &testsuite.TestUpdateCallback{
			OnAccept: func() { o.accepted = true },
			OnReject: func(err error) {
				o.rejected, o.err, o.doneAt = true, err, h.env.Now().UTC()
			},
			OnComplete: func(v any, err error) {
				o.completed, o.value, o.err, o.doneAt = true, v, err, h.env.Now().UTC()
				o.persisted = h.rec.changes()
			},
		}, args...)
	}
}

// queryAt returns the ticket that the query answers d after the workflow starts, filled in when
// the workflow runs.
func (h *harness) queryAt(d time.Duration) *ticket.Ticket {
	got := &ticket.Ticket{}
	h.at(d, func() {
		v, err := h.env.QueryWorkflow(workflows.QueryTicket)
		var payload ticketflow.Ticket
		if err == nil {
			err = v.Get(&payload)
		}
		*got = wire.DomainTicket(payload)
		if err != nil {
			h.t.Errorf("query at %s: %v", d, err)
		}
	})
	return got
}

// run executes the workflow. A workflow that is still running h.until (a day) after its start is
// cancelled, so that a test need not close its ticket.
func (h *harness) run() {
	h.t.Helper()
	h.at(h.until, h.env.CancelWorkflow)
	h.env.ExecuteWorkflow(workflows.TicketWorkflow, h.in)
	require.True(h.t, h.env.IsWorkflowCompleted(), "workflow did not complete")
}

// requireCompleted fails unless the workflow completed without error, and returns its ticket.
func (h *harness) requireCompleted() ticket.Ticket {
	h.t.Helper()
	require.NoError(h.t, h.env.GetWorkflowError())
	var tk ticketflow.Ticket
	require.NoError(h.t, h.env.GetWorkflowResult(&tk))
	return wire.DomainTicket(tk)
}

// requireCancelled fails unless the workflow ran until the harness cancelled it.
func (h *harness) requireCancelled() {
	h.t.Helper()
	err := h.env.GetWorkflowError()
	require.Error(h.t, err)
	require.True(h.t, temporal.IsCanceledError(err), "workflow error %v, want cancelled", err)
}

// roundTrip returns v as it reads after a trip through JSON, which is how every payload reaches
// the activity and the client: numbers in event data become float64, times lose their monotonic
// part. Payloads always encode, so a failure is a bug in the test.
func roundTrip[T any](v any) T {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	var out T
	if err := json.Unmarshal(b, &out); err != nil {
		panic(err)
	}
	return out
}

// answeredTicket returns the ticket that the workflow answered with, as its client reads it.
func answeredTicket(v any) ticket.Ticket {
	return wire.DomainTicket(roundTrip[ticketflow.Ticket](v))
}

// answered returns the change that an update answered, as the workflow's client reads it.
func answered(v any) ticket.Change {
	return wire.DomainChange(roundTrip[ticketflow.Change](v))
}

// requireApplied fails unless the update was accepted and completed with a change that Persist had
// already written, and returns the change.
func requireApplied(t *testing.T, o *outcome) ticket.Change {
	t.Helper()
	require.True(t, o.accepted, "update %s was not accepted (rejected: %v, err: %v)", o.id, o.rejected, o.err)
	require.True(t, o.completed, "update %s did not complete", o.id)
	require.NoError(t, o.err, "update %s", o.id)
	ch := answered(o.value)
	require.Contains(t, o.persisted, ch, "update %s answered a change that was not persisted first", o.id)
	return ch
}

// requireRefused fails unless the validator rejected the update with the domain error code and,
// for EINVALID, these broken fields.
func requireRefused(t *testing.T, o *outcome, code string, fields ...string) {
	t.Helper()
	require.True(t, o.rejected, "update %s was not rejected (accepted: %v, err: %v)", o.id, o.accepted, o.err)
	require.False(t, o.accepted, "update %s was accepted and rejected", o.id)
	require.False(t, o.completed, "update %s completed after its rejection", o.id)
	requireDomainError(t, o.err, code, fields...)
}

// requireFailed fails unless the update was accepted and then completed with the domain error.
func requireFailed(t *testing.T, o *outcome, code string) {
	t.Helper()
	require.True(t, o.accepted, "update %s was not accepted (err: %v)", o.id, o.err)
	require.True(t, o.completed, "update %s did not complete", o.id)
	requireDomainError(t, o.err, code)
	require.Zero(t, roundTrip[ticketflow.Change](o.value), "a failed update returned a change")
}

// requireDomainError fails unless err is an application error whose type is the code, and that
// FromTemporal turns back into the domain error with the fields.
func requireDomainError(t *testing.T, err error, code string, fields ...string) {
	t.Helper()
	var app *temporal.ApplicationError
	require.True(t, errors.As(err, &app), "error %T %v is not an application error", err, err)
	require.Equal(t, code, app.Type())
	require.True(t, app.NonRetryable(), "a domain error must not be retried")

	var de *ticket.Error
	require.True(t, errors.As(workflows.FromTemporal(err), &de), "FromTemporal(%v) is not a *ticket.Error", err)
	require.Equal(t, code, de.Code)
	require.Equal(t, app.Message(), de.Message)
	require.NotEmpty(t, de.Message)
	var got []string
	for _, f := range de.Fields {
		require.NotEmpty(t, f.Message, "field %s", f.Field)
		got = append(got, f.Field)
	}
	require.ElementsMatch(t, fields, got, "broken fields of %q", de.Message)
}

// isRejection reports whether ch records a refused signal rather than a change of the ticket.
func isRejection(ch ticket.Change) bool {
	return len(ch.Events) == 1 && ch.Events[0].Type == ticket.EventTransitionRejected
}

// requireTrail fails unless the persisted changes form one audit trail: events numbered from 1
// with no gap and no repeat, every change of the ticket one version after the one before, and
// every recorded refusal leaving the version as it was.
func requireTrail(t *testing.T, changes []ticket.Change) {
	t.Helper()
	require.NotEmpty(t, changes)
	// The created event is seq 1: TestCreate checks its number, so that this check tells of the
	// numbering of every later change on its own.
	require.Len(t, changes[0].Events, 1)
	require.Equal(t, ticket.EventCreated, changes[0].Events[0].Type)
	seq, version := int64(1), int64(1)
	require.Equal(t, version, changes[0].Ticket.Version)
	for i, ch := range changes[1:] {
		i++
		require.NotEmpty(t, ch.Events, "change %d has no event", i)
		for _, ev := range ch.Events {
			seq++
			require.Equal(t, seq, ev.Seq, "change %d (version %d): event %s", i, ch.Ticket.Version, ev.Type)
		}
		if !isRejection(ch) {
			version++
		}
		require.Equal(t, version, ch.Ticket.Version, "change %d", i)
		require.Equal(t, ticketID, ch.Ticket.ID, "change %d", i)
	}
}

// eventTypes lists the types of the events of the changes, in order.
func eventTypes(changes ...ticket.Change) []ticket.EventType {
	var types []ticket.EventType
	for _, ch := range changes {
		for _, ev := range ch.Events {
			types = append(types, ev.Type)
		}
	}
	return types
}

// reach returns the updates that move a new ticket to status st, one a minute.
func reach(st ticket.Status) []msg {
	switch st {
	case ticket.StatusAnswered:
		return []msg{update(ticket.ActionAnswer, ticket.Command{Actor: agent})}
	case ticket.StatusAwaiting:
		return []msg{update(ticket.ActionAnswer, ticket.Command{Actor: agent}),
			update(ticket.ActionAwait, ticket.Command{Actor: agent})}
	case ticket.StatusClosed:
		return []msg{update(ticket.ActionClose, ticket.Command{Actor: agent})}
	}
	return nil
}
