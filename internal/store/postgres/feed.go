package postgres

import (
	"context"
	"encoding/json"
	"time"

	"github.com/ticketflow/ticketflow"
	"github.com/ticketflow/ticketflow/internal/ticket"
	"github.com/ticketflow/ticketflow/internal/wire"
)

// settled is the position below which every event is settled: every transaction that could still
// write a lower one has ended. See 000008_events_out.
const settled = `pg_snapshot_xmin(pg_current_snapshot())::text::bigint * 65536`

// ReadFeed returns the events after f.After, in the order of their positions, that meet f's
// conditions and are settled: no event that a later read would return comes before the last one
// returned. Next is the last event's position when the page is full, else the position up to
// which the feed was read, so that a reader that polls with it neither reads an event twice nor
// misses one, and skips at once what its filter leaves out.
//
// It returns a ticket.EINVALID *ticket.Error for a limit out of range, a negative position, a
// ticket ID that is not a UUID or a visibility that is neither.
func (db *DB) ReadFeed(ctx context.Context, f ticket.FeedFilter) (ticket.FeedPage, error) {
	// A change is acknowledged once its transaction commits, but its events settle only when the
	// transactions begun before it end too, which takes a moment more. A page that is not full
	// while events committed before the first read are still unsettled is read again, briefly,
	// until they settle: a client who reads the feed after a change finds its events there, and a
	// reader woken by their notice has them at once, even when what held them back was a
	// transaction that sends no notice. Events committed after the first read are not waited for:
	// under load there always are some.
	began := time.Now()
	page, h, err := db.readFeed(ctx, f)
	target := h.latest
	for wait := time.Millisecond; err == nil && h.settled <= target && len(page.Items) < f.Limit &&
		time.Since(began) <= settleWait; wait = min(2*wait, settleWait/8) {
		select {
		case <-ctx.Done():
			return page, nil
		case <-time.After(wait):
		}
		page, h, err = db.readFeed(ctx, f)
	}
	return page, err
}

// settleWait bounds how long ReadFeed waits for events to settle: longer than ordinary
// transactions last (a CREATE DATABASE of the tests holds the horizon for a while), beyond which
// a long transaction holds it back and the reader is better told what is settled.
const settleWait = 500 * time.Millisecond

// horizon is what a read of the feed saw beside its events: the position below which every event
// is settled, and the highest position of an event committed.
type horizon struct{ settled, latest int64 }

func (db *DB) readFeed(ctx context.Context, f ticket.FeedFilter) (ticket.FeedPage, horizon, error) {
	if f.Limit < 1 || f.Limit > ticket.MaxPageSize {
		return ticket.FeedPage{}, horizon{}, ticket.Errorf(ticket.EINVALID, "limit must be 1 to %d, not %d", ticket.MaxPageSize, f.Limit)
	}
	if f.After < 0 {
		return ticket.FeedPage{}, horizon{}, ticket.Errorf(ticket.EINVALID, "%s", ticket.ErrBadCursor)
	}
	if err := checkVisibility(f.UpTo); err != nil {
		return ticket.FeedPage{}, horizon{}, err
	}
	var q query
	q.where("o.position > " + q.arg(f.After))
	q.where("o.position < h.settled")
	if len(f.Types) > 0 {
		types := make([]string, len(f.Types))
		for i, t := range f.Types {
			types[i] = string(t)
		}
		q.where("o.type = ANY(" + q.arg(types) + ")")
	}
	if f.TicketID != "" {
		tid, ok := parseID(f.TicketID)
		if !ok {
			return ticket.FeedPage{}, horizon{}, ticket.Errorf(ticket.EINVALID, "ticket %q is not a ticket's ID", f.TicketID)
		}
		q.where("o.ticket_id = " + q.arg(tid))
	}
	if f.Requester != "" {
		q.where("o.requester = " + q.arg(f.Requester))
	}
	if f.UpTo == ticket.VisibilityPublic {
		q.where("NOT o.internal")
	}
	// One row for the horizon even when no event is found, then one per event.
	sql := `WITH h AS (SELECT ` + settled + ` AS settled, (SELECT coalesce(max(position), 0) FROM events_out) AS latest)
SELECT h.settled, h.latest, e.position, e.ticket_id, e.seq, e.type, e.from_status, e.to_status, e.actor, e.data, e.at, e.ticket,
	e.comment_id, e.body, e.author, e.created_at, e.visibility
FROM h LEFT JOIN LATERAL (
	SELECT o.position, o.ticket_id, o.seq, o.type, coalesce(ev.from_status, '') AS from_status,
		coalesce(ev.to_status, '') AS to_status, ev.actor, ev.data, ev.at, o.ticket,
		c.id AS comment_id, c.body, c.author, c.created_at, c.visibility
	FROM events_out o
	JOIN ticket_events ev ON ev.ticket_id = o.ticket_id AND ev.seq = o.seq
	LEFT JOIN comments c ON c.id = o.comment_id` + q.whereClause() + `
	ORDER BY o.position LIMIT ` + q.arg(f.Limit) + `
) AS e ON true
ORDER BY e.position`
	rows, err := db.pool.Query(ctx, sql, q.args...)
	if err != nil {
		return ticket.FeedPage{}, horizon{}, translate(ctx, err, "read the feed")
	}
	defer rows.Close()
	page := ticket.FeedPage{Items: []ticket.OutEvent{}, Next: f.After}
	var h horizon
	for rows.Next() {
		var (
			pos, seq                      *int64
			tid, typ, from, to, actor     *string
			data                          map[string]any
			at, created                   *time.Time
			snapshot                      []byte
			cid, body, author, visibility *string
		)
		if err := rows.Scan(&h.settled, &h.latest, &pos, &tid, &seq, &typ, &from, &to, &actor, &data, &at, &snapshot,
			&cid, &body, &author, &created, &visibility); err != nil {
			return ticket.FeedPage{}, horizon{}, translate(ctx, err, "read the feed")
		}
		if pos == nil {
			break // no event: the horizon's row alone
		}
		var w ticketflow.Ticket
		if err := json.Unmarshal(snapshot, &w); err != nil {
			return ticket.FeedPage{}, horizon{}, ticket.Errorf(ticket.EINTERNAL, "postgres: the feed's event %d holds no ticket: %v", *pos, err)
		}
		if data == nil {
			data = map[string]any{}
		}
		ev := ticket.OutEvent{
			ID: ticket.EventID(*tid, *seq), Position: *pos, Ticket: wire.DomainTicket(w),
			Event: ticket.Event{Seq: *seq, Type: ticket.EventType(*typ), FromStatus: ticket.Status(*from),
				ToStatus: ticket.Status(*to), Actor: *actor, Data: data, At: at.UTC()},
		}
		if cid != nil {
			ev.Comment = &ticket.Comment{ID: *cid, TicketID: *tid, Body: *body, Author: *author,
				CreatedAt: created.UTC(), Visibility: ticket.Visibility(*visibility)}
		}
		page.Items = append(page.Items, ev)
	}
	if err := rows.Err(); err != nil {
		return ticket.FeedPage{}, horizon{}, translate(ctx, err, "read the feed")
	}
	switch {
	case len(page.Items) == f.Limit:
		page.Next = page.Items[len(page.Items)-1].Position
	case h.settled-1 > f.After:
		// Every settled position up to the horizon has been read: none below it can come later.
		page.Next = h.settled - 1
	}
	return page, h, nil
}

// ListenFeed calls changed each time events come out, written by any process, until ctx is done;
// see listen.
func (db *DB) ListenFeed(ctx context.Context, changed func()) {
	db.listen(ctx, FeedChannel, changed)
}

// FeedHead returns the position up to which the feed is settled now: a reader that starts after
// it gets every event that comes out from now on.
func (db *DB) FeedHead(ctx context.Context) (int64, error) {
	var head int64
	if err := db.pool.QueryRow(ctx, `SELECT `+settled+` - 1`).Scan(&head); err != nil {
		return 0, translate(ctx, err, "read the feed's head")
	}
	return head, nil
}
