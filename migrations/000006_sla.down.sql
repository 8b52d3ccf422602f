-- Undoes 000006_sla. Dropping a column changes only the catalog, so this is quick whatever the
-- size of the table. The due times are lost only until each ticket's next change, when the
-- workflow stamps them again (should the schema come back); when the SLA escalated a ticket is
-- lost for good, though the audit trail still holds the escalation (reason first_response_sla).
-- Nothing becomes visible that was not, so unlike 000005_helpdesk's this never refuses.
BEGIN;

DROP INDEX IF EXISTS tickets_sla_breached_created_idx;
DROP INDEX IF EXISTS tickets_first_response_due_idx;
DROP INDEX IF EXISTS tickets_escalated_created_idx;
DROP INDEX IF EXISTS tickets_updated_idx;

ALTER TABLE tickets
    DROP COLUMN IF EXISTS sla_breached_at,
    DROP COLUMN IF EXISTS auto_close_at,
    DROP COLUMN IF EXISTS first_response_due_at;

COMMIT;
