package workflows

import (
	"context"
	"errors"
	"fmt"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/ticketflow/ticketflow"
	"github.com/ticketflow/ticketflow/internal/ticket"
	"github.com/ticketflow/ticketflow/internal/wire"
)

// Reader reads a ticket from the durable record. Its errors are domain errors: ENOTFOUND, and
// ETIMEOUT or EUNAVAILABLE when the record did not answer, which leaves a change's outcome as
// unknown as Temporal being down would.
type Reader interface {
	// Ticket returns the ticket, or an ENOTFOUND error.
	Ticket(ctx context.Context, id string) (ticket.Ticket, error)
	// AppliedChange reports whether request requestID changed the ticket, and returns the ticket
	// with the comment that request added.
	AppliedChange(ctx context.Context, ticketID, requestID string) (ticket.Change, bool, error)
}

// Client sends changes to tickets' workflows and turns what comes back into domain values and
// errors, so that its callers never see a Temporal type.
type Client struct {
	temporal  client.Client
	taskQueue string
	policy    ticket.Policy
	tickets   Reader
}

// NewClient returns a Client that starts workflows on taskQueue with the timers of policy. It reads
// a ticket from tickets when its workflow has completed, to say why a change was refused.
func NewClient(c client.Client, taskQueue string, policy ticket.Policy, tickets Reader) *Client {
	return &Client{temporal: c, taskQueue: taskQueue, policy: policy, tickets: tickets}
}

// Create starts the workflow of a new ticket and returns the ticket once it is persisted. Start and
// the first update travel in one request (update-with-start), so creating costs one round trip.
func (c *Client) Create(ctx context.Context, id string, n ticket.NewTicket, actor string) (ticket.Ticket, error) {
	start := c.temporal.NewWithStartWorkflowOperation(client.StartWorkflowOptions{
		ID:        WorkflowID(id),
		TaskQueue: c.taskQueue,
		// A retried create joins the workflow it already started instead of failing.
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		// A closed ticket's workflow ID is never reused.
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		// The title, beside the workflow in the Temporal UI's lists. It is user metadata, a
		// payload like the input, not a search attribute: those hold nothing a customer wrote.
		StaticSummary: n.Normalize().Title,
	}, TicketWorkflow, Input{TicketID: id, New: wire.FromNewTicket(n), Actor: actor, Policy: wire.FromPolicy(c.policy)})
	h, err := c.temporal.UpdateWithStartWorkflow(ctx, client.UpdateWithStartWorkflowOptions{
		StartWorkflowOperation: start,
		UpdateOptions: client.UpdateWorkflowOptions{
			WorkflowID:   WorkflowID(id),
			UpdateName:   UpdateCreate,
			WaitForStage: client.WorkflowUpdateStageCompleted,
		},
	})
	t, err := outcome[ticketflow.Ticket](ctx, h, err)
	if err == nil {
		return wire.DomainTicket(t), nil
	}
	// A retried create whose ticket was created, and perhaps closed and its workflow completed,
	// meanwhile: the record has it.
	if _, domain := FromTemporal(err).(*ticket.Error); !domain {
		if stored, rerr := c.tickets.Ticket(ctx, id); rerr == nil {
			return stored, nil
		}
	}
	return ticket.Ticket{}, translate(ctx, err)
}

// Change asks the ticket's workflow to apply cmd and returns what it changed once persisted.
func (c *Client) Change(ctx context.Context, id string, cmd ticket.Command) (ticket.Change, error) {
	h, err := c.temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		// Temporal applies an update ID once per workflow run and answers a repeat with the first
		// outcome, so a retried request joins the change it already made.
		UpdateID:     cmd.RequestID,
		WorkflowID:   WorkflowID(id),
		UpdateName:   string(cmd.Action),
		Args:         []any{wire.FromCommand(cmd)},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	ch, err := outcome[ticketflow.Change](ctx, h, err)
	if err == nil {
		return wire.DomainChange(ch), nil
	}
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) || ticket.ErrorCode(FromTemporal(err)) == ticket.EAPPLIED {
		// No running workflow (the ticket never existed, or it was closed and its workflow has
		// completed), or a retried request that an earlier run applied. The record says whether
		// the request made its change; if not, whether the ticket exists and why the lifecycle
		// refuses the change.
		if applied, ok, rerr := c.tickets.AppliedChange(ctx, id, cmd.RequestID); rerr != nil {
			return ticket.Change{}, rerr
		} else if ok {
			return applied, nil
		}
		t, rerr := c.tickets.Ticket(ctx, id)
		if rerr != nil {
			return ticket.Change{}, rerr
		}
		if cerr := t.Check(cmd.Normalize()); cerr != nil {
			return ticket.Change{}, cerr
		}
		// The ticket exists and takes the change, the record does not show it made, yet
		// Temporal knows no run or update for it: an update lost by a Temporal server that
		// restarted while it was in flight, say. Its outcome is unknown; translate says so.
	}
	return ticket.Change{}, translate(ctx, err)
}

// outcome waits for the outcome of the update that h is the handle of, unless sending it failed
// with err.
func outcome[T any](ctx context.Context, h client.WorkflowUpdateHandle, err error) (T, error) {
	var v T
	if err == nil {
		err = h.Get(ctx, &v)
	}
	return v, err
}

// Ticket returns the ticket as its workflow holds it.
func (c *Client) Ticket(ctx context.Context, id string) (ticket.Ticket, error) {
	v, err := c.temporal.QueryWorkflow(ctx, WorkflowID(id), "", QueryTicket)
	var t ticketflow.Ticket
	if err == nil {
		err = v.Get(&t)
	}
	if err != nil {
		var notFound *serviceerror.NotFound
		if errors.As(err, &notFound) {
			return ticket.Ticket{}, ticket.NotFound(id)
		}
		return ticket.Ticket{}, translate(ctx, err)
	}
	return wire.DomainTicket(t), nil
}

// Ping checks that the Temporal frontend answers.
func (c *Client) Ping(ctx context.Context) error {
	_, err := c.temporal.CheckHealth(ctx, &client.CheckHealthRequest{})
	return err
}

// translate turns a failed call to Temporal into a domain error. Anything that leaves the outcome
// unknown says so, so that clients know a retry (with the same request ID, which Temporal and the
// record recognise) is what to do: a timeout is ETIMEOUT, and any failure of the Temporal service
// (an unreachable or restarting server, a namespace not loaded yet, an update lost in a restart)
// is EUNAVAILABLE. Only an error that is neither, a bug such as a payload that does not decode,
// is left as it is, for a 500. The cause is kept after the domain error, for the log.
func translate(ctx context.Context, err error) error {
	var domain *ticket.Error
	var service serviceerror.ServiceError
	var deadline *serviceerror.DeadlineExceeded
	var updateTimeout *client.WorkflowUpdateServiceTimeoutOrCanceledError
	switch {
	case errors.As(FromTemporal(err), &domain):
		return domain
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &deadline), errors.As(err, &updateTimeout), ctx.Err() != nil:
		return fmt.Errorf("%w: %w", ticket.Errorf(ticket.ETIMEOUT, "%s", notConfirmed), err)
	case errors.As(err, &service):
		return fmt.Errorf("%w: %w", ticket.Errorf(ticket.EUNAVAILABLE, "the workflow service is unavailable; retry later"), err)
	}
	return err
}

// notConfirmed is what a client reads when a change's outcome is unknown because time ran out.
const notConfirmed = "the change was not confirmed in time; retry to learn its outcome"
