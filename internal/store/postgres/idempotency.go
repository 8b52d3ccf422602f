package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ticketflow/ticketflow/internal/idempotency"
	"github.com/ticketflow/ticketflow/internal/ticket"
)

// Claim stores rec unless its scope and key are taken, and returns the record that holds them.
// Keys older than the TTL (see SetIdempotencyTTL) count as free: the claim replaces an expired
// record, whether or not the sweep has deleted it yet. Two requests that claim one key at once
// both get the record of the first.
func (db *DB) Claim(ctx context.Context, rec idempotency.Record) (idempotency.Record, error) {
	const claim = `
INSERT INTO idempotency_keys (scope, key, request_hash, resource_id)
VALUES ($1, $2, $3, $4)
ON CONFLICT (scope, key) DO UPDATE SET
	request_hash = EXCLUDED.request_hash, resource_id = EXCLUDED.resource_id,
	status = NULL, headers = NULL, body = NULL, created_at = now()
WHERE idempotency_keys.created_at < now() - make_interval(secs => $5)
RETURNING request_hash, resource_id::text, status, headers, body`
	const read = `
SELECT request_hash, resource_id::text, status, headers, body
FROM idempotency_keys WHERE scope = $1 AND key = $2`
	ttl := db.IdempotencyTTL().Seconds()
	out := idempotency.Record{Scope: rec.Scope, Key: rec.Key}
	var status *int
	var header []byte
	var body []byte
	var err error
	// A second round only when the record that kept the key was swept between the two statements:
	// the key is free then, and the claim's insert takes it.
	for range 2 {
		row := db.pool.QueryRow(ctx, claim, rec.Scope, rec.Key, rec.RequestHash, rec.ResourceID, ttl)
		err = row.Scan(&out.RequestHash, &out.ResourceID, &status, &header, &body)
		if !errors.Is(err, pgx.ErrNoRows) {
			break
		}
		// Taken by a live record: the conflict's WHERE kept it, so read it.
		err = db.pool.QueryRow(ctx, read, rec.Scope, rec.Key).Scan(&out.RequestHash, &out.ResourceID, &status, &header, &body)
		if !errors.Is(err, pgx.ErrNoRows) {
			break
		}
	}
	if err != nil {
		return idempotency.Record{}, translate(ctx, err, "claim idempotency key")
	}
	if status != nil {
		resp := idempotency.Response{Status: *status, Body: body}
		if err := json.Unmarshal(header, &resp.Header); err != nil {
			return idempotency.Record{}, fmt.Errorf("postgres: idempotency key headers: %w", err)
		}
		out.Response = &resp
	}
	return out, nil
}

// SetIdempotencyTTL sets how long Claim remembers a key (IDEMPOTENCY_TTL). Until it is called, or
// with a ttl that is not positive, it is idempotency.TTL. It is safe to call at any time.
func (db *DB) SetIdempotencyTTL(ttl time.Duration) {
	db.idempotencyTTL.Store(int64(max(ttl, 0)))
}

// IdempotencyTTL is how long Claim remembers a key.
func (db *DB) IdempotencyTTL() time.Duration {
	if ttl := time.Duration(db.idempotencyTTL.Load()); ttl > 0 {
		return ttl
	}
	return idempotency.TTL
}

// DeleteExpiredIdempotencyKeys deletes at most limit keys older than ttl, oldest first, and
// returns how many it deleted: the sweep calls it until it deletes fewer than limit. Each call is
// one short statement, so the sweep never holds many rows locked, and rows that a claim holds at
// that moment are left for the next call.
func (db *DB) DeleteExpiredIdempotencyKeys(ctx context.Context, ttl time.Duration, limit int) (int64, error) {
	if ttl <= 0 || limit <= 0 {
		// Either would be a bug in the caller; a ttl of zero would delete every key.
		return 0, fmt.Errorf("postgres: delete expired idempotency keys: ttl %s and limit %d must be positive", ttl, limit)
	}
	tag, err := db.pool.Exec(ctx, `
DELETE FROM idempotency_keys k
USING (
	SELECT scope, key FROM idempotency_keys
	WHERE created_at < now() - make_interval(secs => $1)
	ORDER BY created_at
	LIMIT $2
	FOR UPDATE SKIP LOCKED
) expired
WHERE k.scope = expired.scope AND k.key = expired.key`, ttl.Seconds(), limit)
	if err != nil {
		return 0, translate(ctx, err, "delete expired idempotency keys")
	}
	return tag.RowsAffected(), nil
}

// Complete stores the first outcome of a key's request; an outcome already there is kept.
func (db *DB) Complete(ctx context.Context, scope, key string, resp idempotency.Response) error {
	header, err := json.Marshal(resp.Header)
	if err != nil {
		return fmt.Errorf("postgres: idempotency key headers: %w", err)
	}
	_, err = db.pool.Exec(ctx, `
UPDATE idempotency_keys SET status = $3, headers = $4, body = $5
WHERE scope = $1 AND key = $2 AND status IS NULL`, scope, key, resp.Status, header, resp.Body)
	if err != nil {
		return translate(ctx, err, "complete idempotency key")
	}
	return nil
}

// AppliedChange reports whether the request requestID changed the ticket, as its events record,
// and returns the ticket as it is now with the comment the request added, if any. It lets a retry
// that finds the ticket's workflow completed answer as the first request was answered.
func (db *DB) AppliedChange(ctx context.Context, ticketID, requestID string) (ticket.Change, bool, error) {
	tid, ok := parseID(ticketID)
	if !ok || requestID == "" {
		return ticket.Change{}, false, nil
	}
	var commentID *string
	err := db.pool.QueryRow(ctx, `
SELECT max(data->>'comment_id') FROM ticket_events
WHERE ticket_id = $1 AND data->>'request_id' = $2
HAVING count(*) > 0`, tid, requestID).Scan(&commentID)
	if errors.Is(err, pgx.ErrNoRows) {
		return ticket.Change{}, false, nil
	}
	if err != nil {
		return ticket.Change{}, false, translate(ctx, err, "find request %s of ticket %s", requestID, tid)
	}
	t, err := db.Ticket(ctx, ticketID)
	if err != nil {
		return ticket.Change{}, false, err
	}
	ch := ticket.Change{Ticket: t}
	if commentID != nil {
		rows, _ := db.pool.Query(ctx, `SELECT `+commentColumns+` FROM comments WHERE id = $1`, *commentID)
		c, err := pgx.CollectOneRow(rows, scanComment)
		if err != nil {
			return ticket.Change{}, false, translate(ctx, err, "read comment %s", *commentID)
		}
		ch.Comment = &c
	}
	return ch, true, nil
}
