package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/ticketflow/ticketflow/internal/ticket"
)

// Codes of the failures that belong to HTTP itself rather than to the domain.
const (
	codeBadRequest      = "bad_request"
	codeTooLarge        = "too_large"
	codeUnsupportedType = "unsupported_media_type"
	codeNoRoute         = "no_route"
	codeMethod          = "method_not_allowed"
	codeKeyReused       = "idempotency_key_reused"
)

// problemKind is how one error code is shown to a client.
type problemKind struct {
	status int
	typ    string // a relative URI that clients switch on
	title  string
}

// problems is the one table from error code to HTTP status and problem type.
var problems = map[string]problemKind{
	ticket.ENOTFOUND:          {http.StatusNotFound, "/problems/not-found", "Not found"},
	ticket.EINVALID:           {http.StatusUnprocessableEntity, "/problems/validation", "Validation failed"},
	ticket.EINVALIDTRANSITION: {http.StatusConflict, "/problems/invalid-transition", "Invalid transition"},
	ticket.ECLOSED:            {http.StatusConflict, "/problems/ticket-closed", "Ticket closed"},
	ticket.ECONFLICT:          {http.StatusConflict, "/problems/conflict", "Conflict"},
	ticket.EPRECONDITION:      {http.StatusPreconditionFailed, "/problems/precondition-failed", "Precondition failed"},
	ticket.EAPPLIED:           {http.StatusConflict, "/problems/conflict", "Conflict"},
	ticket.EUNAVAILABLE:       {http.StatusServiceUnavailable, "/problems/unavailable", "Service unavailable"},
	ticket.ETIMEOUT:           {http.StatusGatewayTimeout, "/problems/timeout", "Not confirmed in time"},
	ticket.EINTERNAL:          {http.StatusInternalServerError, "/problems/internal", "Internal error"},
	codeBadRequest:            {http.StatusBadRequest, "/problems/bad-request", "Bad request"},
	codeTooLarge:              {http.StatusRequestEntityTooLarge, "/problems/too-large", "Request body too large"},
	codeUnsupportedType:       {http.StatusUnsupportedMediaType, "/problems/unsupported-media-type", "Unsupported media type"},
	codeNoRoute:               {http.StatusNotFound, "/problems/not-found", "Not found"},
	codeMethod:                {http.StatusMethodNotAllowed, "/problems/method-not-allowed", "Method not allowed"},
	codeKeyReused:             {http.StatusUnprocessableEntity, "/problems/idempotency-key-reused", "Idempotency key reused"},
	codeUnauthorized:          {http.StatusUnauthorized, "/problems/unauthorized", "Unauthorized"},
	codeForbidden:             {http.StatusForbidden, "/problems/forbidden", "Forbidden"},
	codeRateLimited:           {http.StatusTooManyRequests, "/problems/rate-limited", "Too many requests"},
}

// problem is an RFC 9457 problem details document.
type problem struct {
	Type     string              `json:"type"`
	Title    string              `json:"title"`
	Status   int                 `json:"status"`
	Detail   string              `json:"detail"`
	Instance string              `json:"instance"`
	Errors   []ticket.FieldError `json:"errors,omitempty"`
}

// requestError is a problem with the request itself: its syntax, size, type or parameters.
func requestError(code, format string, args ...any) error {
	return ticket.Errorf(code, format, args...)
}

// writeError writes err as problem+json. Errors without a code are logged and shown only as an
// internal error, so no driver message or address ever reaches a client.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	code := ticket.ErrorCode(err)
	if errors.Is(err, context.DeadlineExceeded) && code == ticket.EINTERNAL {
		code = ticket.ETIMEOUT
	}
	kind, ok := problems[code]
	if !ok {
		kind = problems[ticket.EINTERNAL]
	}
	detail := ticket.ErrorMessage(err)
	switch {
	case code == ticket.ETIMEOUT && ticket.ErrorCode(err) != ticket.ETIMEOUT:
		detail = "the request was not completed in time; retry it"
	case kind.status >= 500:
		s.log.ErrorContext(r.Context(), "request failed", "error", err, "code", code)
	}
	if kind.status == http.StatusServiceUnavailable || kind.status == http.StatusGatewayTimeout {
		w.Header().Set("Retry-After", "1")
	}
	w.Header().Set("Content-Type", "application/problem+json")
	writeBody(w, kind.status, problem{
		Type: kind.typ, Title: kind.title, Status: kind.status, Detail: detail,
		Instance: r.URL.Path, Errors: ticket.ErrorFields(err),
	})
}

// storeError turns a failed read of the store into what the client can act on. The store returns
// a domain error for what no retry changes (not found, invalid input), and any other error for a
// failure of the database itself (a dropped connection, a server that is down or restarting),
// which its contract calls retryable: that is a 503 with Retry-After, or a 504 when the request's
// own time ran out first, never a 500, which would tell the client that retrying is pointless.
func storeError(r *http.Request, err error) error {
	return ticket.Retryable(r.Context(), err, "the request was not completed in time; retry it",
		"the database is unavailable; retry later")
}

// logWriteFailure is for the rare case that a response cannot be encoded; the client gets what was
// already written.
func logWriteFailure(err error) {
	slog.Error("write response", "error", err)
}
