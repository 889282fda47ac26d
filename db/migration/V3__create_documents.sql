-- The head of every document: its latest version. One row per (kind, id); no payload.
CREATE TABLE IF NOT EXISTS documents (
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    version BIGINT NOT NULL,
    revision BIGINT NOT NULL,
    status TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    PRIMARY KEY (kind, id)
);
