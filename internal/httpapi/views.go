package httpapi

import (
	"github.com/ticketflow/ticketflow/internal/auth"
	"github.com/ticketflow/ticketflow/internal/ticket"
)

// The views are the API's own shapes of the domain's values, written with the names and formats
// of the OpenAPI document (openapi.json): a field of the domain can be renamed, or added, without
// changing the API, and what a view shows can depend on who asks. Every time is in microseconds.

// ticketView is a ticket as the API shows it.
type ticketView struct {
	ID              string          `json:"id"`
	Title           string          `json:"title"`
	Description     string          `json:"description"`
	Status          ticket.Status   `json:"status"`
	Priority        ticket.Priority `json:"priority"`
	Requester       string          `json:"requester"`
	EscalationLevel int             `json:"escalation_level"`
	CommentsCount   int             `json:"comments_count"`
	Version         int64           `json:"version"`
	CreatedAt       ticket.Micros   `json:"created_at"`
	UpdatedAt       ticket.Micros   `json:"updated_at"`
	ClosedAt        *ticket.Micros  `json:"closed_at"`
	CloseReason     *string         `json:"close_reason"`
}

// viewTicket shows t to by, who may see it (the service checked).
func viewTicket(t ticket.Ticket, by auth.Principal) ticketView {
	return ticketView{
		ID: t.ID, Title: t.Title, Description: t.Description, Status: t.Status, Priority: t.Priority,
		Requester: t.Requester, EscalationLevel: t.EscalationLevel, CommentsCount: t.CommentsCount,
		Version: t.Version, CreatedAt: ticket.Micros(t.CreatedAt), UpdatedAt: ticket.Micros(t.UpdatedAt),
		ClosedAt: (*ticket.Micros)(t.ClosedAt), CloseReason: t.CloseReason,
	}
}

// commentView is a comment as the API shows it.
type commentView struct {
	ID        string        `json:"id"`
	TicketID  string        `json:"ticket_id"`
	Body      string        `json:"body"`
	Author    string        `json:"author"`
	CreatedAt ticket.Micros `json:"created_at"`
}

func viewComment(c ticket.Comment, by auth.Principal) commentView {
	return commentView{ID: c.ID, TicketID: c.TicketID, Body: c.Body, Author: c.Author, CreatedAt: ticket.Micros(c.CreatedAt)}
}

// eventView is an audit event as the API shows it.
type eventView struct {
	Seq        int64            `json:"seq"`
	Type       ticket.EventType `json:"type"`
	FromStatus ticket.Status    `json:"from_status,omitempty"`
	ToStatus   ticket.Status    `json:"to_status,omitempty"`
	Actor      string           `json:"actor"`
	Data       map[string]any   `json:"data"`
	At         ticket.Micros    `json:"at"`
}

func viewEvent(e ticket.Event, by auth.Principal) eventView {
	return eventView{Seq: e.Seq, Type: e.Type, FromStatus: e.FromStatus, ToStatus: e.ToStatus, Actor: e.Actor, Data: e.Data, At: ticket.Micros(e.At)}
}
