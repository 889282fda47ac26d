-- Outgoing references of the current ACTIVE version of each document, keyed by the referenced
-- document so that "who still references X" is one prefix scan.
CREATE TABLE IF NOT EXISTS document_references (
    ref_kind TEXT NOT NULL,
    ref_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    PRIMARY KEY (ref_kind, ref_id, kind, id)
);
