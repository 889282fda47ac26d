-- "The last revision committed at or before T": one descending step of this index.
CREATE INDEX IF NOT EXISTS revision_times_by_time ON revision_times (committed_at, revision);
