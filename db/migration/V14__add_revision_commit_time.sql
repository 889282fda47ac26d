-- The commit time of the last revision, from the database's clock: each write transaction sets it
-- to max(clock_timestamp(), the previous one) in the statement that takes the revision, so commit
-- times never go backwards as revisions go forwards (pods' clocks play no part).
ALTER TABLE revision_counter
    ADD COLUMN IF NOT EXISTS committed_at TIMESTAMPTZ NOT NULL DEFAULT '1970-01-01 00:00:00+00';
