// Package wire maps the domain's values to the payloads that outlive a deploy and back: the
// messages of a ticket's workflow (the public ticketflow package's types, and the internal parts
// of its input below), and the Redis cache's document, which is a ticketflow.Ticket too. Those
// payloads sit in histories and caches written by earlier builds, so their JSON changes only as
// ticketflow's package comment allows; copying field by field here is what leaves the domain free
// to change. wire_test.go holds the JSON names to what running tickets' histories hold.
package wire

import (
	"maps"
	"slices"
	"time"

	"github.com/ticketflow/ticketflow"
	"github.com/ticketflow/ticketflow/internal/ticket"
)

// NewTicket is what a ticket's workflow is started with to open the ticket.
type NewTicket struct {
	Title       string   `json:"title"`
	Description string   `json:"description,omitempty"`
	Priority    string   `json:"priority,omitempty"`
	Requester   string   `json:"requester,omitempty"`
	Group       string   `json:"group,omitempty"`
	Assignee    string   `json:"assignee,omitempty"`
	Tags        []string `json:"tags,omitempty"`
}

// Policy is the timers a ticket was created with; durations are in nanoseconds. Only the
// priorities the domain knows are mapped.
type Policy struct {
	FirstResponseSLA  map[string]time.Duration `json:"first_response_sla"`
	MaxSLAEscalations int                      `json:"max_sla_escalations"`
	AutoCloseAfter    time.Duration            `json:"auto_close_after"`
}

// State is what a ticket's workflow carries into its next run when it continues as new.
type State struct {
	Ticket   ticketflow.Ticket `json:"ticket"`
	LastSeq  int64             `json:"last_seq"`
	Timers   Timers            `json:"timers"`
	Requests []string          `json:"requests,omitempty"`
}

// Timers is what a ticket's timers have done.
type Timers struct {
	SLAEscalations int `json:"sla_escalations"`
}

// FromTicket returns t as a payload.
func FromTicket(t ticket.Ticket) ticketflow.Ticket {
	return ticketflow.Ticket{
		ID: t.ID, Title: t.Title, Description: t.Description, Status: ticketflow.Status(t.Status),
		Priority: ticketflow.Priority(t.Priority), Requester: t.Requester, EscalationLevel: t.EscalationLevel,
		CommentsCount: t.CommentsCount, Version: t.Version, CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt,
		ClosedAt: t.ClosedAt, CloseReason: t.CloseReason, Group: t.Group, Assignee: t.Assignee,
		Tags: slices.Clone(t.Tags), InternalNotesCount: t.InternalNotesCount, FirstRespondedAt: t.FirstRespondedAt,
		FirstResponseDueAt: t.FirstResponseDueAt, AutoCloseAt: t.AutoCloseAt, SLABreachedAt: t.SLABreachedAt,
	}
}

// DomainTicket returns the ticket that payload w holds. A payload from before groups names none:
// its ticket is in the default group.
func DomainTicket(w ticketflow.Ticket) ticket.Ticket {
	t := ticket.Ticket{
		ID: w.ID, Title: w.Title, Description: w.Description, Status: ticket.Status(w.Status),
		Priority: ticket.Priority(w.Priority), Requester: w.Requester, EscalationLevel: w.EscalationLevel,
		CommentsCount: w.CommentsCount, Version: w.Version, CreatedAt: w.CreatedAt, UpdatedAt: w.UpdatedAt,
		ClosedAt: w.ClosedAt, CloseReason: w.CloseReason, Group: w.Group, Assignee: w.Assignee,
		Tags: slices.Clone(w.Tags), InternalNotesCount: w.InternalNotesCount, FirstRespondedAt: w.FirstRespondedAt,
		FirstResponseDueAt: w.FirstResponseDueAt, AutoCloseAt: w.AutoCloseAt, SLABreachedAt: w.SLABreachedAt,
	}
	if t.Group == "" {
		t.Group = ticket.DefaultGroup
	}
	return t
}

// FromChange returns ch as a payload.
func FromChange(ch ticket.Change) ticketflow.Change {
	w := ticketflow.Change{Ticket: FromTicket(ch.Ticket)}
	if ch.Events != nil {
		w.Events = make([]ticketflow.Event, len(ch.Events))
	}
	if c := ch.Comment; c != nil {
		w.Comment = &ticketflow.TicketComment{ID: c.ID, TicketID: c.TicketID, Body: c.Body, Author: c.Author,
			CreatedAt: c.CreatedAt, Visibility: string(c.Visibility)}
	}
	for i, e := range ch.Events {
		w.Events[i] = ticketflow.Event{Seq: e.Seq, Type: string(e.Type), FromStatus: ticketflow.Status(e.FromStatus),
			ToStatus: ticketflow.Status(e.ToStatus), Actor: e.Actor, Data: maps.Clone(e.Data), At: e.At}
	}
	return w
}

// DomainChange returns the change that payload w holds.
func DomainChange(w ticketflow.Change) ticket.Change {
	ch := ticket.Change{Ticket: DomainTicket(w.Ticket)}
	if w.Events != nil {
		ch.Events = make([]ticket.Event, len(w.Events))
	}
	if c := w.Comment; c != nil {
		vis, _ := ticket.ParseVisibility(c.Visibility) // "" from before internal notes is public
		ch.Comment = &ticket.Comment{ID: c.ID, TicketID: c.TicketID, Body: c.Body, Author: c.Author,
			CreatedAt: c.CreatedAt, Visibility: vis}
	}
	for i, e := range w.Events {
		ch.Events[i] = ticket.Event{Seq: e.Seq, Type: ticket.EventType(e.Type), FromStatus: ticket.Status(e.FromStatus),
			ToStatus: ticket.Status(e.ToStatus), Actor: e.Actor, Data: maps.Clone(e.Data), At: e.At}
	}
	return ch
}

// FromChanges returns the changes as payloads.
func FromChanges(chs []ticket.Change) []ticketflow.Change {
	w := make([]ticketflow.Change, len(chs))
	for i, ch := range chs {
		w[i] = FromChange(ch)
	}
	return w
}

// DomainChanges returns the changes that the payloads hold.
func DomainChanges(w []ticketflow.Change) []ticket.Change {
	chs := make([]ticket.Change, len(w))
	for i, c := range w {
		chs[i] = DomainChange(c)
	}
	return chs
}

// FromCommand returns c as the argument of the update or signal named by its action.
func FromCommand(c ticket.Command) ticketflow.Command {
	return ticketflow.Command{Actor: c.Actor, Comment: c.Comment, CommentID: c.CommentID, Author: c.Author,
		Reason: c.Reason, RequestID: c.RequestID, IfVersion: c.IfVersion, Visibility: string(c.Visibility),
		Assignee: c.Assignee, Group: c.Group, AddTags: slices.Clone(c.AddTags), RemoveTags: slices.Clone(c.RemoveTags)}
}

// DomainCommand returns the command that payload w of the update or signal named a holds.
func DomainCommand(a ticket.Action, w ticketflow.Command) ticket.Command {
	return ticket.Command{Action: a, Actor: w.Actor, Comment: w.Comment, CommentID: w.CommentID, Author: w.Author,
		Reason: w.Reason, RequestID: w.RequestID, IfVersion: w.IfVersion, Visibility: ticket.Visibility(w.Visibility),
		Assignee: w.Assignee, Group: w.Group, AddTags: slices.Clone(w.AddTags), RemoveTags: slices.Clone(w.RemoveTags)}
}

// FromNewTicket returns n as a payload.
func FromNewTicket(n ticket.NewTicket) NewTicket {
	return NewTicket{Title: n.Title, Description: n.Description, Priority: n.Priority, Requester: n.Requester,
		Group: n.Group, Assignee: n.Assignee, Tags: slices.Clone(n.Tags)}
}

// Domain returns the new ticket that the payload holds.
func (n NewTicket) Domain() ticket.NewTicket {
	return ticket.NewTicket{Title: n.Title, Description: n.Description, Priority: n.Priority, Requester: n.Requester,
		Group: n.Group, Assignee: n.Assignee, Tags: slices.Clone(n.Tags)}
}

// FromPolicy returns p as a payload.
func FromPolicy(p ticket.Policy) Policy {
	w := Policy{MaxSLAEscalations: p.MaxSLAEscalations, AutoCloseAfter: p.AutoCloseAfter}
	if p.FirstResponseSLA != nil {
		w.FirstResponseSLA = make(map[string]time.Duration, len(p.FirstResponseSLA))
		for _, pr := range ticket.Priorities {
			if d, ok := p.FirstResponseSLA[pr]; ok {
				w.FirstResponseSLA[string(pr)] = d
			}
		}
	}
	return w
}

// Domain returns the policy that the payload holds.
func (w Policy) Domain() ticket.Policy {
	p := ticket.Policy{MaxSLAEscalations: w.MaxSLAEscalations, AutoCloseAfter: w.AutoCloseAfter}
	if w.FirstResponseSLA != nil {
		// By the priorities, not over the map: the workflow calls this, and a workflow ranges over
		// no map (workflowcheck), though building one would come out the same in any order.
		p.FirstResponseSLA = make(map[ticket.Priority]time.Duration, len(w.FirstResponseSLA))
		for _, pr := range ticket.Priorities {
			if d, ok := w.FirstResponseSLA[string(pr)]; ok {
				p.FirstResponseSLA[pr] = d
			}
		}
	}
	return p
}

// FromState returns s as a payload. Its Policy is not in it: the workflow's input carries the
// policy, and the workflow gives it back to the state it restores.
func FromState(s ticket.State) State {
	return State{Ticket: FromTicket(s.Ticket), LastSeq: s.LastSeq, Timers: Timers{SLAEscalations: s.Timers.SLAEscalations},
		Requests: slices.Clone(s.Requests)}
}

// Domain returns the state that the payload holds.
func (w State) Domain() ticket.State {
	return ticket.State{Ticket: DomainTicket(w.Ticket), LastSeq: w.LastSeq,
		Timers: ticket.TimerState{SLAEscalations: w.Timers.SLAEscalations}, Requests: slices.Clone(w.Requests)}
}
