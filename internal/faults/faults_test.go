//go:build faults

package faults_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	temporallog "go.temporal.io/sdk/log"

	"github.com/ticketflow/ticketflow/internal/cache/redis"
	"github.com/ticketflow/ticketflow/internal/faults"
	"github.com/ticketflow/ticketflow/internal/store/postgres"
	"github.com/ticketflow/ticketflow/internal/ticket"
	"github.com/ticketflow/ticketflow/workflows"
)

// maxViolations is how many broken promises a failed scenario lists; the rest are counted.
const maxViolations = 40

// TestFaults runs every scenario (make test-faults) on a stack of its own that it starts from
// empty and stops at the end. One scenario: go test -tags faults -run 'TestFaults/redis-node-loss'.
// FAULTS_SEED=<n> repeats the random choices of an earlier run.
func TestFaults(t *testing.T) {
	start := time.Now()
	ctx := t.Context()
	repo, err := faults.FindRepo()
	if err != nil {
		t.Fatal(err)
	}
	st, err := faults.NewStack(ctx, repo, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Clean(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := st.Down(context.WithoutCancel(ctx)); err != nil {
			t.Errorf("taking the faults stack down: %v", err)
		}
	})
	if err := st.Up(ctx); err != nil {
		t.Fatal(err)
	}
	workerBin, apiBin, err := faults.Build(ctx, repo, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	key, err := faults.CreateKey(ctx, apiBin, st, "fault-suite", "agent")
	if err != nil {
		t.Fatal(err)
	}
	adminKey, err := faults.CreateKey(ctx, apiBin, st, "fault-suite-admin", "admin")
	if err != nil {
		t.Fatal(err)
	}

	suite := &faults.Suite{
		Stack: st, WorkerBin: workerBin, APIBin: apiBin, Key: key, AdminKey: adminKey, Seed: seed(t), Logf: t.Logf,
		Settings: faults.Settings{RequestTimeout: 5 * time.Second, ShutdownTimeout: 10 * time.Second},
		Truth:    truth(t, st),
	}
	var lines []string
	for _, sc := range faults.Scenarios() {
		t.Run(sc.Name, func(t *testing.T) {
			suite.Logf = t.Logf
			f, err := suite.Run(ctx, sc)
			if err != nil {
				// In the summary too, its first and last lines (the end of a log): that is
				// what a short excerpt of the output shows.
				said := strings.Split(strings.TrimSpace(err.Error()), "\n")
				line := said[0]
				if len(said) > 1 {
					line += " ... " + strings.TrimSpace(said[len(said)-1])
				}
				lines = append(lines, fmt.Sprintf("%-16s could not run: %s", sc.Name, line))
				t.Fatal(err)
			}
			lines = append(lines, f.String())
			t.Log("figures: " + f.String())
			for i, v := range f.Violations {
				if i == maxViolations {
					t.Errorf("... and %d more", len(f.Violations)-maxViolations)
					break
				}
				t.Error(v)
			}
			if f.Lost != 0 || f.Duplicated != 0 || f.Stale != 0 || f.Diverged != 0 || f.WebhookMissing != 0 || f.WebhookBroken != 0 {
				t.Errorf("lost=%d duplicated=%d stale=%d diverged=%d webhook missing=%d broken=%d, want 0 each",
					f.Lost, f.Duplicated, f.Stale, f.Diverged, f.WebhookMissing, f.WebhookBroken)
			}
		})
	}
	// One block at the end, so that the figures of every scenario can be read (and pasted) at once.
	fmt.Printf("\nfault suite figures (seed %d, %s):\n  %s\n", suite.Seed, time.Since(start).Round(time.Second),
		strings.Join(lines, "\n  "))
}

// seed returns FAULTS_SEED, or a new seed that the log shows, so that a failing run's random
// choices (which master, which moments) can be repeated.
func seed(t *testing.T) uint64 {
	t.Helper()
	if s := os.Getenv("FAULTS_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("FAULTS_SEED=%q: %v", s, err)
		}
		return n
	}
	n := uint64(time.Now().UnixNano())
	t.Logf("seed %d (FAULTS_SEED=%d repeats this run's random choices)", n, n)
	return n
}

// truth connects the checker to the stack's Temporal, PostgreSQL and Redis directly, not
// through the processes under test.
func truth(t *testing.T, st *faults.Stack) *faults.Truth {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	store, err := postgres.Open(ctx, st.DSN)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(store.Close)
	cache := redis.New(st.RedisAddrs, 0)
	t.Cleanup(func() { cache.Close() })
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	tc, err := client.DialContext(ctx, client.Options{
		HostPort: st.TemporalAddress, Namespace: "default", Logger: temporallog.NewStructuredLogger(quiet),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tc.Close)
	// Only its query is used, which needs neither a task queue nor timers.
	return &faults.Truth{Workflows: workflows.NewClient(tc, "", ticket.Policy{}, store), Store: store, Cache: cache}
}
