package app_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/workflowservice/v1"
)

// TestEscalateExample runs the example automation, examples/escalate, as its users do: a binary
// against the system's Temporal. Of an escalated, an answered and an open ticket it escalates the
// open one, once, with its actor and reason; a second run escalates nothing more, and a threshold
// that no ticket is old enough for escalates nothing.
func TestEscalateExample(t *testing.T) {
	s := startSystem(t)
	escalated := s.create(t, "escalated already")
	s.do(t, "POST", "/api/v1/tickets/"+escalated.ID+"/escalate", map[string]string{"reason": "vip"}).expect(t, http.StatusOK, nil)
	answered := s.create(t, "answered")
	s.do(t, "POST", "/api/v1/tickets/"+answered.ID+"/answer", map[string]string{}).expect(t, http.StatusOK, nil)
	open := s.create(t, "open, never escalated")
	waitCandidates(t, s, open.ID)

	out := runEscalate(t, s, "-older-than", "1h")
	if want := []string{"summary: 1 candidates, escalated 0, skipped 1, failed 0"}; !slices.Equal(out, want) {
		t.Fatalf("with -older-than 1h it printed %q, want %q", out, want)
	}

	out = runEscalate(t, s, "-older-than", "0s")
	if len(out) != 2 || !strings.HasPrefix(out[0], "escalated "+open.ID+" ") ||
		out[1] != "summary: 1 candidates, escalated 1, skipped 0, failed 0" {
		t.Fatalf("it printed %q, want a line for ticket %s and the summary", out, open.ID)
	}
	waitFor(t, 10*time.Second, "the escalate signal to apply", func() bool { return s.get(t, open.ID).EscalationLevel == 1 })
	checkEscalated := func() {
		t.Helper()
		want := map[string]string{
			open.ID:      "escalate-bot: open for more than 0s without escalation (request escalate-example/" + open.ID + "/level-0)",
			escalated.ID: s.actor + ": vip (request )",
			answered.ID:  "",
		}
		for id, want := range want {
			if got := escalations(t, s, id); got != want {
				t.Errorf("ticket %s escalated %q, want %q", id, got, want)
			}
		}
	}
	checkEscalated()

	// Visibility may still list the open ticket at level 0; the ticket itself says it is not.
	out = runEscalate(t, s, "-older-than", "0s")
	if len(out) != 1 || !strings.Contains(out[0], " escalated 0, ") || !strings.HasSuffix(out[0], " failed 0") {
		t.Fatalf("the second run printed %q, want a summary of nothing escalated", out)
	}
	// A change made now is queued after any signal the run sent: once it is answered, such a
	// signal has had its turn.
	s.do(t, "POST", "/api/v1/tickets/"+open.ID+"/comments", map[string]string{"body": "after the second run"}).expect(t, http.StatusCreated, nil)
	checkEscalated()
	if got := s.get(t, open.ID); got.EscalationLevel != 1 {
		t.Errorf("after the second run the open ticket is at escalation level %d, want 1", got.EscalationLevel)
	}
}

// TestEscalateExampleDryRun checks that -dry-run prints what a run would escalate and sends
// nothing.
func TestEscalateExampleDryRun(t *testing.T) {
	s := startSystem(t)
	tk := s.create(t, "left alone")
	waitCandidates(t, s, tk.ID)

	out := runEscalate(t, s, "-older-than", "0s", "-dry-run")
	if len(out) != 2 || !strings.HasPrefix(out[0], "would escalate "+tk.ID+" ") ||
		out[1] != "summary: 1 candidates, would escalate 1, skipped 0, failed 0" {
		t.Fatalf("it printed %q, want a line for ticket %s and the summary", out, tk.ID)
	}
	// As in TestEscalateExample: once this change is answered, a signal sent before it applied.
	s.do(t, "POST", "/api/v1/tickets/"+tk.ID+"/comments", map[string]string{"body": "after the dry run"}).expect(t, http.StatusCreated, nil)
	if got := s.get(t, tk.ID); got.EscalationLevel != 0 || got.Version != 2 {
		t.Errorf("after the dry run the ticket is at escalation level %d, version %d; want 0 and 2 (the comment)", got.EscalationLevel, got.Version)
	}
	if got := escalations(t, s, tk.ID); got != "" {
		t.Errorf("after the dry run the ticket escalated %q", got)
	}
}

// escalateBin is the example automation's binary.
var escalateBin = buildOnce("examples/escalate")

// runEscalate runs the example with the flags against the system's Temporal namespace and task
// queue, set in the environment as ticketflow's processes read them, and returns the lines it
// printed. It fails the test unless the command succeeds.
func runEscalate(t *testing.T, s *system, args ...string) []string {
	t.Helper()
	bin, err := escalateBin()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cfg := s.deps.Config
	cmd.Env = []string{"TEMPORAL_ADDRESS=" + cfg.TemporalAddress, "TEMPORAL_NAMESPACE=" + cfg.TemporalNamespace,
		"TEMPORAL_TASK_QUEUE=" + cfg.TemporalTaskQueue}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("escalate %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	if stderr.Len() > 0 {
		t.Logf("escalate %s logged:\n%s", strings.Join(args, " "), stderr.String())
	}
	return strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n")
}

// waitCandidates waits until Temporal visibility, which is eventually consistent, lists exactly
// the tickets ids as the system's open tickets that were never escalated: the ones that the
// example looks at.
func waitCandidates(t *testing.T, s *system, ids ...string) {
	t.Helper()
	query := fmt.Sprintf("WorkflowType = 'TicketWorkflow' AND ExecutionStatus = 'Running' AND TicketStatus = 'open' "+
		"AND TicketEscalationLevel = 0 AND TaskQueue = '%s'", s.deps.Config.TemporalTaskQueue)
	var want []string
	for _, id := range ids {
		want = append(want, "ticket-"+id)
	}
	slices.Sort(want)
	var got, last []string
	waitFor(t, 30*time.Second, fmt.Sprintf("visibility to list %v", want), func() bool {
		res, err := s.deps.Temporal.ListWorkflow(context.Background(), &workflowservice.ListWorkflowExecutionsRequest{Query: query})
		if err != nil {
			t.Fatalf("list workflows: %v", err)
		}
		got = got[:0]
		for _, wf := range res.GetExecutions() {
			got = append(got, wf.GetExecution().GetWorkflowId())
		}
		slices.Sort(got)
		if !slices.Equal(got, last) {
			t.Logf("visibility lists %v", got)
			last = slices.Clone(got)
		}
		return slices.Equal(got, want)
	})
}

// escalations returns the escalated events of the ticket's audit trail, each as "actor: reason
// (request request_id)", joined by "; ".
func escalations(t *testing.T, s *system, id string) string {
	t.Helper()
	var got []string
	for _, e := range s.trail(t, id) {
		if e.Type == "escalated" {
			got = append(got, fmt.Sprintf("%s: %s (request %s)", e.Actor, str(e.Data["reason"]), str(e.Data["request_id"])))
		}
	}
	return strings.Join(got, "; ")
}

// str is v's text, "" for nil.
func str(v any) string {
	if v == nil {
		return ""
	}
	return fmt.Sprint(v)
}
