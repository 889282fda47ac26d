-- The change feed's index (V9's document_versions_feed, dropped by V30) with each version's prior
-- revision, status and zone (V28) as its last key columns, so that a listing filtered at a revision
-- reads what each document written since was then from the index alone, without looking its
-- version up.
CREATE INDEX IF NOT EXISTS document_versions_changes
    ON document_versions (shard, revision, kind, id, version, status, content_hash, updated_at,
                          prior_revision, prior_status, prior_zone);
