package ticket

import "slices"

// OutEvent is an audit event as it goes out of the system, on the feed, the stream and to
// webhooks: the event, the ticket as its change left it, the comment it records if any, and its
// place in the one order of every ticket's events.
type OutEvent struct {
	// ID is the event's, the same on every path and in every delivery: receivers deduplicate on it.
	ID string
	// Position orders every ticket's events: a reader that has an event has every event of a
	// lower position that it may read.
	Position int64
	Event    Event
	Ticket   Ticket
	Comment  *Comment
}

// FeedFilter is what a reader of the feed asks for: the events after a position, of some types,
// of one ticket, of one requester's tickets, up to a visibility.
type FeedFilter struct {
	// After is the position the page starts after; 0 for the start of the feed.
	After int64
	// Limit is the most events a page holds, 1 to MaxPageSize.
	Limit int
	// Types keeps the events of these types; none for every type.
	Types []EventType
	// TicketID keeps one ticket's events; "" for every ticket's.
	TicketID string
	// Requester keeps the events of this requester's tickets; "" for everyone's.
	Requester string
	// UpTo is what the reader may read: VisibilityPublic leaves out the events of internal notes.
	UpTo Visibility
}

// FeedPage is a page of the feed and where the next one starts: after the last event of a full
// page, or after everything the feed held when it was read (Next is never behind an event that
// was left out, nor ahead of one that may still come).
type FeedPage struct {
	Items []OutEvent
	Next  int64
}

// EventTypes are the types of every event, in the order they are documented.
var EventTypes = []EventType{EventCreated, EventCommented, EventStatusChanged, EventEscalated,
	EventAssigned, EventTagsChanged, EventTransitionRejected}

// RecordsNote reports whether e records an internal note, which no customer reads.
func (e Event) RecordsNote() bool {
	return e.Data["visibility"] == string(VisibilityInternal)
}

// Matches reports whether e is an event that f asks for, After and Limit aside: the same events
// that a store's reading of the feed keeps.
func (f FeedFilter) Matches(e OutEvent) bool {
	switch {
	case len(f.Types) > 0 && !slices.Contains(f.Types, e.Event.Type):
		return false
	case f.TicketID != "" && e.Ticket.ID != f.TicketID:
		return false
	case f.Requester != "" && e.Ticket.Requester != f.Requester:
		return false
	case f.UpTo != VisibilityInternal && e.Event.RecordsNote():
		return false
	}
	return true
}
