-- Removing an inheritance edge re-propagates the CIs whose level came down through it:
-- the child, where it took its level from the removed edge's parent, then every CI that
-- took its level from one of those (its `via`). These indexes hold only the CIs that
-- inherit a level in a dimension, keyed by the parent they took it from, so that walk is
-- one recursive query over three small indexes (`cmdb::via_region_sql`) instead of a
-- join through the relationships of every CI found.
CREATE INDEX cis_c_via ON cis (eff_c_via) WHERE eff_c_via IS NOT NULL;
CREATE INDEX cis_i_via ON cis (eff_i_via) WHERE eff_i_via IS NOT NULL;
CREATE INDEX cis_a_via ON cis (eff_a_via) WHERE eff_a_via IS NOT NULL;
