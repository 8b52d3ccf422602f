package bench

import (
	"errors"
	"net/http"
	"sync/atomic"

	"github.com/go-chi/chi/v5"
	goredis "github.com/redis/go-redis/v9"
	"go.temporal.io/sdk/workflow"

	"github.com/ticketflow/ticketflow/internal/cache/redis"
)

// Names of the baseline's workflow messages.
const (
	rawUpdate = "noop"
	rawStop   = "stop"
)

// RawWorkflow is the baseline that ticketflow's workflow is measured against: it does nothing but
// answer a no-op update, so an update's round trip through it is what Temporal itself costs on
// this server with these worker settings. It runs until it is signalled to stop, like a ticket
// that stays open.
func RawWorkflow(ctx workflow.Context) error {
	if !workflow.IsReplaying(ctx) {
		rawRuns.Add(1)
	}
	if err := workflow.SetUpdateHandler(ctx, rawUpdate, func(ctx workflow.Context) error { return nil }); err != nil {
		return err
	}
	workflow.GetSignalChannel(ctx, rawStop).Receive(ctx, nil)
	err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) })
	if !workflow.IsReplaying(ctx) {
		rawStops.Add(1)
	}
	return err
}

// rawRuns counts the raw workflows that have run their first workflow task in this process. A
// start returns once the server has recorded it, before any worker runs it; the start phase
// waits for this count, so that the work a start leaves behind is done within the phase it
// belongs to, as a ticket's creation does before it answers. (The bench's worker runs in this
// process; a counter in workflow code is fine for a bench, never for a product workflow.)
var rawRuns atomic.Int64

// rawStops counts the raw workflows that this process's worker has seen to their end: the warm-up
// waits for its own, so that none of them is in the worker's cache when the heap is measured.
var rawStops atomic.Int64

// rawReader is the baseline of a cached read: a bare chi handler that fetches a ticket's document
// from the same Redis Cluster, by the same key, with go-redis, and writes it as it is. It is what
// a read costs with no middleware, no decoding and no checks.
func rawReader(client goredis.UniversalClient) http.Handler {
	r := chi.NewRouter()
	r.Get("/raw/tickets/{id}", func(w http.ResponseWriter, r *http.Request) {
		doc, err := client.HGet(r.Context(), redis.Key(chi.URLParam(r, "id")), "doc").Bytes()
		switch {
		case errors.Is(err, goredis.Nil):
			http.NotFound(w, r)
			return
		case err != nil:
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		_, _ = w.Write(doc)
	})
	return r
}
