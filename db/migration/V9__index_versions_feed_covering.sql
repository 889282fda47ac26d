-- The change feed's index, carrying every column a change event needs (and the write time the
-- retention scan reads), so a feed page, a watch or a retention pass reads the index alone: no
-- lookup of each version row (which on CockroachDB also reads the up to 64 KiB payload stored
-- beside it). Key columns rather than INCLUDE / STORING, which only one of
-- the two databases knows. Replaces document_versions_by_revision (V5, dropped by V10).
CREATE INDEX IF NOT EXISTS document_versions_feed
    ON document_versions (shard, revision, kind, id, version, status, content_hash, updated_at);
