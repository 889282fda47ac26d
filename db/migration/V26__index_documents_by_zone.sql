-- A zone's heads of a kind in id order: a listing or manifest filtered by zone reads its page here.
CREATE INDEX IF NOT EXISTS documents_by_zone ON documents (kind, zone, id);
