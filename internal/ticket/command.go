package ticket

import (
	"fmt"
	"slices"
	"time"
)

// Action names a change that can be asked of an existing ticket. The workflow's update and signal
// names are these same words.
type Action string

// The actions on an existing ticket.
const (
	ActionComment  Action = "comment"
	ActionAnswer   Action = "answer"
	ActionAwait    Action = "await"
	ActionClose    Action = "close"
	ActionEscalate Action = "escalate"
	ActionAssign   Action = "assign" // set the assignee, the group or both
	ActionTags     Action = "tags"   // add and remove tags
)

// Actions lists every action.
var Actions = []Action{ActionComment, ActionAnswer, ActionAwait, ActionClose, ActionEscalate, ActionAssign, ActionTags}

// Target returns the status that the action moves a ticket to, and false for actions that leave
// the status as it is.
func (a Action) Target() (Status, bool) {
	switch a {
	case ActionAnswer:
		return StatusAnswered, true
	case ActionAwait:
		return StatusAwaiting, true
	case ActionClose:
		return StatusClosed, true
	}
	return "", false
}

// Command is one request to change a ticket. Who sent it and the IDs it needs come with it, so that
// applying it is a pure function.
type Command struct {
	Action Action
	// Actor is who asked, recorded on every event the command writes.
	Actor string
	// Comment is the comment's body: required for ActionComment, optional for the transitions.
	Comment string
	// CommentID is the ID the comment gets; the caller chooses it so that a retry finds it again.
	CommentID string
	// Author is shown on the comment; it defaults to Actor.
	Author string
	// Reason says why a ticket is closed or escalated.
	Reason string
	// RequestID names the request that sent the command, the same for every retry of it, so that
	// a retried request is recognised instead of applied twice.
	RequestID string
	// IfVersion, when set, makes the command apply only to the ticket at exactly this version, so
	// that a client who read version n cannot overwrite a change it has not seen.
	IfVersion int64
	// Visibility is the comment's, for ActionComment: public ("" too) or an internal note.
	Visibility Visibility
	// Assignee, for ActionAssign, is who works the ticket from now: nil leaves it as it is, ""
	// leaves it to nobody.
	Assignee *string
	// Group, for ActionAssign, is the team the ticket is queued for from now; "" leaves it.
	Group string
	// AddTags and RemoveTags, for ActionTags, are the tags to add and to remove.
	AddTags, RemoveTags []string
}

// Normalize trims the command's free text, as Validate and Apply expect.
func (c Command) Normalize() Command {
	c.Comment = trim(c.Comment)
	c.Author = trim(c.Author)
	c.Reason = trim(c.Reason)
	c.Actor = trim(c.Actor)
	if vis, ok := ParseVisibility(string(c.Visibility)); ok {
		c.Visibility = vis
	}
	if c.Assignee != nil {
		assignee := trim(*c.Assignee)
		c.Assignee = &assignee
	}
	c.Group = trim(c.Group)
	c.AddTags, c.RemoveTags = normalizeTags(c.AddTags), normalizeTags(c.RemoveTags)
	return c
}

// Validate checks the command's own fields, normalized, whatever the ticket it is meant for. It
// returns an EINVALID *Error listing every broken rule.
func (c Command) Validate() error {
	c = c.Normalize()
	var v validator
	if !slices.Contains(Actions, c.Action) {
		v.add("action", fmt.Sprintf("unknown action %q", c.Action))
	}
	switch c.Action {
	case ActionComment:
		v.text("body", c.Comment, 1, MaxBodyLen, true)
	case ActionAssign, ActionTags:
		if c.Comment != "" {
			v.add("comment", "assign and tags take no comment")
		}
	default:
		v.text("comment", c.Comment, 0, MaxBodyLen, true)
	}
	switch vis, ok := ParseVisibility(string(c.Visibility)); {
	case !ok:
		v.add("visibility", "must be public or internal")
	case vis == VisibilityInternal && c.Action != ActionComment:
		v.add("visibility", "only a comment can be an internal note")
	}
	if c.Action != ActionAssign {
		if c.Assignee != nil {
			v.add("assignee", "only assign sets the assignee")
		}
		if c.Group != "" {
			v.add("group", "only assign sets the group")
		}
	}
	if c.Assignee != nil {
		v.text("assignee", *c.Assignee, 0, MaxPersonLen, false)
	}
	v.text("group", c.Group, 0, MaxGroupLen, false)
	if c.Action != ActionTags {
		if len(c.AddTags) > 0 {
			v.add("add", "only tags adds tags")
		}
		if len(c.RemoveTags) > 0 {
			v.add("remove", "only tags removes tags")
		}
	}
	v.tags("add", c.AddTags)
	v.tags("remove", c.RemoveTags)
	for _, tag := range c.AddTags {
		if slices.Contains(c.RemoveTags, tag) {
			v.add("remove", "a tag cannot be both added and removed")
			break
		}
	}
	if c.Comment != "" && c.CommentID == "" {
		v.add("comment_id", "must be set when a comment is given")
	}
	v.text("author", c.Author, 0, MaxPersonLen, false)
	v.text("actor", c.Actor, 0, MaxPersonLen, false)
	v.text("reason", c.Reason, 0, MaxReasonLen, false)
	v.text("request_id", c.RequestID, 0, 255, false)
	if c.IfVersion < 0 {
		v.add("if_version", "must be a positive version")
	}
	return v.err()
}

// Check reports whether t may take the command: its fields are valid and the lifecycle allows it.
// It writes nothing, which is what a workflow's update validator needs.
func (t Ticket) Check(c Command) error {
	c = c.Normalize()
	if err := c.Validate(); err != nil {
		return err
	}
	if c.IfVersion != 0 && c.IfVersion != t.Version {
		return Errorf(EPRECONDITION, "the ticket is at version %d, not %d: read it again and decide anew", t.Version, c.IfVersion)
	}
	if to, ok := c.Action.Target(); ok {
		if !t.Status.CanMoveTo(to) {
			return &Error{Code: EINVALIDTRANSITION, Message: fmt.Sprintf(
				"cannot %s a ticket that is %s: %s -> %s is not allowed", c.Action, t.Status, t.Status, to)}
		}
		return nil
	}
	if t.Status.IsFinal() {
		verb := string(c.Action)
		switch c.Action {
		case ActionComment:
			verb = "comment on"
		case ActionTags:
			verb = "change the tags of"
		}
		return Errorf(ECLOSED, "cannot %s a ticket that is %s", verb, t.Status)
	}
	if c.Action == ActionTags {
		if n := len(t.retagged(c)); n > MaxTags {
			return &Error{Code: EINVALID, Message: fmt.Sprintf("a ticket has at most %d tags; this would give it %d", MaxTags, n),
				Fields: []FieldError{{Field: "add", Message: fmt.Sprintf("a ticket has at most %d tags", MaxTags)}}}
		}
	}
	return nil
}

// Apply returns the change that the command makes to t at time now, or the error of Check. Events
// come out unnumbered (Seq 0): the workflow, which owns the trail, numbers them. An assign or tags
// that changes nothing returns the ticket as it is, with no event and no new version.
func (t Ticket) Apply(c Command, now time.Time) (Change, error) {
	c = c.Normalize()
	if err := t.Check(c); err != nil {
		return Change{}, err
	}
	now = Timestamp(now)
	actor := c.Actor
	next := t
	// The change's ticket shares nothing with t, which its caller goes on holding.
	next.Tags = slices.Clone(t.Tags)
	next.FirstRespondedAt, next.FirstResponseDueAt = cloneTime(t.FirstRespondedAt), cloneTime(t.FirstResponseDueAt)
	next.AutoCloseAt, next.SLABreachedAt = cloneTime(t.AutoCloseAt), cloneTime(t.SLABreachedAt)
	var ch Change

	switch event := (Event{Actor: actor, At: now}); c.Action {
	case ActionAssign, ActionTags:
		moved := false
		if c.Action == ActionAssign {
			next, event, moved = next.assign(c, event)
		} else {
			next, event, moved = next.retag(c, event)
		}
		if !moved {
			return Change{Ticket: t}, nil
		}
		ch.Events = append(ch.Events, event)
	}
	next.Version++
	next.UpdatedAt = now

	if c.Comment != "" {
		author := c.Author
		if author == "" {
			author = actor
		}
		ch.Comment = &Comment{ID: c.CommentID, TicketID: t.ID, Body: c.Comment, Author: author, CreatedAt: now,
			Visibility: c.Visibility}
		data := map[string]any{"comment_id": c.CommentID}
		if c.Visibility == VisibilityInternal {
			next.InternalNotesCount++
			data["visibility"] = string(VisibilityInternal)
		} else {
			next.CommentsCount++
		}
		ch.Events = append(ch.Events, Event{Type: EventCommented, Actor: actor, At: now, Data: data})
	}

	if to, ok := c.Action.Target(); ok {
		next.Status = to
		if to == StatusAnswered && next.FirstRespondedAt == nil {
			first := now
			next.FirstRespondedAt = &first
		}
		if due := t.FirstResponseDueAt; due != nil && !now.Before(*due) && next.SLABreachedAt == nil {
			// Moved on from open after its first response was due, before the SLA's timer got to
			// it: the SLA was missed all the same.
			breached := *due
			next.SLABreachedAt = &breached
		}
		data := map[string]any{}
		if to == StatusClosed {
			closedAt := now
			next.ClosedAt = &closedAt
			if c.Reason != "" {
				reason := c.Reason
				next.CloseReason = &reason
				data["reason"] = reason
			}
		}
		ch.Events = append(ch.Events, Event{Type: EventStatusChanged, FromStatus: t.Status, ToStatus: to,
			Actor: actor, At: now, Data: data})
	}

	if c.Action == ActionEscalate {
		next.EscalationLevel++
		data := map[string]any{"level": next.EscalationLevel}
		if c.Reason != "" {
			data["reason"] = c.Reason
		}
		ch.Events = append(ch.Events, Event{Type: EventEscalated, Actor: actor, At: now, Data: data})
	}

	if c.RequestID != "" {
		// The trail says which request made each change, so that a retry can still be recognised
		// once the workflow that answered it is gone.
		for _, e := range ch.Events {
			e.Data["request_id"] = c.RequestID
		}
	}
	ch.Ticket = next
	return ch, nil
}

// Reject returns the change that records a refused command: the ticket as it was, and one
// transition_rejected event that says what was asked and why it was refused. Automations send
// signals that nobody waits on, so this event is how their refusals become visible.
func (t Ticket) Reject(c Command, refusal error, now time.Time) Change {
	now = Timestamp(now)
	ev := Event{Type: EventTransitionRejected, FromStatus: t.Status, Actor: trim(c.Actor), At: now,
		Data: map[string]any{"action": string(c.Action), "code": ErrorCode(refusal), "error": ErrorMessage(refusal)}}
	if to, ok := c.Action.Target(); ok {
		ev.ToStatus = to
	}
	if reason := trim(c.Reason); reason != "" {
		ev.Data["reason"] = reason
	}
	return Change{Ticket: t, Events: []Event{ev}}
}

// cloneTime returns a copy of *p, or nil.
func cloneTime(p *time.Time) *time.Time {
	if p == nil {
		return nil
	}
	at := *p
	return &at
}
