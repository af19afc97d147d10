//! The SQL pieces of CMDB reads over lists of ids.

use super::scan::{FLOW_BACKWARD, FLOW_FORWARD};
use crate::sql::IdList;

/// The classification rows of the listed CIs (`cis` joined with `ci_levels`, so every CI
/// has one).
pub(crate) fn cls_rows_sql(ids: IdList) -> String {
    format!(
        "SELECT c.id, c.cls_c, c.cls_i, c.cls_a{} FROM cis c LEFT JOIN ci_levels l ON l.id = c.id WHERE {}",
        crate::cmdb::rows::STORED_LEVELS,
        ids.has("c.id")
    )
}

/// The classification rows of those of the listed CIs that carry a level, read from
/// `ci_levels` alone (which copies the explicit values).
pub(crate) fn level_rows_sql(ids: IdList) -> String {
    format!("SELECT {LEVEL_COLS} FROM ci_levels WHERE {}", ids.has("id"))
}

/// The columns of `rows::ClsRow` in `ci_levels`.
pub(crate) const LEVEL_COLS: &str = "id, cls_c, cls_i, cls_a, eff_c, eff_i, eff_a, eff_c_source, eff_c_via, \
    eff_i_source, eff_i_via, eff_a_source, eff_a_via";

/// The classification rows of the CIs whose level, in some dimension, came down through the
/// inheritance edge `$1 → $2` (parent → child): the child where its `via` in that dimension
/// is the parent, then every CI whose `via` in that dimension is a CI already found. One
/// recursive query per dimension over the partial indexes `ci_levels_{c,i,a}_via`, in the
/// small table of CIs that carry a level (a CI that inherits one has a row there). A `via`
/// is always a parent across an existing inheritance edge (every change to edges
/// re-propagates the CIs whose `via` it touches), so this finds what a walk along the
/// edges would.
pub(crate) fn via_region_sql() -> String {
    let walk = |d: char| {
        format!(
            "m{d}(id) AS (SELECT id FROM ci_levels WHERE id = $2 AND eff_{d}_via = $1 \
             UNION SELECT l.id FROM ci_levels l JOIN m{d} ON l.eff_{d}_via = m{d}.id)"
        )
    };
    format!(
        "WITH RECURSIVE {}, {}, {} SELECT {LEVEL_COLS} FROM ci_levels \
         WHERE id IN (SELECT id FROM mc UNION SELECT id FROM mi UNION SELECT id FROM ma)",
        walk('c'),
        walk('i'),
        walk('a')
    )
}

/// Queries over inheritance edges read each stored direction in its own part, run as
/// [`IdList::statements`].
///
/// (parent, child) for every inheritance edge into the listed CIs; with `parents`
/// (`SELECT id FROM … WHERE …`, e.g. [`CARRY_LEVELS`]), only the edges from a parent it
/// selects, each checked with one probe (an `IN` list of them would let SQLite probe the
/// relationships index once per listed parent and child).
pub(crate) fn flow_parents_sql(ids: IdList, parents: Option<&str>) -> Vec<String> {
    let only = |col: &str| {
        parents
            .map(|p| format!(" AND EXISTS ({p} AND id = relationships.{col})"))
            .unwrap_or_default()
    };
    ids.statements([
        format!(
            "SELECT source_id, target_id FROM relationships WHERE {} AND rel_type IN {FLOW_FORWARD}{}",
            ids.has("target_id"),
            only("source_id")
        ),
        format!(
            "SELECT target_id, source_id FROM relationships WHERE {} AND rel_type IN {FLOW_BACKWARD}{}",
            ids.has("source_id"),
            only("target_id")
        ),
    ])
}

/// (parent, child, `cols` of the child's levels `l`, from `ci_levels` and so NULL for a
/// child without a level) for every inheritance edge out of the listed CIs; with no
/// `cols`, only the edges are read.
pub(crate) fn flow_children_with(cols: &str, ids: IdList) -> Vec<String> {
    let child = |col: &str| {
        if cols.is_empty() {
            String::new()
        } else {
            format!(" LEFT JOIN ci_levels l ON l.id = r.{col}")
        }
    };
    ids.statements([
        format!(
            "SELECT r.source_id AS parent, r.target_id AS child{cols} FROM relationships r{} \
             WHERE {} AND r.rel_type IN {FLOW_FORWARD}",
            child("target_id"),
            ids.has("r.source_id")
        ),
        format!(
            "SELECT r.target_id AS parent, r.source_id AS child{cols} FROM relationships r{} \
             WHERE {} AND r.rel_type IN {FLOW_BACKWARD}",
            child("source_id"),
            ids.has("r.target_id")
        ),
    ])
}
