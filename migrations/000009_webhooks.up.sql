-- Webhooks: subscriptions to the events out (000008_events_out), managed by admins, and the
-- deliveries made to them. The events of the feed become deliveries of each matching webhook in
-- the transaction that moves the webhook's fanned_out position past them, so each event becomes
-- one delivery per webhook however often that step is retried; the deliveries are then made and
-- retried by the webhook pump, which Temporal runs (workflows/webhooks.go).
--
-- New, empty tables: quick whatever the size of the others.
BEGIN;

CREATE TABLE IF NOT EXISTS webhooks (
    id              uuid        PRIMARY KEY,
    url             text        NOT NULL,
    -- The event types it gets, without the "ticket." of the events out; none for every type.
    types           text[]      NOT NULL DEFAULT '{}',
    description     text        NOT NULL DEFAULT '',
    -- The secret that signs its deliveries, and the one it replaced, which signs beside it until
    -- previous_until, so that receivers can change over without losing a delivery.
    secret          text        NOT NULL,
    previous_secret text,
    previous_until  timestamptz,
    created_at      timestamptz NOT NULL,
    disabled_at     timestamptz,
    -- Every event of the feed up to this position has become its delivery, or did not match.
    fanned_out      bigint      NOT NULL
);

CREATE TABLE IF NOT EXISTS webhook_deliveries (
    id              uuid        PRIMARY KEY,
    webhook_id      uuid        NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    -- The event's place in the feed, and what it is.
    position        bigint      NOT NULL,
    ticket_id       uuid        NOT NULL,
    seq             bigint      NOT NULL,
    event_type      text        NOT NULL,
    status          text        NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    -- Each attempt: {at, response_status, duration_ms, error}, oldest first.
    attempts        jsonb       NOT NULL DEFAULT '[]',
    -- When a pending delivery's next attempt is due; NULL once it is done.
    next_attempt_at timestamptz,
    created_at      timestamptz NOT NULL,
    -- Where its retry schedule starts: its creation, or its last redelivery.
    scheduled_from  timestamptz NOT NULL,
    UNIQUE (webhook_id, position),
    CONSTRAINT webhook_deliveries_due_iff_pending CHECK ((status = 'pending') = (next_attempt_at IS NOT NULL))
);

-- The pending deliveries of each webhook and ticket, in order: the head of each is the next to
-- make, and none after it is made before it is done.
CREATE INDEX IF NOT EXISTS webhook_deliveries_pending_idx
    ON webhook_deliveries (webhook_id, ticket_id, position) WHERE status = 'pending';
-- The delivery log of a webhook, newest first.
CREATE INDEX IF NOT EXISTS webhook_deliveries_log_idx ON webhook_deliveries (webhook_id, position DESC);

COMMIT;
