package config_test

import (
	"net"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ticketflow/ticketflow/internal/config"
)

// clearEnv unsets every variable that Load reads for the test, and restores them after it.
func clearEnv(t *testing.T) {
	t.Helper()
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		for _, prefix := range []string{"DATABASE_", "REDIS_", "CACHE_", "TEMPORAL_", "SLA_", "AUTO_CLOSE", "HTTP_", "REQUEST_",
			"RATE_", "AUTH_", "TRUSTED_", "CURSOR_", "IDEMPOTENCY_", "CORS_", "SHUTDOWN_", "WORKER_", "LOG_"} {
			if strings.HasPrefix(name, prefix) {
				t.Setenv(name, "") // restores the value when the test ends
				os.Unsetenv(name)
			}
		}
	}
}

// TestDefaultsListenOnLoopback checks that, told nothing, the API and the worker's metrics listen
// on the loopback interface only: reaching them from elsewhere takes a setting.
func TestDefaultsListenOnLoopback(t *testing.T) {
	clearEnv(t)
	cfg, err := config.Load()
	if err != nil {
		t.Fatal(err)
	}
	for name, addr := range map[string]string{"HTTP_ADDR": cfg.HTTPAddr, "WORKER_METRICS_ADDR": cfg.WorkerMetricsAddr} {
		host, _, err := net.SplitHostPort(addr)
		ip, perr := netip.ParseAddr(host)
		if err != nil || perr != nil || !ip.IsLoopback() {
			t.Errorf("%s defaults to %q, want a loopback address", name, addr)
		}
	}
}

// TestIdempotencySettings checks the Idempotency-Key settings: the defaults, and that Load
// refuses a TTL or sweep interval that is not positive.
func TestIdempotencySettings(t *testing.T) {
	clearEnv(t)
	cfg, err := config.Load()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.IdempotencyTTL != 48*time.Hour || cfg.IdempotencySweepInterval != time.Minute {
		t.Errorf("IDEMPOTENCY_TTL %s and IDEMPOTENCY_SWEEP_INTERVAL %s, want 48h and 1m", cfg.IdempotencyTTL, cfg.IdempotencySweepInterval)
	}
	for _, name := range []string{"IDEMPOTENCY_TTL", "IDEMPOTENCY_SWEEP_INTERVAL"} {
		for _, v := range []string{"0s", "-1m"} {
			t.Run(name+"="+v, func(t *testing.T) {
				t.Setenv(name, v)
				if _, err := config.Load(); err == nil {
					t.Errorf("%s=%s was accepted", name, v)
				}
			})
		}
	}
}
