package postgres

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/ticketflow/ticketflow/internal/ticket"
	"github.com/ticketflow/ticketflow/internal/webhook"
)

const webhookColumns = `id, url, types, description, secret, coalesce(previous_secret, ''), previous_until,
	created_at, disabled_at`

func scanWebhook(row pgx.CollectableRow) (webhook.Webhook, error) {
	var w webhookRow
	err := row.Scan(w.dest()...)
	return w.webhook(), err
}

// webhookRow is a webhook as webhookColumns read it.
type webhookRow struct {
	w     webhook.Webhook
	types []string
}

func (r *webhookRow) dest() []any {
	w := &r.w
	return []any{&w.ID, &w.URL, &r.types, &w.Description, &w.Secret, &w.PreviousSecret, &w.PreviousUntil,
		&w.CreatedAt, &w.DisabledAt}
}

func (r *webhookRow) webhook() webhook.Webhook {
	w := r.w
	for _, t := range r.types {
		w.Types = append(w.Types, ticket.EventType(t))
	}
	w.CreatedAt = w.CreatedAt.UTC()
	w.PreviousUntil, w.DisabledAt = utc(w.PreviousUntil), utc(w.DisabledAt)
	return w
}

// oneWebhook runs a statement that returns a webhook's row, ENOTFOUND when it returns none.
func (db *DB) oneWebhook(ctx context.Context, what, id, sql string, args ...any) (webhook.Webhook, error) {
	if _, ok := parseID(id); !ok {
		return webhook.Webhook{}, ticket.Errorf(ticket.ENOTFOUND, "no webhook %q", id)
	}
	rows, _ := db.pool.Query(ctx, sql, args...)
	w, err := pgx.CollectOneRow(rows, scanWebhook)
	if errors.Is(err, pgx.ErrNoRows) {
		return webhook.Webhook{}, ticket.Errorf(ticket.ENOTFOUND, "no webhook %q", id)
	}
	if err != nil {
		return webhook.Webhook{}, translate(ctx, err, "%s webhook %s", what, id)
	}
	return w, nil
}

// CreateWebhook stores a new webhook, with a new ID and secret, and returns it. It gets the events
// that come out from now on.
func (db *DB) CreateWebhook(ctx context.Context, url string, types []ticket.EventType, description string) (webhook.Webhook, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return webhook.Webhook{}, ticket.Errorf(ticket.EINTERNAL, "postgres: new webhook ID: %v", err)
	}
	names := make([]string, len(types))
	for i, t := range types {
		names[i] = string(t)
	}
	return db.oneWebhook(ctx, "create", id.String(), `
INSERT INTO webhooks (id, url, types, description, secret, created_at, fanned_out)
VALUES ($1, $2, $3, $4, $5, $6, `+settled+` - 1)
RETURNING `+webhookColumns, id, url, names, description, webhook.NewSecret(), ticket.Timestamp(time.Now()))
}

// Webhook returns the webhook; ENOTFOUND when there is none.
func (db *DB) Webhook(ctx context.Context, id string) (webhook.Webhook, error) {
	return db.oneWebhook(ctx, "read", id, `SELECT `+webhookColumns+` FROM webhooks WHERE id = $1`, id)
}

// ListWebhooks returns every webhook, oldest first.
func (db *DB) ListWebhooks(ctx context.Context) ([]webhook.Webhook, error) {
	rows, _ := db.pool.Query(ctx, `SELECT `+webhookColumns+` FROM webhooks ORDER BY created_at, id`)
	ws, err := pgx.CollectRows(rows, scanWebhook)
	if err != nil {
		return nil, translate(ctx, err, "list webhooks")
	}
	return ws, nil
}

// DeleteWebhook deletes the webhook and its delivery log; ENOTFOUND when there is none.
func (db *DB) DeleteWebhook(ctx context.Context, id string) error {
	_, err := db.oneWebhook(ctx, "delete", id, `DELETE FROM webhooks WHERE id = $1 RETURNING `+webhookColumns, id)
	return err
}

// SetWebhookEnabled enables or disables the webhook and returns it. Disabling keeps the time it
// was first disabled; enabling goes on with the events that came out meanwhile.
func (db *DB) SetWebhookEnabled(ctx context.Context, id string, enabled bool) (webhook.Webhook, error) {
	if enabled {
		return db.oneWebhook(ctx, "enable", id, `UPDATE webhooks SET disabled_at = NULL WHERE id = $1 RETURNING `+webhookColumns, id)
	}
	return db.oneWebhook(ctx, "disable", id, `UPDATE webhooks SET disabled_at = coalesce(disabled_at, now()) WHERE id = $1 RETURNING `+webhookColumns, id)
}

// RotateWebhookSecret gives the webhook a new secret and returns it; the secret it had signs
// beside the new one for webhook.RotationOverlap.
func (db *DB) RotateWebhookSecret(ctx context.Context, id string) (webhook.Webhook, error) {
	return db.oneWebhook(ctx, "rotate the secret of", id, `
UPDATE webhooks SET previous_secret = secret, previous_until = now() + make_interval(secs => $2), secret = $3
WHERE id = $1 RETURNING `+webhookColumns, id, webhook.RotationOverlap.Seconds(), webhook.NewSecret())
}

// FanOut makes deliveries of the events that came out for every enabled webhook, up to limit
// events, and returns how many it made. It reads the feed once, from the webhook furthest behind,
// and writes, in one transaction, the deliveries and each webhook's fanned_out position, which
// only ever moves on. A delivery is one per webhook and position, so however often this runs,
// and however many pumps run it at once (a retried activity beside one that has not noticed that
// it was replaced yet), an event becomes one delivery of each webhook; a read that raced another
// only makes again, to no effect, deliveries that the other made.
func (db *DB) FanOut(ctx context.Context, limit int) (int, error) {
	type target struct {
		id        string
		fannedOut int64
		types     []string
	}
	rows, _ := db.pool.Query(ctx, `SELECT id, fanned_out, types FROM webhooks WHERE disabled_at IS NULL`)
	targets, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (target, error) {
		var t target
		return t, row.Scan(&t.id, &t.fannedOut, &t.types)
	})
	if err != nil {
		return 0, translate(ctx, err, "list the webhooks to fan out to")
	}
	if len(targets) == 0 {
		return 0, nil
	}
	from := slices.MinFunc(targets, func(a, b target) int { return cmp.Compare(a.fannedOut, b.fannedOut) }).fannedOut
	page, err := db.ReadFeed(ctx, ticket.FeedFilter{After: from, Limit: limit, UpTo: ticket.VisibilityInternal})
	if err != nil {
		return 0, err
	}
	if page.Next == from {
		return 0, nil
	}
	// One batch is one round trip and one transaction. A webhook disabled or deleted since the
	// read gets no delivery, nor a new position.
	b := &pgx.Batch{}
	made := 0
	for _, t := range targets {
		if t.fannedOut >= page.Next {
			continue
		}
		for _, e := range page.Items {
			if e.Position <= t.fannedOut || len(t.types) > 0 && !slices.Contains(t.types, string(e.Event.Type)) {
				continue
			}
			did, err := uuid.NewV7()
			if err != nil {
				return 0, err
			}
			b.Queue(`INSERT INTO webhook_deliveries (id, webhook_id, position, ticket_id, seq, event_type, status, next_attempt_at, created_at, scheduled_from)
SELECT $1, id, $3, $4, $5, $6, 'pending', now(), now(), now() FROM webhooks WHERE id = $2 AND disabled_at IS NULL
ON CONFLICT (webhook_id, position) DO NOTHING`,
				did, t.id, e.Position, e.Ticket.ID, e.Event.Seq, string(e.Event.Type))
			made++
		}
		b.Queue(`UPDATE webhooks SET fanned_out = greatest(fanned_out, $2) WHERE id = $1 AND disabled_at IS NULL`, t.id, page.Next)
	}
	if err := db.pool.SendBatch(ctx, b).Close(); err != nil {
		return 0, translate(ctx, err, "fan out to the webhooks")
	}
	return made, nil
}

const deliveryColumns = `d.id, d.webhook_id, d.position, d.ticket_id, d.seq, d.event_type, d.status, d.attempts,
	d.next_attempt_at, d.created_at, d.scheduled_from`

// storedAttempt is an attempt as the delivery log keeps it, and as the API shows it.
type storedAttempt struct {
	At             time.Time `json:"at"`
	ResponseStatus *int      `json:"response_status"`
	DurationMS     float64   `json:"duration_ms"`
	Error          *string   `json:"error"`
}

func scanDelivery(row pgx.CollectableRow) (webhook.Delivery, error) {
	var d deliveryRow
	err := row.Scan(d.dest()...)
	return d.delivery(), err
}

// deliveryRow is a delivery as deliveryColumns read it.
type deliveryRow struct {
	d        webhook.Delivery
	attempts []storedAttempt
}

func (r *deliveryRow) dest() []any {
	d := &r.d
	return []any{&d.ID, &d.WebhookID, &d.Position, &d.TicketID, &d.Seq, &d.EventType, &d.Status, &r.attempts,
		&d.NextAttemptAt, &d.CreatedAt, &d.ScheduledFrom}
}

func (r *deliveryRow) delivery() webhook.Delivery {
	d := r.d
	for _, a := range r.attempts {
		at := webhook.Attempt{At: a.At.UTC(), Duration: time.Duration(a.DurationMS * float64(time.Millisecond))}
		if a.ResponseStatus != nil {
			at.Status = *a.ResponseStatus
		}
		if a.Error != nil {
			at.Error = *a.Error
		}
		d.Attempts = append(d.Attempts, at)
	}
	d.CreatedAt, d.ScheduledFrom = d.CreatedAt.UTC(), d.ScheduledFrom.UTC()
	d.NextAttemptAt = utc(d.NextAttemptAt)
	return d
}

// DueDeliveries returns up to limit deliveries whose attempt is due at now, of enabled webhooks,
// each the first pending one of its webhook and ticket, so that a ticket's events reach a
// webhook in order; the most overdue first; each with its webhook as it is now.
func (db *DB) DueDeliveries(ctx context.Context, now time.Time, limit int) ([]webhook.Due, error) {
	// The webhook's columns are read in a subquery of its own, where they need no prefix.
	rows, _ := db.pool.Query(ctx, `
SELECT `+deliveryColumns+`, w.* FROM (
	SELECT DISTINCT ON (webhook_id, ticket_id) * FROM webhook_deliveries WHERE status = 'pending'
	ORDER BY webhook_id, ticket_id, position
) AS d CROSS JOIN LATERAL (
	SELECT `+webhookColumns+` FROM webhooks WHERE id = d.webhook_id AND disabled_at IS NULL
) AS w
WHERE d.next_attempt_at <= $1
ORDER BY d.next_attempt_at, d.position LIMIT $2`, now, limit)
	due, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (webhook.Due, error) {
		var d deliveryRow
		var w webhookRow
		err := row.Scan(append(d.dest(), w.dest()...)...)
		return webhook.Due{Delivery: d.delivery(), Webhook: w.webhook()}, err
	})
	if err != nil {
		return nil, translate(ctx, err, "read the due deliveries")
	}
	return due, nil
}

// RecordAttempt adds an attempt to a pending delivery, with the status and next attempt it
// leads to. A delivery that is no longer pending (redelivered and made meanwhile, or deleted)
// is left as it is.
func (db *DB) RecordAttempt(ctx context.Context, deliveryID string, a webhook.Attempt, status webhook.Status, next *time.Time) error {
	s := storedAttempt{At: a.At.UTC(), DurationMS: float64(a.Duration.Microseconds()) / 1000}
	if a.Status != 0 {
		s.ResponseStatus = &a.Status
	}
	if a.Error != "" {
		s.Error = &a.Error
	}
	b, err := json.Marshal([]storedAttempt{s})
	if err != nil {
		return ticket.Errorf(ticket.EINTERNAL, "postgres: encode an attempt: %v", err)
	}
	if _, err := db.pool.Exec(ctx, `UPDATE webhook_deliveries SET attempts = attempts || $2::jsonb, status = $3, next_attempt_at = $4
WHERE id = $1 AND status = 'pending'`, deliveryID, b, string(status), next); err != nil {
		return translate(ctx, err, "record an attempt at delivery %s", deliveryID)
	}
	return nil
}

// ListDeliveries returns a page of a webhook's deliveries, newest first, keyed on the event's
// position; ENOTFOUND when there is no such webhook.
func (db *DB) ListDeliveries(ctx context.Context, webhookID string, p ticket.PageRequest) (ticket.Page[webhook.Delivery], error) {
	if err := checkPageRequest(p, false); err != nil {
		return ticket.Page[webhook.Delivery]{}, err
	}
	if _, err := db.Webhook(ctx, webhookID); err != nil {
		return ticket.Page[webhook.Delivery]{}, err
	}
	var q query
	q.where("d.webhook_id = " + q.arg(webhookID))
	if c := p.After; c != nil {
		q.where("d.position < " + q.arg(c.Seq))
	}
	rows, _ := db.pool.Query(ctx, `SELECT `+deliveryColumns+` FROM webhook_deliveries d`+q.whereClause()+
		` ORDER BY d.position DESC LIMIT `+q.arg(p.Limit+1), q.args...)
	items, err := pgx.CollectRows(rows, scanDelivery)
	if err != nil {
		return ticket.Page[webhook.Delivery]{}, translate(ctx, err, "list the deliveries of webhook %s", webhookID)
	}
	return newPage(items, p.Limit, func(d webhook.Delivery) ticket.Cursor { return ticket.Cursor{Seq: d.Position} }), nil
}

// Redeliver makes a webhook's delivery pending again, due now, with its retry schedule started
// anew, and returns it; ENOTFOUND when the
// webhook has no such delivery. Its receiver gets it again with the same webhook-id.
func (db *DB) Redeliver(ctx context.Context, webhookID, deliveryID string) (webhook.Delivery, error) {
	_, ok1 := parseID(webhookID)
	_, ok2 := parseID(deliveryID)
	if !ok1 || !ok2 {
		return webhook.Delivery{}, ticket.Errorf(ticket.ENOTFOUND, "webhook %q has no delivery %q", webhookID, deliveryID)
	}
	rows, _ := db.pool.Query(ctx, `UPDATE webhook_deliveries d SET status = 'pending', next_attempt_at = now(), scheduled_from = now()
WHERE d.id = $1 AND d.webhook_id = $2 RETURNING `+deliveryColumns, deliveryID, webhookID)
	d, err := pgx.CollectOneRow(rows, scanDelivery)
	if errors.Is(err, pgx.ErrNoRows) {
		return webhook.Delivery{}, ticket.Errorf(ticket.ENOTFOUND, "webhook %q has no delivery %q", webhookID, deliveryID)
	}
	if err != nil {
		return webhook.Delivery{}, translate(ctx, err, "redeliver %s", deliveryID)
	}
	return d, nil
}

// EventOut returns the event out at a position, as the feed has it; ENOTFOUND when there is none.
func (db *DB) EventOut(ctx context.Context, position int64) (ticket.OutEvent, error) {
	page, _, err := db.readFeed(ctx, ticket.FeedFilter{After: position - 1, Limit: 1, UpTo: ticket.VisibilityInternal})
	if err != nil {
		return ticket.OutEvent{}, err
	}
	if len(page.Items) == 0 || page.Items[0].Position != position {
		return ticket.OutEvent{}, ticket.Errorf(ticket.ENOTFOUND, "no event out at %d", position)
	}
	return page.Items[0], nil
}

// PendingDeliveries counts the pending deliveries of each webhook; a webhook with none is left out.
func (db *DB) PendingDeliveries(ctx context.Context) (map[string]int, error) {
	rows, err := db.pool.Query(ctx, `SELECT webhook_id::text, count(*) FROM webhook_deliveries WHERE status = 'pending' GROUP BY webhook_id`)
	if err != nil {
		return nil, translate(ctx, err, "count the pending deliveries")
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var id string
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return nil, translate(ctx, err, "count the pending deliveries")
		}
		out[id] = n
	}
	if err := rows.Err(); err != nil {
		return nil, translate(ctx, err, "count the pending deliveries")
	}
	return out, nil
}
