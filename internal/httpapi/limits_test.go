package httpapi

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
)

// TestLimitChanges sends many changes to two tickets at once: at most maxChangesPerTicket of one
// ticket run at the same time, every request is served in the end, the tickets do not wait for
// each other, and no gate is left behind.
func TestLimitChanges(t *testing.T) {
	s := &Server{}
	var running, peak atomic.Int32
	release := make(chan struct{})
	h := s.handle(s.limitChanges(func(w http.ResponseWriter, r *http.Request) error {
		n := running.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		if chi.URLParam(r, "id") == "busy" {
			<-release
		}
		running.Add(-1)
		w.WriteHeader(http.StatusNoContent)
		return nil
	}))
	call := func(id string) int {
		rctx := chi.NewRouteContext()
		rctx.URLParams.Add("id", id)
		r := httptest.NewRequest("POST", "/", nil).WithContext(context.WithValue(context.Background(), chi.RouteCtxKey, rctx))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code
	}

	var wg sync.WaitGroup
	for range 3 * maxChangesPerTicket {
		wg.Go(func() {
			if code := call("busy"); code != http.StatusNoContent {
				t.Errorf("status %d", code)
			}
		})
	}
	deadline := time.Now().Add(5 * time.Second)
	for running.Load() < maxChangesPerTicket && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if code := call("other"); code != http.StatusNoContent {
		t.Fatalf("another ticket waited or failed: %d", code)
	}
	close(release)
	wg.Wait()
	if got := peak.Load(); got != maxChangesPerTicket+0 && got != maxChangesPerTicket+1 {
		// +1: the other ticket's request may run while the busy ticket's slots are all taken.
		t.Fatalf("peak concurrency %d, want %d", got, maxChangesPerTicket)
	}
	if len(s.gates.gates) != 0 {
		t.Fatalf("%d gates left", len(s.gates.gates))
	}
}
