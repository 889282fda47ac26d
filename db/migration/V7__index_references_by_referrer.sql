CREATE INDEX document_references_by_referrer ON document_references (kind, id);
