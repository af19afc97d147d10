-- Re-propagating classification looks up each CI's parents (and, for stores_data_of, its
-- children) by target: covering the relationship type and the source makes that an
-- index-only lookup instead of one table row read per edge.
DROP INDEX relationships_target;
CREATE INDEX relationships_target ON relationships (target_id, rel_type, source_id);
