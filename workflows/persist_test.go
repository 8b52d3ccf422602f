package workflows_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"github.com/ticketflow/ticketflow/internal/ticket"
)

// attemptCounts counts the attempts of Persist by kind: local (in the workflow task) or scheduled
// (through the server's task queue).
type attemptCounts struct{ local, scheduled atomic.Int32 }

func countAttempts(h *harness) *attemptCounts {
	c := &attemptCounts{}
	h.env.SetOnLocalActivityStartedListener(func(*activity.Info, context.Context, []any) { c.local.Add(1) })
	h.env.SetOnActivityStartedListener(func(*activity.Info, context.Context, converter.EncodedValues) { c.scheduled.Add(1) })
	return c
}

// TestPersistIsLocal checks that a ticket's changes are persisted by local activities, which cost
// no activity task, and answered once persisted; all but the close, after which the run ends, which
// a scheduled activity writes.
func TestPersistIsLocal(t *testing.T) {
	h := newHarness(t)
	c := countAttempts(h)
	outs, _ := h.steps(time.Minute,
		update(ticket.ActionAnswer, ticket.Command{Actor: agent}),
		update(ticket.ActionComment, ticket.Command{Actor: agent, Comment: "done", CommentID: "c-1"}),
		signal(ticket.ActionEscalate, ticket.Command{Reason: "vip"}),
		update(ticket.ActionClose, ticket.Command{Actor: agent}))
	h.run()

	for _, o := range outs {
		if o != nil {
			requireApplied(t, o)
		}
	}
	requireTrail(t, h.rec.changes())
	require.Equal(t, int32(4), c.local.Load(), "created, answered, commented, escalated: a local activity each")
	require.Equal(t, int32(1), c.scheduled.Load(), "closed: a scheduled activity")
	h.requireCompleted()
}

// TestPersistDrainIsScheduled checks that the batches a run applies once it is due to continue as
// new are written by scheduled activities, so that no local write shares the task that ends the run.
func TestPersistDrainIsScheduled(t *testing.T) {
	h := newHarness(t)
	h.in.RunLimit = 2
	c := countAttempts(h)
	first := h.sendAt(time.Minute, update(ticket.ActionAnswer, ticket.Command{Actor: agent}))[0]
	due := h.sendAt(2*time.Minute, update(ticket.ActionAwait, ticket.Command{Actor: agent}))[0] // the second message
	h.run()

	requireApplied(t, first)
	requireApplied(t, due)
	require.Equal(t, int32(2), c.local.Load(), "created, answered")
	require.Equal(t, int32(1), c.scheduled.Load(), "the await, which made the run due")
	require.Equal(t, int64(3), h.requireContinued().State.Ticket.Version)
}

// TestPersistOutageFallsBack fails every local attempt at a write, as an outage of PostgreSQL
// longer than the local retries would: the scheduled activity takes over and retries until the
// write succeeds, and only then is the update answered. The change is written once, and the
// changes after it wait for it.
func TestPersistOutageFallsBack(t *testing.T) {
	h := newHarness(t)
	c := countAttempts(h)
	var failed atomic.Int32
	h.rec.fail = func(attempt int32, changes []ticket.Change) error {
		// The outage: every local attempt (8) and the first three scheduled ones fail.
		if changes[0].Ticket.Version == 2 && failed.Load() < 11 {
			failed.Add(1)
			return errors.New("connection refused")
		}
		return nil
	}
	answer := h.sendAt(time.Minute, update(ticket.ActionAnswer, ticket.Command{Actor: agent}))[0]
	closed := h.sendAt(time.Minute+time.Second, update(ticket.ActionClose, ticket.Command{Actor: agent}))[0]
	h.run()

	ch := requireApplied(t, answer)
	require.Equal(t, ticket.StatusAnswered, ch.Ticket.Status)
	// Eight local attempts with backoffs of 0.1 s doubling up to 5 s (11.3 s), then the scheduled
	// activity's first attempt and three retries (0.7 s).
	require.Equal(t, start.Add(time.Minute+12*time.Second), answer.doneAt)
	require.Equal(t, int32(1+8), c.local.Load(), "created, the answer's 8 attempts")
	require.Equal(t, int32(4+1), c.scheduled.Load(), "the answer's scheduled attempts, the close")

	requireApplied(t, closed)
	require.Equal(t, answer.doneAt, closed.doneAt, "the close waited for the answer")
	changes := h.rec.changes()
	requireTrail(t, changes)
	require.Len(t, changes, 3, "created, answered once, closed")
	h.requireCompleted()
}

// TestPersistRefusedKeepsTheTicket fails a write for good, in every local and scheduled attempt,
// until a fixed build is deployed an hour later: the ticket's workflow does not fail with it. The
// change waits, is written once the cause is gone, and is answered then; the ticket goes on.
func TestPersistRefusedKeepsTheTicket(t *testing.T) {
	h := newHarness(t)
	c := countAttempts(h)
	var fixed atomic.Bool
	h.rec.fail = func(attempt int32, changes []ticket.Change) error {
		if changes[0].Ticket.Version == 2 && !fixed.Load() {
			return temporal.NewNonRetryableApplicationError("constraint violated", ticket.EINVALID, nil)
		}
		return nil
	}
	answered := h.sendAt(time.Minute, update(ticket.ActionAnswer, ticket.Command{Actor: agent}))[0]
	h.at(time.Hour, func() { fixed.Store(true) })
	closed := h.sendAt(2*time.Hour, update(ticket.ActionClose, ticket.Command{Actor: agent}))[0]
	h.run()

	ch := requireApplied(t, answered)
	require.Equal(t, int64(2), ch.Ticket.Version)
	require.False(t, answered.doneAt.Before(start.Add(time.Hour)), "answered at %s, before the fix", answered.doneAt)
	require.Equal(t, int64(3), requireApplied(t, closed).Ticket.Version)
	requireTrail(t, h.rec.changes())
	require.Equal(t, ticket.StatusClosed, h.requireCompleted().Status)
	require.Greater(t, c.scheduled.Load(), int32(2), "the scheduled write was not tried again")
}

// TestRecordedHistoriesCoverLocalPersist checks that the recorded histories hold what the replay
// must prove of changeLocalPersist: local writes, a local write that failed and the scheduled
// activity that took over, a run that drained with a scheduled activity and continued as new, and
// a run of its version 2 in which a timer fired before the deadline and was re-armed, not cancelled.
func TestRecordedHistoriesCoverLocalPersist(t *testing.T) {
	found := map[string]bool{}
	for _, r := range recordedHistories(t) {
		h := r.history
		local, failedLocal, version2, firedEarly := false, false, false, false
		for _, ev := range h.GetEvents() {
			m := ev.GetMarkerRecordedEventAttributes()
			switch {
			case m.GetMarkerName() == "Version" && strings.Contains(string(m.GetDetails()["change-id"].GetPayloads()[0].GetData()), "persist-local-activity"):
				found["a run since the change"] = true
				if string(m.GetDetails()["version"].GetPayloads()[0].GetData()) == "2" {
					version2 = true
				}
			case ev.GetTimerFiredEventAttributes() != nil && version2:
				firedEarly = true
			case ev.GetTimerStartedEventAttributes() != nil && firedEarly:
				found["a version 2 run that re-armed a timer that fired early"] = true
			case m.GetMarkerName() == "LocalActivity" && m.GetFailure() == nil:
				local = true
			case m.GetMarkerName() == "LocalActivity":
				failedLocal = true
			case ev.GetActivityTaskScheduledEventAttributes() != nil && failedLocal:
				found["a scheduled activity after a failed local one"] = true
			case ev.GetActivityTaskScheduledEventAttributes() != nil && local:
				found["a scheduled activity in a run that writes locally"] = true
			case ev.GetWorkflowExecutionContinuedAsNewEventAttributes() != nil && local:
				found["a run that writes locally and continues as new"] = true
			}
		}
		if local {
			found["a local write"] = true
		}
	}
	for _, want := range []string{
		"a run since the change", "a local write", "a scheduled activity after a failed local one",
		"a scheduled activity in a run that writes locally", "a run that writes locally and continues as new",
		"a version 2 run that re-armed a timer that fired early",
	} {
		require.True(t, found[want], "no recorded history has %s", want)
	}
}
