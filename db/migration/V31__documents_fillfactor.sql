-- A head is rewritten on every write of its document and almost always keeps its status and zone,
-- the only columns its indexes carry beyond the key: with room left on its page PostgreSQL writes
-- the new row beside the old one and no index entry (a heap-only update), where a page packed full
-- (the default, 100) moved almost every rewrite to another page with an entry in each of the three
-- indexes. 70 leaves room for about two in five of a page's heads to be rewritten before the page
-- is pruned: measured in the side-by-side ingest, 79-80 % of the heads' updates were heap-only
-- against 4.5-10 % (docs/performance.md). CockroachDB validates the value (0-100), answers the
-- notice 'storage parameter "fillfactor" is ignored' and changes nothing. Rows already written keep
-- their pages until they are rewritten.
ALTER TABLE documents SET (fillfactor = 70);
