-- The applier's "due and PENDING" scan and GET /schedules?status=..., in applyAt order.
CREATE INDEX IF NOT EXISTS schedules_by_status ON schedules (status, apply_at, id);
