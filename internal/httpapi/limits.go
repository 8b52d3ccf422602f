package httpapi

import (
	"net/http"
	"sync"

	"github.com/go-chi/chi/v5"
)

// maxChangesPerTicket bounds the changes to one ticket that this process has in flight at once.
// Temporal refuses more than 10 updates in flight per workflow, and the client retries a refusal
// with a growing backoff, so a burst past the limit would make some requests wait far longer than
// their turn. Below the limit, the rest wait here, in order of arrival, for a free slot.
const maxChangesPerTicket = 8

// ticketGates hands out the slots of each ticket.
type ticketGates struct {
	mu    sync.Mutex
	gates map[string]*gate
}

// gate holds one ticket's slots; users counts the requests holding or waiting for one, so that
// the gate is dropped when nobody needs it.
type gate struct {
	slots chan struct{}
	users int
}

// limitChanges makes a change to a ticket wait for one of the ticket's slots. A request whose
// deadline passes while it waits gets the timeout error, like any request that is not done in time.
func (s *Server) limitChanges(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := chi.URLParam(r, "id")
		g := s.gates.join(id)
		defer s.gates.leave(id)
		select {
		case g.slots <- struct{}{}:
			defer func() { <-g.slots }()
			next.ServeHTTP(w, r)
		case <-r.Context().Done():
			s.writeError(w, r, r.Context().Err())
		}
	})
}

func (t *ticketGates) join(id string) *gate {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.gates == nil {
		t.gates = map[string]*gate{}
	}
	g := t.gates[id]
	if g == nil {
		g = &gate{slots: make(chan struct{}, maxChangesPerTicket)}
		t.gates[id] = g
	}
	g.users++
	return g
}

func (t *ticketGates) leave(id string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if g := t.gates[id]; g != nil {
		if g.users--; g.users == 0 {
			delete(t.gates, id)
		}
	}
}
