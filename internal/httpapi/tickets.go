package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"

	"github.com/ticketflow/ticketflow/internal/auth"
	"github.com/ticketflow/ticketflow/internal/ticket"
)

func (s *Server) createTicket(w http.ResponseWriter, r *http.Request) error {
	var in ticket.NewTicket
	if err := decode(w, r, &in, false); err != nil {
		return err
	}
	// A customer opens tickets for themselves only.
	if p := principal(r); p.Role == auth.RoleCustomer {
		if in.Requester != "" && in.Requester != p.Subject {
			return requestError(codeForbidden, "a customer key opens tickets only for its own requester")
		}
		in.Requester = p.Subject
	}
	// Refuse bad input here, before a workflow is started for it.
	if err := in.Validate(); err != nil {
		return err
	}
	id, err := resourceID(r)
	if err != nil {
		return err
	}
	t, err := s.workflows.Create(r.Context(), id, in, principal(r).Name)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/tickets/"+t.ID)
	w.Header().Set("ETag", etag(t))
	writeJSON(w, http.StatusCreated, t)
	return nil
}

func (s *Server) getTicket(w http.ResponseWriter, r *http.Request) error {
	t, err := s.ticket(r, chi.URLParam(r, "id"))
	if err != nil {
		return err
	}
	tag := etag(t)
	w.Header().Set("ETag", tag)
	if noneMatch(r.Header.Get("If-None-Match"), tag) {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	writeJSON(w, http.StatusOK, t)
	return nil
}

func (s *Server) listTickets(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	var f ticket.ListFilter
	var err error
	if p := principal(r); p.Role == auth.RoleCustomer {
		f.Requester = p.Subject // to a customer, other requesters' tickets do not exist
	}
	if v := q.Get("status"); v != "" {
		if f.Status, err = ticket.ParseStatus(v); err != nil {
			return requestError(codeBadRequest, "status: %v", err)
		}
	}
	if v := q.Get("priority"); v != "" {
		if f.Priority, err = ticket.ParsePriority(v); err != nil {
			return requestError(codeBadRequest, "priority: %v", err)
		}
	}
	// A cursor continues only the listing it came from: these filters, seen by this requester.
	scope := fmt.Sprintf("tickets status=%s priority=%s requester=%q", f.Status, f.Priority, f.Requester)
	if f.PageRequest, err = s.pageRequest(r, scope); err != nil {
		return err
	}
	items, err := s.store.ListTickets(r.Context(), f)
	if err != nil {
		return storeError(r, err)
	}
	writePage(w, s.cursors, scope, items)
	return nil
}

// commentRequest is the body of POST /tickets/{id}/comments.
type commentRequest struct {
	Body   string `json:"body"`
	Author string `json:"author"`
}

func (s *Server) addComment(w http.ResponseWriter, r *http.Request) error {
	var in commentRequest
	if err := decode(w, r, &in, false); err != nil {
		return err
	}
	cmd := ticket.Command{Action: ticket.ActionComment, Comment: in.Body, Author: in.Author}
	ch, err := s.change(r, cmd)
	if err != nil {
		return err
	}
	w.Header().Set("ETag", etag(ch.Ticket))
	writeJSON(w, http.StatusCreated, ch.Comment)
	return nil
}

// transitionRequest is the body of POST /tickets/{id}/{answer,await,close,escalate}; each action
// takes the fields that make sense for it.
type transitionRequest struct {
	Comment string `json:"comment"`
	Reason  string `json:"reason"`
}

// transitionFields says which fields each action's body may hold; anything else is refused like
// any unknown field.
var transitionFields = map[ticket.Action]struct{ comment, reason bool }{
	ticket.ActionAnswer:   {comment: true},
	ticket.ActionAwait:    {comment: true},
	ticket.ActionClose:    {comment: true, reason: true},
	ticket.ActionEscalate: {reason: true},
}

func (s *Server) transition(action ticket.Action) handlerFunc {
	allowed := transitionFields[action]
	return func(w http.ResponseWriter, r *http.Request) error {
		var in transitionRequest
		if err := decode(w, r, &in, true); err != nil {
			return err
		}
		if (in.Comment != "" && !allowed.comment) || (in.Reason != "" && !allowed.reason) {
			return requestError(codeBadRequest, "invalid JSON body: %s takes no such field", action)
		}
		ch, err := s.change(r, ticket.Command{Action: action, Comment: in.Comment, Reason: in.Reason})
		if err != nil {
			return err
		}
		w.Header().Set("ETag", etag(ch.Ticket))
		writeJSON(w, http.StatusOK, ch.Ticket)
		return nil
	}
}

// change sends cmd to the workflow of the ticket named in the path. Input errors are found here,
// before the round trip; the workflow checks the lifecycle.
func (s *Server) change(r *http.Request, cmd ticket.Command) (ticket.Change, error) {
	id := chi.URLParam(r, "id")
	p := principal(r)
	cmd.Actor = p.Name // the key's name is who made the change, on every event
	if p.Role == auth.RoleCustomer {
		// A customer writes as the requester the key acts for, never as someone else.
		if author := strings.TrimSpace(cmd.Author); author != "" && author != p.Subject {
			return ticket.Change{}, requestError(codeForbidden, "a customer key writes comments only as its own requester")
		}
		cmd.Author = p.Subject
	}
	if cmd.Comment != "" {
		cid, err := resourceID(r)
		if err != nil {
			return ticket.Change{}, err
		}
		cmd.CommentID = cid
	}
	cmd.RequestID = changeRequestID(r)
	version, err := ifMatch(r)
	if err != nil {
		return ticket.Change{}, err
	}
	cmd.IfVersion = version
	cmd = cmd.Normalize()
	if err := cmd.Validate(); err != nil {
		return ticket.Change{}, err
	}
	return s.workflows.Change(r.Context(), id, cmd)
}

// seesTicket refuses a change to a ticket that the key may not see, with the very answer a read
// of it gets: to a customer, another's ticket does not exist, so it cannot be changed either.
func (s *Server) seesTicket(h handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id := chi.URLParam(r, "id")
		if !validID(id) {
			return ticket.NotFound(id)
		}
		if principal(r).Role == auth.RoleCustomer {
			if _, err := s.ticket(r, id); err != nil {
				return err
			}
		}
		return h(w, r)
	}
}

// noneMatch reports whether an If-None-Match header matches tag: "*", or a list that holds it,
// compared weakly as RFC 9110 says for this header.
func noneMatch(header, tag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t == tag {
			return true
		}
	}
	return false
}

// ifMatch returns the version named by an If-Match header, 0 for none or "*". The workflow checks
// it when the command's turn comes, so no change can slip in between the check and the change.
func ifMatch(r *http.Request) (int64, error) {
	h := strings.TrimSpace(r.Header.Get("If-Match"))
	if h == "" || h == "*" {
		return 0, nil
	}
	v, err := strconv.ParseInt(strings.Trim(h, `"`), 10, 64)
	if err != nil || v < 1 || h != `"`+strconv.FormatInt(v, 10)+`"` {
		return 0, requestError(codeBadRequest, `If-Match must be one entity tag of this API, such as "3"`)
	}
	return v, nil
}

// listUnder serves a listing of one ticket's items, its comments or its events, named by what: 404
// when the ticket does not exist, rather than an empty page.
func listUnder[T any](s *Server, what string, list func(ctx context.Context, ticketID string, p ticket.PageRequest) (ticket.Page[T], error)) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id := chi.URLParam(r, "id")
		scope := what + " of " + id
		page, err := s.pageRequest(r, scope)
		if err != nil {
			return err
		}
		if _, err := s.ticket(r, id); err != nil {
			return err
		}
		items, err := list(r.Context(), id, page)
		if err != nil {
			return storeError(r, err)
		}
		writePage(w, s.cursors, scope, items)
		return nil
	}
}

// page is a listing's page as the API writes it.
type page[T any] struct {
	Items      []T     `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

// writePage writes one page of the listing of scope, with the signed cursor of the next.
func writePage[T any](w http.ResponseWriter, cursors cursorSigner, scope string, p ticket.Page[T]) {
	writeJSON(w, http.StatusOK, page[T]{Items: p.Items, NextCursor: cursors.encode(scope, p.Next)})
}

// pageRequest reads the limit and cursor query parameters of the listing of scope; a cursor that
// another listing made, or nobody, is refused rather than read as a place in this one.
func (s *Server) pageRequest(r *http.Request, scope string) (ticket.PageRequest, error) {
	q := r.URL.Query()
	p := ticket.PageRequest{Limit: ticket.DefaultPageSize}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > ticket.MaxPageSize {
			return p, requestError(codeBadRequest, "limit must be a whole number from 1 to %d", ticket.MaxPageSize)
		}
		p.Limit = n
	}
	after, err := s.cursors.decode(scope, q.Get("cursor"))
	if err != nil {
		return p, requestError(codeBadRequest, "cursor: %v; pass back the next_cursor of this listing", err)
	}
	p.After = after
	return p, nil
}

// ticket reads a ticket from the cache, falling back to the store. A ticket read from the store is
// put in the cache, which keeps whichever version is newer, so a slow read never hides a change. A
// cache failure costs speed, never the read.
func (s *Server) ticket(r *http.Request, id string) (ticket.Ticket, error) {
	if !validID(id) {
		return ticket.Ticket{}, ticket.NotFound(id)
	}
	ctx := r.Context()
	t, hit, cacheErr := s.cache.Get(ctx, id)
	switch {
	case cacheErr != nil:
		s.log.WarnContext(ctx, "cache read failed; reading from postgres", "ticket_id", id, "error", cacheErr)
	case hit:
		return visible(r, t)
	}
	t, err := s.store.Ticket(ctx, id)
	if err != nil {
		return ticket.Ticket{}, storeError(r, err)
	}
	if cacheErr == nil { // after a failed read, a fill would only wait for the same failure
		if _, err := s.cache.Put(ctx, t); err != nil {
			s.log.WarnContext(ctx, "cache fill failed", "ticket_id", id, "error", err)
		}
	}
	return visible(r, t)
}

// visible returns the ticket if the request's principal may see it, and to a customer another's
// ticket is not found: a 403 would tell them it exists.
func visible(r *http.Request, t ticket.Ticket) (ticket.Ticket, error) {
	if !principal(r).Sees(t) {
		return ticket.Ticket{}, ticket.NotFound(t.ID)
	}
	return t, nil
}

// validID reports whether id can name a ticket; anything else is answered 404 without a lookup.
func validID(id string) bool {
	_, err := uuid.Parse(id)
	return err == nil && len(id) == 36
}

// newID returns a version 7 UUID, which sorts by creation time.
func newID() (string, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return "", ticket.Errorf(ticket.EUNAVAILABLE, "could not generate an id; retry")
	}
	return id.String(), nil
}
