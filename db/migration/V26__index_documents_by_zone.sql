-- A zone's heads of a kind by status, in id order: a listing or manifest filtered by zone reads its
-- page here (one range per status asked for).
CREATE INDEX IF NOT EXISTS documents_by_zone ON documents (kind, zone, status, id);
