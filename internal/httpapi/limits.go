package httpapi

import (
	"net/http"
	"sync"

	"github.com/go-chi/chi/v5"

	"github.com/ticketflow/ticketflow/internal/auth"
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

// changeRoute serves a change to a ticket. What needs no slot comes first, so that a request that
// may not change the ticket, or whose body is slow to arrive, never holds one of the ticket's
// slots and cannot stall the changes of others: the key's role, the ticket's visibility to the
// key, and the whole body, read under bodyReadTimeout. Only then does the request wait for a slot,
// and with it claim its Idempotency-Key and reach the workflow.
func (s *Server) changeRoute(op auth.Operation, h handlerFunc) http.HandlerFunc {
	return s.handle(require(op, s.seesTicket(readBody(s.limitChanges(s.idempotent(h))))))
}

// limitChanges makes a change to a ticket wait for one of the ticket's slots. A request whose
// deadline passes while it waits gets the timeout error, like any request that is not done in time.
func (s *Server) limitChanges(h handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id := chi.URLParam(r, "id")
		g := s.gates.join(id)
		defer s.gates.leave(id)
		select {
		case g.slots <- struct{}{}:
			defer func() { <-g.slots }()
			return h(w, r)
		case <-r.Context().Done():
			return r.Context().Err()
		}
	}
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
