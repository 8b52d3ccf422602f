package metrics_test

import "testing"

// TestSweep checks the sweep's counter: served at zero from the first use, so that rate() works
// before anything expired, summed over deletes, and shared by two workers of one process.
func TestSweep(t *testing.T) {
	m, scrape := newMetrics(t)
	first, second := m.Sweep(), m.Sweep()
	if n, ok := scrape().Value("ticketflow_idempotency_keys_deleted_total"); !ok || n != 0 {
		t.Fatalf("ticketflow_idempotency_keys_deleted_total = %v (served %v), want 0", n, ok)
	}
	first.IdempotencyKeysDeleted(3)
	first.IdempotencyKeysDeleted(0)
	second.IdempotencyKeysDeleted(2)
	if n, _ := scrape().Value("ticketflow_idempotency_keys_deleted_total"); n != 5 {
		t.Errorf("ticketflow_idempotency_keys_deleted_total = %v, want 5", n)
	}
}
