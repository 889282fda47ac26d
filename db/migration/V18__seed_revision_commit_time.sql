-- The counter starts from the newest backfilled commit time, so later ones are never earlier.
UPDATE revision_counter
   SET committed_at = (SELECT coalesce(max(committed_at), revision_counter.committed_at)
                         FROM revision_times)
 WHERE id = 1;
