-- The incident search index is written behind the commit, in bulk, instead of by a trigger
-- in every create's transaction. On SQLite every write shares one writer, and FTS5 writes a
-- new segment (and merges older ones) per transaction: a batch of 8 creates spent about a
-- fifth of its time on the index, a transaction of hundreds of incidents a fraction of that
-- per incident (docs/benchmarks.md, incidents, twelfth run).
--
-- `search_indexed.upto` is the highest incident rowid in the index; every incident above it
-- is not indexed yet. `index_search` moves it on, and a search first indexes what is above
-- it, so a search still finds every incident committed before it started. Incidents are
-- never deleted, so rowids only grow and nothing is stored below the mark unindexed.
CREATE TABLE search_indexed (
    name TEXT PRIMARY KEY NOT NULL,
    upto INTEGER NOT NULL
);
INSERT INTO search_indexed (name, upto)
VALUES ('incidents', COALESCE((SELECT MAX(rowid) FROM incidents), 0));

DROP TRIGGER incidents_fts_insert;

-- Changes to an indexed incident reach the index at once; one not indexed yet is indexed
-- later with its text as it is then.
DROP TRIGGER incidents_fts_delete;
CREATE TRIGGER incidents_fts_delete AFTER DELETE ON incidents
WHEN old.rowid <= (SELECT upto FROM search_indexed WHERE name = 'incidents') BEGIN
    INSERT INTO incidents_fts (incidents_fts, rowid, title, description) VALUES ('delete', old.rowid, old.title, old.description);
END;
DROP TRIGGER incidents_fts_update;
CREATE TRIGGER incidents_fts_update AFTER UPDATE OF title, description ON incidents
WHEN old.rowid <= (SELECT upto FROM search_indexed WHERE name = 'incidents') BEGIN
    INSERT INTO incidents_fts (incidents_fts, rowid, title, description) VALUES ('delete', old.rowid, old.title, old.description);
    INSERT INTO incidents_fts (rowid, title, description) VALUES (new.rowid, new.title, new.description);
END;
