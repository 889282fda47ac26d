-- GET /schedules without a status filter, in applyAt order.
CREATE INDEX IF NOT EXISTS schedules_by_time ON schedules (apply_at, id);
