package service

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestGates sends many changes to two tickets at once: at most maxChangesPerTicket of one ticket
// run at the same time, every change is served in the end, the tickets do not wait for each
// other, a change whose time runs out while it waits gives up its place, and no gate is left
// behind.
func TestGates(t *testing.T) {
	var g gates
	var running, peak atomic.Int32
	release := make(chan struct{})
	change := func(ctx context.Context, id string) error {
		done, err := g.enter(ctx, id)
		if err != nil {
			return err
		}
		defer done()
		n := running.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		if id == "busy" {
			<-release
		}
		running.Add(-1)
		return nil
	}

	var wg sync.WaitGroup
	for range 3 * maxChangesPerTicket {
		wg.Go(func() {
			if err := change(context.Background(), "busy"); err != nil {
				t.Errorf("change: %v", err)
			}
		})
	}
	deadline := time.Now().Add(5 * time.Second)
	for running.Load() < maxChangesPerTicket && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if err := change(context.Background(), "other"); err != nil {
		t.Fatalf("another ticket waited or failed: %v", err)
	}
	late, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if err := change(late, "busy"); err != context.DeadlineExceeded {
		t.Fatalf("a change that could not get a slot in time: %v, want the deadline", err)
	}
	close(release)
	wg.Wait()
	if got := peak.Load(); got != maxChangesPerTicket+0 && got != maxChangesPerTicket+1 {
		// +1: the other ticket's change may run while the busy ticket's slots are all taken.
		t.Fatalf("peak concurrency %d, want %d", got, maxChangesPerTicket)
	}
	if len(g.gates) != 0 {
		t.Fatalf("%d gates left", len(g.gates))
	}
}
