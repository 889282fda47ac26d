-- How far history is pruned (one row; storage/HistoryRetention). revision: the oldest revision whose
-- state can still be read; reads, feeds and manifests before it are refused with it.
-- pruned_through: the versions superseded at or before this revision are deleted (it trails
-- revision; pruning waits a grace period after the horizon moves, so no read in flight that saw the
-- old horizon loses a row it needs). advanced_at: when revision last moved.
CREATE TABLE IF NOT EXISTS history_horizon (
    id BIGINT NOT NULL PRIMARY KEY CHECK (id = 1),
    revision BIGINT NOT NULL,
    pruned_through BIGINT NOT NULL,
    advanced_at TIMESTAMPTZ NOT NULL
);
