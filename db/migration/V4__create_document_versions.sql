-- Every version of every document, immutable once written. Each row is also the change event
-- of its revision (UPSERTED when ACTIVE, RETIRED when RETIRED). payload is the canonical JSON text.
-- shard spreads the revision index over 16 ranges, so no index leads with a monotonic key.
CREATE TABLE IF NOT EXISTS document_versions (
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    version BIGINT NOT NULL,
    revision BIGINT NOT NULL,
    status TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    zone TEXT,
    payload TEXT NOT NULL,
    shard BIGINT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    updated_by TEXT NOT NULL,
    request_id TEXT,
    PRIMARY KEY (kind, id, version)
);
