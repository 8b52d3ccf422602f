package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

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

// EventBody returns an event out as webhooks deliver it: the JSON of the feed and the stream, with
// the cursor that the API's cursorSecret signs, as an admin reads it.
func EventBody(e ticket.OutEvent, cursorSecret []byte) ([]byte, error) {
	return json.Marshal(viewOutEvent(newCursorSigner(cursorSecret), e, auth.Principal{Role: auth.RoleAdmin}))
}

// outEventPrefix makes an audit event's type the type of its event out.
const outEventPrefix = "ticket."

func (s *Server) viewOutEvent(e ticket.OutEvent, by auth.Principal) OutEvent {
	return viewOutEvent(s.cursors, e, by)
}

func viewOutEvent(cursors cursorSigner, e ticket.OutEvent, by auth.Principal) OutEvent {
	v := OutEvent{
		ID: e.ID, Cursor: cursors.position(e.Position), Type: outEventPrefix + string(e.Event.Type),
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
			t := eventType(name)
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

// eventType reads the name of an event type, with or without the prefix of the events out.
func eventType(name string) ticket.EventType {
	return ticket.EventType(strings.TrimPrefix(name, outEventPrefix))
}

// eventTypeNames lists the types of the events out, for messages.
func eventTypeNames() string {
	names := make([]string, len(ticket.EventTypes))
	for i, t := range ticket.EventTypes {
		names[i] = outEventPrefix + string(t)
	}
	return strings.Join(names, ", ")
}

// DefaultStreamHeartbeat is how often a stream with nothing to send says that it is alive.
const DefaultStreamHeartbeat = 15 * time.Second

// stream serves GET /api/v1/events/stream: the feed as Server-Sent Events, each with the event's
// cursor as its id, so that a client that reconnects with Last-Event-ID (or after=) goes on with
// the next event, through this process or any other. Without either it starts with the next
// event. It ends when the client goes or the process shuts down.
func (s *Server) stream(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	q := r.URL.Query()
	if last := r.Header.Get("Last-Event-ID"); last != "" {
		q.Set("after", last)
	}
	f, err := s.feedFilter(q)
	if err != nil {
		return err
	}
	st, err := s.svc.Follow(r.Context(), p, f, q.Get("after") != "")
	if err != nil {
		return err
	}
	// From here on the request is the stream: not bound by the request timeout, and written
	// without a deadline.
	ctx, cancel := context.WithCancel(streamContext(r))
	defer cancel()
	defer context.AfterFunc(s.streamsCtx, cancel)()
	rc := http.NewResponseController(w)
	if err := rc.SetWriteDeadline(time.Time{}); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // a proxy in front must not hold events back
	s.streams.Inc()
	defer s.streams.Dec()
	w.WriteHeader(http.StatusOK)
	// The first line goes at once, so that the client knows the stream is open.
	buf := []byte(": ticketflow events\n\n")
	for {
		if _, err := w.Write(buf); err != nil {
			return nil // the client went
		}
		if err := rc.Flush(); err != nil {
			return nil
		}
		events, err := st.Next(ctx, s.heartbeat)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			// Headers are sent: say so in the stream, and let the client reconnect and resume.
			s.log.WarnContext(ctx, "stream", "error", err)
			return nil
		}
		buf = buf[:0]
		if len(events) == 0 {
			buf = append(buf, ": keep-alive\n\n"...)
		}
		for _, e := range events {
			frame, err := s.encoded.get(e, p, func() ([]byte, error) {
				data, err := json.Marshal(s.viewOutEvent(e, p))
				return fmt.Appendf(nil, "id: %s\nevent: %s%s\ndata: %s\n\n", s.cursors.position(e.Position), outEventPrefix, e.Event.Type, data), err
			})
			if err != nil {
				return err
			}
			buf = append(buf, frame...)
		}
	}
}

// encodedEvents keeps the last events that streams sent, as the frames of the stream, by position
// and by what their readers may read: with many streams open, each event is encoded and its
// cursor signed once for each kind of reader instead of once per stream.
type encodedEvents struct {
	mu    sync.Mutex
	m     map[encodedKey][]byte
	order []encodedKey
}

type encodedKey struct {
	position int64
	upTo     ticket.Visibility
}

// encodedKeep bounds how many encoded events are kept.
const encodedKeep = 4096

func (c *encodedEvents) get(e ticket.OutEvent, by auth.Principal, encode func() ([]byte, error)) ([]byte, error) {
	k := encodedKey{e.Position, by.Reads()}
	c.mu.Lock()
	b, ok := c.m[k]
	c.mu.Unlock()
	if ok {
		return b, nil
	}
	b, err := encode()
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[encodedKey][]byte{}
	}
	if _, ok := c.m[k]; !ok {
		c.m[k] = b
		c.order = append(c.order, k)
		if len(c.order) > encodedKeep {
			delete(c.m, c.order[0])
			c.order = c.order[1:]
		}
	}
	return b, nil
}
