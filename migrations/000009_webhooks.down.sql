-- Undoes 000009_webhooks: the webhooks and their delivery log go.
BEGIN;
DROP TABLE IF EXISTS webhook_deliveries;
DROP TABLE IF EXISTS webhooks;
COMMIT;
