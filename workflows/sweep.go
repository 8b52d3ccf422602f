package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/ticketflow/ticketflow/activities"
)

// sweepOptions bound one sweep. The heartbeat timeout lets another worker take over soon from
// a worker that died mid-sweep; the start-to-close timeout only ends a sweep that hangs, since a
// long backlog is deleted in batches that each heartbeat. A sweep that keeps failing fails its
// run after a few attempts, visibly in the Temporal UI, and the schedule's next run tries again.
var sweepOptions = workflow.ActivityOptions{
	StartToCloseTimeout: 30 * time.Minute,
	HeartbeatTimeout:    30 * time.Second,
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval: time.Second,
		MaximumAttempts: 3,
	},
}

// SweepIdempotencyKeys deletes the Idempotency-Keys older than IDEMPOTENCY_TTL and returns how
// many it deleted. A Temporal Schedule per task queue starts it every IDEMPOTENCY_SWEEP_INTERVAL
// and skips a run while the previous one is still going, so one sweep runs at a time however
// many workers there are (internal/app's EnsureSweepSchedule).
func SweepIdempotencyKeys(ctx workflow.Context) (int64, error) {
	var s *activities.Sweeper
	ctx = workflow.WithActivityOptions(ctx, sweepOptions)
	var deleted int64
	err := workflow.ExecuteActivity(ctx, s.DeleteExpiredIdempotencyKeys).Get(ctx, &deleted)
	return deleted, err
}
