package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/ticketflow/ticketflow/activities"
)

// pumpOptions keep the webhook pump running: a pump whose worker died is given to another worker
// once its heartbeat stops, and a failed one is retried for as long as it takes, since giving up
// would stop every webhook's deliveries. The deliveries' own retries are the pump's business and
// are kept in PostgreSQL, so no ticket's history, nor this one's, grows with them.
var pumpOptions = workflow.ActivityOptions{
	StartToCloseTimeout: activities.PumpRun + 5*time.Minute,
	HeartbeatTimeout:    20 * time.Second,
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval:    time.Second,
		BackoffCoefficient: 2,
		MaximumInterval:    30 * time.Second,
	},
}

// pumpRuns is how many runs of the pump one run of the workflow makes before it continues as new,
// so that its history stays short.
const pumpRuns = 100

// PumpWebhooks runs the webhook pump (activities.WebhookPump) one run after another, for ever:
// one such workflow per task queue, started by every worker (internal/app's EnsureWebhookPump),
// so that one pump at most runs at a time however many workers there are.
func PumpWebhooks(ctx workflow.Context) error {
	var p *activities.WebhookPump
	ctx = workflow.WithActivityOptions(ctx, pumpOptions)
	for range pumpRuns {
		if err := workflow.ExecuteActivity(ctx, p.Pump).Get(ctx, nil); err != nil {
			return err
		}
	}
	return workflow.NewContinueAsNewError(ctx, PumpWebhooks)
}
