package ticket

import (
	"crypto/sha1"
	"encoding/hex"
	"slices"
	"strconv"
)

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

// MatchesAll reports whether f keeps every event, as an agent's feed with no condition does.
func (f FeedFilter) MatchesAll() bool {
	return len(f.Types) == 0 && f.TicketID == "" && f.Requester == "" && f.UpTo == VisibilityInternal
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

// eventIDSpace is the namespace of the events' IDs (a random UUID, fixed for good).
var eventIDSpace = [16]byte{0x5d, 0x0f, 0x3c, 0x1e, 0x8f, 0x0a, 0x4c, 0x39, 0x9a, 0x55, 0x6f, 0x2b, 0x1d, 0x7e, 0x0c, 0x41}

// EventID returns the ID of the seq-th event of a ticket: the name-based UUID (version 5, RFC
// 9562) of the ticket and the number, so that every path and every delivery gives an event the
// same ID without storing one.
func EventID(ticketID string, seq int64) string {
	h := sha1.New()
	h.Write(eventIDSpace[:])
	h.Write([]byte(ticketID + "/" + strconv.FormatInt(seq, 10)))
	var u [16]byte
	copy(u[:], h.Sum(nil))
	u[6] = u[6]&0x0f | 0x50 // version 5
	u[8] = u[8]&0x3f | 0x80 // the RFC's variant
	x := hex.EncodeToString(u[:])
	return x[0:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:]
}
