package service

import (
	"context"
	"sync"
)

// maxChangesPerTicket bounds the changes to one ticket that this process has in flight at once.
// Temporal refuses more than 10 updates in flight per workflow, and the client retries a refusal
// with a growing backoff, so a burst past the limit would make some requests wait far longer than
// their turn. Below the limit, the rest wait here, in order of arrival, for a free slot.
const maxChangesPerTicket = 8

// gates hands out the slots of each ticket.
type gates struct {
	mu    sync.Mutex
	gates map[string]*gate
}

// gate holds one ticket's slots; users counts the changes holding or waiting for one, so that
// the gate is dropped when nobody needs it.
type gate struct {
	slots chan struct{}
	users int
}

// enter waits for one of the ticket's slots and returns what gives it back. A change whose
// deadline passes while it waits gets the context's error, like any change not done in time.
func (g *gates) enter(ctx context.Context, id string) (release func(), err error) {
	gt := g.join(id)
	select {
	case gt.slots <- struct{}{}:
		return func() { <-gt.slots; g.leave(id) }, nil
	case <-ctx.Done():
		g.leave(id)
		return nil, ctx.Err()
	}
}

func (g *gates) join(id string) *gate {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.gates == nil {
		g.gates = map[string]*gate{}
	}
	gt := g.gates[id]
	if gt == nil {
		gt = &gate{slots: make(chan struct{}, maxChangesPerTicket)}
		g.gates[id] = gt
	}
	gt.users++
	return gt
}

func (g *gates) leave(id string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if gt := g.gates[id]; gt != nil {
		if gt.users--; gt.users == 0 {
			delete(g.gates, id)
		}
	}
}
