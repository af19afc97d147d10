-- Nothing to change on PostgreSQL: its incident search is a generated tsvector column with a
-- GIN index, written in the create's own statement (0008), which costs a create little. On
-- SQLite this number moves the FTS5 index behind the commit. The number is kept here so
-- both backends number their migrations alike (a test checks that they do).
SELECT 1;
