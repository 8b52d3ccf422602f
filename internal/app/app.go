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

	"github.com/ticketflow/ticketflow/internal/buildinfo"
	"github.com/ticketflow/ticketflow/internal/cache/redis"
	"github.com/ticketflow/ticketflow/internal/config"
	"github.com/ticketflow/ticketflow/internal/httpapi"
	"github.com/ticketflow/ticketflow/internal/metrics"
	"github.com/ticketflow/ticketflow/internal/service"
	"github.com/ticketflow/ticketflow/internal/store/postgres"
	"github.com/ticketflow/ticketflow/internal/webhook"
	"github.com/ticketflow/ticketflow/workflows"
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

	// cursorSecret signs the listings' cursors (CURSOR_SECRET, or the database's).
	cursorSecret []byte

	// background lives until Close: the database listeners of the API run in it.
	background context.Context
	stop       context.CancelFunc
	// streams lives until the API begins to stop: its event streams end then, so that their
	// clients resume through another process instead of holding up the shutdown.
	streams     context.Context
	stopStreams context.CancelFunc
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
	store.SetIdempotencyTTL(cfg.IdempotencyTTL)
	// Every API process must sign cursors with one key: the configured one, or else the one the
	// first process left in the database.
	cursorSecret := []byte(cfg.CursorSecret)
	if len(cursorSecret) == 0 {
		if cursorSecret, err = store.Secret(ctx, "cursor"); err != nil {
			store.Close()
			return nil, fmt.Errorf("postgres: %w", err)
		}
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
	streams, stopStreams := context.WithCancel(background)
	return &Deps{
		Config: cfg, Log: log, Store: store, cursorSecret: cursorSecret, Cache: redis.New(cfg.RedisAddrs, cfg.CacheTTL), Temporal: tc, Metrics: m,
		background: background, stop: stop, streams: streams, stopStreams: stopStreams,
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

// Handler returns the HTTP API, counted and timed, with the process's metrics at /metrics.
func (d *Deps) Handler() http.Handler {
	svc := service.New(workflows.NewClient(d.Temporal, d.Config.TemporalTaskQueue, d.Config.Policy(), d.Store),
		d.Store, d.Metrics.Cache(d.Cache), d.Log)
	svc.CheckWebhookURLs(webhook.NewClient(d.Config.WebhookAllowPrivate))
	server := httpapi.New(httpapi.Options{
		Service:          svc,
		Logger:           d.Log,
		RequestTimeout:   d.Config.RequestTimeout,
		RateLimit:        d.Config.RateLimit,
		RateBurst:        d.Config.RateBurst,
		CORSOrigins:      d.Config.CORSOrigins,
		AuthFailureRate:  d.Config.AuthFailureRate,
		AuthFailureBurst: d.Config.AuthFailureBurst,
		TrustedProxies:   d.Config.TrustedProxies,
		CursorSecret:     d.cursorSecret,
		StreamHeartbeat:  d.Config.StreamHeartbeat,
		Streams:          d.Metrics.Streams(),
		StreamsContext:   d.streams,
	})
	// The event streams of this process follow the feed through one reader.
	go svc.RunFeed(d.background)
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
	d.stopStreams()
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
