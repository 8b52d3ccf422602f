// Package ticketflow is what a Go program outside ticketflow needs to act on tickets through
// Temporal: the names of a ticket workflow's signals, updates and query, the payloads they carry,
// and a Client that sends them with the Temporal Go SDK. Automations (an escalation job, a bot
// that closes stale tickets) import it instead of copying names and shapes.
//
// The payloads are version 1 of the ticket workflow's wire format, and the histories of running
// tickets hold them, so they change only compatibly: a JSON name is never renamed, retyped or
// given a new meaning; a new field is optional, and its zero value keeps the old behaviour. A
// change that cannot be made so is a new message with a new name, handled beside the old one
// until no history holds the old. (internal/wire maps these to the domain's types and tests that
// the names stay as they are.)
package ticketflow

import (
	"strings"
	"time"
)

// Action names a change to an existing ticket. Each is the name of both an update (the caller
// waits until the change is persisted, and a refusal comes back as an error) and a signal (the
// caller does not wait; a refusal is recorded in the ticket's audit trail as transition_rejected).
type Action string

// The actions on a ticket. The lifecycle is open → answered | closed, answered → awaiting |
// closed, awaiting → answered | closed; closed is final and takes no action at all.
const (
	Comment  Action = "comment"  // add a comment; the status stays
	Answer   Action = "answer"   // an agent answered: the ticket is answered
	Await    Action = "await"    // the ticket waits for its requester: awaiting
	Close    Action = "close"    // closed, for good
	Escalate Action = "escalate" // raise the escalation level by one; the status stays
	Assign   Action = "assign"   // set who works the ticket, or the group it is queued for
	Tags     Action = "tags"     // add and remove tags
)

// Actions lists every action.
var Actions = []Action{Comment, Answer, Await, Close, Escalate, Assign, Tags}

// The names of a ticket workflow's other messages.
const (
	// QueryTicket returns the Ticket as last persisted.
	QueryTicket = "ticket"
	// UpdateCreate waits until a new ticket is persisted and returns it. The API sends it with
	// the workflow's start (update-with-start); automations have no use for it.
	UpdateCreate = "create"
)

// WorkflowID returns the ID of ticket ticketID's workflow: the ID to send it messages at, and to
// look it up by in the Temporal UI and CLI.
func WorkflowID(ticketID string) string { return workflowIDPrefix + ticketID }

// TicketID returns the ID of the ticket whose workflow has ID workflowID, and false when it is
// no ticket's workflow.
func TicketID(workflowID string) (string, bool) {
	id, ok := strings.CutPrefix(workflowID, workflowIDPrefix)
	return id, ok && id != ""
}

const workflowIDPrefix = "ticket-"

// Status is where a ticket stands in its lifecycle.
type Status string

// The statuses.
const (
	StatusOpen     Status = "open"
	StatusAnswered Status = "answered"
	StatusAwaiting Status = "awaiting"
	StatusClosed   Status = "closed"
)

// Priority is how urgent a ticket is.
type Priority string

// The priorities, from least to most urgent.
const (
	PriorityLow    Priority = "low"
	PriorityNormal Priority = "normal"
	PriorityHigh   Priority = "high"
	PriorityUrgent Priority = "urgent"
)

// Command is the argument of every update and signal that changes a ticket; which change it asks
// for is the message's name (an Action). Every field is optional unless its action needs it.
type Command struct {
	// Actor is who asks, as the audit trail shows it. Signals without one are recorded as
	// "automation".
	Actor string `json:"actor,omitempty"`
	// Comment is a comment's body: required for Comment, optional for the others.
	Comment string `json:"comment,omitempty"`
	// CommentID is the ID the comment gets, required with a Comment; Client fills it in.
	CommentID string `json:"comment_id,omitempty"`
	// Author is shown on the comment; it defaults to Actor.
	Author string `json:"author,omitempty"`
	// Reason says why a ticket is closed or escalated.
	Reason string `json:"reason,omitempty"`
	// RequestID names the request, the same for every retry of it, so that a retry is recognised
	// and applied once, even in a later run of the workflow.
	RequestID string `json:"request_id,omitempty"`
	// IfVersion, when set, applies the change only to the ticket at exactly this version.
	IfVersion int64 `json:"if_version,omitempty"`
	// Visibility of a Comment: "public" (or empty), or "internal" for a note for agents only.
	Visibility string `json:"visibility,omitempty"`
	// Assignee, for Assign, is who works the ticket from now on: nil leaves it as it is, and a
	// pointer to "" leaves the ticket to nobody.
	Assignee *string `json:"assignee,omitempty"`
	// Group, for Assign, is the team the ticket is queued for from now on; empty leaves it.
	Group string `json:"group,omitempty"`
	// AddTags and RemoveTags, for Tags: tags are 1 to 50 of a-z, 0-9, _, : and - (they are
	// lower-cased), at most 20 on a ticket.
	AddTags    []string `json:"add_tags,omitempty"`
	RemoveTags []string `json:"remove_tags,omitempty"`
}

// Ticket is a ticket as its workflow holds it: what QueryTicket returns.
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
	// Group is the team the ticket is queued for ("support" unless one was named).
	Group string `json:"group,omitempty"`
	// Assignee is who works the ticket; empty while nobody does.
	Assignee           string     `json:"assignee,omitempty"`
	Tags               []string   `json:"tags,omitempty"`
	InternalNotesCount int        `json:"internal_notes_count,omitempty"`
	FirstRespondedAt   *time.Time `json:"first_responded_at,omitempty"`
	// FirstResponseDueAt is when the first-response SLA escalates the ticket next, AutoCloseAt
	// when the ticket closes by itself: the timer the workflow holds; nil while none runs.
	FirstResponseDueAt *time.Time `json:"first_response_due_at,omitempty"`
	AutoCloseAt        *time.Time `json:"auto_close_at,omitempty"`
	// SLABreachedAt is when the first-response SLA first escalated the ticket.
	SLABreachedAt *time.Time `json:"sla_breached_at,omitempty"`
}

// TicketComment is a comment on a ticket.
type TicketComment struct {
	ID         string    `json:"id"`
	TicketID   string    `json:"ticket_id"`
	Body       string    `json:"body"`
	Author     string    `json:"author"`
	CreatedAt  time.Time `json:"created_at"`
	Visibility string    `json:"visibility,omitempty"` // "internal" for a note for agents only
}

// Event is one entry of a ticket's audit trail; Seq numbers a ticket's events from 1, without gaps.
type Event struct {
	Seq        int64          `json:"seq"`
	Type       string         `json:"type"`
	FromStatus Status         `json:"from_status,omitempty"`
	ToStatus   Status         `json:"to_status,omitempty"`
	Actor      string         `json:"actor"`
	Data       map[string]any `json:"data"`
	At         time.Time      `json:"at"`
}

// Change is what an update returns once its change is persisted: the ticket afterwards, the
// comment it added if any, and the events it wrote.
type Change struct {
	Ticket  Ticket         `json:"ticket"`
	Comment *TicketComment `json:"comment,omitempty"`
	Events  []Event        `json:"events"`
}
