package bench

import (
	"context"
	"errors"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"
)

func TestPercentile(t *testing.T) {
	ms := func(n ...int) []time.Duration {
		out := make([]time.Duration, len(n))
		for i, v := range n {
			out[i] = time.Duration(v) * time.Millisecond
		}
		return out
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = i + 1
	}
	tests := []struct {
		name    string
		samples []time.Duration
		q       float64
		want    time.Duration
	}{
		{"none", nil, 0.5, 0},
		{"one", ms(7), 0.99, 7 * time.Millisecond},
		{"median of four is the second", ms(1, 2, 3, 4), 0.5, 2 * time.Millisecond},
		{"p50 of 1..100", ms(hundred...), 0.5, 50 * time.Millisecond},
		{"p99 of 1..100", ms(hundred...), 0.99, 99 * time.Millisecond},
		{"p100 is the largest", ms(hundred...), 1, 100 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, percentile(tt.samples, tt.q))
		})
	}
}

// TestRun checks that run does exactly n operations, each once, spread over the workers, and that
// the first error stops it.
func TestRun(t *testing.T) {
	var seen [50]atomic.Int32
	samples, _, err := run(t.Context(), 4, 50, func(_ context.Context, w, i int) error {
		require.Less(t, w, 4)
		seen[i].Add(1)
		return nil
	})
	require.NoError(t, err)
	require.Len(t, samples, 50)
	for i := range seen {
		require.Equal(t, int32(1), seen[i].Load(), "operation %d", i)
	}

	boom := errors.New("boom")
	_, _, err = run(t.Context(), 4, 1000, func(_ context.Context, _, i int) error {
		if i == 10 {
			return boom
		}
		return nil
	})
	require.ErrorIs(t, err, boom)
}

func TestTargets(t *testing.T) {
	r := &Report{Figures: map[string]float64{
		"transition_p50_ratio": 1.2, "transition_rate_ratio": 0.5, "create_rate_ratio": 0.8,
		"get_rate_ratio": 0.95, "list_p99_ms": 5, "list_rows": 100_000, "worker_heap_kib_per_ticket": 31,
		"list_assignee_p99_ms": 25, "search_p99_ms": 40, "webhook_delivery_p99_ms": 120, "stream_delivery_p99_ms": 300,
	}}
	require.Equal(t, map[string]string{
		"transition_p50_ratio": "yes", "transition_rate_ratio": "NO", "create_rate_ratio": "yes",
		"get_rate_ratio": "yes", "list_p99_ms": "(yes at 100000 rows)", "worker_heap_kib_per_ticket": "NO",
		"list_assignee_p99_ms": "(no at 100000 rows)", "search_p99_ms": "(yes at 100000 rows)",
		"webhook_delivery_p99_ms": "yes", "stream_delivery_p99_ms": "NO",
	}, r.Targets())
	r.Figures["list_rows"] = 1_000_000
	require.Equal(t, "yes", r.Targets()["list_p99_ms"])
}

// TestFigures checks that each ratio is ticketflow's figure over the raw one, at 16 clients and
// alone, and that every series gives its latency and rate keys.
func TestFigures(t *testing.T) {
	r := &Report{
		RawUpdate:       Result{Ops: 200, Elapsed: time.Second, P50: 50 * time.Millisecond, P99: 80 * time.Millisecond},
		Transition:      Result{Ops: 100, Elapsed: time.Second, P50: 100 * time.Millisecond, P99: 200 * time.Millisecond},
		RawUpdateAlone:  Result{Ops: 10, Elapsed: time.Second, P50: 8 * time.Millisecond, P99: 10 * time.Millisecond},
		TransitionAlone: Result{Ops: 10, Elapsed: time.Second, P50: 12 * time.Millisecond, P99: 20 * time.Millisecond},
	}
	f := r.figures()
	require.Equal(t, 2.0, f["transition_p50_ratio"])
	require.Equal(t, 0.5, f["transition_rate_ratio"])
	require.Equal(t, 1.5, f["transition_alone_p50_ratio"])
	require.Equal(t, 2.0, f["transition_alone_p99_ratio"])
	require.Equal(t, 12.0, f["transition_alone_p50_ms"])
	require.Equal(t, 8.0, f["raw_update_alone_p50_ms"])
	require.Equal(t, 200.0, f["raw_update_per_s"])
}

// TestProcs checks the reading of /proc: this process's CPU time grows, and the Temporal server
// and Redis nodes of a stack are told apart by their ports.
func TestProcs(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc on this system")
	}
	st, ok := readStat(os.Getpid())
	require.True(t, ok)
	require.NotEmpty(t, st.comm)

	p := procs{temporalPort: "7533", redisPorts: map[string]bool{"7301": true}}
	require.Equal(t, "temporal", p.classify("temporal", []string{"temporal", "server", "start-dev", "--port", "7533"}))
	require.Empty(t, p.classify("temporal", []string{"temporal", "server", "start-dev", "--port", "7333"}))
	require.Equal(t, "redis", p.classify("redis-server", []string{"redis-server 127.0.0.1:7301 [cluster]"}))
	require.Empty(t, p.classify("redis-server", []string{"redis-server 127.0.0.1:7101 [cluster]"}))
	_, ok = p.cpuTimes()["bench"]
	require.True(t, ok)
}

func TestLabel(t *testing.T) {
	labels := `namespace="default",operation="CreateTasks",service_name="matching"`
	require.Equal(t, "CreateTasks", label(labels, "operation"))
	require.Equal(t, "matching", label(labels, "service_name"))
	require.Empty(t, label(labels, "task_type"))
}

// TestRawWorkflow checks the baseline: its update answers at once, and a signal ends it.
func TestRawWorkflow(t *testing.T) {
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	answered := false
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(rawUpdate, "u1", &testsuite.TestUpdateCallback{
			OnAccept:   func() {},
			OnReject:   func(err error) { t.Errorf("update rejected: %v", err) },
			OnComplete: func(_ any, err error) { answered = err == nil },
		})
	}, time.Second)
	env.RegisterDelayedCallback(func() { env.SignalWorkflow(rawStop, nil) }, 2*time.Second)
	env.ExecuteWorkflow(RawWorkflow)
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	require.True(t, answered, "the update was not answered")
}
