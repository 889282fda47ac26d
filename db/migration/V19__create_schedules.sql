-- Scheduled batches (limited-time events). status: PENDING, then APPLIED (revision set),
-- FAILED (problem set: RFC 9457 JSON) or CANCELLED. writes: the batch as POST /batches takes it.
-- An applied schedule's versions carry updated_by = created_by and request_id = id.
CREATE TABLE IF NOT EXISTS schedules (
    id TEXT NOT NULL PRIMARY KEY,
    apply_at TIMESTAMPTZ NOT NULL,
    status TEXT NOT NULL,
    description TEXT NOT NULL,
    writes TEXT NOT NULL,
    write_count BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    request_id TEXT NOT NULL,
    idempotency_key TEXT,
    request_hash TEXT NOT NULL,
    revision BIGINT,
    problem TEXT,
    finished_at TIMESTAMPTZ,
    finished_by TEXT
);
