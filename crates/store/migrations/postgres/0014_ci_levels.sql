-- Effective classification moves out of the CI table into a narrow table that holds a row
-- only for the CIs that carry a level from somewhere (an explicit value, or one inherited
-- through a dependency): in a large CMDB a few thousand of a million. Every other CI is
-- low in all three dimensions, from nowhere. Re-propagating a change then reads and
-- writes this small table instead of scattered rows of the CI table: the rows of a
-- subtree that loses its level used to sit on as many pages as it has CIs.
--
-- Invariant: a CI has a row here exactly when at least one of its eff_*_source columns is
-- set; deleting a CI deletes its row. (No foreign key: PostgreSQL would check it with a
-- trigger per row and lock the CI's row, writing to the pages this table keeps clean.) cls_c, cls_i, cls_a copy the CI's explicit values (authoritative in cis), so that
-- propagation needs no row of the CI table.
CREATE TABLE ci_levels (
    id UUID PRIMARY KEY NOT NULL,
    cls_c SMALLINT CHECK (cls_c BETWEEN 1 AND 3),
    cls_i SMALLINT CHECK (cls_i BETWEEN 1 AND 3),
    cls_a SMALLINT CHECK (cls_a BETWEEN 1 AND 3),
    eff_c SMALLINT NOT NULL CHECK (eff_c BETWEEN 1 AND 3),
    eff_i SMALLINT NOT NULL CHECK (eff_i BETWEEN 1 AND 3),
    eff_a SMALLINT NOT NULL CHECK (eff_a BETWEEN 1 AND 3),
    eff_c_source UUID,
    eff_c_via UUID,
    eff_i_source UUID,
    eff_i_via UUID,
    eff_a_source UUID,
    eff_a_via UUID
);

INSERT INTO ci_levels (id, cls_c, cls_i, cls_a, eff_c, eff_i, eff_a, eff_c_source, eff_c_via,
                       eff_i_source, eff_i_via, eff_a_source, eff_a_via)
SELECT id, cls_c, cls_i, cls_a, eff_c, eff_i, eff_a, eff_c_source, eff_c_via,
       eff_i_source, eff_i_via, eff_a_source, eff_a_via
FROM cis WHERE eff_c_source IS NOT NULL OR eff_i_source IS NOT NULL OR eff_a_source IS NOT NULL;

-- Removing an inheritance edge re-propagates the CIs whose level came down through it:
-- the child, where it took its level from the edge's parent, then every CI that took its
-- level from one of those (its via). These indexes let that walk be one recursive query
-- (cmdb::via_region_sql).
CREATE INDEX ci_levels_c_via ON ci_levels (eff_c_via) WHERE eff_c_via IS NOT NULL;
CREATE INDEX ci_levels_i_via ON ci_levels (eff_i_via) WHERE eff_i_via IS NOT NULL;
CREATE INDEX ci_levels_a_via ON ci_levels (eff_a_via) WHERE eff_a_via IS NOT NULL;

DROP INDEX cis_sourced;
ALTER TABLE cis DROP COLUMN eff_c, DROP COLUMN eff_i, DROP COLUMN eff_a,
    DROP COLUMN eff_c_source, DROP COLUMN eff_c_via, DROP COLUMN eff_i_source,
    DROP COLUMN eff_i_via, DROP COLUMN eff_a_source, DROP COLUMN eff_a_via;
