package httpapi

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/ticketflow/ticketflow/internal/auth"
	"github.com/ticketflow/ticketflow/internal/service"
	"github.com/ticketflow/ticketflow/internal/ticket"
)

// changeRoute serves a change to a ticket: the key's role and the path are checked first, then
// the whole body is read under bodyReadTimeout, and only then does the request claim its
// Idempotency-Key and go to the service, which checks the ticket's visibility to the key before
// the change takes one of the ticket's slots. A slow sender holds nothing but its connection.
func (s *Server) changeRoute(op auth.Operation, h handlerFunc) http.HandlerFunc {
	return s.handle(require(op, knownID(readBody(s.idempotent(h)))))
}

// newTicketRequest is the body of POST /tickets.
type newTicketRequest struct {
	Title       string   `json:"title"`
	Description string   `json:"description"`
	Priority    string   `json:"priority"`
	Requester   string   `json:"requester"`
	Group       string   `json:"group"`
	Assignee    string   `json:"assignee"`
	Tags        []string `json:"tags"`
}

func (in newTicketRequest) newTicket() ticket.NewTicket {
	return ticket.NewTicket{Title: in.Title, Description: in.Description, Priority: in.Priority, Requester: in.Requester,
		Group: in.Group, Assignee: in.Assignee, Tags: in.Tags}
}

func (s *Server) createTicket(w http.ResponseWriter, r *http.Request) error {
	var in newTicketRequest
	if err := decode(w, r, &in, false); err != nil {
		return err
	}
	t, err := s.svc.CreateTicket(r.Context(), principal(r), in.newTicket(), claimedIDs(r))
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/tickets/"+t.ID)
	w.Header().Set("ETag", etag(t))
	writeJSON(w, http.StatusCreated, viewTicket(t, principal(r)))
	return nil
}

func (s *Server) getTicket(w http.ResponseWriter, r *http.Request) error {
	t, err := s.svc.Ticket(r.Context(), principal(r), chi.URLParam(r, "id"))
	if err != nil {
		return err
	}
	tag := etag(t)
	w.Header().Set("ETag", tag)
	if noneMatch(r.Header.Get("If-None-Match"), tag) {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	writeJSON(w, http.StatusOK, viewTicket(t, principal(r)))
	return nil
}

func (s *Server) listTickets(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	f, err := listFilter(r.URL.Query(), p)
	if err != nil {
		return err
	}
	// A cursor continues only the listing it came from: these filters, seen by this requester.
	var requester string
	if p.Role == auth.RoleCustomer {
		requester = p.Subject
	}
	scope := fmt.Sprintf("tickets status=%s priority=%s requester=%q", f.Status, f.Priority, requester)
	// The filters that came later join the scope only when they are set, so that the cursors made
	// before them still continue the listings that they belong to.
	if f.Assignee != "" {
		scope += fmt.Sprintf(" assignee=%q", f.Assignee)
	}
	if f.Unassigned {
		scope += " unassigned"
	}
	if f.Group != "" {
		scope += fmt.Sprintf(" group=%q", f.Group)
	}
	if len(f.Tags) > 0 {
		scope += fmt.Sprintf(" tags=%q", f.Tags)
	}
	if f.PageRequest, err = s.pageRequest(r, scope); err != nil {
		return err
	}
	items, err := s.svc.ListTickets(r.Context(), p, f)
	if err != nil {
		return err
	}
	writePage(w, s.cursors, scope, items, func(t ticket.Ticket) Ticket { return viewTicket(t, p) })
	return nil
}

// Values of the assignee filter that name no person.
const (
	assigneeMe   = "me"   // the caller
	assigneeNone = "none" // nobody: the tickets that nobody works
)

// listFilter reads the filters of GET /tickets, as by asks them; a value that no ticket could
// match is refused, like a malformed one, rather than answered with an empty listing.
func listFilter(q url.Values, by auth.Principal) (ticket.ListFilter, error) {
	var f ticket.ListFilter
	var err error
	if v := q.Get("status"); v != "" {
		if f.Status, err = ticket.ParseStatus(v); err != nil {
			return f, requestError(codeBadRequest, "status: %v", err)
		}
	}
	if v := q.Get("priority"); v != "" {
		if f.Priority, err = ticket.ParsePriority(v); err != nil {
			return f, requestError(codeBadRequest, "priority: %v", err)
		}
	}
	switch v := strings.TrimSpace(q.Get("assignee")); v {
	case "":
	case assigneeMe:
		f.Assignee = by.Identity()
	case assigneeNone:
		f.Unassigned = true
	default:
		if bad := ticket.CheckText("assignee", v, 1, ticket.MaxPersonLen, false); bad != nil {
			return f, requestError(codeBadRequest, "assignee %s", bad.Message)
		}
		f.Assignee = v
	}
	if v := strings.TrimSpace(q.Get("group")); v != "" {
		if bad := ticket.CheckText("group", v, 1, ticket.MaxGroupLen, false); bad != nil {
			return f, requestError(codeBadRequest, "group %s", bad.Message)
		}
		f.Group = v
	}
	for _, v := range q["tag"] {
		if tag := ticket.NormalizeTag(v); tag != "" {
			f.Tags = append(f.Tags, tag)
		}
	}
	slices.Sort(f.Tags)
	f.Tags = slices.Compact(f.Tags)
	// The rule of a ticket's tags, which the domain keeps, is the rule of the tags it can match.
	if bad := ticket.ErrorFields((ticket.Command{Action: ticket.ActionTags, AddTags: f.Tags}).Validate()); len(bad) > 0 {
		return f, requestError(codeBadRequest, "tag: %s", bad[0].Message)
	}
	return f, nil
}

// commentRequest is the body of POST /tickets/{id}/comments.
type commentRequest struct {
	Body       string `json:"body"`
	Author     string `json:"author"`
	Visibility string `json:"visibility"`
}

func (s *Server) addComment(w http.ResponseWriter, r *http.Request) error {
	var in commentRequest
	if err := decode(w, r, &in, false); err != nil {
		return err
	}
	ch, err := s.change(r, ticket.Command{Action: ticket.ActionComment, Comment: in.Body, Author: in.Author,
		Visibility: ticket.Visibility(in.Visibility)})
	if err != nil {
		return err
	}
	w.Header().Set("ETag", etag(ch.Ticket))
	writeJSON(w, http.StatusCreated, viewComment(*ch.Comment, principal(r)))
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
		return s.changeTicket(w, r, ticket.Command{Action: action, Comment: in.Comment, Reason: in.Reason})
	}
}

// assignRequest is the body of POST /tickets/{id}/assign: a field left out leaves what it names
// as it is, and an assignee of null leaves the ticket to nobody.
type assignRequest struct {
	Assignee optional[string] `json:"assignee"`
	Group    string           `json:"group"`
}

// optional is a JSON field that can be left out, which is not the same as null: Set says whether
// the field was sent at all, Value is nil when it was null.
type optional[T any] struct {
	Set   bool
	Value *T
}

// UnmarshalJSON is called only for a field that is there, null included.
func (o *optional[T]) UnmarshalJSON(b []byte) error {
	o.Set = true
	return json.Unmarshal(b, &o.Value)
}

func (s *Server) assign(w http.ResponseWriter, r *http.Request) error {
	var in assignRequest
	if err := decode(w, r, &in, true); err != nil {
		return err
	}
	cmd := ticket.Command{Action: ticket.ActionAssign, Group: in.Group}
	if in.Assignee.Set {
		cmd.Assignee = cmp.Or(in.Assignee.Value, new(string)) // null is "", which leaves it to nobody
	}
	return s.changeTicket(w, r, cmd)
}

// tagsRequest is the body of POST /tickets/{id}/tags.
type tagsRequest struct {
	Add    []string `json:"add"`
	Remove []string `json:"remove"`
}

func (s *Server) retag(w http.ResponseWriter, r *http.Request) error {
	var in tagsRequest
	if err := decode(w, r, &in, true); err != nil {
		return err
	}
	return s.changeTicket(w, r, ticket.Command{Action: ticket.ActionTags, AddTags: in.Add, RemoveTags: in.Remove})
}

// changeTicket sends cmd to the ticket named in the path and answers with the ticket as the
// change left it: unchanged, at the same version, when the change was one that changed nothing.
func (s *Server) changeTicket(w http.ResponseWriter, r *http.Request, cmd ticket.Command) error {
	ch, err := s.change(r, cmd)
	if err != nil {
		return err
	}
	w.Header().Set("ETag", etag(ch.Ticket))
	writeJSON(w, http.StatusOK, viewTicket(ch.Ticket, principal(r)))
	return nil
}

// change sends cmd, with the request's precondition, to the ticket named in the path.
func (s *Server) change(r *http.Request, cmd ticket.Command) (ticket.Change, error) {
	version, err := ifMatch(r)
	if err != nil {
		return ticket.Change{}, err
	}
	cmd.IfVersion = version
	return s.svc.ChangeTicket(r.Context(), principal(r), chi.URLParam(r, "id"), cmd, claimedIDs(r))
}

// knownID answers a change to a path that can name no ticket as a missing ticket is answered,
// before anything else of the request is read. Whether the key may see a ticket that exists is
// the service's to say.
func knownID(h handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if id := chi.URLParam(r, "id"); !service.ValidID(id) {
			return ticket.NotFound(id)
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

// listUnder serves a listing of one ticket's items, its comments or its events, named by what,
// each shown as view shows it: 404 when the ticket does not exist, rather than an empty page.
func listUnder[T, V any](s *Server, what string,
	list func(ctx context.Context, by auth.Principal, id string, p ticket.PageRequest) (ticket.Page[T], error),
	view func(T, auth.Principal) V) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id := chi.URLParam(r, "id")
		scope := what + " of " + id
		page, err := s.pageRequest(r, scope)
		if err != nil {
			return err
		}
		p := principal(r)
		items, err := list(r.Context(), p, id, page)
		if err != nil {
			return err
		}
		writePage(w, s.cursors, scope, items, func(item T) V { return view(item, p) })
		return nil
	}
}

// page is a listing's page as the API writes it.
type page[V any] struct {
	Items      []V     `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

// writePage writes one page of the listing of scope, each item as view shows it, with the signed
// cursor of the next.
func writePage[T, V any](w http.ResponseWriter, cursors cursorSigner, scope string, p ticket.Page[T], view func(T) V) {
	items := make([]V, len(p.Items))
	for i, item := range p.Items {
		items[i] = view(item)
	}
	writeJSON(w, http.StatusOK, page[V]{Items: items, NextCursor: cursors.encode(scope, p.Next)})
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
