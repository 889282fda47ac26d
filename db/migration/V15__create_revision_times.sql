-- Every revision's commit time (written with the revision, in the same statement), for change
-- events and for reads as of a time.
CREATE TABLE IF NOT EXISTS revision_times (
    revision BIGINT NOT NULL PRIMARY KEY,
    committed_at TIMESTAMPTZ NOT NULL
);
