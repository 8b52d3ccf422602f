package app_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/converter"

	"github.com/ticketflow/ticketflow"
	"github.com/ticketflow/ticketflow/internal/httpapi"
	"github.com/ticketflow/ticketflow/internal/ticket"
	"github.com/ticketflow/ticketflow/workflows"
)

// workflowView is what Temporal shows of a ticket's workflow: its search attributes and memo.
type workflowView struct {
	Status   string
	Priority string
	Level    int64
	Title    string
}

// view reads the search attributes and memo of the ticket's current run.
func (s *system) view(t *testing.T, id string) workflowView {
	t.Helper()
	res, err := s.deps.Temporal.DescribeWorkflow(context.Background(), workflows.WorkflowID(id), "")
	if err != nil {
		t.Fatalf("describe: %v", err)
	}
	info := res.RawResponse.GetWorkflowExecutionInfo()
	fields := info.GetSearchAttributes().GetIndexedFields()
	var v workflowView
	decodeSearchPayload(t, fields["TicketStatus"], &v.Status)
	decodeSearchPayload(t, fields["TicketPriority"], &v.Priority)
	decodeSearchPayload(t, fields["TicketEscalationLevel"], &v.Level)
	decodeSearchPayload(t, info.GetMemo().GetFields()[workflows.MemoTitle], &v.Title)
	return v
}

func decodeSearchPayload(t *testing.T, p *commonpb.Payload, v any) {
	t.Helper()
	if p == nil {
		return
	}
	if err := converter.GetDefaultDataConverter().FromPayload(p, v); err != nil {
		t.Fatalf("decode %s: %v", p, err)
	}
}

// listWorkflows returns the IDs of the workflows on the system's task queue that the visibility query
// finds, as ops would list them.
func (s *system) listWorkflows(t *testing.T, query string) []string {
	t.Helper()
	res, err := s.deps.Temporal.ListWorkflow(context.Background(), &workflowservice.ListWorkflowExecutionsRequest{
		Query: fmt.Sprintf("TaskQueue = '%s' AND %s", s.deps.Config.TemporalTaskQueue, query),
	})
	if err != nil {
		t.Fatalf("list %q: %v", query, err)
	}
	var ids []string
	for _, e := range res.GetExecutions() {
		ids = append(ids, e.GetExecution().GetWorkflowId())
	}
	return ids
}

// TestEscalateOverHTTP escalates through the API: each escalation raises the level by one and
// writes an escalated event with the reason and who asked, the ticket's search attributes follow,
// ops can list it as escalated, and a closed ticket refuses to escalate.
func TestEscalateOverHTTP(t *testing.T) {
	s := startSystem(t)
	tk := s.create(t, "Escalate me")
	var got httpapi.Ticket
	s.act(t, tk.ID, ticket.ActionEscalate, map[string]string{"reason": "  customer is angry "}).expect(t, http.StatusOK, &got)
	if got.EscalationLevel != 1 || got.Version != 2 || got.Status != ticket.StatusOpen {
		t.Fatalf("after one escalation: level %d v%d %s", got.EscalationLevel, got.Version, got.Status)
	}
	s.act(t, tk.ID, ticket.ActionEscalate, nil).expect(t, http.StatusOK, &got)
	if got.EscalationLevel != 2 || got.Version != 3 {
		t.Fatalf("after two escalations: level %d v%d", got.EscalationLevel, got.Version)
	}
	if read := s.get(t, tk.ID); read.EscalationLevel != 2 {
		t.Fatalf("GET shows level %d", read.EscalationLevel)
	}
	evs := s.trail(t, tk.ID)
	if len(evs) != 3 {
		t.Fatalf("events %+v, want created and two escalated", evs)
	}
	first, second := evs[1], evs[2]
	if first.Type != ticket.EventEscalated || first.Actor != s.actor || first.Data["reason"] != "customer is angry" ||
		first.Data["level"] != float64(1) {
		t.Errorf("first escalated event %+v", first)
	}
	if _, ok := second.Data["reason"]; second.Type != ticket.EventEscalated || ok || second.Data["level"] != float64(2) {
		t.Errorf("second escalated event %+v", second)
	}

	want := workflowView{Status: "open", Priority: "normal", Level: 2, Title: "Escalate me"}
	if v := s.view(t, tk.ID); v != want {
		t.Errorf("search attributes and memo %+v, want %+v", v, want)
	}
	id := workflows.WorkflowID(tk.ID)
	waitFor(t, 10*time.Second, "the ticket to be listed, alone, as open and escalated", func() bool {
		ids := s.listWorkflows(t, "TicketStatus = 'open' AND TicketEscalationLevel > 0")
		return len(ids) == 1 && ids[0] == id
	})

	s.act(t, tk.ID, ticket.ActionClose, nil).expect(t, http.StatusOK, nil)
	waitCompleted(t, s, tk.ID)
	s.act(t, tk.ID, ticket.ActionEscalate, map[string]string{"reason": "too late"}).
		expectProblem(t, http.StatusConflict, "/problems/ticket-closed")
	if v := s.view(t, tk.ID); v.Status != "closed" || v.Level != 2 {
		t.Errorf("search attributes of the closed ticket %+v", v)
	}
	waitFor(t, 10*time.Second, "the closed ticket to be listed as open no more", func() bool {
		return len(s.listWorkflows(t, "TicketStatus = 'open' AND TicketEscalationLevel > 0")) == 0
	})
}

// TestAutomationSignals sends what an automation sends, straight to the workflow: an escalation
// and a close with the reason timeout, both recorded with the automation as the actor.
func TestAutomationSignals(t *testing.T) {
	s := startSystem(t)
	tk := s.create(t, "left alone")
	s.act(t, tk.ID, ticket.ActionAnswer, nil).expect(t, http.StatusOK, nil)
	ctx := context.Background()
	id := workflows.WorkflowID(tk.ID)
	for _, sig := range []struct {
		action ticket.Action
		cmd    ticketflow.Command
	}{
		{ticket.ActionEscalate, ticketflow.Command{Actor: "sla-bot", Reason: "vip"}},
		{ticket.ActionClose, ticketflow.Command{Actor: "sla-bot", Reason: "timeout"}},
	} {
		if err := s.deps.Temporal.SignalWorkflow(ctx, id, "", string(sig.action), sig.cmd); err != nil {
			t.Fatal(err)
		}
	}
	waitCompleted(t, s, tk.ID)
	got := s.get(t, tk.ID)
	if got.EscalationLevel != 1 || got.CloseReason == nil || *got.CloseReason != "timeout" || got.Version != 4 {
		t.Fatalf("after the signals: %+v", got)
	}
	evs := s.trail(t, tk.ID)
	last := evs[len(evs)-1]
	if last.Type != ticket.EventStatusChanged || last.Actor != "sla-bot" || last.Data["reason"] != "timeout" {
		t.Errorf("close event %+v", last)
	}
}

// TestTimersSurviveWorkerRestarts runs the timers on the real server with second-long durations,
// and SIGKILLs the worker while each timer is pending: the timer is the server's, so it fires
// anyway, and the next worker applies it, replaying the ticket's history.
func TestTimersSurviveWorkerRestarts(t *testing.T) {
	const sla, autoClose = 3 * time.Second, 4 * time.Second
	cfg := testConfig(t)
	cfg.SLAUrgent = sla // the other priorities keep a zero SLA: no timer
	cfg.SLAMaxEscalations = 2
	cfg.AutoCloseAfter = autoClose
	s := startSystem(t, withConfig(cfg), withoutWorker())
	worker := newWorkerBinary(t, cfg)

	kill := worker.start(t)
	var tk httpapi.Ticket
	s.do(t, "POST", "/api/v1/tickets", map[string]string{"title": "Server room flooded", "priority": "urgent"}).
		expect(t, http.StatusCreated, &tk)
	kill()

	// With no worker, the SLA runs out and nothing happens to the ticket.
	time.Sleep(time.Until(tk.CreatedAt.Add(sla + 500*time.Millisecond)))
	if got := s.get(t, tk.ID); got.EscalationLevel != 0 || got.Version != 1 {
		t.Fatalf("the ticket changed with no worker running: %+v", got)
	}
	kill = worker.start(t)
	// The killed worker's sticky queue times out before the task reaches the new one (5s).
	waitFor(t, 20*time.Second, "escalation level 2 (the SLA's ceiling)", func() bool {
		return s.get(t, tk.ID).EscalationLevel == 2
	})
	// Persist writes the change before the workflow task that upserts the search attributes ends.
	waitFor(t, 5*time.Second, "search attributes of level 2 and status open after the SLA escalations", func() bool {
		v := s.view(t, tk.ID)
		return v.Level == 2 && v.Status == "open"
	})
	// One more period: the ceiling holds.
	time.Sleep(time.Until(tk.CreatedAt.Add(3*sla + 500*time.Millisecond)))

	var answered httpapi.Ticket
	s.act(t, tk.ID, ticket.ActionAnswer, map[string]string{"comment": "Pumps are on their way."}).
		expect(t, http.StatusOK, &answered)
	if answered.EscalationLevel != 2 {
		t.Fatalf("the SLA went past its ceiling: level %d", answered.EscalationLevel)
	}
	kill()
	kill = worker.start(t)
	defer kill()
	waitCompleted(t, s, tk.ID)

	final := s.get(t, tk.ID)
	if final.Status != ticket.StatusClosed || final.CloseReason == nil || *final.CloseReason != "timeout" ||
		final.ClosedAt.Before(answered.UpdatedAt.Add(autoClose)) {
		t.Fatalf("auto-closed ticket %+v, want closed for timeout %s after %s", final, autoClose, answered.UpdatedAt)
	}
	type step struct {
		typ    ticket.EventType
		actor  string
		reason any
	}
	var got []step
	for _, ev := range s.trail(t, tk.ID) {
		got = append(got, step{ev.Type, ev.Actor, ev.Data["reason"]})
	}
	want := []step{
		{ticket.EventCreated, s.actor, nil},
		{ticket.EventEscalated, "ticketflow", "first_response_sla"},
		{ticket.EventEscalated, "ticketflow", "first_response_sla"},
		{ticket.EventCommented, s.actor, nil},
		{ticket.EventStatusChanged, s.actor, nil},
		{ticket.EventStatusChanged, "ticketflow", "timeout"},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("audit trail\n got %v\nwant %v", got, want)
	}
	if v := s.view(t, tk.ID); v.Status != "closed" {
		t.Errorf("search attributes %+v after the auto-close", v)
	}
}
