package postgres

import (
	"context"
	"encoding/json"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/ticketflow/ticketflow/internal/ticket"
	"github.com/ticketflow/ticketflow/internal/wire"
)

// upsertTicket writes the ticket row unless the stored row is as new or newer. The version guard
// is what makes Persist safe to retry and to run late: a repeated change finds its own version
// stored, and a stale one finds a higher version, and neither touches the row.
//
// At an equal version, a row stamped later (updated_at) replaces one stamped earlier. The
// workflow writes a change with a local activity before the workflow task that applied it is
// recorded; should that task be lost (a worker that dies right after the write), its retry applies
// the ticket's changes again, at a later time, perhaps in another order, and what it writes is
// what the workflow's history holds from then on. The later stamp tells that write from the lost
// one, and from a late copy of the lost one. A write repeated as it was has the same stamp and
// changes nothing. created_at is written too: it is the same in every version of a ticket, except
// when the lost task was the one that created it, and then the retry's creation is the one kept.
//
// The domain's nobody, an Assignee of "", is NULL in the row (see scanTicket for the way back).
const upsertTicket = `
INSERT INTO tickets (id, title, description, status, priority, requester, escalation_level,
	comments_count, version, created_at, updated_at, closed_at, close_reason,
	group_name, assignee, tags, internal_notes_count, first_responded_at,
	first_response_due_at, auto_close_at, sla_breached_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13,
	$14, NULLIF($15, ''), $16, $17, $18,
	$19, $20, $21)
ON CONFLICT (id) DO UPDATE SET
	title                 = EXCLUDED.title,
	description           = EXCLUDED.description,
	status                = EXCLUDED.status,
	priority              = EXCLUDED.priority,
	requester             = EXCLUDED.requester,
	escalation_level      = EXCLUDED.escalation_level,
	comments_count        = EXCLUDED.comments_count,
	version               = EXCLUDED.version,
	created_at            = EXCLUDED.created_at,
	updated_at            = EXCLUDED.updated_at,
	closed_at             = EXCLUDED.closed_at,
	close_reason          = EXCLUDED.close_reason,
	group_name            = EXCLUDED.group_name,
	assignee              = EXCLUDED.assignee,
	tags                  = EXCLUDED.tags,
	internal_notes_count  = EXCLUDED.internal_notes_count,
	first_responded_at    = EXCLUDED.first_responded_at,
	first_response_due_at = EXCLUDED.first_response_due_at,
	auto_close_at         = EXCLUDED.auto_close_at,
	sla_breached_at       = EXCLUDED.sla_breached_at
WHERE tickets.version < EXCLUDED.version
   OR (tickets.version = EXCLUDED.version AND tickets.updated_at < EXCLUDED.updated_at)`

// insertComment and insertEvent write what is not there yet: the caller chose the comment's ID
// and the workflow numbered the events, so a retry finds its rows by key and skips them. A row
// stamped later (created_at, at) replaces the one it finds, for the reason upsertTicket gives: a
// comment added again by the retry of a lost workflow task, or an event number given to another
// event in a task that was lost.
const (
	insertComment = `
INSERT INTO comments (id, ticket_id, body, author, created_at, visibility)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (id) DO UPDATE SET
	body       = EXCLUDED.body,
	author     = EXCLUDED.author,
	created_at = EXCLUDED.created_at,
	visibility = EXCLUDED.visibility
WHERE comments.ticket_id = EXCLUDED.ticket_id AND comments.created_at < EXCLUDED.created_at`

	insertEvent = `
INSERT INTO ticket_events (ticket_id, seq, type, from_status, to_status, actor, data, at)
VALUES ($1, $2, $3, NULLIF($4, ''), NULLIF($5, ''), $6, $7, $8)
ON CONFLICT (ticket_id, seq) DO UPDATE SET
	type        = EXCLUDED.type,
	from_status = EXCLUDED.from_status,
	to_status   = EXCLUDED.to_status,
	actor       = EXCLUDED.actor,
	data        = EXCLUDED.data,
	at          = EXCLUDED.at
WHERE ticket_events.at < EXCLUDED.at`

	// insertEventOut puts an event on the feed in the transaction that records it: its position
	// is the transaction's ID and the event's index in its change (see 000008_events_out). A
	// retry finds the row and keeps it, position and all; an event that took the number of one
	// from a lost workflow task replaces it, as in ticket_events.
	insertEventOut = `
INSERT INTO events_out (position, ticket_id, seq, type, at, requester, internal, comment_id, ticket)
VALUES (pg_current_xact_id()::text::bigint * 65536 + $1, $2, $3, $4, $5, $6, $7, $8, $9)
ON CONFLICT (ticket_id, seq) DO UPDATE SET
	type       = EXCLUDED.type,
	at         = EXCLUDED.at,
	internal   = EXCLUDED.internal,
	comment_id = EXCLUDED.comment_id,
	ticket     = EXCLUDED.ticket
WHERE events_out.at < EXCLUDED.at`

	// notifyFeed wakes the feed's readers (LISTEN ticketflow_events) when the transaction
	// commits; PostgreSQL sends one notice per transaction however many events it wrote.
	notifyFeed = `SELECT pg_notify('` + FeedChannel + `', '')`
)

// FeedChannel is the channel on which PostgreSQL notifies that events came out.
const FeedChannel = "ticketflow_events"

// Persist writes one change: the ticket as it is after the change, the comment it added if any,
// and its events. It is idempotent, as Temporal's activity retries need: writing a change twice,
// or after a newer one, writes nothing that is already there and never rolls the ticket back,
// yet still adds the change's comment and events if they are missing. The events of a refused
// command come with the ticket unchanged, so only they are written. A change of the same version
// but stamped later replaces the row and events it finds (see upsertTicket).
//
// It returns a ticket.EINVALID *ticket.Error for a change that can never be written (a
// malformed ID, an unnumbered event, a value the schema refuses); any other error leaves the
// database as it was and the change may be retried.
func (db *DB) Persist(ctx context.Context, ch ticket.Change) error {
	id, commentID, err := checkChange(ch)
	if err != nil {
		return err
	}

	// A batch sent outside an explicit transaction runs as one implicit transaction: all of it
	// commits or none of it does. That gives the atomicity of BEGIN ... COMMIT in a single
	// round trip instead of three.
	b := &pgx.Batch{}
	t := ch.Ticket
	tags := t.Tags
	if tags == nil {
		tags = []string{} // the column holds an array, never NULL; the domain's "none" is nil
	}
	b.Queue(upsertTicket, id, t.Title, t.Description, string(t.Status), string(t.Priority),
		t.Requester, t.EscalationLevel, t.CommentsCount, t.Version, t.CreatedAt, t.UpdatedAt,
		t.ClosedAt, t.CloseReason, t.Group, t.Assignee, tags, t.InternalNotesCount, t.FirstRespondedAt,
		t.FirstResponseDueAt, t.AutoCloseAt, t.SLABreachedAt)
	if c := ch.Comment; c != nil {
		b.Queue(insertComment, commentID, id, c.Body, c.Author, c.CreatedAt, string(c.Visibility))
	}
	var snapshot []byte
	if len(ch.Events) > 0 {
		if snapshot, err = json.Marshal(wire.FromTicket(t)); err != nil {
			return ticket.Errorf(ticket.EINVALID, "postgres: persist ticket %s: %v", id, err)
		}
	}
	for i, e := range ch.Events {
		data := e.Data
		if data == nil {
			data = map[string]any{} // the column holds an object, never JSON null
		}
		b.Queue(insertEvent, id, e.Seq, string(e.Type), string(e.FromStatus), string(e.ToStatus),
			e.Actor, data, e.At)
		var comment *string
		if e.Type == ticket.EventCommented && ch.Comment != nil {
			comment = &commentID
		}
		b.Queue(insertEventOut, i, id, e.Seq, string(e.Type), e.At, t.Requester,
			e.RecordsNote(), comment, snapshot)
	}
	if len(ch.Events) > 0 {
		b.Queue(notifyFeed)
	}

	if err := db.pool.SendBatch(ctx, b).Close(); err != nil {
		return translate(ctx, err, "persist ticket %s", id)
	}
	return nil
}

// checkChange refuses, before anything is sent, a change that the schema would refuse anyway,
// so that the error names the problem rather than a constraint or a failed UUID encoding. It
// returns the ticket's and the comment's IDs in canonical form.
func checkChange(ch ticket.Change) (id, commentID string, err error) {
	id, ok := parseID(ch.Ticket.ID)
	if !ok {
		return "", "", ticket.Errorf(ticket.EINVALID, "postgres: persist ticket %q: the ID is not a UUID", ch.Ticket.ID)
	}
	if c := ch.Comment; c != nil {
		if commentID, ok = parseID(c.ID); !ok {
			return "", "", ticket.Errorf(ticket.EINVALID, "postgres: persist ticket %s: comment ID %q is not a UUID", id, c.ID)
		}
		if tid, _ := parseID(c.TicketID); tid != id {
			return "", "", ticket.Errorf(ticket.EINVALID, "postgres: persist ticket %s: comment %s belongs to ticket %q", id, c.ID, c.TicketID)
		}
	}
	for _, e := range ch.Events {
		if e.Seq < 1 {
			return "", "", ticket.Errorf(ticket.EINVALID, "postgres: persist ticket %s: %s event has seq %d, want 1 or more", id, e.Type, e.Seq)
		}
	}
	return id, commentID, nil
}

// parseID returns s in the canonical form of a UUID, and false when s is not one. Checking IDs
// before they reach the driver keeps its encoding errors away from callers: a malformed ID is
// simply an ID that names nothing.
func parseID(s string) (string, bool) {
	u, err := uuid.Parse(s)
	if err != nil {
		return "", false
	}
	return u.String(), true
}
