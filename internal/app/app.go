// Package app wires ticketflow's parts together: the connections to PostgreSQL, the Redis Cluster
// and Temporal, the worker and the HTTP server. The mains, the tests and the local stack all build
// the system through it, so there is one way to put it together.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"

	"go.temporal.io/sdk/client"
	temporallog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"

	"ticketflow/activities"
	"ticketflow/internal/cache/redis"
	"ticketflow/internal/config"
	"ticketflow/internal/httpapi"
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

// Deps are the connections that the worker and the API share.
type Deps struct {
	Config   config.Config
	Log      *slog.Logger
	Store    *postgres.DB
	Cache    *redis.Cache
	Temporal client.Client
}

// Connect migrates the database and opens every connection. Migrating on start is safe from many
// processes at once: golang-migrate holds a lock, and a database already up to date is no change.
func Connect(ctx context.Context, cfg config.Config, log *slog.Logger) (*Deps, error) {
	if err := postgres.Migrate(cfg.DatabaseDSN); err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	store, err := postgres.Open(ctx, cfg.DatabaseDSN)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	tc, err := client.DialContext(ctx, client.Options{
		HostPort:  cfg.TemporalAddress,
		Namespace: cfg.TemporalNamespace,
		Logger:    temporallog.NewStructuredLogger(log.With("component", "temporal")),
	})
	if err != nil {
		store.Close()
		return nil, fmt.Errorf("temporal: %w", err)
	}
	return &Deps{Config: cfg, Log: log, Store: store, Cache: redis.New(cfg.RedisAddrs, cfg.CacheTTL), Temporal: tc}, nil
}

// Close closes every connection.
func (d *Deps) Close() {
	d.Temporal.Close()
	if err := d.Cache.Close(); err != nil {
		d.Log.Warn("close redis", "error", err)
	}
	d.Store.Close()
}

// NewWorker returns a worker, not yet started, that runs ticket workflows and their activities.
func (d *Deps) NewWorker() worker.Worker {
	w := worker.New(d.Temporal, d.Config.TemporalTaskQueue, worker.Options{})
	w.RegisterWorkflow(workflows.TicketWorkflow)
	w.RegisterActivity(&activities.Activities{Store: d.Store, Cache: d.Cache})
	return w
}

// Handler returns the HTTP API.
func (d *Deps) Handler() http.Handler {
	return httpapi.New(httpapi.Options{
		Workflows:      workflows.NewClient(d.Temporal, d.Config.TemporalTaskQueue, d.Config.Policy(), d.Store),
		Store:          d.Store,
		Cache:          d.Cache,
		Logger:         d.Log,
		RequestTimeout: d.Config.RequestTimeout,
	})
}

// RunWorker runs the worker until ctx is done, then stops polling and lets running tasks finish.
func RunWorker(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	d, err := Connect(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer d.Close()
	w := d.NewWorker()
	if err := w.Start(); err != nil {
		return fmt.Errorf("start worker: %w", err)
	}
	log.Info("worker started", "task_queue", cfg.TemporalTaskQueue, "temporal", cfg.TemporalAddress)
	<-ctx.Done()
	log.Info("worker stopping")
	w.Stop()
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
	log.Info("api listening", "addr", cfg.HTTPAddr)
	select {
	case err := <-serveErr:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("api stopping")
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-serveErr; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
