package ticket_test

import (
	"testing"

	"github.com/ticketflow/ticketflow/internal/ticket"
)

// TestIfVersion checks the optimistic-concurrency precondition: a command that names a version
// applies only to the ticket at exactly that version, and the precondition is judged before the
// lifecycle, as HTTP judges If-Match before the method.
func TestIfVersion(t *testing.T) {
	open := ticket.Ticket{ID: "t", Status: ticket.StatusOpen, Version: 3}
	closed := ticket.Ticket{ID: "t", Status: ticket.StatusClosed, Version: 3}
	tests := []struct {
		name   string
		t      ticket.Ticket
		cmd    ticket.Command
		code   string
		status ticket.Status
	}{
		{"no precondition", open, ticket.Command{Action: ticket.ActionAnswer}, "", ticket.StatusAnswered},
		{"current version", open, ticket.Command{Action: ticket.ActionAnswer, IfVersion: 3}, "", ticket.StatusAnswered},
		{"older version", open, ticket.Command{Action: ticket.ActionAnswer, IfVersion: 2}, ticket.EPRECONDITION, ""},
		{"newer version", open, ticket.Command{Action: ticket.ActionAnswer, IfVersion: 4}, ticket.EPRECONDITION, ""},
		{"precondition before lifecycle", closed, ticket.Command{Action: ticket.ActionAnswer, IfVersion: 2}, ticket.EPRECONDITION, ""},
		{"lifecycle when the version matches", closed, ticket.Command{Action: ticket.ActionAnswer, IfVersion: 3}, ticket.EINVALIDTRANSITION, ""},
		{"negative version", open, ticket.Command{Action: ticket.ActionAnswer, IfVersion: -1}, ticket.EINVALID, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ch, err := tc.t.Apply(tc.cmd, rawNow)
			if got := ticket.ErrorCode(err); got != tc.code {
				t.Fatalf("code %q (%v), want %q", got, err, tc.code)
			}
			if err == nil && (ch.Ticket.Status != tc.status || ch.Ticket.Version != tc.t.Version+1) {
				t.Fatalf("applied to %s v%d", ch.Ticket.Status, ch.Ticket.Version)
			}
		})
	}
}
