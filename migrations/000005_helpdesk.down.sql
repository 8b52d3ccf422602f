-- Undoes 000005_helpdesk. Dropping a column changes only the catalog, so this is quick whatever
-- the size of the tables; what the columns held is lost.
--
-- The schema before this one knows no internal notes: without the visibility column, every note
-- would read as a public comment that the requester sees. So this refuses while there is one;
-- delete the internal notes (and their commented events), or keep this schema.
BEGIN;

DO $$
BEGIN
    IF EXISTS (SELECT FROM comments WHERE visibility = 'internal') THEN
        RAISE EXCEPTION 'internal notes exist: without 000005_helpdesk they would read as public comments';
    END IF;
END $$;

DROP INDEX IF EXISTS tickets_tags_idx;
DROP INDEX IF EXISTS tickets_group_created_idx;
DROP INDEX IF EXISTS tickets_unassigned_created_idx;
DROP INDEX IF EXISTS tickets_assignee_created_idx;

-- A column's constraints go with it.
ALTER TABLE comments DROP COLUMN IF EXISTS visibility;

ALTER TABLE tickets
    DROP COLUMN IF EXISTS first_responded_at,
    DROP COLUMN IF EXISTS internal_notes_count,
    DROP COLUMN IF EXISTS tags,
    DROP COLUMN IF EXISTS assignee,
    DROP COLUMN IF EXISTS group_name;

COMMIT;
