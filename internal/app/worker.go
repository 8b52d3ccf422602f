package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"go.temporal.io/sdk/worker"

	"ticketflow/activities"
	"ticketflow/internal/buildinfo"
	"ticketflow/internal/config"
	"ticketflow/workflows"
)

// NewWorker returns a worker, not yet started, that runs ticket workflows and their activities.
// Its Stop waits up to the shutdown timeout for running activities: without it the SDK cancels
// them at once, and each change in flight waits for a retry on another worker.
func (d *Deps) NewWorker() worker.Worker {
	w := worker.New(d.Temporal, d.Config.TemporalTaskQueue, WorkerOptions(d.Config))
	w.RegisterWorkflow(workflows.TicketWorkflow)
	w.RegisterActivity(&activities.Activities{Store: d.Store, Cache: d.Metrics.Cache(d.Cache)})
	return w
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

// WorkerHandler serves the worker's /metrics, and /healthz for a container's liveness probe.
func (d *Deps) WorkerHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", d.Metrics.Handler())
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"ok"}` + "\n"))
	})
	return mux
}

// RunWorker runs the worker, and serves its metrics on WORKER_METRICS_ADDR, until ctx is done;
// then it stops polling and lets running tasks finish within the shutdown timeout. The metrics
// stay up until the tasks are done, so that the drain itself can be watched.
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
	msrv := &http.Server{Handler: d.WorkerHandler(), ReadHeaderTimeout: 5 * time.Second}
	defer msrv.Close()

	w := d.NewWorker()
	if err := w.Start(); err != nil {
		ln.Close()
		return fmt.Errorf("start worker: %w", err)
	}
	go func() {
		if err := msrv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			log.Error("worker metrics server", "error", err)
		}
	}()
	log.Info("worker started", "task_queue", cfg.TemporalTaskQueue, "temporal", cfg.TemporalAddress,
		"metrics", ln.Addr().String(), "version", buildinfo.String())
	<-ctx.Done()
	log.Info("worker stopping")
	w.Stop()
	log.Info("worker stopped")
	return nil
}
