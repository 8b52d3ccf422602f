package ticket_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/ticketflow/ticketflow/internal/ticket"
)

func TestErrorHelpers(t *testing.T) {
	invalid := &ticket.Error{Code: ticket.EINVALID, Message: "invalid input: title must not be empty",
		Fields: []ticket.FieldError{{Field: "title", Message: "must not be empty"}}}
	notFound := ticket.Errorf(ticket.ENOTFOUND, "ticket %s not found", "abc")
	tests := []struct {
		name       string
		err        error
		wantCode   string
		wantMsg    string
		wantFields []ticket.FieldError
	}{
		{"nil", nil, "", "", nil},
		{"plain error", errors.New("pq: password authentication failed for user \"app\""), ticket.EINTERNAL, "internal error", nil},
		{"domain error", notFound, ticket.ENOTFOUND, "ticket abc not found", nil},
		{"wrapped", fmt.Errorf("load: %w", notFound), ticket.ENOTFOUND, "ticket abc not found", nil},
		{"wrapped twice", fmt.Errorf("handler: %w", fmt.Errorf("store: %w", invalid)), ticket.EINVALID, invalid.Message, invalid.Fields},
		{"joined with a plain error", errors.Join(errors.New("boom"), invalid), ticket.EINVALID, invalid.Message, invalid.Fields},
		{"wrapped with %v loses the code", fmt.Errorf("load: %v", notFound), ticket.EINTERNAL, "internal error", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ticket.ErrorCode(tt.err); got != tt.wantCode {
				t.Errorf("ErrorCode = %q, want %q", got, tt.wantCode)
			}
			if got := ticket.ErrorMessage(tt.err); got != tt.wantMsg {
				t.Errorf("ErrorMessage = %q, want %q", got, tt.wantMsg)
			}
			if got := ticket.ErrorFields(tt.err); !slices.Equal(got, tt.wantFields) {
				t.Errorf("ErrorFields = %+v, want %+v", got, tt.wantFields)
			}
		})
	}
	t.Run("Error returns the message", func(t *testing.T) {
		if notFound.Error() != "ticket abc not found" || notFound.Code != ticket.ENOTFOUND || notFound.Fields != nil {
			t.Errorf("Errorf = %#v", notFound)
		}
	})
	t.Run("codes are distinct", func(t *testing.T) {
		codes := []string{ticket.ENOTFOUND, ticket.EINVALID, ticket.EINVALIDTRANSITION, ticket.ECLOSED,
			ticket.ECONFLICT, ticket.EUNAVAILABLE, ticket.EINTERNAL}
		seen := map[string]bool{}
		for _, c := range codes {
			if c == "" || seen[c] {
				t.Errorf("code %q is empty or repeated", c)
			}
			seen[c] = true
		}
	})
}
