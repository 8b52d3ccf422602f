// Package config loads ticketflow's configuration from the environment. It is the only place that
// reads environment variables; the defaults run against the local stack of `make run` as it is.
package config

import (
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/caarlos0/env/v11"

	"github.com/ticketflow/ticketflow/internal/ticket"
)

// Config is the whole configuration of the worker and the API server.
type Config struct {
	// DatabaseDSN is the PostgreSQL connection string of ticketflow's own database.
	DatabaseDSN string `env:"DATABASE_DSN" envDefault:"postgres://ticketflow:ticketflow@127.0.0.1:55432/ticketflow?sslmode=disable"`
	// RedisAddrs are seed nodes of the Redis Cluster; the client discovers the rest.
	RedisAddrs []string `env:"REDIS_ADDRS" envSeparator:"," envDefault:"127.0.0.1:7001,127.0.0.1:7002,127.0.0.1:7003"`
	// RedisHost and RedisPort name a single seed node instead of REDIS_ADDRS.
	RedisHost string `env:"REDIS_HOST"`
	RedisPort int    `env:"REDIS_PORT"`
	// CacheTTL bounds how long an untouched ticket document stays in the cache.
	CacheTTL time.Duration `env:"CACHE_TTL" envDefault:"24h"`

	TemporalAddress   string `env:"TEMPORAL_ADDRESS" envDefault:"127.0.0.1:7233"`
	TemporalNamespace string `env:"TEMPORAL_NAMESPACE" envDefault:"default"`
	TemporalTaskQueue string `env:"TEMPORAL_TASK_QUEUE" envDefault:"tickets"`

	// First-response SLA per priority: how long a ticket may stay open before it escalates itself,
	// and again after each further period, at most SLAMaxEscalations times.
	SLALow            time.Duration `env:"SLA_FIRST_RESPONSE_LOW" envDefault:"72h"`
	SLANormal         time.Duration `env:"SLA_FIRST_RESPONSE_NORMAL" envDefault:"24h"`
	SLAHigh           time.Duration `env:"SLA_FIRST_RESPONSE_HIGH" envDefault:"8h"`
	SLAUrgent         time.Duration `env:"SLA_FIRST_RESPONSE_URGENT" envDefault:"1h"`
	SLAMaxEscalations int           `env:"SLA_MAX_ESCALATIONS" envDefault:"3"`
	// AutoCloseAfter closes a ticket left answered or awaiting with no activity for this long.
	AutoCloseAfter time.Duration `env:"AUTO_CLOSE_AFTER" envDefault:"168h"`

	// HTTPAddr is where the API listens; the loopback interface unless told otherwise.
	HTTPAddr string `env:"HTTP_ADDR" envDefault:"127.0.0.1:8000"`
	// RequestTimeout bounds one API request, including the wait for the workflow to apply a
	// change; past it the client gets 504 and may retry.
	RequestTimeout time.Duration `env:"REQUEST_TIMEOUT" envDefault:"15s"`
	// RateLimit and RateBurst bound the requests per second of each API key, per API process.
	RateLimit float64 `env:"RATE_LIMIT" envDefault:"100"`
	RateBurst int     `env:"RATE_BURST" envDefault:"200"`
	// AuthFailureRate and AuthFailureBurst bound the failed authentications per second of one
	// client address, per API process; past them the address is answered 429 before any lookup.
	AuthFailureRate  float64 `env:"AUTH_FAILURE_RATE" envDefault:"1"`
	AuthFailureBurst int     `env:"AUTH_FAILURE_BURST" envDefault:"20"`
	// TrustedProxies are the networks (CIDRs, comma-separated) of the proxies in front of the API
	// whose X-Forwarded-For names the client; none by default, so the peer address is the client.
	TrustedProxies []netip.Prefix `env:"TRUSTED_PROXIES" envSeparator:","`
	// CursorSecret signs the listings' cursors. Every API process must share it; when it is empty
	// they share one kept in the database.
	CursorSecret string `env:"CURSOR_SECRET"`
	// StreamHeartbeat is how often an idle event stream (GET /events/stream) sends a comment, so
	// that clients and proxies see that it is alive.
	StreamHeartbeat time.Duration `env:"STREAM_HEARTBEAT" envDefault:"15s"`
	// WebhookAllowPrivate lets webhooks deliver to loopback, private and link-local addresses,
	// which are refused otherwise (a webhook must not reach into the network it runs in).
	WebhookAllowPrivate bool `env:"WEBHOOK_ALLOW_PRIVATE" envDefault:"false"`
	// IdempotencyTTL is how long an Idempotency-Key is remembered; IdempotencySweepInterval how
	// often the expired ones are deleted (by one process at a time).
	IdempotencyTTL           time.Duration `env:"IDEMPOTENCY_TTL" envDefault:"48h"`
	IdempotencySweepInterval time.Duration `env:"IDEMPOTENCY_SWEEP_INTERVAL" envDefault:"1m"`
	// CORSOrigins are the browser origins allowed to call the API (comma-separated); none by default.
	CORSOrigins []string `env:"CORS_ALLOWED_ORIGINS" envSeparator:","`
	// ShutdownTimeout is how long in-flight work may take to finish on SIGTERM.
	ShutdownTimeout time.Duration `env:"SHUTDOWN_TIMEOUT" envDefault:"20s"`

	// WorkerMetricsAddr is where the worker serves /metrics, /healthz and /readyz; the loopback
	// interface unless told otherwise.
	WorkerMetricsAddr string `env:"WORKER_METRICS_ADDR" envDefault:"127.0.0.1:9464"`

	LogLevel  slog.Level `env:"LOG_LEVEL" envDefault:"info"`
	LogFormat string     `env:"LOG_FORMAT" envDefault:"json"` // json or text
}

// Policy returns the ticket timers that the configuration sets.
func (c Config) Policy() ticket.Policy {
	return ticket.Policy{
		FirstResponseSLA: map[ticket.Priority]time.Duration{
			ticket.PriorityLow: c.SLALow, ticket.PriorityNormal: c.SLANormal,
			ticket.PriorityHigh: c.SLAHigh, ticket.PriorityUrgent: c.SLAUrgent,
		},
		MaxSLAEscalations: c.SLAMaxEscalations,
		AutoCloseAfter:    c.AutoCloseAfter,
	}
}

// Load reads the configuration from the environment.
func Load() (Config, error) {
	cfg, err := env.ParseAs[Config]()
	if err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	// REDIS_HOST and REDIS_PORT, when given, name the one seed node in place of REDIS_ADDRS.
	if cfg.RedisHost != "" || cfg.RedisPort != 0 {
		host, port := cfg.RedisHost, cfg.RedisPort
		if host == "" {
			host = "127.0.0.1"
		}
		if port == 0 {
			port = 6379
		}
		cfg.RedisAddrs = []string{net.JoinHostPort(host, fmt.Sprint(port))}
	}
	cfg.CORSOrigins = slices.DeleteFunc(cfg.CORSOrigins, func(o string) bool { return strings.TrimSpace(o) == "" })
	if cfg.IdempotencyTTL <= 0 || cfg.IdempotencySweepInterval <= 0 {
		return Config{}, fmt.Errorf("config: IDEMPOTENCY_TTL and IDEMPOTENCY_SWEEP_INTERVAL must be positive")
	}
	if cfg.AuthFailureRate <= 0 || cfg.AuthFailureBurst <= 0 {
		return Config{}, fmt.Errorf("config: AUTH_FAILURE_RATE and AUTH_FAILURE_BURST must be positive")
	}
	switch cfg.LogFormat {
	case "json", "text":
	default:
		return Config{}, fmt.Errorf("config: LOG_FORMAT must be json or text, not %q", cfg.LogFormat)
	}
	return cfg, nil
}
