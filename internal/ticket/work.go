package ticket

import (
	"slices"
	"strings"
)

// The working surface of a helpdesk: who a ticket is queued for and who works it, its tags, and
// the notes agents leave for each other.

// DefaultGroup is the group of a ticket that names none, and of every ticket from before groups.
const DefaultGroup = "support"

// Limits of groups and tags.
const (
	MaxGroupLen = 100
	MaxTags     = 20 // on one ticket
	MaxTagLen   = 50
)

// Visibility says who may read a comment.
type Visibility string

// The visibilities: a public comment is part of the conversation with the requester; an internal
// note is for agents only, and no customer ever sees it.
const (
	VisibilityPublic   Visibility = "public"
	VisibilityInternal Visibility = "internal"
)

// ParseVisibility returns the Visibility named by s; "" is public.
func ParseVisibility(s string) (Visibility, bool) {
	switch Visibility(s) {
	case "", VisibilityPublic:
		return VisibilityPublic, true
	case VisibilityInternal:
		return VisibilityInternal, true
	}
	return "", false
}

// NormalizeTag returns tag as it is kept: trimmed and lower-cased.
func NormalizeTag(tag string) string { return strings.ToLower(trim(tag)) }

// normalizeTags returns the tags normalized, distinct and sorted, as a ticket keeps them.
func normalizeTags(tags []string) []string {
	if len(tags) == 0 {
		return nil
	}
	out := make([]string, len(tags))
	for i, tag := range tags {
		out[i] = NormalizeTag(tag)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// validTag reports whether a normalized tag keeps the rule: 1 to MaxTagLen of a-z, 0-9, _ : -.
func validTag(tag string) bool {
	if tag == "" || len(tag) > MaxTagLen {
		return false
	}
	for _, r := range tag {
		if !('a' <= r && r <= 'z' || '0' <= r && r <= '9' || r == '_' || r == ':' || r == '-') {
			return false
		}
	}
	return true
}

// tags checks normalized tags.
func (v *validator) tags(field string, tags []string) {
	for _, tag := range tags {
		if !validTag(tag) {
			v.add(field, "each tag must be 1 to 50 of a-z, 0-9, _, : and -")
			return
		}
	}
	if len(tags) > MaxTags {
		v.add(field, "a ticket has at most 20 tags")
	}
}

// assign returns the ticket with the command's assignee and group, and the event that records the
// move, or false when the command changes neither.
func (t Ticket) assign(c Command, at Event) (Ticket, Event, bool) {
	next := t
	if c.Assignee != nil {
		next.Assignee = *c.Assignee
	}
	if c.Group != "" {
		next.Group = c.Group
	}
	if next.Assignee == t.Assignee && next.Group == t.Group {
		return t, Event{}, false
	}
	at.Type = EventAssigned
	at.Data = map[string]any{"from_assignee": orNil(t.Assignee), "to_assignee": orNil(next.Assignee),
		"from_group": t.Group, "to_group": next.Group}
	return next, at, true
}

// retag returns the ticket with the command's tags added and removed, and the event that records
// it, or false when the command changes no tag.
func (t Ticket) retag(c Command, at Event) (Ticket, Event, bool) {
	next := t
	next.Tags = t.retagged(c)
	added := difference(next.Tags, t.Tags)
	removed := difference(t.Tags, next.Tags)
	if len(added) == 0 && len(removed) == 0 {
		return t, Event{}, false
	}
	at.Type = EventTagsChanged
	at.Data = map[string]any{"added": added, "removed": removed}
	return next, at, true
}

// retagged returns the ticket's tags once the command's are added and removed.
func (t Ticket) retagged(c Command) []string {
	tags := slices.DeleteFunc(normalizeTags(append(slices.Clone(t.Tags), c.AddTags...)), func(tag string) bool {
		return slices.Contains(c.RemoveTags, tag)
	})
	if len(tags) == 0 {
		return nil // as a ticket that never had one
	}
	return tags
}

// difference returns the tags of a that b has not, in a's order, never nil.
func difference(a, b []string) []string {
	out := []string{}
	for _, tag := range a {
		if !slices.Contains(b, tag) {
			out = append(out, tag)
		}
	}
	return out
}

// orNil returns s, or nil for "", as event data shows a person who is nobody.
func orNil(s string) any {
	if s == "" {
		return nil
	}
	return s
}
