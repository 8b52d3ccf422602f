package workflows_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"ticketflow/internal/ticket"
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
