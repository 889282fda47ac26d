INSERT INTO history_horizon (id, revision, pruned_through, advanced_at)
VALUES (1, 0, 0, now())
ON CONFLICT (id) DO NOTHING;
