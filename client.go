package ticketflow

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
)

// Client sends a ticket's workflow its messages through a Temporal client, which the caller dials
// (client.Dial) with the namespace ticketflow's worker uses, and closes.
type Client struct {
	temporal client.Client
}

// NewClient returns a Client that sends through c.
func NewClient(c client.Client) *Client { return &Client{temporal: c} }

// ErrNotRunning is what Signal, Update and Ticket fail with when the ticket's workflow is not
// running: the ticket does not exist, or it is closed, since a closed ticket's workflow completes.
// The HTTP API still has a closed ticket.
var ErrNotRunning = errors.New("ticketflow: the ticket's workflow is not running (no such ticket, or it is closed)")

// Signal asks for the change and returns once Temporal has recorded the signal, before the
// workflow applies it. The lifecycle may still refuse it; the refusal is then an event of type
// transition_rejected in the ticket's audit trail. Set cmd.RequestID to make a retry harmless:
// the workflow applies a request ID once.
func (c *Client) Signal(ctx context.Context, ticketID string, a Action, cmd Command) error {
	cmd, err := fill(cmd)
	if err != nil {
		return err
	}
	return notRunning(c.temporal.SignalWorkflow(ctx, WorkflowID(ticketID), "", string(a), cmd))
}

// Update asks for the change and returns it once it is persisted. A change that the ticket
// refuses fails with an error for which Refusal reports the reason. Set cmd.RequestID to make a
// retry harmless: a retry returns the first attempt's change, except once the workflow has
// continued as new, when it is refused as "applied": the change was made, and the ticket shows it.
func (c *Client) Update(ctx context.Context, ticketID string, a Action, cmd Command) (Change, error) {
	cmd, err := fill(cmd)
	if err != nil {
		return Change{}, err
	}
	h, err := c.temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		UpdateID:     cmd.RequestID, // Temporal answers a repeated update ID with the first outcome
		WorkflowID:   WorkflowID(ticketID),
		UpdateName:   string(a),
		Args:         []any{cmd},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	var ch Change
	if err == nil {
		err = h.Get(ctx, &ch)
	}
	return ch, notRunning(err)
}

// Ticket returns the ticket as its workflow holds it.
func (c *Client) Ticket(ctx context.Context, ticketID string) (Ticket, error) {
	v, err := c.temporal.QueryWorkflow(ctx, WorkflowID(ticketID), "", QueryTicket)
	var t Ticket
	if err == nil {
		err = v.Get(&t)
	}
	return t, notRunning(err)
}

// Refusal returns the code and message with which the ticket refused an update: "invalid_transition"
// for a move the lifecycle does not allow, "closed" for a change to a ticket that closed while its
// workflow was finishing, "precondition" for an IfVersion that no longer holds, "applied" for a
// request applied already, "invalid" for a Command that breaks a rule. It reports false when err is
// no refusal: ErrNotRunning, a failure to reach Temporal, a timeout.
func Refusal(err error) (code, message string, ok bool) {
	var app *temporal.ApplicationError
	if !errors.As(err, &app) || app.Type() == "" {
		return "", "", false
	}
	return app.Type(), app.Message(), true
}

// notRunning wraps Temporal's answer for a workflow that is not running in ErrNotRunning.
func notRunning(err error) error {
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		return fmt.Errorf("%w: %w", ErrNotRunning, err)
	}
	return err
}

// fill gives a comment the ID the workflow needs for it.
func fill(cmd Command) (Command, error) {
	if cmd.Comment != "" && cmd.CommentID == "" {
		id, err := uuid.NewV7()
		if err != nil {
			return Command{}, fmt.Errorf("ticketflow: comment id: %w", err)
		}
		cmd.CommentID = id.String()
	}
	return cmd, nil
}
