-- API keys. Only a hash of each secret is stored: the secret is shown once, when the key is made.
BEGIN;

CREATE TABLE api_keys (
    id         uuid        PRIMARY KEY,
    name       text        NOT NULL UNIQUE,
    role       text        NOT NULL CHECK (role IN ('agent', 'customer', 'automation', 'admin')),
    -- subject is the requester a customer key acts for; every customer key has one.
    subject    text        NOT NULL DEFAULT '',
    key_hash   bytea       NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz,
    CONSTRAINT api_keys_customer_subject CHECK (role <> 'customer' OR subject <> '')
);

-- Every API process keeps the keys it checked in memory; a revocation tells them all at once.
CREATE FUNCTION api_keys_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('api_keys_changed', NEW.id::text);
    RETURN NEW;
END $$;

CREATE TRIGGER api_keys_changed AFTER UPDATE ON api_keys
    FOR EACH ROW EXECUTE FUNCTION api_keys_notify();

-- A customer's listing is filtered by requester, newest first.
CREATE INDEX tickets_requester_created_idx ON tickets (requester, created_at DESC, id DESC);

COMMIT;
