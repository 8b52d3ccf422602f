-- Events out: every audit event recorded from now on is also an event of the feed
-- (GET /events), the stream and the webhooks, in one global order. A row here is written by
-- Persist in the same transaction as its ticket_events row, so an event is out exactly when its
-- change is stored; the row adds what the feed needs beside the event: its place in the order,
-- the ticket as the change left it, and what says who may read it.
--
-- position orders the feed. It is the writing transaction's ID (pg_current_xact_id) times 65,536
-- plus the event's index in its change, so that a reader can tell which positions are settled:
-- every transaction whose ID is below the reader's snapshot's xmin has ended, and every one that
-- has not will write positions above xmin * 65,536. The feed shows only settled positions (see
-- ReadFeed), and so never shows an event after one that it would show later: no reader misses an
-- event for a transaction that committed late. A sequence could not promise that: its numbers are
-- taken in one order and committed in another.
--
-- The events recorded before this migration stay in each ticket's audit trail; the feed starts
-- here, since what the ticket was after each of them is not kept anywhere.
--
-- A new, empty table and its indexes: quick whatever the size of the others.
BEGIN;

CREATE TABLE IF NOT EXISTS events_out (
    position   bigint      PRIMARY KEY,
    ticket_id  uuid        NOT NULL,
    seq        bigint      NOT NULL,
    type       text        NOT NULL,
    at         timestamptz NOT NULL,
    -- Who may read it: the ticket's requester (a customer reads their own tickets' events), and
    -- whether it records an internal note (which no customer reads).
    requester  text        NOT NULL,
    internal   boolean     NOT NULL,
    -- The comment the event records, if any.
    comment_id uuid,
    -- The ticket after the change, as internal/wire writes it.
    ticket     jsonb       NOT NULL,
    UNIQUE (ticket_id, seq),
    FOREIGN KEY (ticket_id, seq) REFERENCES ticket_events (ticket_id, seq) ON DELETE CASCADE
);

-- The feed of one ticket (ticket=) and of one customer's tickets, in order.
CREATE INDEX IF NOT EXISTS events_out_ticket_idx ON events_out (ticket_id, position);
CREATE INDEX IF NOT EXISTS events_out_requester_idx ON events_out (requester, position);

COMMIT;
