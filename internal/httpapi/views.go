package httpapi

import (
	"cmp"
	"encoding/json"
	"slices"
	"time"

	"github.com/ticketflow/ticketflow/internal/auth"
	"github.com/ticketflow/ticketflow/internal/ticket"
)

// The views are the API's own shapes of the domain's values, written with the names and formats
// of the OpenAPI document (openapi.json): a field of the domain can be renamed, or added, without
// changing the API, and what a view shows can depend on who asks. They are exported for the Go
// programs that read the API (the system tests, the fault suite, the bench), which decode into them.

// Ticket is a ticket as the API shows it.
type Ticket struct {
	ID              string          `json:"id"`
	Title           string          `json:"title"`
	Description     string          `json:"description"`
	Status          ticket.Status   `json:"status"`
	Priority        ticket.Priority `json:"priority"`
	Requester       string          `json:"requester"`
	EscalationLevel int             `json:"escalation_level"`
	CommentsCount   int             `json:"comments_count"`
	Version         int64           `json:"version"`
	CreatedAt       time.Time       `json:"created_at"`
	UpdatedAt       time.Time       `json:"updated_at"`
	ClosedAt        *time.Time      `json:"closed_at"`
	CloseReason     *string         `json:"close_reason"`
	Group           string          `json:"group"`
	Assignee        *string         `json:"assignee"` // nil while nobody works the ticket
	Tags            []string        `json:"tags"`     // written as [] when there are none
	// InternalNotesCount is nil in a customer's view, which leaves it out: a customer learns
	// nothing of internal notes, not even that there are some.
	InternalNotesCount *int       `json:"internal_notes_count,omitempty"`
	FirstRespondedAt   *time.Time `json:"first_responded_at"`
	// FirstResponseDueAt is when the first-response SLA escalates the open ticket next, and
	// AutoCloseAt when the answered or awaiting ticket closes by itself: the timer the ticket's
	// workflow holds, nil while none runs. When the SLA first escalated the ticket is not shown:
	// clients ask for it with the listing's breached filter.
	FirstResponseDueAt *time.Time `json:"first_response_due_at"`
	AutoCloseAt        *time.Time `json:"auto_close_at"`
	// Match is how the ticket matched a search (GET /tickets?q=), and only there: nil, left out,
	// everywhere else.
	Match *Match `json:"match,omitempty"`
}

// Match is how a ticket matched a search.
type Match struct {
	// Snippet is the words around the match, from what the searcher may read.
	Snippet string `json:"snippet"`
}

// viewTicket shows t to by, who may see it (the service checked).
func viewTicket(t ticket.Ticket, by auth.Principal) Ticket {
	v := Ticket{
		ID: t.ID, Title: t.Title, Description: t.Description, Status: t.Status, Priority: t.Priority,
		Requester: t.Requester, EscalationLevel: t.EscalationLevel, CommentsCount: t.CommentsCount,
		Version: t.Version, CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt, ClosedAt: t.ClosedAt,
		CloseReason: t.CloseReason,
		// A ticket from before groups is in the default one.
		Group: cmp.Or(t.Group, ticket.DefaultGroup), Tags: slices.Clone(t.Tags), FirstRespondedAt: t.FirstRespondedAt,
		FirstResponseDueAt: t.FirstResponseDueAt, AutoCloseAt: t.AutoCloseAt,
	}
	if t.Assignee != "" {
		v.Assignee = &t.Assignee
	}
	if by.Reads() == ticket.VisibilityInternal {
		v.InternalNotesCount = &t.InternalNotesCount
	}
	return v
}

// Domain returns the ticket that the view shows, for the Go programs that hold what the API
// answered to what the system holds (the system tests, the fault suite). What the view left out
// is zero: the count of internal notes of a customer's view, and when the SLA first escalated the
// ticket (SLABreachedAt, nil).
func (t Ticket) Domain() ticket.Ticket {
	d := ticket.Ticket{
		ID: t.ID, Title: t.Title, Description: t.Description, Status: t.Status, Priority: t.Priority,
		Requester: t.Requester, EscalationLevel: t.EscalationLevel, CommentsCount: t.CommentsCount,
		Version: t.Version, CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt, ClosedAt: t.ClosedAt,
		CloseReason: t.CloseReason, Group: t.Group, Tags: slices.Clone(t.Tags), FirstRespondedAt: t.FirstRespondedAt,
		FirstResponseDueAt: t.FirstResponseDueAt, AutoCloseAt: t.AutoCloseAt,
	}
	if t.Assignee != nil {
		d.Assignee = *t.Assignee
	}
	if t.InternalNotesCount != nil {
		d.InternalNotesCount = *t.InternalNotesCount
	}
	return d
}

// Comment is a comment as the API shows it.
type Comment struct {
	ID         string            `json:"id"`
	TicketID   string            `json:"ticket_id"`
	Body       string            `json:"body"`
	Author     string            `json:"author"`
	CreatedAt  time.Time         `json:"created_at"`
	Visibility ticket.Visibility `json:"visibility"`
}

func viewComment(c ticket.Comment, by auth.Principal) Comment {
	// A comment from before internal notes is public.
	vis, _ := ticket.ParseVisibility(string(c.Visibility))
	return Comment{ID: c.ID, TicketID: c.TicketID, Body: c.Body, Author: c.Author, CreatedAt: c.CreatedAt, Visibility: vis}
}

// Event is an audit event as the API shows it.
type Event struct {
	Seq        int64            `json:"seq"`
	Type       ticket.EventType `json:"type"`
	FromStatus ticket.Status    `json:"from_status,omitempty"`
	ToStatus   ticket.Status    `json:"to_status,omitempty"`
	Actor      string           `json:"actor"`
	Data       map[string]any   `json:"data"`
	At         time.Time        `json:"at"`
}

func viewEvent(e ticket.Event, by auth.Principal) Event {
	return Event{Seq: e.Seq, Type: e.Type, FromStatus: e.FromStatus, ToStatus: e.ToStatus, Actor: e.Actor, Data: e.Data, At: e.At}
}

// Times are written with exactly six fractional digits, as the API promises: the standard
// encoding drops trailing zeros (….4118Z), and a client that parses fixed-width timestamps, or
// compares them as strings, would then read them wrong. Every time the domain makes is already
// cut to microseconds (ticket.Timestamp), so nothing is lost. Reading accepts any RFC 3339 time.

// micros is a time that encodes with microseconds.
type micros time.Time

// timeLayout is RFC 3339 in UTC with microseconds; the Z is a literal.
const timeLayout = `"2006-01-02T15:04:05.000000Z"`

// MarshalJSON writes the time in UTC with six fractional digits.
func (m micros) MarshalJSON() ([]byte, error) {
	return time.Time(m).UTC().AppendFormat(make([]byte, 0, len(timeLayout)), timeLayout), nil
}

// UnmarshalJSON reads any RFC 3339 time, for clients of this package's views.
func (m *micros) UnmarshalJSON(b []byte) error {
	return (*time.Time)(m).UnmarshalJSON(b)
}

// The plain types have the fields and none of the methods, so that the MarshalJSON methods below
// can encode them without calling themselves. A field of the outer struct hides the embedded one
// of the same name.
type (
	plainTicket  Ticket
	plainComment Comment
	plainEvent   Event
)

// MarshalJSON encodes the ticket with its times in microseconds, and its tags as a list even
// when there are none.
func (t Ticket) MarshalJSON() ([]byte, error) {
	tags := t.Tags
	if tags == nil {
		tags = []string{}
	}
	return json.Marshal(struct {
		plainTicket
		CreatedAt          micros   `json:"created_at"`
		UpdatedAt          micros   `json:"updated_at"`
		ClosedAt           *micros  `json:"closed_at"`
		FirstRespondedAt   *micros  `json:"first_responded_at"`
		FirstResponseDueAt *micros  `json:"first_response_due_at"`
		AutoCloseAt        *micros  `json:"auto_close_at"`
		Tags               []string `json:"tags"`
	}{plainTicket(t), micros(t.CreatedAt), micros(t.UpdatedAt), (*micros)(t.ClosedAt), (*micros)(t.FirstRespondedAt),
		(*micros)(t.FirstResponseDueAt), (*micros)(t.AutoCloseAt), tags})
}

// MarshalJSON encodes the comment with its time in microseconds.
func (c Comment) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		plainComment
		CreatedAt micros `json:"created_at"`
	}{plainComment(c), micros(c.CreatedAt)})
}

// MarshalJSON encodes the event with its time in microseconds.
func (e Event) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		plainEvent
		At micros `json:"at"`
	}{plainEvent(e), micros(e.At)})
}
