package workflows_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ticketflow/ticketflow"
	"github.com/ticketflow/ticketflow/internal/ticket"
)

// TestSignalSentAgainInOneTask sends one escalate signal (one request ID) three times so that all
// three reach the workflow in the same workflow task, and so the same batch: an automation that
// retries at once. The ticket escalates once.
func TestSignalSentAgainInOneTask(t *testing.T) {
	h := newHarness(t)
	var msgs []msg
	for range 3 {
		m := signal(ticket.ActionEscalate, ticket.Command{Actor: "bot", Reason: "vip", RequestID: "esc-1"})
		m.skipTask = true
		msgs = append(msgs, m)
	}
	msgs[len(msgs)-1].skipTask = false // the last one's task takes all three
	h.sendAt(time.Minute, msgs...)
	h.sendAt(time.Hour, update(ticket.ActionClose, ticket.Command{Actor: agent}))
	h.run()

	changes := h.rec.changes()
	requireTrail(t, changes)
	require.Equal(t, []ticket.EventType{ticket.EventCreated, ticket.EventEscalated, ticket.EventStatusChanged},
		eventTypes(changes...), "the signal applied more than once, or its repeats were recorded")
	require.Equal(t, 1, h.requireCompleted().EscalationLevel)
}

// TestRequestSentAgainAsUpdateAndSignal sends one request as a signal, then as an update, then as
// a signal again: it applies once, and the update is refused as applied already, so that its
// caller reads the change from the record.
func TestRequestSentAgainAsUpdateAndSignal(t *testing.T) {
	h := newHarness(t)
	cmd := ticket.Command{Actor: "bot", Comment: "once", CommentID: "c-1", RequestID: "req-1"}
	h.sendAt(time.Minute, signal(ticket.ActionComment, cmd))
	retried := h.sendAt(time.Minute+time.Second, update(ticket.ActionComment, cmd))[0]
	h.sendAt(time.Hour, signal(ticket.ActionComment, cmd))
	h.sendAt(2*time.Hour, update(ticket.ActionClose, ticket.Command{Actor: agent}))
	h.run()

	changes := h.rec.changes()
	requireTrail(t, changes)
	require.Equal(t, []ticket.EventType{ticket.EventCreated, ticket.EventCommented, ticket.EventStatusChanged},
		eventTypes(changes...))
	requireRefused(t, retried, ticket.EAPPLIED)
	require.Equal(t, 1, h.requireCompleted().CommentsCount)
}

// TestRecordedHistoriesCoverRequestsAndRetries checks that the recorded histories hold what the
// replay must prove of the request IDs and of writes that fail for good: one request signalled
// several times before a workflow task, recorded both before and since State applied each request
// once; and a run since persist-until-done whose write the server gave up on, waited and succeeded.
func TestRecordedHistoriesCoverRequestsAndRetries(t *testing.T) {
	found := map[string]bool{}
	for _, r := range recordedHistories(t) {
		file, h := r.file, r.history
		signalled := map[string]int{} // request ID → signals since the last workflow task started
		untilDone, failed, waited := false, false, false
		for _, ev := range h.GetEvents() {
			if s := ev.GetWorkflowExecutionSignaledEventAttributes(); s != nil {
				var cmd ticketflow.Command
				require.NoError(t, json.Unmarshal(s.GetInput().GetPayloads()[0].GetData(), &cmd), file)
				if signalled[cmd.RequestID]++; cmd.RequestID != "" && signalled[cmd.RequestID] == 3 {
					found["a request signalled three times in one task"] = true
				}
			}
			if ev.GetWorkflowTaskStartedEventAttributes() != nil {
				clear(signalled)
			}
			m := ev.GetMarkerRecordedEventAttributes()
			switch {
			case m.GetMarkerName() == "Version" && strings.Contains(string(m.GetDetails()["change-id"].GetPayloads()[0].GetData()), "persist-until-done"):
				untilDone = true
			case untilDone && ev.GetActivityTaskFailedEventAttributes() != nil:
				failed = true
			case failed && ev.GetTimerFiredEventAttributes() != nil:
				waited = true
			case waited && ev.GetActivityTaskCompletedEventAttributes() != nil:
				found["a write given up on, waited for and done"] = true
			}
		}
		if found["a request signalled three times in one task"] && strings.Contains(file, "before_dedupe") {
			found["such a history from before State"] = true
		}
	}
	for _, want := range []string{
		"a request signalled three times in one task", "such a history from before State",
		"a write given up on, waited for and done",
	} {
		require.True(t, found[want], "no recorded history has %s", want)
	}
}
