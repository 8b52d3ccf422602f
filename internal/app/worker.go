package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"

	"github.com/ticketflow/ticketflow/activities"
	"github.com/ticketflow/ticketflow/internal/buildinfo"
	"github.com/ticketflow/ticketflow/internal/config"
	"github.com/ticketflow/ticketflow/internal/health"
	"github.com/ticketflow/ticketflow/internal/httpapi"
	"github.com/ticketflow/ticketflow/internal/idempotency"
	"github.com/ticketflow/ticketflow/internal/ticket"
	"github.com/ticketflow/ticketflow/internal/webhook"
	"github.com/ticketflow/ticketflow/workflows"
)

// Worker is a Temporal worker of ticketflow. It is a worker.Worker that also knows what its
// readiness needs: whether it runs, the fatal error that stopped it, and the tickets whose writes
// keep failing.
type Worker struct {
	worker.Worker
	failing *activities.Failing

	started  atomic.Bool
	stopped  atomic.Bool
	fatalErr atomic.Pointer[error]
	fatal    chan struct{} // closed on the first fatal error
}

// NewWorker returns a worker, not yet started, that runs ticket workflows and their activities,
// and the sweep of expired Idempotency-Keys. Its Stop waits up to the shutdown timeout for
// running activities: without it the SDK cancels them at once, and each change in flight waits
// for a retry on another worker.
func (d *Deps) NewWorker() *Worker {
	w := &Worker{
		// A write that fails for longer than a failover or a dropped connection takes to heal.
		failing: activities.NewFailing(d.Log, d.Metrics.Persist(), 30*time.Second),
		fatal:   make(chan struct{}),
	}
	opts := WorkerOptions(d.Config)
	// The SDK stops a worker by itself on an error that retrying cannot mend (its namespace
	// deleted, a server that refuses the client); this is how the process learns of it.
	opts.OnFatalError = w.fail
	w.Worker = worker.New(d.Temporal, d.Config.TemporalTaskQueue, opts)
	w.RegisterWorkflow(workflows.TicketWorkflow)
	w.RegisterActivity(&activities.Activities{Store: d.Store, Cache: d.Metrics.Cache(d.Cache), Failing: w.failing})
	w.RegisterWorkflow(workflows.PumpWebhooks)
	w.RegisterActivity(&activities.WebhookPump{
		Store: d.Store, Client: webhook.NewClient(d.Config.WebhookAllowPrivate), Log: d.Log, Metrics: d.Metrics.Webhooks(),
		Body: func(e ticket.OutEvent) ([]byte, error) { return httpapi.EventBody(e, d.cursorSecret) },
	})
	w.RegisterWorkflow(workflows.SweepIdempotencyKeys)
	w.RegisterActivity(&activities.Sweeper{Store: d.Store, TTL: idempotencyTTL(d.Config), Metrics: d.Metrics.Sweep()})
	return w
}

// Start starts polling.
func (w *Worker) Start() error {
	if err := w.Worker.Start(); err != nil {
		return err
	}
	w.started.Store(true)
	return nil
}

// Stop stops polling and waits for the running tasks, within the shutdown timeout.
func (w *Worker) Stop() {
	w.stopped.Store(true)
	w.Worker.Stop()
}

func (w *Worker) fail(err error) {
	// The SDK reports only its first fatal error; the CompareAndSwap makes sure of it.
	if w.fatalErr.CompareAndSwap(nil, &err) {
		close(w.fatal)
	}
}

// Failed is closed when the SDK reports a fatal error, on which it stops the worker; Err says
// which.
func (w *Worker) Failed() <-chan struct{} { return w.fatal }

// Err is the fatal error that stopped the worker, or nil.
func (w *Worker) Err() error {
	if err := w.fatalErr.Load(); err != nil {
		return *err
	}
	return nil
}

// Check is the worker's part of its readiness: started, not stopped, and no fatal error.
func (w *Worker) Check(context.Context) error {
	switch {
	case w.Err() != nil:
		return fmt.Errorf("stopped by a fatal error: %w", w.Err())
	case w.stopped.Load():
		return errors.New("stopped")
	case !w.started.Load():
		return errors.New("not started")
	}
	return nil
}

// WorkerOptions are the options of ticketflow's workers. The bench gives its baseline workflow's
// worker the very same, so that the two are compared on equal terms.
//
// Workflow task pollers scale with the load (the SDK's autoscaling, on the server's hints)
// instead of the fixed two of the default: with two, a burst of new tickets finds no poll
// waiting, so the server writes nearly every first workflow task to its task table and reads it
// back (in the bench, 0.95 task writes per create with two pollers, 0.02 with autoscaling, and
// about 15% less server CPU per create). Activity pollers keep the default: persisting is a local
// activity, and a scheduled one runs only for a ticket's close, the drain before it continues as
// new, and when the local attempts fail (see workflows.persist).
//
// The sticky cache keeps the SDK's default of 10,000 workflows per process: the bench measures an
// open ticket at about 22 KiB of heap and 12-20 KiB of goroutine stacks in it, so a full cache
// holds about 400 MiB. A ticket that drops out of it is replayed from its history on its next
// change, which for a long-lived ticket costs far more than the memory.
func WorkerOptions(cfg config.Config) worker.Options {
	return worker.Options{
		WorkerStopTimeout:          cfg.ShutdownTimeout,
		WorkflowTaskPollerBehavior: worker.NewPollerBehaviorAutoscaling(worker.PollerBehaviorAutoscalingOptions{}),
	}
}

// WorkerHandler serves the worker's /metrics; /healthz, which says the process answers, for a
// liveness probe; and /readyz, which says whether w polls and reaches what its tasks need.
func (d *Deps) WorkerHandler(w *Worker) http.Handler {
	checks := []health.Check{
		{Name: "worker", Check: w.Check},
		{Name: "temporal", Check: func(ctx context.Context) error {
			_, err := d.Temporal.CheckHealth(ctx, &client.CheckHealthRequest{})
			return err
		}},
		{Name: "postgres", Check: d.Store.Ping},
		{Name: "redis", Check: d.Cache.Ping},
		// Tickets whose writes have kept failing: the process runs, but those tickets are stuck.
		{Name: "persist", Check: w.failing.Check},
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", d.Metrics.Handler())
	mux.HandleFunc("GET /healthz", func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Type", "application/json")
		_, _ = rw.Write([]byte(`{"status":"ok"}` + "\n"))
	})
	mux.HandleFunc("GET /readyz", func(rw http.ResponseWriter, r *http.Request) {
		// Each result is "ok" or what failed: the worker's address is for operators, and the
		// failure (which ticket's writes fail, why) is what they need.
		ready, errs := health.Run(r.Context(), d.Log, checks)
		results := make(map[string]string, len(errs))
		for name, err := range errs {
			results[name] = "ok"
			if err != nil {
				results[name] = err.Error()
			}
		}
		body := map[string]any{"status": "ready", "checks": results}
		status := http.StatusOK
		if !ready {
			body["status"], status = "not ready", http.StatusServiceUnavailable
		}
		b, _ := json.Marshal(body) // strings only: cannot fail
		rw.Header().Set("Content-Type", "application/json")
		rw.WriteHeader(status)
		_, _ = rw.Write(append(b, '\n'))
	})
	return mux
}

// SweepScheduleID is the ID of the Temporal Schedule that sweeps the expired Idempotency-Keys for
// the workers of a task queue: one per task queue, so that systems that share a Temporal
// namespace (the tests do) each sweep their own database.
func SweepScheduleID(taskQueue string) string {
	return "idempotency-sweep-" + taskQueue
}

// EnsureSweepSchedule creates the schedule of the Idempotency-Key sweep, or brings the existing
// one to this worker's settings, so that every worker may call it at start. The schedule, not a
// timer in some process, runs the sweep: it lives in Temporal, keeps running whichever workers
// come and go, and skips a run while the last one is still going, so that one sweep at most runs
// at a time however many replicas there are. A schedule an operator paused stays paused.
func (d *Deps) EnsureSweepSchedule(ctx context.Context) error {
	id := SweepScheduleID(d.Config.TemporalTaskQueue)
	spec := client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: sweepInterval(d.Config)}}}
	action := &client.ScheduleWorkflowAction{
		ID:        id, // the schedule appends the time of each run
		Workflow:  workflows.SweepIdempotencyKeys,
		TaskQueue: d.Config.TemporalTaskQueue,
	}
	schedules := d.Temporal.ScheduleClient()
	_, err := schedules.Create(ctx, client.ScheduleOptions{
		ID: id, Spec: spec, Action: action, Overlap: enums.SCHEDULE_OVERLAP_POLICY_SKIP,
	})
	if err == nil || !errors.Is(err, temporal.ErrScheduleAlreadyRunning) {
		return err
	}
	// Another worker made it, maybe with another interval: the newest worker's settings win.
	return schedules.GetHandle(ctx, id).Update(ctx, client.ScheduleUpdateOptions{
		DoUpdate: func(in client.ScheduleUpdateInput) (*client.ScheduleUpdate, error) {
			s := in.Description.Schedule
			s.Spec, s.Action = &spec, action
			if s.Policy == nil {
				s.Policy = &client.SchedulePolicies{}
			}
			s.Policy.Overlap = enums.SCHEDULE_OVERLAP_POLICY_SKIP
			return &client.ScheduleUpdate{Schedule: &s}, nil
		},
	})
}

// WebhookPumpID is the ID of the webhook pump's workflow of a task queue.
func WebhookPumpID(taskQueue string) string { return "webhook-pump-" + taskQueue }

// EnsureWebhookPump starts the workflow that runs the webhook pump, unless it runs already, so
// that every worker may call it at start and one pump runs however many workers there are.
func (d *Deps) EnsureWebhookPump(ctx context.Context) error {
	_, err := d.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       WebhookPumpID(d.Config.TemporalTaskQueue),
		TaskQueue:                d.Config.TemporalTaskQueue,
		WorkflowIDConflictPolicy: enums.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enums.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
	}, workflows.PumpWebhooks)
	return err
}

// idempotencyTTL and sweepInterval are the configuration's, or their defaults where a
// configuration was built by hand (config.Load refuses zero).
func idempotencyTTL(cfg config.Config) time.Duration {
	if cfg.IdempotencyTTL > 0 {
		return cfg.IdempotencyTTL
	}
	return idempotency.TTL
}

func sweepInterval(cfg config.Config) time.Duration {
	if cfg.IdempotencySweepInterval > 0 {
		return cfg.IdempotencySweepInterval
	}
	return idempotency.SweepInterval
}

// RunWorker runs the worker, and serves its metrics and health on WORKER_METRICS_ADDR, until ctx
// is done; then it stops polling and lets running tasks finish within the shutdown timeout. The
// metrics stay up until the tasks are done, so that the drain itself can be watched. It returns
// an error when the worker cannot start or the SDK stops it on a fatal error, so that the
// process exits non-zero and its supervisor restarts it.
func RunWorker(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	d, err := Connect(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer d.Close()
	// Listen before starting the worker, so that a taken port fails the start instead of leaving
	// a worker nobody can observe.
	ln, err := net.Listen("tcp", cfg.WorkerMetricsAddr)
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	w := d.NewWorker()
	msrv := &http.Server{Handler: d.WorkerHandler(w), ReadHeaderTimeout: 5 * time.Second}
	defer msrv.Close()

	if err := w.Start(); err != nil {
		ln.Close()
		return fmt.Errorf("start worker: %w", err)
	}
	if err := d.EnsureSweepSchedule(ctx); err != nil {
		ln.Close()
		w.Stop()
		return fmt.Errorf("idempotency sweep schedule: %w", err)
	}
	if err := d.EnsureWebhookPump(ctx); err != nil {
		ln.Close()
		w.Stop()
		return fmt.Errorf("webhook pump: %w", err)
	}
	go func() {
		if err := msrv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			log.Error("worker metrics server", "error", err)
		}
	}()
	log.Info("worker started", "task_queue", cfg.TemporalTaskQueue, "temporal", cfg.TemporalAddress,
		"metrics", ln.Addr().String(), "version", buildinfo.String())
	select {
	case <-ctx.Done():
		log.Info("worker stopping")
		w.Stop()
		log.Info("worker stopped")
		return nil
	case <-w.Failed():
		log.Error("worker stopped by a fatal error", "error", w.Err())
		w.Stop() // waits for the SDK's own stop to finish the running tasks
		return fmt.Errorf("temporal worker stopped: %w", w.Err())
	}
}
