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
	"time"
	"unicode/utf8"

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
	// A cursor continues only the listing it came from: these filters, this search and this
	// order, seen by this requester.
	var seenBy string
	if p.Role == auth.RoleCustomer {
		seenBy = p.Subject
	}
	scope := ticketsScope(f, seenBy)
	if f.PageRequest, err = s.pageRequest(r, scope); err != nil {
		return err
	}
	items, err := s.svc.ListTickets(r.Context(), p, f)
	if err != nil {
		return err
	}
	writePage(w, s.cursors, scope, items, func(found ticket.Found) Ticket {
		v := viewTicket(found.Ticket, p)
		if f.Query != "" {
			v.Match = &Match{Snippet: found.Snippet}
		}
		return v
	})
	return nil
}

// ticketsScope is the scope that binds the cursors of a listing of tickets (cursor.go): its
// filters and its order, and the requester that a customer's listing is seen by ("" for any other
// key). Every value is the one that listFilter normalized, so that two spellings of one listing
// (tag=VIP and tag=vip, an offset and its UTC time, no sort and the default one) share cursors.
func ticketsScope(f ticket.ListFilter, seenBy string) string {
	// The requester in this first part is who sees the listing, as it was before the requester
	// filter existed; the filter is requested_by below.
	var b strings.Builder
	fmt.Fprintf(&b, "tickets status=%s priority=%s requester=%q", f.Status, f.Priority, seenBy)
	// The filters and the order that came later join the scope only when they are set (or not the
	// default), so that the cursors made before them still continue the listings they belong to.
	join := func(set bool, format string, args ...any) {
		if set {
			b.WriteByte(' ')
			fmt.Fprintf(&b, format, args...)
		}
	}
	join(f.Assignee != "", "assignee=%q", f.Assignee)
	join(f.Unassigned, "unassigned")
	join(f.Group != "", "group=%q", f.Group)
	join(len(f.Tags) > 0, "tags=%q", f.Tags)
	join(f.Requester != "", "requested_by=%q", f.Requester)
	join(f.Escalated != nil, "escalated=%t", f.Escalated != nil && *f.Escalated)
	join(f.Breached, "breached")
	for _, bound := range timeBounds(&f) {
		join(!bound.at.IsZero(), "%s=%s", bound.param, bound.at.Format(time.RFC3339Nano))
	}
	join(f.Sort != ticket.SortNewest, "sort=%s", f.Sort)
	join(f.Query != "", "q=%q", f.Query)
	return b.String()
}

// Values of the assignee filter that name no person.
const (
	assigneeMe   = "me"   // the caller
	assigneeNone = "none" // nobody: the tickets that nobody works
)

// timeBound is one of the filter's bounds on a ticket's times, with the query parameter that sets it.
type timeBound struct {
	param string
	at    *time.Time
}

// timeBounds returns the bounds of f on its tickets' times, in the order the scope names them.
func timeBounds(f *ticket.ListFilter) []timeBound {
	return []timeBound{{"created_after", &f.CreatedAfter}, {"created_before", &f.CreatedBefore}, {"updated_after", &f.UpdatedAfter}}
}

// listFilter reads the filters and the order of GET /tickets, as by asks them; a value that no
// ticket could match is refused, like a malformed one, rather than answered with an empty listing.
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
	case assigneeMe:
		f.Assignee = by.Identity()
	case assigneeNone:
		f.Unassigned = true
	default:
		if f.Assignee, err = textFilter(q, "assignee", ticket.MaxPersonLen); err != nil {
			return f, err
		}
	}
	if f.Group, err = textFilter(q, "group", ticket.MaxGroupLen); err != nil {
		return f, err
	}
	// A customer's listing holds only their own tickets whatever this says (the service sees to it).
	if f.Requester, err = textFilter(q, "requester", ticket.MaxPersonLen); err != nil {
		return f, err
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
	switch v := q.Get("escalated"); v {
	case "":
	case "true", "false":
		escalated := v == "true"
		f.Escalated = &escalated
	default:
		return f, requestError(codeBadRequest, "escalated must be true or false, not %q", v)
	}
	switch v := q.Get("breached"); v {
	case "":
	case "true":
		f.Breached = true
	default:
		// The tickets that did not breach are no listing of this API's.
		return f, requestError(codeBadRequest, "breached takes only true, not %q; leave it out to list every ticket", v)
	}
	for _, bound := range timeBounds(&f) {
		v := q.Get(bound.param)
		if v == "" {
			continue
		}
		at, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return f, requestError(codeBadRequest,
				"%s must be an RFC 3339 time such as 2026-11-26T10:00:00Z, not %q (a + in its offset is %%2B in a query string)", bound.param, v)
		}
		*bound.at = at.UTC()
	}
	if !f.CreatedAfter.IsZero() && !f.CreatedBefore.IsZero() && !f.CreatedAfter.Before(f.CreatedBefore) {
		return f, requestError(codeBadRequest, "created_after must be before created_before: no ticket is created in between")
	}
	f.Query = searchQuery(q.Get("q"))
	if f.Query != "" && q.Get("sort") == "" {
		return f, nil // a search's own order: by relevance, then newest first
	}
	sort, ok := ticket.ParseSort(q.Get("sort"))
	if !ok {
		return f, requestError(codeBadRequest, "sort must be one of %s, %s, %s, %s, not %q",
			ticket.SortNewest, ticket.SortOldest, ticket.SortRecentUpdates, ticket.SortOldUpdates, q.Get("sort"))
	}
	f.Sort = sort
	return f, nil
}

// maxQueryLen is how many characters of q a search reads; the rest of a longer one is left out,
// since a search of a thousand characters has long since found what it will.
const maxQueryLen = 1000

// searchQuery returns the text of q that a search reads: trimmed, at most maxQueryLen characters,
// with what no text holds (a NUL, bytes that are not UTF-8) read as spaces. Any text is a search:
// its syntax is the store's to read leniently, never a reason to refuse it.
func searchQuery(q string) string {
	q = strings.ToValidUTF8(q, " ")
	q = strings.ReplaceAll(q, "\x00", " ")
	q = strings.TrimSpace(q)
	if utf8.RuneCountInString(q) > maxQueryLen {
		q = strings.TrimSpace(string([]rune(q)[:maxQueryLen]))
	}
	return q
}

// textFilter returns the query parameter name trimmed, "" when it is not given, and refuses a
// value that no ticket's field of up to maxLen characters could hold.
func textFilter(q url.Values, name string, maxLen int) (string, error) {
	v := strings.TrimSpace(q.Get(name))
	if v == "" {
		return "", nil
	}
	if bad := ticket.CheckText(name, v, 1, maxLen, false); bad != nil {
		return "", requestError(codeBadRequest, "%s %s", name, bad.Message)
	}
	return v, nil
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
