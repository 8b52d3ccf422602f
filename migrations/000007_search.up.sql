-- Full-text search over a ticket's title, description and comments (GET /tickets?q=), with
-- PostgreSQL's own text search in the 'english' configuration: words are stemmed (printers finds
-- printer) and stop words dropped. Each table gets its text's vector as a STORED generated
-- column, which PostgreSQL computes on every write of the row and which can never disagree with
-- the text, and a GIN index on it, which finds the rows whose vector matches a query.
--
-- The ticket's vector weighs its title A and its description B; a comment's is weight C. ts_rank
-- counts a match of weight A 1.0, B 0.4, C 0.2 (its default weights), so a word in the title ranks
-- above the same word in the description, and that above it in a comment (see SearchTickets).
-- to_tsvector with a configuration named as a constant is immutable, as a generated column needs.
--
-- Run as 000005_helpdesk explains: golang-migrate's pgx v5 driver sends the file as one string in
-- no transaction of its own, and each BEGIN ... COMMIT below is a step of its own:
--
-- 1. The columns, one table at a time. Unlike the columns of the migrations before, adding a
--    STORED generated column REWRITES THE TABLE ONCE: every row is read, its vector computed and
--    the row written anew, with every index of the table rebuilt, all under the ACCESS EXCLUSIVE
--    lock of ALTER TABLE, which holds up reads as well as writes until it is done. It takes time
--    in proportion to the table's size (text is at most 20,000 characters a field, see package
--    ticket), and the rewrite needs the disk space of a second copy of the table meanwhile. Run
--    it when the helpdesk is quiet; Persist activities that wait meanwhile are retried by
--    Temporal, and listings fail with EUNAVAILABLE or ETIMEOUT until the lock goes. (A plain
--    column filled in batches by hand, with a trigger, would avoid the lock but could drift from
--    the text; for a table that the rewrite would hold too long, that is the way to go.)
-- 2. The indexes, one transaction each, plain CREATE INDEX under a SHARE lock: reads go on,
--    Persist waits until the index is built (why not CONCURRENTLY, and how to build them by hand
--    beforehand, is in 000005_helpdesk). From then on every write of a ticket adds its vector's
--    words to tickets_search_idx: no update of a ticket is HOT since 000006_sla, and GIN takes
--    them into its pending list (fastupdate), which is merged later in bulk. Comments are written
--    once.
--
-- Every step may run again, so that after a failure (the steps before it stay committed),
-- `migrate force 6` and migrating up again finishes the job.

BEGIN;
ALTER TABLE tickets ADD COLUMN IF NOT EXISTS search tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('english', title), 'A') || setweight(to_tsvector('english', description), 'B')
) STORED;
COMMIT;

BEGIN;
ALTER TABLE comments ADD COLUMN IF NOT EXISTS search tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('english', body), 'C')
) STORED;
COMMIT;

-- The tickets whose title or description matches.
BEGIN;
CREATE INDEX IF NOT EXISTS tickets_search_idx ON tickets USING gin (search);
COMMIT;

-- The comments that match, and through their ticket_id the tickets they are on.
BEGIN;
CREATE INDEX IF NOT EXISTS comments_search_idx ON comments USING gin (search);
COMMIT;
