-- Idempotency keys of POST requests. Temporal already makes a retried change apply once while its
-- workflow runs (the update ID is derived from the key); this table keeps what Temporal cannot:
-- the first outcome to replay to a retry, the request's fingerprint to refuse a reused key, and
-- the IDs the request's effect was given, across API restarts and after the workflow completed.
BEGIN;

CREATE TABLE idempotency_keys (
    -- scope is the API key, the method and the path: a key is scoped per client, endpoint and ticket.
    scope        text        NOT NULL,
    key          text        NOT NULL,
    request_hash bytea       NOT NULL,
    -- resource_id is the ID the request's effect gets (the new ticket's or the comment's), chosen
    -- when the key is first seen so that every retry targets the same one.
    resource_id  uuid        NOT NULL,
    -- The first outcome, NULL while the request is in flight or its outcome is not known.
    status       integer,
    headers      jsonb,
    body         bytea,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, key)
);

-- Expired keys are deleted by age.
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);

COMMIT;
