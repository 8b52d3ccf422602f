// Command escalate escalates the tickets that have stayed open, never escalated, for longer than
// a threshold. It is an example of an automation built on package ticketflow: it finds the
// candidates with Temporal visibility, reads each one's ticket from its workflow (visibility lags
// behind), and signals escalate with a request ID made of the ticket and its escalation level,
// so that two runs, or a retried one, escalate a ticket once.
//
//	escalate -older-than 4h            # one pass, then exit
//	escalate -older-than 4h -dry-run   # print what it would escalate, change nothing
//	escalate -older-than 4h -every 5m  # a pass every 5 minutes until SIGINT or SIGTERM
//
// It prints a line per ticket it escalates and a summary on stdout, and logs on stderr. The
// Temporal address, namespace and task queue default to TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE and
// TEMPORAL_TASK_QUEUE, as ticketflow's worker reads them. A single pass exits 1 when it failed.
package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	temporallog "go.temporal.io/sdk/log"

	"github.com/ticketflow/ticketflow"
)

// query lists the candidates: the ticket workflows that visibility shows open and never escalated,
// of one deployment's task queue (others may share the namespace). Visibility cannot tell how long
// a ticket has been open (continue-as-new gives each run a new StartTime), so the ticket's own
// CreatedAt decides.
const query = `WorkflowType = 'TicketWorkflow' AND ExecutionStatus = 'Running' AND ` +
	`TicketStatus = 'open' AND TicketEscalationLevel = 0 AND TaskQueue = '%s'`

type options struct {
	address, namespace, taskQueue string
	olderThan, every              time.Duration
	actor, reason                 string
	dryRun                        bool
}

func main() {
	var o options
	flag.StringVar(&o.address, "address", cmp.Or(os.Getenv("TEMPORAL_ADDRESS"), "127.0.0.1:7233"), "Temporal frontend (TEMPORAL_ADDRESS)")
	flag.StringVar(&o.namespace, "namespace", cmp.Or(os.Getenv("TEMPORAL_NAMESPACE"), "default"), "Temporal namespace (TEMPORAL_NAMESPACE)")
	flag.StringVar(&o.taskQueue, "task-queue", cmp.Or(os.Getenv("TEMPORAL_TASK_QUEUE"), "tickets"), "task queue of the ticket workflows (TEMPORAL_TASK_QUEUE)")
	flag.DurationVar(&o.olderThan, "older-than", 24*time.Hour, "escalate tickets open at least this long")
	flag.DurationVar(&o.every, "every", 0, "run a pass at this interval until stopped; 0 runs one pass")
	flag.StringVar(&o.actor, "actor", "escalate-bot", "actor recorded in the audit trail")
	flag.StringVar(&o.reason, "reason", "", `reason recorded in the audit trail (default "open for more than <older-than> without escalation")`)
	flag.BoolVar(&o.dryRun, "dry-run", false, "print what would be escalated, change nothing")
	flag.Parse()
	o.reason = cmp.Or(o.reason, fmt.Sprintf("open for more than %s without escalation", o.olderThan))

	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, o, log)
	stop()
	if err != nil {
		log.Error("escalate failed", "error", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options, log *slog.Logger) error {
	if flag.NArg() > 0 || o.olderThan < 0 || o.every < 0 || strings.ContainsAny(o.taskQueue, `'\`) {
		return errors.New("usage: escalate [flags]; -older-than and -every are not negative, -task-queue has no quotes (see -h)")
	}
	tc, err := client.DialContext(ctx, client.Options{HostPort: o.address, Namespace: o.namespace,
		Logger: temporallog.NewStructuredLogger(log)})
	if err != nil {
		return fmt.Errorf("temporal at %s: %w", o.address, err)
	}
	defer tc.Close()
	e := &escalator{o: o, temporal: tc, tickets: ticketflow.NewClient(tc), log: log, verb: "escalated"}
	if o.dryRun {
		e.verb = "would escalate"
	}
	if o.every == 0 {
		return e.pass(ctx)
	}
	for {
		if err := e.pass(ctx); err != nil && ctx.Err() == nil {
			log.Error("pass failed; trying again at the next", "error", err, "every", o.every)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(o.every):
		}
	}
}

type escalator struct {
	o        options
	temporal client.Client
	tickets  *ticketflow.Client
	log      *slog.Logger
	verb     string // what the lines printed say was done: "escalated", or "would escalate"
}

// pass escalates every candidate that is old enough, page by page, and prints a summary.
func (e *escalator) pass(ctx context.Context) error {
	var candidates, escalated, skipped, failed int
	seen := map[string]bool{} // a ticket that moves between pages is looked at once
	req := &workflowservice.ListWorkflowExecutionsRequest{Query: fmt.Sprintf(query, e.o.taskQueue), PageSize: 100}
	for {
		page, err := e.temporal.ListWorkflow(ctx, req)
		if err != nil {
			return fmt.Errorf("list the candidates: %w", err)
		}
		for _, wf := range page.GetExecutions() {
			id, ok := ticketflow.TicketID(wf.GetExecution().GetWorkflowId())
			if !ok || seen[id] {
				continue
			}
			seen[id] = true
			candidates++
			switch done, err := e.consider(ctx, id); {
			case err != nil:
				failed++
				e.log.Error("ticket failed", "ticket_id", id, "error", err)
			case done:
				escalated++
			default:
				skipped++
			}
		}
		if req.NextPageToken = page.GetNextPageToken(); len(req.NextPageToken) == 0 {
			break
		}
	}
	fmt.Printf("summary: %d candidates, %s %d, skipped %d, failed %d\n", candidates, e.verb, escalated, skipped, failed)
	if failed > 0 {
		return fmt.Errorf("%d of %d candidates failed", failed, candidates)
	}
	return nil
}

// consider reads the ticket and, if it is still open, never escalated and old enough, escalates
// it and prints a line; it reports whether it did.
func (e *escalator) consider(ctx context.Context, id string) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second) // a query waits for a worker
	defer cancel()
	t, err := e.tickets.Ticket(ctx, id)
	if err != nil {
		return false, fmt.Errorf("read the ticket: %w", err)
	}
	age := time.Since(t.CreatedAt)
	if t.Status != ticketflow.StatusOpen || t.EscalationLevel > 0 || age < e.o.olderThan {
		return false, nil // visibility lagged behind the ticket, or the ticket is too young
	}
	if !e.o.dryRun {
		// Every run that finds the ticket at this level sends the same request ID: the workflow
		// applies it once and ignores the repeats.
		cmd := ticketflow.Command{Actor: e.o.actor, Reason: e.o.reason,
			RequestID: fmt.Sprintf("escalate-example/%s/level-%d", t.ID, t.EscalationLevel)}
		err := e.tickets.Signal(ctx, id, ticketflow.Escalate, cmd)
		if errors.Is(err, ticketflow.ErrNotRunning) {
			return false, nil // its workflow completed meanwhile: the ticket was closed
		}
		if err != nil {
			return false, fmt.Errorf("signal escalate: %w", err)
		}
	}
	fmt.Printf("%s %s (open %s): %q\n", e.verb, t.ID, age.Round(time.Second), t.Title)
	return true, nil
}
