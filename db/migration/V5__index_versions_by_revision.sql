CREATE INDEX IF NOT EXISTS document_versions_by_revision ON document_versions (shard, revision);
