-- Superseded by document_versions_changes (V29), which leads with the same columns.
DROP INDEX IF EXISTS document_versions_feed;
