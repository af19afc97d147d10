-- Re-propagating classification over a region looks up the levels of the region's
-- parents outside it, and most CIs carry no level from anywhere. This index holds only
-- the CIs that do, so those lookups probe a small index instead of reading one row of
-- the whole CI table per parent. The predicate is `cmdb::HAS_SOURCE`, word for word.
CREATE INDEX cis_sourced ON cis (id) WHERE eff_c_source IS NOT NULL OR eff_i_source IS NOT NULL OR eff_a_source IS NOT NULL;
