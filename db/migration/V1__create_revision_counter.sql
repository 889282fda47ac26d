-- The global revision: one row, updated by the first statement of every write transaction.
-- Its row lock queues writers, so revision order is commit order (README, How it is built).
CREATE TABLE IF NOT EXISTS revision_counter (
    id BIGINT NOT NULL PRIMARY KEY CHECK (id = 1),
    revision BIGINT NOT NULL
);
