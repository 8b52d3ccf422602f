-- The working surface of a helpdesk: the group a ticket is queued for, who works it, its tags, its
-- internal notes and when it was first answered; and the visibility of each comment. Every
-- existing row gets the default, which is what a ticket from before these had: the default group,
-- nobody assigned, no tags, no internal note, no first response recorded, every comment public.
--
-- The column is group_name, not "group": GROUP is a reserved word, and a name that needs no
-- quotes cannot be written wrong in a query.
--
-- Safe on a large, busy table. golang-migrate's pgx v5 driver sends this file as one query string
-- (the simple protocol), in no transaction of its own; the string's BEGIN ... COMMIT split it into
-- transactions, one per step below (and per index), so that no lock is held longer than its step
-- needs:
--
-- 1. The columns. ADD COLUMN with a constant default changes only the catalog (PostgreSQL 11+),
--    so the ACCESS EXCLUSIVE lock it takes lasts a moment. A CHECK constraint added with the
--    column would have every row read under that lock to check it; it is added NOT VALID instead,
--    which new and updated rows must keep from then on.
-- 2. The constraints validated: reading every row, under a SHARE UPDATE EXCLUSIVE lock, which lets
--    reads and writes go on.
-- 3. The indexes, one transaction each. CREATE INDEX takes a SHARE lock: reads go on, writes
--    (Persist) wait until the index is built. CONCURRENTLY, which would let them go on, is not
--    possible here: PostgreSQL refuses it in a transaction block and in a string of several
--    statements. It could only be the sole statement of a file of its own, and even so it would
--    fail when it matters: golang-migrate holds its advisory lock (pg_advisory_lock) while it
--    migrates, and every binary migrates on start, so another one waits for that lock in a
--    statement that holds a snapshot; the concurrent build waits for that snapshot to go, the
--    other waits for the lock, and PostgreSQL ends the deadlock by cancelling one of them: that
--    binary fails to start, or the build fails, leaving an invalid index and a dirty schema
--    version. A write that waits for the plain build is a Persist activity, which Temporal
--    retries should it time out: nothing is lost, a ticket's record only lags. Where even that is
--    too long, build the indexes beforehand, by hand, with CREATE INDEX CONCURRENTLY and the names
--    below (and check pg_index.indisvalid, since a failed concurrent build leaves an invalid
--    index): IF NOT EXISTS then skips them.
--
-- Every step may run again, so that after a failure in step 2 or 3 (the ones before it stay
-- committed), `migrate force 4` and migrating up again finishes the job.

BEGIN;

ALTER TABLE tickets
    ADD COLUMN IF NOT EXISTS group_name           text        NOT NULL DEFAULT 'support',
    -- NULL while nobody works the ticket: never ''.
    ADD COLUMN IF NOT EXISTS assignee             text,
    -- Distinct, normalized and sorted, as the domain keeps them.
    ADD COLUMN IF NOT EXISTS tags                 text[]      NOT NULL DEFAULT '{}',
    -- Internal notes, which comments_count leaves out.
    ADD COLUMN IF NOT EXISTS internal_notes_count integer     NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS first_responded_at   timestamptz,
    -- Dropped first so that this step can run again; a constraint added NOT VALID costs nothing.
    DROP CONSTRAINT IF EXISTS tickets_group_name_check,
    DROP CONSTRAINT IF EXISTS tickets_assignee_check,
    DROP CONSTRAINT IF EXISTS tickets_tags_check,
    DROP CONSTRAINT IF EXISTS tickets_internal_notes_count_check,
    ADD CONSTRAINT tickets_group_name_check CHECK (group_name <> '') NOT VALID,
    ADD CONSTRAINT tickets_assignee_check CHECK (assignee <> '') NOT VALID,
    -- At most 20, and no NULL among them.
    ADD CONSTRAINT tickets_tags_check
        CHECK (cardinality(tags) <= 20 AND array_position(tags, NULL) IS NULL) NOT VALID,
    ADD CONSTRAINT tickets_internal_notes_count_check CHECK (internal_notes_count >= 0) NOT VALID;

ALTER TABLE comments
    -- Who may read the comment: public is the conversation with the requester, internal is a note
    -- for agents only.
    ADD COLUMN IF NOT EXISTS visibility text NOT NULL DEFAULT 'public',
    DROP CONSTRAINT IF EXISTS comments_visibility_check,
    ADD CONSTRAINT comments_visibility_check CHECK (visibility IN ('public', 'internal')) NOT VALID;

COMMIT;

BEGIN;

ALTER TABLE tickets VALIDATE CONSTRAINT tickets_group_name_check;
ALTER TABLE tickets VALIDATE CONSTRAINT tickets_assignee_check;
ALTER TABLE tickets VALIDATE CONSTRAINT tickets_tags_check;
ALTER TABLE tickets VALIDATE CONSTRAINT tickets_internal_notes_count_check;
ALTER TABLE comments VALIDATE CONSTRAINT comments_visibility_check;

COMMIT;

-- The listing filtered by assignee, newest first, as the listing's other filters are (see
-- 000001_init): one index range scan per page.
BEGIN;
CREATE INDEX IF NOT EXISTS tickets_assignee_created_idx ON tickets (assignee, created_at DESC, id DESC);
COMMIT;

-- The unassigned tickets, newest first. The index above holds them too, but the planner takes
-- only an equality for a leading column that leaves the rest in order, never IS NULL: it would
-- sort every unassigned ticket for each page, or read the whole listing for them. This one is in
-- the listing's order and holds those tickets alone.
BEGIN;
CREATE INDEX IF NOT EXISTS tickets_unassigned_created_idx ON tickets (created_at DESC, id DESC)
    WHERE assignee IS NULL;
COMMIT;

-- The listing filtered by group, newest first.
BEGIN;
CREATE INDEX IF NOT EXISTS tickets_group_created_idx ON tickets (group_name, created_at DESC, id DESC);
COMMIT;

-- The listing filtered by tags (tags @> the filter's): GIN finds the tickets that have them all.
-- It cannot give them in order: the page is sorted from what it finds, which is what a tag that few
-- tickets have needs; a tag that most have is left to tickets_created_idx, as the planner decides.
BEGIN;
CREATE INDEX IF NOT EXISTS tickets_tags_idx ON tickets USING gin (tags);
COMMIT;
