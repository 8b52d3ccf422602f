package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"runtime/debug"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/google/uuid"

	"github.com/ticketflow/ticketflow/internal/ticket"
)

type requestIDKey struct{}

// requestID gives every request an ID, the client's own X-Request-Id when it sent a sane one, and
// echoes it on the response so that a client's report can be matched with the logs.
func requestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		// Only a sane ID is echoed, so that a client cannot inject anything into logs or headers.
		if !printableASCII(id, 200) {
			id = uuid.NewString()
		}
		w.Header().Set("X-Request-Id", id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDKey{}, id)))
	})
}

// logRequests writes one line per request: method, route template, status, latency, request ID
// and the ticket it was about. Bodies are never logged: they hold customers' words.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
		next.ServeHTTP(ww, r)
		route := ""
		if rc := chi.RouteContext(r.Context()); rc != nil {
			route = rc.RoutePattern()
		}
		attrs := []any{"method", r.Method, "route", route, "status", ww.Status(),
			"latency_ms", float64(time.Since(start).Microseconds()) / 1000,
			"request_id", r.Context().Value(requestIDKey{})}
		if id := chi.URLParam(r, "id"); id != "" {
			attrs = append(attrs, "ticket_id", id)
		}
		s.log.InfoContext(r.Context(), "request", attrs...)
	})
}

// strictQuery refuses a query string that is not valid URL encoding. r.URL.Query() drops a broken
// pair without a word, so `?cursor=%%%` would be served as the first page, as if it had not been
// sent.
func (s *Server) strictQuery(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := url.ParseQuery(r.URL.RawQuery); err != nil {
			s.writeError(w, r, requestError(codeBadRequest, "the query string is not valid URL encoding: %v", err))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// recoverPanics turns a panic into a logged 500 problem, so a bug costs one request, never the
// process, and its stack trace stays in the log.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.ErrorContext(r.Context(), "panic", "value", fmt.Sprint(v), "stack", string(debug.Stack()))
				s.writeError(w, r, ticket.Errorf(ticket.EINTERNAL, "internal error"))
			}
		}()
		next.ServeHTTP(w, r)
	})
}
