package app_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/ticketflow/ticketflow/internal/app"
	"github.com/ticketflow/ticketflow/internal/httpapi"
	"github.com/ticketflow/ticketflow/internal/metrics/metricstest"
)

// TestIdempotencySweep runs the worker as its main does, with a short TTL and sweep interval: the
// worker makes the sweep's schedule on the Temporal server, the sweep deletes a key's row once it
// is older than the TTL and counts it, and the same Idempotency-Key then creates a new ticket.
// With the sweep paused, a key past the TTL starts afresh all the same.
func TestIdempotencySweep(t *testing.T) {
	cfg := testConfig(t)
	cfg.IdempotencyTTL = 3 * time.Second
	cfg.IdempotencySweepInterval = time.Second
	s := startSystem(t, withConfig(cfg), withoutWorker())
	deps := s.deps
	worker := startWorker(t, cfg)

	ctx := t.Context()
	schedule := deps.Temporal.ScheduleClient().GetHandle(ctx, app.SweepScheduleID(cfg.TemporalTaskQueue))
	desc, err := schedule.Describe(ctx)
	if err != nil {
		t.Fatalf("the sweep's schedule: %v", err)
	}
	if iv := desc.Schedule.Spec.Intervals; len(iv) != 1 || iv[0].Every != cfg.IdempotencySweepInterval {
		t.Errorf("schedule intervals %+v, want every %s", iv, cfg.IdempotencySweepInterval)
	}
	if p := desc.Schedule.Policy; p == nil || p.Overlap != enums.SCHEDULE_OVERLAP_POLICY_SKIP {
		t.Errorf("schedule policy %+v, want overlap skip: one sweep at a time", p)
	}
	action, ok := desc.Schedule.Action.(*client.ScheduleWorkflowAction)
	if !ok || action.Workflow != "SweepIdempotencyKeys" || action.TaskQueue != cfg.TemporalTaskQueue {
		t.Errorf("schedule action %+v, want SweepIdempotencyKeys on %s", desc.Schedule.Action, cfg.TemporalTaskQueue)
	}

	body := map[string]string{"title": "swept"}
	var first httpapi.Ticket
	s.post(t, "/api/v1/tickets", "swept-1", body).expect(t, http.StatusCreated, &first)
	if r := s.post(t, "/api/v1/tickets", "swept-1", body); r.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("a retry within the TTL got %d %s, not the replay", r.status, r.body)
	}
	waitFor(t, 20*time.Second, "the sweep to delete the expired key", func() bool { return keyRows(t, s.dsn, "swept-1") == 0 })
	var second httpapi.Ticket
	r := s.post(t, "/api/v1/tickets", "swept-1", body)
	r.expect(t, http.StatusCreated, &second)
	if second.ID == first.ID || r.header.Get("Idempotent-Replayed") != "" {
		t.Errorf("the key after the sweep gave ticket %s (replayed %q), the first was %s: want a new ticket",
			second.ID, r.header.Get("Idempotent-Replayed"), first.ID)
	}
	if n, _ := metricstest.Scrape(t, worker.base+"/metrics").Value("ticketflow_idempotency_keys_deleted_total"); n < 1 {
		t.Errorf("ticketflow_idempotency_keys_deleted_total = %v, want the swept key counted", n)
	}

	// Without the sweep, the store itself treats a key past the TTL as free: Connect gives the
	// API's store the TTL.
	if err := schedule.Pause(ctx, client.SchedulePauseOptions{Note: "TestIdempotencySweep"}); err != nil {
		t.Fatal(err)
	}
	var third httpapi.Ticket
	s.post(t, "/api/v1/tickets", "kept-1", body).expect(t, http.StatusCreated, &third)
	time.Sleep(cfg.IdempotencyTTL + time.Second)
	if keyRows(t, s.dsn, "kept-1") != 1 {
		t.Fatal("the paused sweep deleted the key")
	}
	var fourth httpapi.Ticket
	s.post(t, "/api/v1/tickets", "kept-1", body).expect(t, http.StatusCreated, &fourth)
	if fourth.ID == third.ID {
		t.Errorf("a key past the TTL replayed ticket %s", third.ID)
	}

	// A second worker finds the schedule made, and brings it to its own interval.
	cfg.IdempotencySweepInterval = time.Hour
	startWorker(t, cfg)
	if desc, err := schedule.Describe(ctx); err != nil || desc.Schedule.Spec.Intervals[0].Every != time.Hour {
		t.Errorf("after a worker with another interval: %+v, %v; want every 1h", desc.Schedule.Spec.Intervals, err)
	} else if !desc.Schedule.State.Paused {
		t.Error("a worker's start unpaused the schedule that an operator paused")
	}
}

// keyRows counts the rows of an Idempotency-Key in the database at dsn.
func keyRows(t *testing.T, dsn, key string) int {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int
	if err := conn.QueryRow(t.Context(), `SELECT count(*) FROM idempotency_keys WHERE key = $1`, key).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
