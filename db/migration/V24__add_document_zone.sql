-- The zone of each head (its current version's), so that a listing filtered by zone reads that
-- zone's heads through an index instead of every head of the kind (V26).
ALTER TABLE documents ADD COLUMN IF NOT EXISTS zone TEXT;
