-- Superseded by document_versions_feed (V9), which leads with the same columns.
DROP INDEX IF EXISTS document_versions_by_revision;
