-- A ticket's timers as the listing sees them: when the first-response SLA escalates the open ticket
-- next (first_response_due_at), when the answered or awaiting ticket closes by itself
-- (auto_close_at), and when the SLA first escalated it (sla_breached_at). The workflow stamps the
-- first two on every change from the timer it holds, NULL while that timer does not run; the third
-- is set once and kept. Every existing row gets NULL: its due times appear with its next change,
-- and no ticket from before this one is known to have been escalated by the SLA.
--
-- No CHECK ties the due times to the status, though the workflow writes them that way: while the
-- binaries roll out, an older worker's upsert, which knows none of these columns, leaves them as
-- they are while it changes the status (an answered ticket keeps the first_response_due_at of its
-- open days, a closed one its auto_close_at), and such a check would refuse that write for good,
-- where the stale value harms nothing: the breached listing asks for an open ticket, and the next
-- write of a newer worker puts the row right. For the same reason sla_breached_at is not tied to
-- escalation_level.
--
-- Run as 000005_helpdesk explains: golang-migrate's pgx v5 driver sends the file as one string in
-- no transaction of its own, and each BEGIN ... COMMIT below is a step that holds its lock no
-- longer than it needs:
--
-- 1. The columns: nullable, no default, so only the catalog changes, under a lock that lasts a
--    moment. Having no constraint, there is nothing to validate.
-- 2. The indexes, one transaction each, plain CREATE INDEX under a SHARE lock: reads go on, a
--    Persist waits until the index is built, and Temporal retries it should it time out (why not
--    CONCURRENTLY, and how to build them by hand beforehand, is in 000005_helpdesk). Partial
--    indexes hold only the few tickets their listing asks for, so that keeping them costs the
--    writes of the others nothing. The one on updated_at is the exception, and the price of its
--    sorts: every change moves updated_at, so no update of a ticket is HOT from then on and each
--    writes an entry into every index of the table.
--
-- Every step may run again, so that after a failure (the steps before it stay committed),
-- `migrate force 5` and migrating up again finishes the job.

BEGIN;

ALTER TABLE tickets
    ADD COLUMN IF NOT EXISTS first_response_due_at timestamptz,
    ADD COLUMN IF NOT EXISTS auto_close_at         timestamptz,
    ADD COLUMN IF NOT EXISTS sla_breached_at       timestamptz;

COMMIT;

-- The listing by updates, most recent first (sort=-updated_at) or oldest first (sort=updated_at,
-- the same index backwards), as tickets_created_idx serves it by creation: one index range scan
-- per page, its cursor and an updated-after bound in the index condition.
BEGIN;
CREATE INDEX IF NOT EXISTS tickets_updated_idx ON tickets (updated_at DESC, id DESC);
COMMIT;

-- The escalated tickets, newest (or oldest) first. escalation_level > 0 is no equality the
-- planner can lead an index with; this one is in the listing's order and holds those tickets
-- alone, as tickets_unassigned_created_idx does. The never escalated are most tickets: the listing
-- reads them from tickets_created_idx.
BEGIN;
CREATE INDEX IF NOT EXISTS tickets_escalated_created_idx ON tickets (created_at DESC, id DESC)
    WHERE escalation_level > 0;
COMMIT;

-- The breached tickets: open past their first_response_due_at, or ever escalated by the SLA. A
-- due time compared with now() can be no index's predicate, so this is two partial indexes that
-- the planner combines (BitmapOr) and the page is sorted from what they find: few tickets, where
-- SLAs are met. The first holds the open tickets whose SLA timer runs, by due time, and finds
-- those past it with one range; the second holds the tickets the SLA escalated, in the listing's
-- order, so that the cursor and the creation bounds narrow it too.
BEGIN;
CREATE INDEX IF NOT EXISTS tickets_first_response_due_idx ON tickets (first_response_due_at)
    WHERE status = 'open' AND first_response_due_at IS NOT NULL;
COMMIT;

BEGIN;
CREATE INDEX IF NOT EXISTS tickets_sla_breached_created_idx ON tickets (created_at DESC, id DESC)
    WHERE sla_breached_at IS NOT NULL;
COMMIT;
