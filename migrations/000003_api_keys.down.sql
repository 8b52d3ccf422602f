BEGIN;
DROP INDEX IF EXISTS tickets_requester_created_idx;
DROP TABLE IF EXISTS api_keys;
DROP FUNCTION IF EXISTS api_keys_notify();
COMMIT;
