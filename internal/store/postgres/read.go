package postgres

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ticketflow/ticketflow/internal/ticket"
)

const ticketColumns = `id, title, description, status, priority, requester, escalation_level,
	comments_count, version, created_at, updated_at, closed_at, close_reason,
	group_name, coalesce(assignee, ''), tags, internal_notes_count, first_responded_at,
	first_response_due_at, auto_close_at, sla_breached_at`

const commentColumns = `id, ticket_id, body, author, created_at, visibility`

// Ticket returns the ticket with the given ID, or a ticket.ENOTFOUND *ticket.Error when there
// is none. An ID that is not a UUID names no ticket, so it is not found either.
func (db *DB) Ticket(ctx context.Context, id string) (ticket.Ticket, error) {
	uid, ok := parseID(id)
	if !ok {
		return ticket.Ticket{}, ticket.NotFound(id)
	}
	// A failed Query also returns Rows that carry its error, and the Collect functions report
	// it: one error check instead of two, here and in the listings.
	rows, _ := db.pool.Query(ctx, `SELECT `+ticketColumns+` FROM tickets WHERE id = $1`, uid)
	t, err := pgx.CollectOneRow(rows, scanTicket)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return ticket.Ticket{}, ticket.NotFound(id)
	case err != nil:
		return ticket.Ticket{}, translate(ctx, err, "read ticket %s", uid)
	}
	return t, nil
}

// ListTickets returns a page of tickets that meet every condition the filter sets: its status,
// priority, requester, assignee (or nobody, with Unassigned), group, every one of its tags, whether
// it was ever escalated, whether its first-response SLA was missed (Breached), and its creation and
// update bounds. The page is in the filter's Sort, newest first unless it names another. Pages are
// keyed on the sort's column and the ID rather than numbered, so that a ticket created or changed
// while a client pages through neither shifts nor repeats the pages that follow. The cursor's At is
// that column's value: a cursor continues only a listing of the sort that made it, which the
// caller has to see to (the API signs it for its listing's scope).
//
// It returns a ticket.EINVALID *ticket.Error for a limit out of range, a cursor that is not one
// of this listing's, or a sort that is none of ticket's.
func (db *DB) ListTickets(ctx context.Context, f ticket.ListFilter) (ticket.Page[ticket.Ticket], error) {
	if err := checkPageRequest(f.PageRequest, true); err != nil {
		return ticket.Page[ticket.Ticket]{}, err
	}
	o, ok := orderOf(f.Sort)
	if !ok {
		return ticket.Page[ticket.Ticket]{}, ticket.Errorf(ticket.EINVALID, "sort %q is none of %s, %s, %s, %s", f.Sort,
			ticket.SortNewest, ticket.SortOldest, ticket.SortRecentUpdates, ticket.SortOldUpdates)
	}
	sql, args := listTicketsQuery(f)
	rows, _ := db.pool.Query(ctx, sql, args...)
	items, err := pgx.CollectRows(rows, scanTicket)
	if err != nil {
		return ticket.Page[ticket.Ticket]{}, translate(ctx, err, "list tickets")
	}
	return newPage(items, f.Limit, func(t ticket.Ticket) ticket.Cursor {
		return ticket.Cursor{At: o.key(t), ID: t.ID}
	}), nil
}

// order is how a listing of tickets is sorted: on column, then the ID, both descending or both
// ascending, which one B-tree index serves forwards or backwards.
type order struct {
	column string
	desc   bool
	key    func(ticket.Ticket) time.Time // the column's value, the cursor's At
}

var orders = map[ticket.Sort]order{
	ticket.SortNewest:        {"created_at", true, createdAt},
	ticket.SortOldest:        {"created_at", false, createdAt},
	ticket.SortRecentUpdates: {"updated_at", true, updatedAt},
	ticket.SortOldUpdates:    {"updated_at", false, updatedAt},
}

func createdAt(t ticket.Ticket) time.Time { return t.CreatedAt }
func updatedAt(t ticket.Ticket) time.Time { return t.UpdatedAt }

// orderOf returns the order of s, "" being SortNewest, and false for a sort that is none of them.
func orderOf(s ticket.Sort) (order, bool) {
	s, ok := ticket.ParseSort(string(s))
	return orders[s], ok
}

// breached is the condition of ListFilter.Breached. The status is asked for although the workflow
// stamps a due time on open tickets only: an older worker's write may have left one on a ticket
// it answered (see 000006_sla). Each side of the OR is the predicate of a partial index.
const breached = `((status = 'open' AND first_response_due_at < now()) OR sla_breached_at IS NOT NULL)`

// listTicketsQuery returns ListTickets' statement and its arguments, for a filter whose sort is
// valid. Each filter is an equality on a column that leads one of the listing's indexes, the
// condition of a partial one (assignee IS NULL, escalation_level > 0, breached), the tags' @>,
// which their GIN index answers, or a bound on the column of an index in the listing's order (see
// the migrations).
func listTicketsQuery(f ticket.ListFilter) (string, []any) {
	o, _ := orderOf(f.Sort)
	var q query
	q.filter(f)
	orderBy := o.keyset(&q, f.After)
	sql := `SELECT ` + ticketColumns + ` FROM tickets` + q.whereClause() +
		` ORDER BY ` + orderBy + ` LIMIT ` + q.arg(f.Limit+1)
	return sql, q.args
}

// keyset adds to q the condition of the rows after c in this order, when there is a cursor, and
// returns the order's ORDER BY.
func (o order) keyset(q *query, c *ticket.Cursor) string {
	dir, cmp := " DESC", " < "
	if !o.desc {
		dir, cmp = "", " > "
	}
	if c != nil {
		q.where("(" + o.column + ", id)" + cmp + "(" + q.arg(c.At) + ", " + q.arg(c.ID) + ")")
	}
	return o.column + dir + ", id" + dir
}

// filter adds the conditions of every filter that f sets but its Query, Sort and cursor, on the
// columns of tickets, unqualified: ListTickets and SearchTickets filter alike.
func (q *query) filter(f ticket.ListFilter) {
	if f.Status != "" {
		q.where("status = " + q.arg(string(f.Status)))
	}
	if f.Priority != "" {
		q.where("priority = " + q.arg(string(f.Priority)))
	}
	if f.Requester != "" {
		q.where("requester = " + q.arg(f.Requester))
	}
	if f.Assignee != "" {
		q.where("assignee = " + q.arg(f.Assignee))
	}
	if f.Unassigned {
		q.where("assignee IS NULL")
	}
	if f.Group != "" {
		q.where("group_name = " + q.arg(f.Group))
	}
	if len(f.Tags) > 0 {
		q.where("tags @> " + q.arg(f.Tags) + "::text[]")
	}
	if e := f.Escalated; e != nil {
		if *e {
			q.where("escalation_level > 0")
		} else {
			q.where("escalation_level = 0")
		}
	}
	if f.Breached {
		q.where(breached)
	}
	// The columns hold microseconds, and the driver drops what is finer. That keeps an after
	// bound's tickets (a ticket after b is after b's microsecond) but not a before bound's: one
	// created in b's microsecond, before b, would be cut off. It is rounded up instead.
	if at := f.CreatedAfter; !at.IsZero() {
		q.where("created_at > " + q.arg(ticket.Timestamp(at)))
	}
	if at := f.CreatedBefore; !at.IsZero() {
		q.where("created_at < " + q.arg(ceilMicrosecond(at)))
	}
	if at := f.UpdatedAfter; !at.IsZero() {
		q.where("updated_at > " + q.arg(ticket.Timestamp(at)))
	}
}

// ceilMicrosecond returns the first microsecond at or after t, in UTC.
func ceilMicrosecond(t time.Time) time.Time {
	u := ticket.Timestamp(t)
	if u.Before(t) {
		u = u.Add(time.Microsecond)
	}
	return u
}

// ListComments returns a page of the comments on a ticket that a reader of visibility upTo may
// see, oldest first, keyed on (created_at, id): every comment for ticket.VisibilityInternal, the
// public ones only for ticket.VisibilityPublic. It does not check that the ticket exists: the
// caller has done that already, and an unknown ticket simply has no comments.
//
// It returns a ticket.EINVALID *ticket.Error for a limit out of range, a cursor that is not one
// of this listing's, or a visibility that is neither.
func (db *DB) ListComments(ctx context.Context, ticketID string, p ticket.PageRequest, upTo ticket.Visibility) (ticket.Page[ticket.Comment], error) {
	if err := checkPageRequest(p, true); err != nil {
		return ticket.Page[ticket.Comment]{}, err
	}
	if err := checkVisibility(upTo); err != nil {
		return ticket.Page[ticket.Comment]{}, err
	}
	tid, ok := parseID(ticketID)
	if !ok {
		return ticket.Page[ticket.Comment]{Items: []ticket.Comment{}}, nil
	}
	var q query
	q.where("ticket_id = " + q.arg(tid))
	if upTo == ticket.VisibilityPublic {
		q.where("visibility = 'public'")
	}
	if c := p.After; c != nil {
		q.where("(created_at, id) > (" + q.arg(c.At) + ", " + q.arg(c.ID) + ")")
	}
	sql := `SELECT ` + commentColumns + ` FROM comments` + q.whereClause() +
		` ORDER BY created_at, id LIMIT ` + q.arg(p.Limit+1)

	rows, _ := db.pool.Query(ctx, sql, q.args...)
	items, err := pgx.CollectRows(rows, scanComment)
	if err != nil {
		return ticket.Page[ticket.Comment]{}, translate(ctx, err, "list comments of ticket %s", tid)
	}
	return newPage(items, p.Limit, func(c ticket.Comment) ticket.Cursor {
		return ticket.Cursor{At: c.CreatedAt, ID: c.ID}
	}), nil
}

// ListEvents returns a page of a ticket's audit trail in the order it happened, keyed on seq, as
// a reader of visibility upTo may see it: every event for ticket.VisibilityInternal; for
// ticket.VisibilityPublic, all but those that record an internal note (data's visibility is
// internal). Seq keeps its gaps where events were left out: it numbers the whole trail. It does
// not check that the ticket exists: the caller has done that already, and an unknown ticket
// simply has no events.
//
// It returns a ticket.EINVALID *ticket.Error for a limit out of range or a visibility that is
// neither.
func (db *DB) ListEvents(ctx context.Context, ticketID string, p ticket.PageRequest, upTo ticket.Visibility) (ticket.Page[ticket.Event], error) {
	if err := checkPageRequest(p, false); err != nil {
		return ticket.Page[ticket.Event]{}, err
	}
	if err := checkVisibility(upTo); err != nil {
		return ticket.Page[ticket.Event]{}, err
	}
	tid, ok := parseID(ticketID)
	if !ok {
		return ticket.Page[ticket.Event]{Items: []ticket.Event{}}, nil
	}
	var q query
	q.where("ticket_id = " + q.arg(tid))
	if upTo == ticket.VisibilityPublic {
		// IS DISTINCT FROM, not <>: most events have no visibility, and NULL <> 'internal' is NULL.
		q.where("data->>'visibility' IS DISTINCT FROM 'internal'")
	}
	if c := p.After; c != nil {
		q.where("seq > " + q.arg(c.Seq))
	}
	sql := `SELECT seq, type, coalesce(from_status, ''), coalesce(to_status, ''), actor, data, at
		FROM ticket_events` + q.whereClause() + ` ORDER BY seq LIMIT ` + q.arg(p.Limit+1)

	rows, _ := db.pool.Query(ctx, sql, q.args...)
	items, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (ticket.Event, error) {
		var e ticket.Event
		err := row.Scan(&e.Seq, &e.Type, &e.FromStatus, &e.ToStatus, &e.Actor, &e.Data, &e.At)
		if e.Data == nil {
			e.Data = map[string]any{}
		}
		e.At = e.At.UTC()
		return e, err
	})
	if err != nil {
		return ticket.Page[ticket.Event]{}, translate(ctx, err, "list events of ticket %s", tid)
	}
	return newPage(items, p.Limit, func(e ticket.Event) ticket.Cursor {
		return ticket.Cursor{Seq: e.Seq}
	}), nil
}

// scanTicket reads a row of ticketColumns as the domain keeps a ticket, so that a ticket read
// back equals the one that was written: times in UTC (pgx returns them in the local time zone),
// nobody assigned as "" (NULL in the row), and no tags as nil (an empty array in the row).
func scanTicket(row pgx.CollectableRow) (ticket.Ticket, error) {
	var t ticket.Ticket
	err := row.Scan(&t.ID, &t.Title, &t.Description, &t.Status, &t.Priority, &t.Requester,
		&t.EscalationLevel, &t.CommentsCount, &t.Version, &t.CreatedAt, &t.UpdatedAt,
		&t.ClosedAt, &t.CloseReason, &t.Group, &t.Assignee, &t.Tags, &t.InternalNotesCount,
		&t.FirstRespondedAt, &t.FirstResponseDueAt, &t.AutoCloseAt, &t.SLABreachedAt)
	t.CreatedAt = t.CreatedAt.UTC()
	t.UpdatedAt = t.UpdatedAt.UTC()
	for _, p := range []**time.Time{&t.ClosedAt, &t.FirstRespondedAt, &t.FirstResponseDueAt, &t.AutoCloseAt, &t.SLABreachedAt} {
		*p = utc(*p)
	}
	if len(t.Tags) == 0 {
		t.Tags = nil
	}
	return t, err
}

// scanComment reads a row of commentColumns, its time in UTC.
func scanComment(row pgx.CollectableRow) (ticket.Comment, error) {
	var c ticket.Comment
	err := row.Scan(&c.ID, &c.TicketID, &c.Body, &c.Author, &c.CreatedAt, &c.Visibility)
	c.CreatedAt = c.CreatedAt.UTC()
	return c, err
}

// utc returns the time that t points to in UTC, or nil for nil.
func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// checkPageRequest refuses what the caller should have refused already. keyedByTime says that
// the listing pages on (created_at, id): its cursor's ID goes into a uuid comparison, and a
// missing or malformed one would fail in the driver rather than here.
func checkPageRequest(p ticket.PageRequest, keyedByTime bool) error {
	if p.Limit < 1 || p.Limit > ticket.MaxPageSize {
		return ticket.Errorf(ticket.EINVALID, "limit must be between 1 and %d", ticket.MaxPageSize)
	}
	if c := p.After; c != nil && keyedByTime {
		if _, ok := parseID(c.ID); !ok {
			return ticket.Errorf(ticket.EINVALID, "%s", ticket.ErrBadCursor)
		}
	}
	return nil
}

// checkVisibility refuses a reader's visibility that is neither public nor internal: a listing
// must know what it may show, and guessing could show an internal note to a customer.
func checkVisibility(upTo ticket.Visibility) error {
	if upTo != ticket.VisibilityPublic && upTo != ticket.VisibilityInternal {
		return ticket.Errorf(ticket.EINVALID, "visibility %q is neither %s nor %s", upTo,
			ticket.VisibilityPublic, ticket.VisibilityInternal)
	}
	return nil
}

// newPage cuts the limit+1 rows that a listing fetched down to a page, and gives it the cursor
// of its last item only when the extra row shows that there is more to come.
func newPage[T any](items []T, limit int, key func(T) ticket.Cursor) ticket.Page[T] {
	if len(items) <= limit {
		return ticket.Page[T]{Items: items}
	}
	next := key(items[limit-1])
	return ticket.Page[T]{Items: items[:limit], Next: &next}
}

// query gathers the conditions and numbered arguments of a listing whose filters are optional.
type query struct {
	conds []string
	args  []any
}

// arg adds v to the arguments and returns its placeholder.
func (q *query) arg(v any) string {
	q.args = append(q.args, v)
	return "$" + strconv.Itoa(len(q.args))
}

func (q *query) where(cond string) { q.conds = append(q.conds, cond) }

func (q *query) whereClause() string {
	if len(q.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(q.conds, " AND ")
}
