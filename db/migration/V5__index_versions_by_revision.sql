CREATE INDEX document_versions_by_revision ON document_versions (shard, revision);
