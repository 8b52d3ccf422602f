// Package app wires ticketflow's parts together: the connections to PostgreSQL, the Redis Cluster
// and Temporal, the worker and the HTTP server. The mains, the tests and the local stack all build
// the system through it, so there is one way to put it together.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"go.temporal.io/sdk/client"
	temporallog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"

	"ticketflow/activities"
	"ticketflow/internal/buildinfo"
	"ticketflow/internal/cache/redis"
	"ticketflow/internal/config"
	"ticketflow/internal/httpapi"
	"ticketflow/internal/metrics"
	"ticketflow/internal/store/postgres"
	"ticketflow/workflows"
)

// NewLogger returns the process's logger: JSON, or text for people at a terminal.
func NewLogger(cfg config.Config) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewJSONHandler(os.Stderr, opts))
}

// Deps are the connections that the worker and the API share, and the process's metrics.
type Deps struct {
	Config   config.Config
	Log      *slog.Logger
	Store    *postgres.DB
	Cache    *redis.Cache
	Temporal client.Client
	// Metrics is the process's registry: the API's and the worker's parts add their series to it,
	// and the Temporal client records the SDK's own metrics in it.
	Metrics *metrics.Metrics

	// background lives until Close: the database listeners of the API run in it.
	background context.Context
	stop       context.CancelFunc
}

// Connect migrates the database and opens every connection. Migrating on start is safe from many
// processes at once: golang-migrate holds a lock, and a database already up to date is no change.
func Connect(ctx context.Context, cfg config.Config, log *slog.Logger) (*Deps, error) {
	if err := postgres.Migrate(cfg.DatabaseDSN); err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	m, err := metrics.New(log)
	if err != nil {
		return nil, err
	}
	store, err := postgres.Open(ctx, cfg.DatabaseDSN)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	tc, err := client.DialContext(ctx, client.Options{
		HostPort:       cfg.TemporalAddress,
		Namespace:      cfg.TemporalNamespace,
		Logger:         temporallog.NewStructuredLogger(log.With("component", "temporal")),
		MetricsHandler: m.Temporal(),
		ConnectionOptions: client.ConnectionOptions{
			// The SDK gzips every request by default, and the server then gzips its answers.
			// ticketflow's payloads are a few kilobytes and Temporal runs next to it (same host
			// or network), so compression saves no time and costs CPU on both ends: about a
			// tenth of the worker's CPU per change in the bench's profiles (grpc.compress and
			// flate), and more in the server.
			GrpcCompression: &client.GrpcCompressionNone{},
		},
	})
	if err != nil {
		store.Close()
		return nil, fmt.Errorf("temporal: %w", err)
	}
	background, stop := context.WithCancel(context.WithoutCancel(ctx))
	return &Deps{
		Config: cfg, Log: log, Store: store, Cache: redis.New(cfg.RedisAddrs, cfg.CacheTTL), Temporal: tc, Metrics: m,
		background: background, stop: stop,
	}, nil
}

// Close closes every connection.
func (d *Deps) Close() {
	d.stop()
	d.Temporal.Close()
	if err := d.Cache.Close(); err != nil {
		d.Log.Warn("close redis", "error", err)
	}
	d.Store.Close()
}

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

// Handler returns the HTTP API, counted and timed, with the process's metrics at /metrics.
func (d *Deps) Handler() http.Handler {
	server := httpapi.New(httpapi.Options{
		Workflows:      workflows.NewClient(d.Temporal, d.Config.TemporalTaskQueue, d.Config.Policy(), d.Store),
		Store:          d.Store,
		Cache:          d.Metrics.Cache(d.Cache),
		Logger:         d.Log,
		RequestTimeout: d.Config.RequestTimeout,
		RateLimit:      d.Config.RateLimit,
		RateBurst:      d.Config.RateBurst,
		CORSOrigins:    d.Config.CORSOrigins,
	})
	// A key revoked by any process stops working here at once: the database says so.
	go d.Store.ListenKeyChanges(d.background, server.ForgetKeys)
	api := d.Metrics.InstrumentHTTP(server)
	scrape := d.Metrics.Handler()
	// One exact path in front of the router rather than an http.ServeMux: a ServeMux would answer
	// paths such as //x or /a/../b with redirects of its own before the API's 404s could.
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/metrics" && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
			scrape.ServeHTTP(w, r)
			return
		}
		api.ServeHTTP(w, r)
	})
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

// RunAPI serves the HTTP API until ctx is done, then stops accepting connections and lets requests
// in flight finish within the shutdown timeout.
func RunAPI(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	d, err := Connect(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer d.Close()
	srv := &http.Server{
		Addr:              cfg.HTTPAddr,
		Handler:           d.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      cfg.RequestTimeout + 15*time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.ListenAndServe() }()
	log.Info("api listening", "addr", cfg.HTTPAddr, "version", buildinfo.String())
	select {
	case err := <-serveErr:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("api stopping")
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		// Past the deadline: cut the connections still open rather than leave their handlers
		// running on connections that are about to be closed under them.
		srv.Close()
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-serveErr; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
