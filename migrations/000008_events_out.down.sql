-- Undoes 000008_events_out: the feed's rows go; the audit trail keeps every event.
DROP TABLE IF EXISTS events_out;
