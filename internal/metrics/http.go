package metrics

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
)

// unmatched is the route label of requests that no route matched. Labelling them by their path
// would let any client create new series without bound.
const unmatched = "unmatched"

// InstrumentHTTP counts and times the requests that next serves, by method, route template and
// status. It wraps the chi router from the outside: the router fills in the route context that
// this middleware seeds, so the template (/api/v1/tickets/{id}) is known after the call without
// the router knowing about metrics.
func (m *Metrics) InstrumentHTTP(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		m.httpInFlight.Inc()
		defer m.httpInFlight.Dec()

		// chi uses a route context that it finds in the request instead of making its own.
		rctx := chi.NewRouteContext()
		r = r.WithContext(context.WithValue(r.Context(), chi.RouteCtxKey, rctx))
		ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
		next.ServeHTTP(ww, r)

		status := ww.Status()
		if status == 0 { // net/http answers 200 for a handler that wrote nothing
			status = http.StatusOK
		}
		labels := []string{method(r.Method), route(rctx), strconv.Itoa(status)}
		m.httpRequests.WithLabelValues(labels...).Inc()
		m.httpDuration.WithLabelValues(labels...).Observe(time.Since(start).Seconds())
	})
}

// route is the template of the route that served the request. chi leaves a trailing "/*" (a
// mounted sub-router that found nothing) or nothing at all when no route matched.
func route(rctx *chi.Context) string {
	p := rctx.RoutePattern()
	if p == "" || strings.HasSuffix(p, "/*") {
		return unmatched
	}
	return p
}

// method keeps the label to the standard methods; anything else a client invents is "other".
func method(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "other"
}
