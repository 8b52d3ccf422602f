package workflows_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"

	"github.com/ticketflow/ticketflow/activities"
	"github.com/ticketflow/ticketflow/workflows"
)

// expiredKeys stands in for the store: it holds a number of expired keys and deletes them as the
// store would, at most limit per call. fail, if set, fails the calls it returns an error for.
type expiredKeys struct {
	mu    sync.Mutex
	left  int64
	calls []time.Duration // the ttl of every call
	fail  func(call int) error
}

func (e *expiredKeys) DeleteExpiredIdempotencyKeys(_ context.Context, ttl time.Duration, limit int) (int64, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.calls = append(e.calls, ttl)
	if e.fail != nil {
		if err := e.fail(len(e.calls)); err != nil {
			return 0, err
		}
	}
	n := min(e.left, int64(limit))
	e.left -= n
	return n, nil
}

// sweepEnv runs SweepIdempotencyKeys with the real activity on keys, and records the options of
// each activity attempt.
func sweepEnv(t *testing.T, keys *expiredKeys, batch int) (*testsuite.TestWorkflowEnvironment, *[]activity.Info) {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	env.RegisterWorkflow(workflows.SweepIdempotencyKeys)
	env.RegisterActivity(&activities.Sweeper{Store: keys, TTL: 48 * time.Hour, BatchSize: batch})
	var attempts []activity.Info
	env.SetOnActivityStartedListener(func(info *activity.Info, _ context.Context, _ converter.EncodedValues) {
		attempts = append(attempts, *info)
	})
	return env, &attempts
}

// TestSweepIdempotencyKeys sweeps a backlog larger than a batch: one activity deletes it all, batch
// by batch, with the TTL it was given, heartbeating, and the workflow returns the count.
func TestSweepIdempotencyKeys(t *testing.T) {
	keys := &expiredKeys{left: 25}
	env, attempts := sweepEnv(t, keys, 10)
	env.ExecuteWorkflow(workflows.SweepIdempotencyKeys)

	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var deleted int64
	require.NoError(t, env.GetWorkflowResult(&deleted))
	require.Equal(t, int64(25), deleted)
	require.Zero(t, keys.left)
	require.Equal(t, []time.Duration{48 * time.Hour, 48 * time.Hour, 48 * time.Hour}, keys.calls,
		"batches of 10, 10 and 5: the short one ends the sweep")
	require.Len(t, *attempts, 1)
	info := (*attempts)[0]
	require.Equal(t, "DeleteExpiredIdempotencyKeys", info.ActivityType.Name)
	require.Positive(t, info.HeartbeatTimeout, "a sweep that heartbeats is retried soon after its worker dies")
}

// TestSweepRetries fails the first attempt: the activity is retried and the sweep completes.
func TestSweepRetries(t *testing.T) {
	keys := &expiredKeys{left: 3, fail: func(call int) error {
		if call == 1 {
			return errors.New("connection reset")
		}
		return nil
	}}
	env, attempts := sweepEnv(t, keys, 10)
	env.ExecuteWorkflow(workflows.SweepIdempotencyKeys)

	require.NoError(t, env.GetWorkflowError())
	var deleted int64
	require.NoError(t, env.GetWorkflowResult(&deleted))
	require.Equal(t, int64(3), deleted)
	require.Len(t, *attempts, 2)
}

// TestSweepGivesUp fails every attempt: after a few the run fails, for the schedule's next run to
// try again, rather than retrying for ever inside one run.
func TestSweepGivesUp(t *testing.T) {
	keys := &expiredKeys{left: 3, fail: func(int) error { return errors.New("database is down") }}
	env, attempts := sweepEnv(t, keys, 10)
	env.ExecuteWorkflow(workflows.SweepIdempotencyKeys)

	require.True(t, env.IsWorkflowCompleted())
	require.ErrorContains(t, env.GetWorkflowError(), "database is down")
	require.Len(t, *attempts, 3)
}
