-- What each version's document was just before it: the revision, status and zone of the version it
-- replaced (taken from the head the write replaces). A listing filtered by zone or status at a
-- revision then finds, from the change feed alone (V29), the documents written since that matched
-- the filter then: a version whose prior revision is at or before the pinned one is its document's
-- first since, and its prior status and zone are the document's at the pin. NULL in version 1 and in
-- rows written before this migration (or by a pod of an earlier release): not known, and such a
-- document is looked up. One statement: CockroachDB applies the three columns as one schema change.
ALTER TABLE document_versions
    ADD COLUMN IF NOT EXISTS prior_revision BIGINT,
    ADD COLUMN IF NOT EXISTS prior_status TEXT,
    ADD COLUMN IF NOT EXISTS prior_zone TEXT;
