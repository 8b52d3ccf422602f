-- Secrets that every process of one installation must share, made by the first process that needs
-- one: the key that signs the listings' cursors, unless the configuration gives one.
CREATE TABLE secrets (
    name       text        PRIMARY KEY,
    value      bytea       NOT NULL CHECK (length(value) >= 32),
    created_at timestamptz NOT NULL DEFAULT now()
);
