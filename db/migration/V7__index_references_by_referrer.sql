CREATE INDEX IF NOT EXISTS document_references_by_referrer ON document_references (kind, id);
