package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/ticketflow/ticketflow"
	"github.com/ticketflow/ticketflow/activities"
	"github.com/ticketflow/ticketflow/internal/app"
	"github.com/ticketflow/ticketflow/internal/httpapi"
	"github.com/ticketflow/ticketflow/internal/ticket"
	"github.com/ticketflow/ticketflow/workflows"
)

// workerWithRunLimit returns a worker that runs TicketWorkflow with a low RunLimit, under its own name
// so that the tickets the API creates run it: one ticket then goes through many runs in a test.
// The limit travels in the input, so every later run keeps it.
func workerWithRunLimit(limit int) func(*app.Deps) worker.Worker {
	return func(d *app.Deps) worker.Worker {
		w := worker.New(d.Temporal, d.Config.TemporalTaskQueue, worker.Options{})
		w.RegisterWorkflowWithOptions(func(ctx workflow.Context, in workflows.Input) (ticketflow.Ticket, error) {
			if in.RunLimit == 0 {
				in.RunLimit = limit
			}
			return workflows.TicketWorkflow(ctx, in)
		}, workflow.RegisterOptions{Name: "TicketWorkflow"})
		w.RegisterActivity(&activities.Activities{Store: d.Store, Cache: d.Cache})
		return w
	}
}

// postChange sends a change from a goroutine other than the test's, where the test may not stop: it
// returns what went wrong instead of failing.
func (s *system) postChange(path string, body any) (int, []byte, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return 0, nil, err
	}
	r := postJSON(http.DefaultClient, s.url+path, s.key, bytes.NewReader(b))
	return r.status, r.body, r.err
}

// workflowRuns returns the run IDs of the ticket's workflow, first to current, following each
// continue-as-new from the first run.
func (s *system) workflowRuns(t *testing.T, id string) []string {
	t.Helper()
	ctx := context.Background()
	wid := workflows.WorkflowID(id)
	desc, err := s.deps.Temporal.DescribeWorkflow(ctx, wid, "")
	if err != nil {
		t.Fatalf("describe: %v", err)
	}
	info := desc.RawResponse.GetWorkflowExecutionInfo()
	current := info.GetExecution().GetRunId()
	runs := []string{info.GetFirstRunId()}
	for runs[len(runs)-1] != current {
		run := runs[len(runs)-1]
		it := s.deps.Temporal.GetWorkflowHistory(ctx, wid, run, false, enumspb.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT)
		ev, err := it.Next()
		if err != nil {
			t.Fatalf("close event of run %s: %v", run, err)
		}
		next := ev.GetWorkflowExecutionContinuedAsNewEventAttributes().GetNewExecutionRunId()
		if next == "" {
			t.Fatalf("run %s ended with %s, not continue-as-new", run, ev.GetEventType())
		}
		runs = append(runs, next)
	}
	return runs
}

// TestLongLivedTicket puts 3,000 comments and 500 transitions on one ticket through the API, from
// nine clients at once, and 250 comments by signal, with a run limit that makes the workflow
// continue as new about a dozen times on the way. No change is lost or applied twice across the
// switches: the ticket counts every one, the trail has no gap, and every comment is stored once.
func TestLongLivedTicket(t *testing.T) {
	const (
		writers           = 8 // commenting clients; with the transitions' one, within the server's 10 updates in flight
		commentsPerWriter = 375
		transitions       = 500
		signals           = 250 // comments from an automation, which nobody waits for
		runLimit          = 300
	)
	s := startSystem(t, withWorker(workerWithRunLimit(runLimit)))
	tk := s.create(t, "Long-lived")
	path := "/api/v1/tickets/" + tk.ID

	began := time.Now()
	errs := make(chan error, writers+2)
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range signals {
			cmd := ticketflow.Command{Actor: "bot", Comment: fmt.Sprintf("bot comment %d", i), CommentID: uuid.NewString()}
			err := s.deps.Temporal.SignalWorkflow(context.Background(), workflows.WorkflowID(tk.ID), "", "comment", cmd)
			if err != nil {
				errs <- fmt.Errorf("signal %d: %w", i, err)
				return
			}
		}
	})
	for w := range writers {
		wg.Go(func() {
			for i := range commentsPerWriter {
				body := map[string]string{"body": fmt.Sprintf("writer %d comment %d", w, i)}
				if code, out, err := s.postChange(path+"/comments", body); err != nil || code != http.StatusCreated {
					errs <- fmt.Errorf("comment %d/%d: %d %s %v", w, i, code, out, err)
					return
				}
			}
		})
	}
	wg.Go(func() {
		// answer, await, answer, …: each one moves the ticket, since comments leave its status alone.
		for i := range transitions {
			action := ticket.ActionAnswer
			if i%2 == 1 {
				action = ticket.ActionAwait
			}
			if code, out, err := s.postChange(path+"/"+string(action), nil); err != nil || code != http.StatusOK {
				errs <- fmt.Errorf("transition %d (%s): %d %s %v", i, action, code, out, err)
				return
			}
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		t.FailNow()
	}
	t.Logf("%d comments, %d transitions and %d signals in %s", writers*commentsPerWriter, transitions, signals,
		time.Since(began).Round(time.Millisecond))

	const (
		allComments = writers*commentsPerWriter + signals
		total       = allComments + transitions
	)
	// Signals are not answered: wait until the last one is applied.
	var got httpapi.Ticket
	waitFor(t, 30*time.Second, fmt.Sprintf("the ticket to reach v%d", 1+total), func() bool {
		got = s.get(t, tk.ID)
		return got.Version >= 1+total
	})
	if got.Version != 1+total || got.CommentsCount != allComments || got.Status != ticket.StatusAwaiting {
		t.Errorf("ticket v%d with %d comments, %s; want v%d with %d, awaiting",
			got.Version, got.CommentsCount, got.Status, 1+total, allComments)
	}
	held, err := s.deps.Temporal.QueryWorkflow(context.Background(), workflows.WorkflowID(tk.ID), "", workflows.QueryTicket)
	var queried ticketflow.Ticket
	if err == nil {
		err = held.Get(&queried)
	}
	if err != nil || queried.Version != got.Version || queried.CommentsCount != got.CommentsCount {
		t.Errorf("the workflow holds v%d with %d comments (%v), the API shows v%d", queried.Version,
			queried.CommentsCount, err, got.Version)
	}

	comments := listPages[httpapi.Comment](t, s, path+"/comments", 200, nil)
	seen := map[string]int{}
	for _, c := range comments {
		seen[c.Body]++
	}
	if len(comments) != allComments || len(seen) != len(comments) {
		t.Errorf("%d comments stored, %d distinct; want %d, each once", len(comments), len(seen), allComments)
	}
	for w := range writers {
		for i := range commentsPerWriter {
			if body := fmt.Sprintf("writer %d comment %d", w, i); seen[body] != 1 {
				t.Errorf("%q stored %d times", body, seen[body])
			}
		}
	}
	for i := range signals {
		if body := fmt.Sprintf("bot comment %d", i); seen[body] != 1 {
			t.Errorf("%q stored %d times", body, seen[body])
		}
	}

	evs := s.trail(t, tk.ID)
	if len(evs) != 1+total {
		t.Errorf("%d events, want %d", len(evs), 1+total)
	}
	for i, ev := range evs {
		if ev.Seq != int64(i+1) {
			t.Fatalf("event %d has seq %d: the trail has a gap or a repeat", i+1, ev.Seq)
		}
	}

	runs := s.workflowRuns(t, tk.ID)
	t.Logf("the workflow ran %d times", len(runs))
	if want := total / runLimit / 2; len(runs)-1 < want {
		t.Errorf("the workflow continued as new %d times, want at least %d", len(runs)-1, want)
	}
}
