-- A creator's Idempotency-Key names one schedule (NULL keys are distinct in both databases).
CREATE UNIQUE INDEX IF NOT EXISTS schedules_by_creator_key ON schedules (created_by, idempotency_key);
