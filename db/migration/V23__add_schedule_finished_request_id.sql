-- The request that cancelled a schedule (audit: who, when, and which request); for an applied or
-- failed schedule, the id its batch was written under (the schedule id).
ALTER TABLE schedules ADD COLUMN IF NOT EXISTS finished_request_id TEXT;
