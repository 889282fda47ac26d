INSERT INTO revision_counter (id, revision) VALUES (1, 0) ON CONFLICT (id) DO NOTHING;
