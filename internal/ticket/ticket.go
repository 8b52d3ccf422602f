// Package ticket is the domain of ticketflow: tickets, their comments and audit events, the
// lifecycle that says which changes are allowed, and the errors that callers act on.
//
// It is pure: no I/O, no clock, no randomness. The workflow passes in the time and the IDs, so
// that the same inputs always give the same ticket, which is what Temporal's replay needs.
package ticket

import "time"

// Ticket is a support request and where it stands.
type Ticket struct {
	ID              string     `json:"id"`
	Title           string     `json:"title"`
	Description     string     `json:"description"`
	Status          Status     `json:"status"`
	Priority        Priority   `json:"priority"`
	Requester       string     `json:"requester"`
	EscalationLevel int        `json:"escalation_level"`
	CommentsCount   int        `json:"comments_count"`
	Version         int64      `json:"version"` // +1 on every accepted change; 1 when created
	CreatedAt       time.Time  `json:"created_at"`
	UpdatedAt       time.Time  `json:"updated_at"`
	ClosedAt        *time.Time `json:"closed_at"`
	CloseReason     *string    `json:"close_reason"`
}

// Comment is a message on a ticket.
type Comment struct {
	ID        string    `json:"id"`
	TicketID  string    `json:"ticket_id"`
	Body      string    `json:"body"`
	Author    string    `json:"author"`
	CreatedAt time.Time `json:"created_at"`
}

// EventType names what an audit event records.
type EventType string

// The kinds of audit event.
const (
	EventCreated            EventType = "created"
	EventCommented          EventType = "commented"
	EventStatusChanged      EventType = "status_changed"
	EventEscalated          EventType = "escalated"
	EventTransitionRejected EventType = "transition_rejected"
)

// Event is one entry of a ticket's audit trail. Seq numbers a ticket's events from 1 with no gaps,
// which is what makes writing an event twice harmless: the second write finds its seq taken.
type Event struct {
	Seq        int64          `json:"seq"`
	Type       EventType      `json:"type"`
	FromStatus Status         `json:"from_status,omitempty"`
	ToStatus   Status         `json:"to_status,omitempty"`
	Actor      string         `json:"actor"`
	Data       map[string]any `json:"data"`
	At         time.Time      `json:"at"`
}

// Change is everything one accepted (or recorded-as-rejected) request wrote: the ticket as it is
// afterwards, the comment it added if any, and its events. It is the unit that is persisted.
type Change struct {
	Ticket  Ticket   `json:"ticket"`
	Comment *Comment `json:"comment,omitempty"`
	Events  []Event  `json:"events"`
}

// Timestamp normalises t to what every store keeps: UTC with microsecond precision. Without it the
// ticket held by the workflow and the one read back from PostgreSQL would differ in their times.
func Timestamp(t time.Time) time.Time {
	return t.UTC().Truncate(time.Microsecond)
}
