package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/ticketflow/ticketflow/internal/ticket"
)

// Codes of the failures that belong to HTTP itself rather than to the domain: the request's
// syntax, size, type or parameters, and its authentication.
const (
	codeBadRequest      = "bad_request"
	codeTooLarge        = "too_large"
	codeUnsupportedType = "unsupported_media_type"
	codeNoRoute         = "no_route"
	codeMethod          = "method_not_allowed"
	codeKeyReused       = "idempotency_key_reused"
	codeUnauthorized    = "unauthorized"
	codeRateLimited     = "rate_limited"
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
	ticket.EFORBIDDEN:         {http.StatusForbidden, "/problems/forbidden", "Forbidden"},
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
	codeRateLimited:           {http.StatusTooManyRequests, "/problems/rate-limited", "Too many requests"},
}

// Problem is an RFC 9457 problem details document: the body of every error response. Go clients
// of the API (the system tests) decode into it.
type Problem struct {
	Type     string              `json:"type"`
	Title    string              `json:"title"`
	Status   int                 `json:"status"`
	Detail   string              `json:"detail"`
	Instance string              `json:"instance"`
	Errors   []ticket.FieldError `json:"errors,omitempty"`
}

// httpError is a failure of the request itself, which the domain knows nothing of.
type httpError struct {
	code    string
	message string
}

func (e *httpError) Error() string { return e.message }

// requestError is a problem with the request itself: its syntax, size, type or parameters, or
// its key.
func requestError(code, format string, args ...any) error {
	return &httpError{code: code, message: fmt.Sprintf(format, args...)}
}

// errorCode returns the code of err: an HTTP code of this package's, or the domain's.
func errorCode(err error) string {
	var h *httpError
	if errors.As(err, &h) {
		return h.code
	}
	return ticket.ErrorCode(err)
}

// writeError writes err as problem+json. Errors without a code are logged and shown only as an
// internal error, so no driver message or address ever reaches a client.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	code := errorCode(err)
	if errors.Is(err, context.DeadlineExceeded) && code == ticket.EINTERNAL {
		code = ticket.ETIMEOUT
	}
	kind, ok := problems[code]
	if !ok {
		kind = problems[ticket.EINTERNAL]
	}
	detail := ticket.ErrorMessage(err)
	var h *httpError
	switch {
	case errors.As(err, &h):
		detail = h.message
	case code == ticket.ETIMEOUT && ticket.ErrorCode(err) != ticket.ETIMEOUT:
		detail = "the request was not completed in time; retry it"
	case kind.status >= 500:
		s.log.ErrorContext(r.Context(), "request failed", "error", err, "code", code)
	}
	if kind.status == http.StatusServiceUnavailable || kind.status == http.StatusGatewayTimeout {
		w.Header().Set("Retry-After", "1")
	}
	w.Header().Set("Content-Type", "application/problem+json")
	writeBody(w, kind.status, Problem{
		Type: kind.typ, Title: kind.title, Status: kind.status, Detail: detail,
		Instance: r.URL.Path, Errors: ticket.ErrorFields(err),
	})
}

// logWriteFailure is for the rare case that a response cannot be encoded; the client gets what was
// already written.
func logWriteFailure(err error) {
	slog.Error("write response", "error", err)
}
