-- A kind's heads of one status in id order: a listing or manifest of the ACTIVE (or the RETIRED)
-- reads its page here, however many heads of the other status the kind has gathered.
CREATE INDEX IF NOT EXISTS documents_by_status ON documents (kind, status, id);
