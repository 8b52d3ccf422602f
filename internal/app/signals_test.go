package app_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/ticketflow/ticketflow"
	"github.com/ticketflow/ticketflow/internal/httpapi"
	"github.com/ticketflow/ticketflow/internal/ticket"
	"github.com/ticketflow/ticketflow/workflows"
)

// TestSignalRetriedAtOnceAppliesOnce is an automation that sends one escalate signal (one
// request ID) three times at once, as a retrying client does, on several tickets: each ticket
// escalates once, and its trail says so once, however the signals fall into workflow tasks.
func TestSignalRetriedAtOnceAppliesOnce(t *testing.T) {
	s := startSystem(t)
	ctx := context.Background()
	var tickets []httpapi.Ticket
	for range 8 {
		tickets = append(tickets, s.create(t, "escalate me once"))
	}
	var wg sync.WaitGroup
	for _, tk := range tickets {
		for range 3 {
			wg.Go(func() {
				cmd := ticketflow.Command{Actor: "sla-bot", Reason: "vip", RequestID: "escalate-" + tk.ID}
				if err := s.deps.Temporal.SignalWorkflow(ctx, workflows.WorkflowID(tk.ID), "", string(ticket.ActionEscalate), cmd); err != nil {
					t.Error(err)
				}
			})
		}
	}
	wg.Wait()

	for _, tk := range tickets {
		var events page[httpapi.Event]
		for deadline := time.Now().Add(10 * time.Second); len(events.Items) < 2 && time.Now().Before(deadline); {
			time.Sleep(50 * time.Millisecond)
			s.do(t, "GET", "/api/v1/tickets/"+tk.ID+"/events", nil).expect(t, http.StatusOK, &events)
		}
		// Every signal was delivered before its sender returned; a change made now is queued
		// after them, so once it is answered the repeats have had their turn.
		s.act(t, tk.ID, ticket.ActionComment, map[string]string{"body": "after the signals"}).expect(t, http.StatusCreated, nil)
		s.do(t, "GET", "/api/v1/tickets/"+tk.ID+"/events", nil).expect(t, http.StatusOK, &events)
		escalations := 0
		for _, e := range events.Items {
			if e.Type == ticket.EventEscalated {
				escalations++
			}
		}
		if got := s.get(t, tk.ID); got.EscalationLevel != 1 || escalations != 1 {
			t.Errorf("ticket %s: escalation level %d, %d escalated events; want 1 and 1", tk.ID, got.EscalationLevel, escalations)
		}
	}
}
