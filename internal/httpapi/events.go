package httpapi

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/ticketflow/ticketflow/internal/auth"
	"github.com/ticketflow/ticketflow/internal/service"
	"github.com/ticketflow/ticketflow/internal/ticket"
)

// OutEvent is an event out as the feed, the stream and webhooks send it: its type is the audit
// event's, prefixed with "ticket.", and its data the ticket as the change left it, the audit
// event, and the comment it records, each as the reader may see it.
type OutEvent struct {
	ID        string       `json:"id"`
	Cursor    string       `json:"cursor"`
	Type      string       `json:"type"`
	CreatedAt micros       `json:"created_at"`
	Data      OutEventData `json:"data"`
}

// OutEventData is what an event out carries.
type OutEventData struct {
	Ticket  Ticket   `json:"ticket"`
	Event   Event    `json:"event"`
	Comment *Comment `json:"comment,omitempty"`
}

// outEventPrefix makes an audit event's type the type of its event out.
const outEventPrefix = "ticket."

func (s *Server) viewOutEvent(e ticket.OutEvent, by auth.Principal) OutEvent {
	v := OutEvent{
		ID: e.ID, Cursor: s.cursors.position(e.Position), Type: outEventPrefix + string(e.Event.Type),
		CreatedAt: micros(e.Event.At),
		Data:      OutEventData{Ticket: viewTicket(e.Ticket, by), Event: viewEvent(e.Event, by)},
	}
	if c := e.Comment; c != nil {
		view := viewComment(*c, by)
		v.Data.Comment = &view
	}
	return v
}

// feedPage is a page of the feed: unlike a listing's, its next_cursor is never null, since the
// feed goes on; a reader polls with it for what comes next.
type feedPage struct {
	Items      []OutEvent `json:"items"`
	NextCursor string     `json:"next_cursor"`
}

// feed serves GET /api/v1/events: every ticket's events out, oldest first, that the key may read.
func (s *Server) feed(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	f, err := s.feedFilter(r.URL.Query())
	if err != nil {
		return err
	}
	f.Limit = ticket.DefaultPageSize
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > ticket.MaxPageSize {
			return requestError(codeBadRequest, "limit must be a whole number from 1 to %d", ticket.MaxPageSize)
		}
		f.Limit = n
	}
	page, err := s.svc.Feed(r.Context(), p, f)
	if err != nil {
		return err
	}
	items := make([]OutEvent, len(page.Items))
	for i, e := range page.Items {
		items[i] = s.viewOutEvent(e, p)
	}
	writeJSON(w, http.StatusOK, feedPage{Items: items, NextCursor: s.cursors.position(page.Next)})
	return nil
}

// feedFilter reads the feed's conditions, for the feed and the stream: after (a cursor of the
// feed), types (event types, comma-separated or repeated, with or without "ticket.") and ticket.
func (s *Server) feedFilter(q url.Values) (ticket.FeedFilter, error) {
	var f ticket.FeedFilter
	after, err := s.cursors.parsePosition(q.Get("after"))
	if err != nil {
		return f, requestError(codeBadRequest, "after: %v; pass the cursor of an event, or the next_cursor of the feed", err)
	}
	f.After = after
	for _, v := range q["types"] {
		for name := range strings.SplitSeq(v, ",") {
			name = strings.TrimSpace(name)
			if name == "" {
				continue
			}
			t := ticket.EventType(strings.TrimPrefix(name, outEventPrefix))
			if !slices.Contains(ticket.EventTypes, t) {
				return f, requestError(codeBadRequest, "types: %q is no event type; the types are %s", name, eventTypeNames())
			}
			if !slices.Contains(f.Types, t) {
				f.Types = append(f.Types, t)
			}
		}
	}
	if id := q.Get("ticket"); id != "" {
		if !service.ValidID(id) {
			return f, requestError(codeBadRequest, "ticket must be a ticket's ID (a UUID), not %q", id)
		}
		f.TicketID = strings.ToLower(id)
	}
	return f, nil
}

// eventTypeNames lists the types of the events out, for messages.
func eventTypeNames() string {
	names := make([]string, len(ticket.EventTypes))
	for i, t := range ticket.EventTypes {
		names[i] = outEventPrefix + string(t)
	}
	return strings.Join(names, ", ")
}
