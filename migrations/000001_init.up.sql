-- The durable record of tickets. The workflow of each ticket is its single writer; these tables
-- are what listings, the audit trail and cache misses read. Every write is idempotent (see
-- internal/store/postgres), so the constraints below guard against bugs, not against races.
BEGIN;

CREATE TABLE tickets (
    id               uuid        PRIMARY KEY,
    title            text        NOT NULL,
    description      text        NOT NULL DEFAULT '',
    status           text        NOT NULL CHECK (status IN ('open', 'answered', 'awaiting', 'closed')),
    priority         text        NOT NULL CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
    requester        text        NOT NULL DEFAULT '',
    escalation_level integer     NOT NULL DEFAULT 0 CHECK (escalation_level >= 0),
    comments_count   integer     NOT NULL DEFAULT 0 CHECK (comments_count >= 0),
    -- version orders the writes of one ticket: an upsert only replaces a row of lower version,
    -- so a retried or late activity can never roll a ticket back.
    version          bigint      NOT NULL CHECK (version >= 1),
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    closed_at        timestamptz,
    close_reason     text,
    -- closed is final and always says when; no other status has a closing time.
    CONSTRAINT tickets_closed_at_iff_closed CHECK ((status = 'closed') = (closed_at IS NOT NULL))
);

-- The listing is newest first with keyset pagination on (created_at, id), optionally filtered by
-- status, priority or both. Each filter gets an index whose equality columns come first, so that
-- every page is one index range scan that stops after limit+1 rows, however old the page is.
-- status and priority have only four values each: an index on one cannot serve a filter on the
-- other without reading and discarding most of the rows, hence four indexes rather than fewer.
CREATE INDEX tickets_created_idx          ON tickets (created_at DESC, id DESC);
CREATE INDEX tickets_status_created_idx   ON tickets (status, created_at DESC, id DESC);
CREATE INDEX tickets_priority_created_idx ON tickets (priority, created_at DESC, id DESC);
CREATE INDEX tickets_status_priority_created_idx
    ON tickets (status, priority, created_at DESC, id DESC);

CREATE TABLE comments (
    -- The caller chooses the id, so that a retried write finds the comment it already wrote.
    id         uuid        PRIMARY KEY,
    ticket_id  uuid        NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    body       text        NOT NULL,
    author     text        NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL
);

-- A ticket's comments, oldest first, with keyset pagination on (created_at, id).
CREATE INDEX comments_ticket_created_idx ON comments (ticket_id, created_at, id);

CREATE TABLE ticket_events (
    ticket_id   uuid        NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    -- seq numbers a ticket's events from 1 with no gaps; the primary key makes writing an event
    -- twice a no-op and serves the audit trail in order.
    seq         bigint      NOT NULL CHECK (seq >= 1),
    type        text        NOT NULL,
    from_status text        CHECK (from_status IN ('open', 'answered', 'awaiting', 'closed')),
    to_status   text        CHECK (to_status IN ('open', 'answered', 'awaiting', 'closed')),
    actor       text        NOT NULL DEFAULT '',
    data        jsonb       NOT NULL DEFAULT '{}',
    at          timestamptz NOT NULL,
    PRIMARY KEY (ticket_id, seq)
);

COMMIT;
