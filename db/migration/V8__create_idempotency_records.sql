-- The first result of every batch written with an Idempotency-Key; a replay returns it.
CREATE TABLE IF NOT EXISTS idempotency_records (
    idempotency_key TEXT NOT NULL PRIMARY KEY,
    request_hash TEXT NOT NULL,
    revision BIGINT NOT NULL,
    results TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
