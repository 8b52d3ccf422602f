// Package httpapi is ticketflow's HTTP API. It holds no business logic: it decodes a request,
// calls the application (Service), and writes the answer in the API's own shapes (views.go),
// with every failure mapped to a status by one table (errors.go).
package httpapi

import (
	"cmp"
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/ticketflow/ticketflow/internal/auth"
	"github.com/ticketflow/ticketflow/internal/idempotency"
	"github.com/ticketflow/ticketflow/internal/service"
	"github.com/ticketflow/ticketflow/internal/ticket"
	"github.com/ticketflow/ticketflow/internal/webhook"
)

// Service is what the API asks of the application (internal/service): every handler decodes a
// request, calls one of these, and encodes the answer.
type Service interface {
	CreateTicket(ctx context.Context, by auth.Principal, n ticket.NewTicket, ids service.IDs) (ticket.Ticket, error)
	ChangeTicket(ctx context.Context, by auth.Principal, id string, cmd ticket.Command, ids service.IDs) (ticket.Change, error)
	Ticket(ctx context.Context, by auth.Principal, id string) (ticket.Ticket, error)
	// ListTickets lists, or with f.Query searches: a listing's tickets are found with no snippet.
	ListTickets(ctx context.Context, by auth.Principal, f ticket.ListFilter) (ticket.Page[ticket.Found], error)
	ListComments(ctx context.Context, by auth.Principal, id string, p ticket.PageRequest) (ticket.Page[ticket.Comment], error)
	ListEvents(ctx context.Context, by auth.Principal, id string, p ticket.PageRequest) (ticket.Page[ticket.Event], error)
	// Feed returns the events out that by may read (events.go); Follow streams them, after
	// f.After when from is true, else from the next one.
	Feed(ctx context.Context, by auth.Principal, f ticket.FeedFilter) (ticket.FeedPage, error)
	Follow(ctx context.Context, by auth.Principal, f ticket.FeedFilter, from bool) (*service.Stream, error)
	// AddWebhook and the rest manage webhooks (webhooks.go).
	AddWebhook(ctx context.Context, n webhook.NewWebhook) (webhook.Webhook, error)
	service.WebhookAdmin
	// Claim and Complete keep the Idempotency-Keys of POST requests.
	Claim(ctx context.Context, scope, key string, fingerprint []byte) (service.Claimed, error)
	Complete(ctx context.Context, scope, key string, resp idempotency.Response) error
	// Ready checks the dependencies, by name.
	Ready(ctx context.Context) (bool, map[string]error)
	service.Keys
}

// Server serves the HTTP API.
type Server struct {
	svc     Service
	log     *slog.Logger
	timeout time.Duration
	router  chi.Router
	auth    *authenticator
	cursors cursorSigner
	// corsOrigins may call the API from a browser; none unless configured.
	corsOrigins []string
	// heartbeat paces the keep-alive comments of idle event streams; streams counts the open ones.
	heartbeat  time.Duration
	streams    Gauge
	streamsCtx context.Context
	encoded    encodedEvents
}

// Gauge is a value that goes up and down, such as a Prometheus gauge.
type Gauge interface {
	Inc()
	Dec()
}

// noGauge counts nothing.
type noGauge struct{}

func (noGauge) Inc() {}
func (noGauge) Dec() {}

// Options configures a Server.
type Options struct {
	Service Service
	Logger  *slog.Logger
	// RequestTimeout bounds each request; a change not confirmed by then is answered 504.
	RequestTimeout time.Duration
	// RateLimit and RateBurst bound the requests per second of each API key (in this process).
	RateLimit float64
	RateBurst int
	// CORSOrigins are the browser origins allowed to call the API; none when empty.
	CORSOrigins []string
	// AuthFailureRate and AuthFailureBurst bound the failed authentications per second of one
	// client address (in this process).
	AuthFailureRate  float64
	AuthFailureBurst int
	// TrustedProxies are the proxies whose X-Forwarded-For names the client's address.
	TrustedProxies []netip.Prefix
	// CursorSecret signs the listings' cursors; every process serving the API must share it.
	CursorSecret []byte
	// StreamHeartbeat is how often an idle event stream sends a comment; DefaultStreamHeartbeat
	// when zero.
	StreamHeartbeat time.Duration
	// Streams counts the open event streams; nothing when nil.
	Streams Gauge
	// StreamsContext ends every event stream when it is done (a process that begins to stop);
	// nil for never.
	StreamsContext context.Context
}

// New returns a Server with its routes.
func New(o Options) *Server {
	s := &Server{svc: o.Service, log: o.Logger, timeout: o.RequestTimeout}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.timeout <= 0 {
		s.timeout = 15 * time.Second
	}
	s.auth = newAuthenticator(o.Service, o)
	s.cursors = newCursorSigner(o.CursorSecret)
	s.heartbeat = cmp.Or(o.StreamHeartbeat, DefaultStreamHeartbeat)
	s.streams = o.Streams
	s.streamsCtx = o.StreamsContext
	if s.streamsCtx == nil {
		s.streamsCtx = context.Background()
	}
	if s.streams == nil {
		s.streams = noGauge{}
	}
	s.corsOrigins = o.CORSOrigins
	s.router = s.routes()
	return s
}

// ServeHTTP makes Server an http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.router.ServeHTTP(w, r)
}

func (s *Server) routes() chi.Router {
	r := chi.NewRouter()
	r.Use(requestID, s.logRequests, s.recoverPanics, securityHeaders, s.cors)
	r.NotFound(s.handle(func(w http.ResponseWriter, r *http.Request) error {
		return requestError(codeNoRoute, "no such resource: %s", r.URL.Path)
	}))
	r.MethodNotAllowed(s.handle(func(w http.ResponseWriter, r *http.Request) error {
		return requestError(codeMethod, "%s is not allowed on %s", r.Method, r.URL.Path)
	}))

	r.Get("/healthz", s.handle(s.healthz))
	r.Get("/readyz", s.handle(s.readyz))

	// The API's documentation (docs.go): embedded files only, so no timeout.
	r.Get("/api/openapi.json", s.handle(s.openAPI))
	r.Get("/api/openapi", s.handle(s.servePage(swaggerUIPage)))
	r.Get("/api/redoc", s.handle(s.servePage(redocPage)))
	r.Get(assetsPath+"{file}", s.handle(s.docsAsset))

	r.Route("/api/v1", func(r chi.Router) {
		r.Use(s.strictQuery, s.withTimeout, s.authenticate)
		r.Post("/tickets", s.handle(require(auth.OpCreate, s.idempotent(s.createTicket))))
		r.Get("/tickets", s.handle(require(auth.OpList, s.listTickets)))
		r.Route("/tickets/{id}", func(r chi.Router) {
			r.Get("/", s.handle(require(auth.OpRead, s.getTicket)))
			r.Get("/comments", s.handle(require(auth.OpRead, listUnder(s, "comments", s.svc.ListComments, viewComment))))
			r.Get("/events", s.handle(require(auth.OpRead, listUnder(s, "events", s.svc.ListEvents, viewEvent))))
			r.Post("/comments", s.changeRoute(auth.OpComment, s.addComment))
			for _, action := range []ticket.Action{ticket.ActionAnswer, ticket.ActionAwait, ticket.ActionClose, ticket.ActionEscalate} {
				r.Post("/"+string(action), s.changeRoute(auth.ActionOperation(action), s.transition(action)))
			}
			r.Post("/"+string(ticket.ActionAssign), s.changeRoute(auth.OpAssign, s.assign))
			r.Post("/"+string(ticket.ActionTags), s.changeRoute(auth.OpTags, s.retag))
		})
		r.Get("/events", s.handle(require(auth.OpRead, s.feed)))
		r.Get("/events/stream", s.handle(require(auth.OpRead, s.stream)))
		r.Route("/webhooks", func(r chi.Router) {
			admin := func(h handlerFunc) http.HandlerFunc { return s.handle(require(auth.OpManageWebhooks, h)) }
			r.Post("/", admin(s.createWebhook))
			r.Get("/", admin(s.listWebhooks))
			r.Get("/{webhook_id}", admin(s.getWebhook))
			r.Delete("/{webhook_id}", admin(s.deleteWebhook))
			r.Post("/{webhook_id}/disable", admin(s.enableWebhook(false)))
			r.Post("/{webhook_id}/enable", admin(s.enableWebhook(true)))
			r.Post("/{webhook_id}/rotate-secret", admin(s.rotateWebhookSecret))
			r.Get("/{webhook_id}/deliveries", admin(s.listDeliveries))
			r.Post("/{webhook_id}/deliveries/{delivery_id}/redeliver", admin(s.redeliver))
		})
		r.Post("/keys", s.handle(require(auth.OpManageKeys, s.createKey)))
		r.Get("/keys", s.handle(require(auth.OpManageKeys, s.listKeys)))
		r.Post("/keys/{id}/revoke", s.handle(require(auth.OpManageKeys, s.revokeKey)))
	})
	return r
}

// handlerFunc is an HTTP handler that returns its failure instead of writing it.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// handle adapts a handlerFunc: the one place where a failure becomes a response.
func (s *Server) handle(h handlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			s.writeError(w, r, err)
		}
	}
}

// untimedKey keeps the request's context as it was before withTimeout bounded it.
type untimedKey struct{}

// streamContext returns the context of a request that goes on past the request timeout, once it
// is set up (an event stream): it ends when the client goes or the server shuts down.
func streamContext(r *http.Request) context.Context {
	if ctx, ok := r.Context().Value(untimedKey{}).(context.Context); ok {
		return ctx
	}
	return r.Context()
}

// withTimeout bounds the request, so that a change that Temporal does not confirm in time is
// answered 504 (outcome unknown, safe to retry) rather than left hanging.
func (s *Server) withTimeout(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(context.WithValue(r.Context(), untimedKey{}, r.Context()), s.timeout)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	return nil
}

// readyz reports whether every dependency answers, and names the ones that do not; what failed
// is in the log, not in an answer that anyone may read.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) error {
	ready, errs := s.svc.Ready(r.Context())
	status, result := http.StatusOK, make(map[string]string, len(errs))
	for name, err := range errs {
		result[name] = "ok"
		if err != nil {
			result[name] = "unavailable"
		}
	}
	if !ready {
		status = http.StatusServiceUnavailable
	}
	writeJSON(w, status, map[string]any{"status": map[bool]string{true: "ready", false: "not ready"}[ready], "checks": result})
	return nil
}
