// Package ticket is the domain of ticketflow: tickets, their comments and audit events, the
// lifecycle that says which changes are allowed, and the errors that callers act on.
//
// It is pure: no I/O, no clock, no randomness. The workflow passes in the time and the IDs, so
// that the same inputs always give the same ticket, which is what Temporal's replay needs. Nor has
// it a wire format: the HTTP views, the workflow's payloads and the cache document are types of
// their own (internal/httpapi, the ticketflow package and internal/wire), mapped at those edges.
package ticket

import "time"

// Ticket is a support request and where it stands.
type Ticket struct {
	ID              string
	Title           string
	Description     string
	Status          Status
	Priority        Priority
	Requester       string
	EscalationLevel int
	CommentsCount   int
	Version         int64 // +1 on every accepted change; 1 when created
	CreatedAt       time.Time
	UpdatedAt       time.Time
	ClosedAt        *time.Time
	CloseReason     *string
	// Group is the team the ticket is queued for; DefaultGroup unless one is named.
	Group string
	// Assignee is who works the ticket, "" while nobody does.
	Assignee string
	// Tags are distinct, normalized (NormalizeTag) and sorted.
	Tags []string
	// InternalNotesCount counts the internal notes, which CommentsCount leaves out.
	InternalNotesCount int
	// FirstRespondedAt is when the ticket was first answered, nil until it is.
	FirstRespondedAt *time.Time
	// FirstResponseDueAt is when the first-response SLA escalates the ticket next, and
	// AutoCloseAt when the ticket closes by itself: the deadline of the timer the workflow holds
	// (Policy.Next), nil while that timer does not run. State keeps both up to date.
	FirstResponseDueAt, AutoCloseAt *time.Time
	// SLABreachedAt is when the first-response SLA first escalated the ticket, nil if it never did.
	SLABreachedAt *time.Time
}

// Comment is a message on a ticket.
type Comment struct {
	ID         string
	TicketID   string
	Body       string
	Author     string
	CreatedAt  time.Time
	Visibility Visibility
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
	EventAssigned           EventType = "assigned"
	EventTagsChanged        EventType = "tags_changed"
)

// Event is one entry of a ticket's audit trail. Seq numbers a ticket's events from 1 with no gaps,
// which is what makes writing an event twice harmless: the second write finds its seq taken.
type Event struct {
	Seq        int64
	Type       EventType
	FromStatus Status
	ToStatus   Status
	Actor      string
	Data       map[string]any
	At         time.Time
}

// Change is everything one accepted (or recorded-as-rejected) request wrote: the ticket as it is
// afterwards, the comment it added if any, and its events. It is the unit that is persisted.
type Change struct {
	Ticket  Ticket
	Comment *Comment
	Events  []Event
}

// Timestamp normalises t to what every store keeps: UTC with microsecond precision. Without it the
// ticket held by the workflow and the one read back from PostgreSQL would differ in their times.
func Timestamp(t time.Time) time.Time {
	return t.UTC().Truncate(time.Microsecond)
}
