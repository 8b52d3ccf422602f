package ticket

import (
	"errors"
	"fmt"
)

// Error codes name the kinds of failure that callers act on. Adapters translate their own
// failures into these (a driver's failure into EUNAVAILABLE or ETIMEOUT, since only the adapter
// knows which of its errors a retry can cure), and the HTTP layer maps each code to a status in
// one table, beside the codes of its own.
const (
	ENOTFOUND          = "not_found"          // the ticket does not exist
	EINVALID           = "invalid"            // the input broke a validation rule
	EINVALIDTRANSITION = "invalid_transition" // the lifecycle forbids the move
	ECLOSED            = "closed"             // the ticket is closed and takes no more changes
	ECONFLICT          = "conflict"           // the request lost a race with another change
	EPRECONDITION      = "precondition"       // the ticket is not at the version the request expected
	EAPPLIED           = "applied"            // the request was applied already; read its outcome
	EFORBIDDEN         = "forbidden"          // the actor may not do this to this ticket
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
