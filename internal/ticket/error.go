package ticket

import (
	"context"
	"errors"
	"fmt"
)

// Error codes name the kinds of failure that callers act on. Adapters translate their own
// failures into these, and the HTTP layer maps each code to a status in one table.
const (
	ENOTFOUND          = "not_found"          // the ticket does not exist
	EINVALID           = "invalid"            // the input broke a validation rule
	EINVALIDTRANSITION = "invalid_transition" // the lifecycle forbids the move
	ECLOSED            = "closed"             // the ticket is closed and takes no more changes
	ECONFLICT          = "conflict"           // the request lost a race with another change
	EPRECONDITION      = "precondition"       // the ticket is not at the version the request expected
	EAPPLIED           = "applied"            // the request was applied already; read its outcome
	EUNAVAILABLE       = "unavailable"        // a dependency is down; the outcome is not known
	ETIMEOUT           = "timeout"            // the change was not confirmed in time; the outcome is not known
	EINTERNAL          = "internal"           // a bug or an unexpected failure
)

// Error is a domain error: a code that callers switch on and a message that a person can read.
type Error struct {
	Code    string
	Message string
	// Fields lists the broken rules of a validation error, one per field.
	Fields []FieldError
}

// FieldError names one field of the input and what is wrong with it.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

func (e *Error) Error() string {
	return e.Message
}

// NotFound is the one answer for a ticket that does not exist, and for one that the asker may not
// see: the same words either way, so that the answer tells a customer nothing of another's ticket.
func NotFound(id string) error {
	return Errorf(ENOTFOUND, "ticket %s not found", id)
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Retryable classifies a failed call to a dependency (a database, a cache, Temporal) for callers
// who cannot tell its outcome. A domain error is returned as it is: no retry changes it. Any
// other error leaves the outcome unknown, so a retry is what to do: ETIMEOUT with the message
// timeout when ctx's time ran out (or err says a deadline passed), EUNAVAILABLE with the message
// unavailable otherwise. The cause stays in the chain after the domain error, so that a log line
// shows it, while ErrorMessage, what a client reads, does not.
func Retryable(ctx context.Context, err error, timeout, unavailable string) error {
	var domain *Error
	switch {
	case errors.As(err, &domain):
		return err
	case errors.Is(err, context.DeadlineExceeded), ctx.Err() != nil:
		return fmt.Errorf("%w: %w", Errorf(ETIMEOUT, "%s", timeout), err)
	}
	return fmt.Errorf("%w: %w", Errorf(EUNAVAILABLE, "%s", unavailable), err)
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL for any other
// error, and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e) && e != nil:
		return e.Code
	default:
		return EINTERNAL
	}
}

// ErrorMessage returns the message of the first *Error in err's chain. Other errors are not
// meant for clients' eyes, so they get a generic message.
func ErrorMessage(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e) && e != nil:
		return e.Message
	default:
		return "internal error"
	}
}

// ErrorFields returns the field errors of the first *Error in err's chain.
func ErrorFields(err error) []FieldError {
	var e *Error
	if errors.As(err, &e) && e != nil {
		return e.Fields
	}
	return nil
}
