-- Revisions written before V14 get the latest write time of their versions (the writing pods'
-- clocks: the best that was recorded).
INSERT INTO revision_times (revision, committed_at)
SELECT revision, max(updated_at) FROM document_versions GROUP BY revision
ON CONFLICT (revision) DO NOTHING;
