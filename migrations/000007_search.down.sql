-- Undoes 000007_search. Dropping a column, generated or not, changes only the catalog, so this is
-- quick whatever the size of the tables; nothing is lost that the text does not hold, and up
-- computes it again (rewriting the tables once more). Searching needs the columns: run this only
-- with binaries that do not search.
BEGIN;

DROP INDEX IF EXISTS comments_search_idx;
DROP INDEX IF EXISTS tickets_search_idx;

ALTER TABLE comments DROP COLUMN IF EXISTS search;
ALTER TABLE tickets DROP COLUMN IF EXISTS search;

COMMIT;
