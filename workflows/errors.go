package workflows

import (
	"errors"

	"go.temporal.io/sdk/temporal"

	"github.com/ticketflow/ticketflow/internal/ticket"
)

// toApplicationError carries a domain error across Temporal: the code travels as the application
// error's type and the field errors as its details, so that FromTemporal can rebuild it on the
// client's side. Domain errors are final, so they are never retried.
func toApplicationError(err error) error {
	var e *ticket.Error
	if !errors.As(err, &e) {
		return err
	}
	return temporal.NewApplicationErrorWithOptions(e.Message, e.Code, temporal.ApplicationErrorOptions{
		NonRetryable: true,
		Details:      []any{e.Fields},
	})
}

// domainCodes are the codes that toApplicationError sends as an application error's type.
var domainCodes = map[string]bool{
	ticket.ENOTFOUND: true, ticket.EINVALID: true, ticket.EINVALIDTRANSITION: true,
	ticket.ECLOSED: true, ticket.ECONFLICT: true, ticket.EPRECONDITION: true, ticket.EAPPLIED: true,
}

// FromTemporal returns the domain error that an update or workflow failed with, or err as it is
// when it carries none.
func FromTemporal(err error) error {
	var app *temporal.ApplicationError
	if !errors.As(err, &app) || !domainCodes[app.Type()] {
		return err
	}
	var fields []ticket.FieldError
	if app.HasDetails() {
		_ = app.Details(&fields) // the message alone still tells the client what is wrong
	}
	return &ticket.Error{Code: app.Type(), Message: app.Message(), Fields: fields}
}
