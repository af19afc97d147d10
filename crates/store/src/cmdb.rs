//! The CMDB: CI types, CIs, relationships, and keeping effective classification right
//! after every change (re-propagating the region downstream of it, in the same transaction).

pub(crate) use crate::sql::{CHUNK, IdList};

/// Relationship types along which classification flows from source to target, and the one
/// along which it flows from target to source.
pub(crate) const FLOW_FORWARD: &str = "('depends_on', 'runs_on', 'hosted_by')";
pub(crate) const FLOW_BACKWARD: &str = "('stores_data_of')";
/// The CIs that carry a level from somewhere (in `ci_levels`, migration 0014), as a
/// `SELECT … WHERE …` to narrow with `AND`.
pub(crate) const CARRY_LEVELS: &str = "SELECT id FROM ci_levels WHERE TRUE";

/// CI id → dense index, for graphs of millions of CIs: ids are random (UUID v7 below the
/// timestamp), so folding the two halves and one multiplication is hash enough, and far
/// cheaper than SipHash.
#[derive(Default)]
pub(crate) struct IdIndex(
    std::collections::HashMap<u128, u32, std::hash::BuildHasherDefault<Fold>>,
);

impl IdIndex {
    pub(crate) fn insert(&mut self, id: uuid::Uuid, i: u32) {
        self.0.insert(id.as_u128(), i);
    }

    pub(crate) fn get(&self, id: &uuid::Uuid) -> Option<u32> {
        self.0.get(&id.as_u128()).copied()
    }
}

#[derive(Default)]
pub(crate) struct Fold(u64);

impl std::hash::Hasher for Fold {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
        }
    }

    fn write_u128(&mut self, v: u128) {
        self.0 = ((v as u64) ^ ((v >> 64) as u64)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

/// Every CI's id and its explicit levels packed two bits each (C, I, A with 0 for unset),
/// in a dense order, read in chunks for a full re-classification.
#[derive(Default)]
pub struct CiScan {
    pub(crate) ids: Vec<uuid::Uuid>,
    pub(crate) index: IdIndex,
    pub(crate) bits: Vec<u16>,
}

/// CIs or edges per chunk in a full scan: each chunk crosses sqlx's connection as one
/// aggregated value (per-row hand-off costs ~1 µs, the whole scan of a million CIs takes
/// less than that per CI).
pub(crate) const SCAN_CHUNK: usize = 65_536;

fn corrupt(what: &str) -> custos_core::StoreError {
    custos_core::StoreError::Internal(format!("malformed {what} chunk in a classification scan"))
}

impl CiScan {
    /// Adds a chunk of `n` records, each a 16-byte id and then the levels, which `levels`
    /// decodes from the rest of the record (`rec` bytes in all).
    pub(crate) fn add_chunk(
        &mut self,
        blob: &[u8],
        n: i64,
        rec: usize,
        levels: fn(&[u8]) -> Option<u16>,
    ) -> custos_core::error::StoreResult<()> {
        if blob.len() != n as usize * rec {
            return Err(corrupt("CI"));
        }
        for r in blob.chunks_exact(rec) {
            let id = uuid::Uuid::from_slice(&r[..16]).map_err(|_| corrupt("CI"))?;
            let bits = levels(&r[16..])
                .filter(|b| *b < 4096)
                .ok_or_else(|| corrupt("CI"))?;
            self.index.insert(id, self.ids.len() as u32);
            self.ids.push(id);
            self.bits.push(bits);
        }
        Ok(())
    }

    /// Adds a chunk of `n` inheritance edges, each the parent's then the child's 16-byte id.
    pub(crate) fn add_edges(
        &self,
        pairs: &mut Vec<(u32, u32)>,
        blob: &[u8],
        n: i64,
    ) -> custos_core::error::StoreResult<()> {
        if blob.len() != n as usize * 32 {
            return Err(corrupt("relationship"));
        }
        for r in blob.chunks_exact(32) {
            let id = |b: &[u8]| {
                uuid::Uuid::from_slice(b)
                    .ok()
                    .and_then(|u| self.index.get(&u))
            };
            // A CI created after the CI scan (impossible under the CMDB lock) is skipped.
            if let (Some(p), Some(c)) = (id(&r[..16]), id(&r[16..])) {
                pairs.push((p, c));
            }
        }
        Ok(())
    }
}

/// The classification rows of the listed CIs (`cis` joined with `ci_levels`, so every CI
/// has one).
pub(crate) fn cls_rows_sql(ids: IdList) -> String {
    format!(
        "SELECT c.id, c.cls_c, c.cls_i, c.cls_a{} FROM cis c LEFT JOIN ci_levels l ON l.id = c.id WHERE {}",
        crate::rows::STORED_LEVELS,
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

impl<B: crate::sql::Backend> crate::sql::SqlStore<B> {
    /// Runs each statement of `sql(list)` (e.g. `cmdb::flow_parents_sql`) over `ids`,
    /// in chunks as this backend binds them ([`crate::sql::Backend::id_chunks`]), and collects
    /// the rows; `what` names the rows in errors.
    pub(crate) async fn id_query<R>(
        tx: &mut <B::Db as sqlx::Database>::Connection,
        ids: &[uuid::Uuid],
        what: &'static str,
        sql: impl Fn(crate::cmdb::IdList) -> Vec<String>,
    ) -> custos_core::error::StoreResult<Vec<R>>
    where
        R: crate::sql::Record,
    {
        let mut out = vec![];
        for (list, chunk) in Self::id_chunks(ids) {
            for sql in sql(list) {
                let q = Self::query_as::<R>(sqlx::AssertSqlSafe(Self::params(sql)));
                let q = Self::bind_ids(q, chunk);
                out.extend(
                    q.fetch_all(&mut *tx)
                        .await
                        .map_err(crate::error::map(what))?,
                );
            }
        }
        Ok(out)
    }

    /// [`Self::id_query`] over inheritance edges.
    pub(crate) async fn edge_rows<R>(
        tx: &mut <B::Db as sqlx::Database>::Connection,
        ids: &[uuid::Uuid],
        sql: impl Fn(crate::cmdb::IdList) -> Vec<String>,
    ) -> custos_core::error::StoreResult<Vec<R>>
    where
        R: crate::sql::Record,
    {
        Self::id_query(tx, ids, "relationship", sql).await
    }

    /// CIs that inherit directly from any of `ids`.
    pub(crate) async fn flow_children(
        tx: &mut <B::Db as sqlx::Database>::Connection,
        ids: &[uuid::Uuid],
    ) -> custos_core::error::StoreResult<Vec<uuid::Uuid>> {
        let rows: Vec<(uuid::Uuid, uuid::Uuid)> =
            Self::edge_rows(tx, ids, |l| crate::cmdb::flow_children_with("", l)).await?;
        Ok(rows.into_iter().map(|r| r.1).collect())
    }

    /// (parent, child) inheritance pairs for children in `ids`.
    pub(crate) async fn flow_parents(
        tx: &mut <B::Db as sqlx::Database>::Connection,
        ids: &[uuid::Uuid],
    ) -> custos_core::error::StoreResult<Vec<(uuid::Uuid, uuid::Uuid)>> {
        Self::flow_parents_from(tx, ids, None).await
    }

    /// [`Self::flow_parents`], with `parents` (`SELECT id FROM … WHERE …`) only the
    /// pairs whose parent it selects.
    pub(crate) async fn flow_parents_from(
        tx: &mut <B::Db as sqlx::Database>::Connection,
        ids: &[uuid::Uuid],
        parents: Option<&str>,
    ) -> custos_core::error::StoreResult<Vec<(uuid::Uuid, uuid::Uuid)>> {
        Self::edge_rows(tx, ids, |l| crate::cmdb::flow_parents_sql(l, parents)).await
    }

    /// The classification rows of `ids` (every CI has one).
    pub(crate) async fn cls_rows(
        tx: &mut <B::Db as sqlx::Database>::Connection,
        ids: &[uuid::Uuid],
    ) -> custos_core::error::StoreResult<Vec<crate::rows::ClsRow>> {
        Self::id_rows(tx, ids, crate::cmdb::cls_rows_sql).await
    }

    /// The classification rows of those of `ids` that carry a level.
    pub(crate) async fn level_rows(
        tx: &mut <B::Db as sqlx::Database>::Connection,
        ids: &[uuid::Uuid],
    ) -> custos_core::error::StoreResult<Vec<crate::rows::ClsRow>> {
        Self::id_rows(tx, ids, crate::cmdb::level_rows_sql).await
    }

    /// Runs `sql` (classification rows of the listed ids) over `ids`.
    pub(crate) async fn id_rows(
        tx: &mut <B::Db as sqlx::Database>::Connection,
        ids: &[uuid::Uuid],
        sql: fn(crate::cmdb::IdList) -> String,
    ) -> custos_core::error::StoreResult<Vec<crate::rows::ClsRow>> {
        Self::id_query(tx, ids, "configuration item", |l| vec![sql(l)]).await
    }

    /// Writes effective classifications to `ci_levels`, 100 CIs per statement: a CI
    /// with a source in some dimension gets its row inserted or replaced with these
    /// values, any other CI loses its row (low from nowhere), so the table keeps its
    /// invariant (migration 0014). The copies of explicit levels are left as they are.
    pub(crate) async fn write_effective(
        tx: &mut <B::Db as sqlx::Database>::Connection,
        rows: &[(uuid::Uuid, custos_core::classification::Effective)],
    ) -> custos_core::error::StoreResult<()> {
        let map = crate::error::map("configuration item");
        let (carry, plain): (Vec<_>, Vec<_>) = rows
            .iter()
            .partition(|(_, e)| e.iter().any(|d| d.source.is_some()));
        for chunk in carry.chunks(100) {
            let sql = format!(
                "INSERT INTO ci_levels (id, eff_c, eff_c_source, eff_c_via, eff_i, eff_i_source, eff_i_via, \
                 eff_a, eff_a_source, eff_a_via) VALUES {} ON CONFLICT (id) DO UPDATE SET \
                 eff_c = excluded.eff_c, eff_c_source = excluded.eff_c_source, eff_c_via = excluded.eff_c_via, \
                 eff_i = excluded.eff_i, eff_i_source = excluded.eff_i_source, eff_i_via = excluded.eff_i_via, \
                 eff_a = excluded.eff_a, eff_a_source = excluded.eff_a_source, eff_a_via = excluded.eff_a_via",
                crate::rows::value_lists(chunk.len(), 10)
            );
            let mut q = Self::query(sqlx::AssertSqlSafe(Self::params(sql)));
            for (id, e) in chunk {
                q = q.bind(*id);
                for d in e {
                    q = q
                        .bind(d.level.as_i16())
                        .bind(d.source.map(|c| c.0))
                        .bind(d.via.map(|c| c.0));
                }
            }
            q.execute(&mut *tx).await.map_err(&map)?;
        }
        let plain: Vec<uuid::Uuid> = plain.iter().map(|(id, _)| *id).collect();
        for (list, chunk) in Self::id_chunks(&plain) {
            // `query_as` because the ids bind to it; the deleted ids are not used.
            let sql = format!(
                "DELETE FROM ci_levels WHERE {} RETURNING id",
                list.has("id")
            );
            let q = Self::query_as::<(uuid::Uuid,)>(sqlx::AssertSqlSafe(Self::params(sql)));
            Self::bind_ids(q, chunk)
                .fetch_all(&mut *tx)
                .await
                .map_err(&map)?;
        }
        Ok(())
    }

    /// (parent, child, child's effective levels) for every inheritance edge out of
    /// `ids`, in one query per chunk.
    pub(crate) async fn flow_children_levels(
        tx: &mut <B::Db as sqlx::Database>::Connection,
        ids: &[uuid::Uuid],
    ) -> custos_core::error::StoreResult<Vec<crate::rows::ChildLevels>> {
        Self::edge_rows(tx, ids, |l| {
            crate::cmdb::flow_children_with(crate::rows::STORED_LEVELS, l)
        })
        .await
    }

    /// After a new inheritance edge `parent → child`: levels can only go up, and only
    /// where the parent's level (with a source) is above what a CI has. A breadth-first
    /// walk from the child lifts those dimensions and stops at every CI that is already
    /// as high, so it reads and writes only the CIs that change (plus their edges).
    /// Returns how many CIs changed.
    pub(crate) async fn raise(
        tx: &mut <B::Db as sqlx::Database>::Connection,
        parent: uuid::Uuid,
        child: uuid::Uuid,
    ) -> custos_core::error::StoreResult<u64> {
        use custos_core::classification::Derived;
        use std::collections::HashMap;
        let rows = Self::cls_rows(tx, &[parent, child]).await?;
        let eff = |id: uuid::Uuid| {
            rows.iter()
                .find(|r| r.id == id)
                .map(|r| r.eff.effective())
                .transpose()
        };
        let (Some(p), Some(c)) = (eff(parent)?, eff(child)?) else {
            return Ok(0);
        };
        // Per dimension, what the parent passes on (its level and source), if anything.
        let offer: [Option<Derived>; 3] = std::array::from_fn(|d| p[d].source.map(|_| p[d]));
        let mut raised: HashMap<uuid::Uuid, [Option<Derived>; 3]> = HashMap::new();
        let lift = |levels: [i16; 3],
                    via: uuid::Uuid,
                    mask: [bool; 3],
                    done: Option<&[Option<Derived>; 3]>| {
            let mut out: [Option<Derived>; 3] = [None; 3];
            for d in 0..3 {
                if let Some(o) = offer[d]
                    && mask[d]
                    && done.is_none_or(|x| x[d].is_none())
                    && levels[d] < o.level.as_i16()
                {
                    out[d] = Some(Derived {
                        level: o.level,
                        source: o.source,
                        via: Some(custos_core::CiId(via)),
                    });
                }
            }
            out
        };
        let first = lift(
            std::array::from_fn(|d| c[d].level.as_i16()),
            parent,
            [true; 3],
            None,
        );
        if first.iter().all(Option::is_none) {
            return Ok(0);
        }
        raised.insert(child, first);
        // What each lifted CI has now, for the dimensions it keeps.
        let mut stored: HashMap<uuid::Uuid, custos_core::classification::Effective> =
            HashMap::from([(child, c)]);
        let mut frontier = vec![child];
        while !frontier.is_empty() {
            let mut next = vec![];
            for row in Self::flow_children_levels(tx, &frontier).await? {
                let (from, to, now) = (row.parent, row.child, row.eff.effective()?);
                let mask: [bool; 3] = std::array::from_fn(|d| raised[&from][d].is_some());
                let up = lift(
                    std::array::from_fn(|d| now[d].level.as_i16()),
                    from,
                    mask,
                    raised.get(&to),
                );
                if up.iter().all(Option::is_none) {
                    continue;
                }
                stored.entry(to).or_insert(now);
                // A CI lifted in another dimension already goes round again, so its
                // children get the new dimension too.
                let entry = raised.entry(to).or_insert([None; 3]);
                for d in 0..3 {
                    if entry[d].is_none() && up[d].is_some() {
                        entry[d] = up[d];
                    }
                }
                next.push(to);
            }
            next.sort();
            next.dedup();
            frontier = next;
        }
        let rows: Vec<(uuid::Uuid, custos_core::classification::Effective)> = raised
            .into_iter()
            .map(|(id, up)| (id, std::array::from_fn(|d| up[d].unwrap_or(stored[&id][d]))))
            .collect();
        Self::write_effective(tx, &rows).await?;
        Ok(rows.len() as u64)
    }

    /// Re-propagates classification to `seeds` and everything downstream of them.
    /// Returns how many CIs changed.
    pub(crate) async fn reclassify(
        tx: &mut <B::Db as sqlx::Database>::Connection,
        seeds: Vec<uuid::Uuid>,
    ) -> custos_core::error::StoreResult<u64> {
        use std::collections::HashSet;
        let mut region: Vec<uuid::Uuid> = vec![];
        let mut seen: HashSet<uuid::Uuid> = HashSet::new();
        let mut frontier: Vec<uuid::Uuid> = seeds.into_iter().filter(|s| seen.insert(*s)).collect();
        while !frontier.is_empty() {
            region.extend(&frontier);
            let next = Self::flow_children(tx, &frontier).await?;
            frontier = next.into_iter().filter(|c| seen.insert(*c)).collect();
        }
        let inside = Self::cls_rows(tx, &region).await?;
        Self::repropagate(tx, inside, false).await
    }

    /// Re-propagates classification over the region of CIs whose rows are `inside`,
    /// taking the levels of parents outside it as they are stored. Right whenever no
    /// CI outside the region changes level. With `all_carry_levels`, every CI of the
    /// region carries a level, so every parent that matters — inside the region, or
    /// outside with a level to pass on — has a row in the small `ci_levels`, and
    /// edges from other parents are not read at all. Returns how many CIs changed.
    pub(crate) async fn repropagate(
        tx: &mut <B::Db as sqlx::Database>::Connection,
        mut inside: Vec<crate::rows::ClsRow>,
        all_carry_levels: bool,
    ) -> custos_core::error::StoreResult<u64> {
        use std::collections::{HashMap, HashSet};
        if inside.is_empty() {
            return Ok(0);
        }
        inside.sort_by_key(|r| r.id);
        let region: Vec<uuid::Uuid> = inside.iter().map(|r| r.id).collect();
        let seen: HashSet<uuid::Uuid> = region.iter().copied().collect();
        let pairs = Self::flow_parents_from(
            tx,
            &region,
            all_carry_levels.then_some(crate::cmdb::CARRY_LEVELS),
        )
        .await?;
        let mut parents: HashMap<custos_core::CiId, Vec<custos_core::CiId>> = HashMap::new();
        let mut outside_ids: Vec<uuid::Uuid> = vec![];
        for (p, c) in &pairs {
            parents
                .entry(custos_core::CiId(*c))
                .or_default()
                .push(custos_core::CiId(*p));
            if !seen.contains(p) {
                outside_ids.push(*p);
            }
        }
        outside_ids.sort();
        outside_ids.dedup();
        let mut explicit = HashMap::new();
        let mut current = HashMap::new();
        for r in &inside {
            explicit.insert(custos_core::CiId(r.id), r.explicit()?);
            current.insert(r.id, r.eff.effective()?);
        }
        // Only outside parents that carry a level from somewhere can pass one on;
        // most carry none, and only those that do have a row to read.
        let mut outside = HashMap::new();
        for r in Self::level_rows(tx, &outside_ids).await? {
            outside.insert(custos_core::CiId(r.id), r.eff.effective()?);
        }
        let nodes: Vec<custos_core::CiId> =
            inside.iter().map(|r| custos_core::CiId(r.id)).collect();
        let result = custos_core::classification::propagate(&custos_core::classification::Region {
            nodes: &nodes,
            explicit: &explicit,
            parents: &parents,
            outside: &outside,
        });
        let changed: Vec<(uuid::Uuid, custos_core::classification::Effective)> = nodes
            .iter()
            .map(|n| (n.0, result[n]))
            .filter(|(id, e)| current.get(id) != Some(e))
            .collect();
        Self::write_effective(tx, &changed).await?;
        Ok(changed.len() as u64)
    }

    /// After removing the inheritance edge `parent → child`: only CIs whose level, in
    /// some dimension, came down through that edge can change (`via_region_sql`).
    /// Every other CI's `via` chain still runs through existing edges at its level to
    /// its source, so it keeps its level. Those CIs are re-propagated (their outside
    /// parents as stored). Returns how many CIs changed.
    pub(crate) async fn lower(
        tx: &mut <B::Db as sqlx::Database>::Connection,
        parent: uuid::Uuid,
        child: uuid::Uuid,
    ) -> custos_core::error::StoreResult<u64> {
        let inside = Self::query_as::<crate::rows::ClsRow>(sqlx::AssertSqlSafe(
            crate::cmdb::via_region_sql(),
        ))
        .bind(parent)
        .bind(child)
        .fetch_all(&mut *tx)
        .await
        .map_err(crate::error::map("configuration item"))?;
        // Every CI found inherits a level in some dimension, so it carries one.
        Self::repropagate(tx, inside, true).await
    }

    /// Copies a CI's explicit values into its `ci_levels` row, if it has one; after
    /// every change to them, once the change has been re-propagated.
    pub(crate) async fn copy_explicit(
        tx: &mut <B::Db as sqlx::Database>::Connection,
        id: uuid::Uuid,
        cls: &custos_core::classification::Classification,
    ) -> custos_core::error::StoreResult<()> {
        Self::query("UPDATE ci_levels SET cls_c = $2, cls_i = $3, cls_a = $4 WHERE id = $1")
            .bind(id)
            .bind(cls.confidentiality.map(|l| l.as_i16()))
            .bind(cls.integrity.map(|l| l.as_i16()))
            .bind(cls.availability.map(|l| l.as_i16()))
            .execute(&mut *tx)
            .await
            .map_err(crate::error::map("configuration item"))?;
        Ok(())
    }

    /// Reads a CI inside a write transaction, taking its row (PostgreSQL).
    pub(crate) async fn ci_in(
        tx: &mut <B::Db as sqlx::Database>::Connection,
        id: uuid::Uuid,
    ) -> custos_core::error::StoreResult<custos_core::store::CiRecord> {
        // PostgreSQL locks only the CI's row (the outer join's other side may be missing).
        let lock = if Self::FOR_UPDATE.is_empty() {
            ""
        } else {
            " FOR UPDATE OF c"
        };
        let sql = format!("{} WHERE c.id = $1{lock}", crate::rows::CI_SELECT);
        Self::query_as::<crate::rows::CiRow>(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_one(&mut *tx)
            .await
            .map_err(crate::error::map("configuration item"))?
            .try_into()
    }

    pub(crate) fn map_ci_conflict(e: sqlx::Error) -> custos_core::StoreError {
        match crate::error::map("configuration item")(e) {
            custos_core::StoreError::Conflict { constraint } if constraint == "foreign_key" => {
                custos_core::StoreError::Conflict {
                    constraint: "cis_reference_fkey".into(),
                }
            }
            other => other,
        }
    }
}

#[async_trait::async_trait]
impl<B: crate::sql::Backend> custos_core::store::CmdbStore for crate::sql::SqlStore<B> {
    async fn list_ci_types(
        &self,
    ) -> custos_core::error::StoreResult<Vec<custos_core::store::CiType>> {
        let rows: Vec<(String, String, bool)> =
            Self::query_as("SELECT name, label, builtin FROM ci_types ORDER BY builtin DESC, name")
                .fetch_all(self)
                .await
                .map_err(crate::error::map("CI type"))?;
        Ok(rows
            .into_iter()
            .map(|(name, label, builtin)| custos_core::store::CiType {
                name,
                label,
                builtin,
            })
            .collect())
    }

    async fn create_ci_type(
        &self,
        actor: &custos_core::authz::Actor,
        name: &str,
        label: &str,
    ) -> custos_core::error::StoreResult<custos_core::store::CiType> {
        let name = custos_core::cmdb::check_type_name(name)?;
        let label = custos_core::account::check_name("label", label, 100)?;
        let now = custos_core::Timestamp::now();
        let map = crate::error::map("CI type");
        let mut tx = self.audited().await?;
        Self::query(
            "INSERT INTO ci_types (name, label, builtin, created_at) VALUES ($1, $2, FALSE, $3)",
        )
        .bind(&name)
        .bind(&label)
        .bind(now.0)
        .execute(&mut *tx)
        .await
        .map_err(&map)?;
        let rec = custos_core::audit::AuditRecord::new(
            "ci_type.create",
            "ci_type",
            &name,
            serde_json::json!({"label": {"after": label}}),
        );
        tx.record(actor, rec, now);
        tx.commit().await?;
        Ok(custos_core::store::CiType {
            name,
            label,
            builtin: false,
        })
    }

    async fn create_ci(
        &self,
        actor: &custos_core::authz::Actor,
        input: custos_core::cmdb::CiInput,
    ) -> custos_core::error::StoreResult<custos_core::store::CiRecord> {
        let now = custos_core::Timestamp::now();
        let id = custos_core::CiId::new();
        let mut tx = self.audited().await?;
        Self::query(
            "INSERT INTO cis (id, ci_type, name, external_key, owner_id, department_id, status, attributes, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)",
        )
        .bind(id.0)
        .bind(&input.ci_type)
        .bind(&input.name)
        .bind(input.external_key.as_deref())
        .bind(input.owner_id.map(|u| u.0))
        .bind(input.department_id.map(|d| d.0))
        .bind(input.status.as_str())
        .bind(custos_core::audit::canonical_json(&input.attributes))
        .bind(now.0)
        .execute(&mut *tx)
        .await
        .map_err(Self::map_ci_conflict)?;
        let rec = Self::ci_in(&mut tx, id.0).await?;
        let changes = custos_core::audit::diff(None, Some(&crate::rows::ci_view(&rec.ci)));
        tx.record(
            actor,
            custos_core::audit::AuditRecord::new("ci.create", "ci", id, changes),
            now,
        );
        tx.commit().await?;
        Ok(rec)
    }

    async fn update_ci(
        &self,
        actor: &custos_core::authz::Actor,
        id: custos_core::CiId,
        input: custos_core::cmdb::CiInput,
    ) -> custos_core::error::StoreResult<custos_core::store::CiRecord> {
        let now = custos_core::Timestamp::now();
        let mut tx = self.audited().await?;
        let before = Self::ci_in(&mut tx, id.0).await?;
        Self::query(
            "UPDATE cis SET ci_type = $2, name = $3, external_key = $4, owner_id = $5, department_id = $6, \
             status = $7, attributes = $8, updated_at = $9 WHERE id = $1",
        )
        .bind(id.0)
        .bind(&input.ci_type)
        .bind(&input.name)
        .bind(input.external_key.as_deref())
        .bind(input.owner_id.map(|u| u.0))
        .bind(input.department_id.map(|d| d.0))
        .bind(input.status.as_str())
        .bind(custos_core::audit::canonical_json(&input.attributes))
        .bind(now.0)
        .execute(&mut *tx)
        .await
        .map_err(Self::map_ci_conflict)?;
        let after = Self::ci_in(&mut tx, id.0).await?;
        let changes = custos_core::audit::diff(
            Some(&crate::rows::ci_view(&before.ci)),
            Some(&crate::rows::ci_view(&after.ci)),
        );
        tx.record(
            actor,
            custos_core::audit::AuditRecord::new("ci.update", "ci", id, changes),
            now,
        );
        tx.commit().await?;
        Ok(after)
    }

    async fn delete_ci(
        &self,
        actor: &custos_core::authz::Actor,
        id: custos_core::CiId,
    ) -> custos_core::error::StoreResult<()> {
        let now = custos_core::Timestamp::now();
        let map = crate::error::map("configuration item");
        let mut tx = self.audited().await?;
        Self::query(Self::LOCK_CMDB)
            .execute(&mut *tx)
            .await
            .map_err(&map)?;
        let before = Self::ci_in(&mut tx, id.0).await?;
        let children = Self::flow_children(&mut tx, &[id.0]).await?;
        Self::query("DELETE FROM relationships WHERE source_id = $1 OR target_id = $1")
            .bind(id.0)
            .execute(&mut *tx)
            .await
            .map_err(&map)?;
        Self::query("DELETE FROM ci_levels WHERE id = $1")
            .bind(id.0)
            .execute(&mut *tx)
            .await
            .map_err(&map)?;
        Self::query("DELETE FROM cis WHERE id = $1")
            .bind(id.0)
            .execute(&mut *tx)
            .await
            .map_err(&map)?;
        let reclassified = Self::reclassify(&mut tx, children).await?;
        let mut changes = custos_core::audit::diff(Some(&crate::rows::ci_view(&before.ci)), None);
        changes["reclassified_cis"] = serde_json::json!(reclassified);
        tx.record(
            actor,
            custos_core::audit::AuditRecord::new("ci.delete", "ci", id, changes),
            now,
        );
        tx.commit().await?;
        Ok(())
    }

    async fn ci(
        &self,
        id: custos_core::CiId,
    ) -> custos_core::error::StoreResult<custos_core::store::CiRecord> {
        let sql = format!("{} WHERE c.id = $1", crate::rows::CI_SELECT);
        Self::query_as::<crate::rows::CiRow>(sqlx::AssertSqlSafe(sql))
            .bind(id.0)
            .fetch_one(self)
            .await
            .map_err(crate::error::map("configuration item"))?
            .try_into()
    }

    async fn ci_by_key(
        &self,
        key: &str,
    ) -> custos_core::error::StoreResult<custos_core::store::CiRecord> {
        let sql = format!("{} WHERE c.external_key = $1", crate::rows::CI_SELECT);
        Self::query_as::<crate::rows::CiRow>(sqlx::AssertSqlSafe(sql))
            .bind(key)
            .fetch_one(self)
            .await
            .map_err(crate::error::map("configuration item"))?
            .try_into()
    }

    async fn cis_by_ids(
        &self,
        ids: &[custos_core::CiId],
    ) -> custos_core::error::StoreResult<Vec<custos_core::store::CiRecord>> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(crate::cmdb::CHUNK) {
            let sql = format!(
                "{} WHERE c.id IN ({})",
                crate::rows::CI_SELECT,
                crate::rows::placeholders(1, chunk.len())
            );
            let mut q = Self::query_as::<crate::rows::CiRow>(sqlx::AssertSqlSafe(sql));
            for id in chunk {
                q = q.bind(id.0);
            }
            for r in q
                .fetch_all(self)
                .await
                .map_err(crate::error::map("configuration item"))?
            {
                out.push(r.try_into()?);
            }
        }
        Ok(out)
    }

    async fn list_cis(
        &self,
        f: &custos_core::store::CiFilter,
        page: custos_core::page::PageRequest,
    ) -> custos_core::error::StoreResult<custos_core::page::Page<custos_core::store::CiRecord>>
    {
        let terms =
            f.q.as_deref()
                .map(custos_core::cmdb::search_terms)
                .unwrap_or_default();
        let search = if terms.is_empty() {
            "TRUE".to_string()
        } else {
            Self::CI_SEARCH.to_string()
        };
        let sql = format!(
            "{} WHERE ($1 IS NULL OR c.ci_type = $1) AND ($2 IS NULL OR c.status = $2) \
             AND ($3 IS NULL OR c.id > $3) AND {search} ORDER BY c.id LIMIT $4",
            crate::rows::CI_SELECT
        );
        let mut q = Self::query_as::<crate::rows::CiRow>(sqlx::AssertSqlSafe(sql))
            .bind(f.ci_type.as_deref())
            .bind(f.status.map(|s| s.as_str()))
            .bind(page.after)
            .bind(page.fetch());
        if !terms.is_empty() {
            q = q.bind(Self::fts_query(&terms));
        }
        let rows = q
            .fetch_all(self)
            .await
            .map_err(crate::error::map("configuration item"))?;
        let items = rows
            .into_iter()
            .map(TryInto::try_into)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(custos_core::page::Page::from_rows(
            items,
            page,
            |c: &custos_core::store::CiRecord| c.ci.id.0,
        ))
    }

    async fn ci_names(
        &self,
        ids: &[custos_core::CiId],
    ) -> custos_core::error::StoreResult<Vec<(custos_core::CiId, String, String)>> {
        let mut out = vec![];
        for chunk in ids.chunks(crate::cmdb::CHUNK) {
            let sql = format!(
                "SELECT id, name, ci_type FROM cis WHERE id IN ({})",
                crate::rows::placeholders(1, chunk.len())
            );
            let mut q = Self::query_as::<(uuid::Uuid, String, String)>(sqlx::AssertSqlSafe(sql));
            for id in chunk {
                q = q.bind(id.0);
            }
            let rows = q
                .fetch_all(self)
                .await
                .map_err(crate::error::map("configuration item"))?;
            out.extend(
                rows.into_iter()
                    .map(|(i, n, t)| (custos_core::CiId(i), n, t)),
            );
        }
        Ok(out)
    }

    async fn set_classification(
        &self,
        actor: &custos_core::authz::Actor,
        id: custos_core::CiId,
        c: custos_core::classification::Classification,
        justification: &str,
    ) -> custos_core::error::StoreResult<custos_core::store::CiRecord> {
        let now = custos_core::Timestamp::now();
        let map = crate::error::map("configuration item");
        let mut tx = self.audited().await?;
        Self::query(Self::LOCK_CMDB)
            .execute(&mut *tx)
            .await
            .map_err(&map)?;
        let before = Self::ci_in(&mut tx, id.0).await?;
        Self::query("UPDATE cis SET cls_c = $2, cls_i = $3, cls_a = $4, cls_justification = $5, updated_at = $6 WHERE id = $1")
            .bind(id.0)
            .bind(c.confidentiality.map(|l| l.as_i16()))
            .bind(c.integrity.map(|l| l.as_i16()))
            .bind(c.availability.map(|l| l.as_i16()))
            .bind(justification)
            .bind(now.0)
            .execute(&mut *tx)
            .await
            .map_err(&map)?;
        let reclassified = Self::reclassify(&mut tx, vec![id.0]).await?;
        Self::copy_explicit(&mut tx, id.0, &c).await?;
        let view = |x: &custos_core::classification::Classification, j: &str| {
            serde_json::json!({
                "confidentiality": x.confidentiality.map(|l| l.as_str()),
                "integrity": x.integrity.map(|l| l.as_str()),
                "availability": x.availability.map(|l| l.as_str()),
                "justification": j,
            })
        };
        let mut changes = custos_core::audit::diff(
            Some(&view(&before.ci.explicit, &before.ci.justification)),
            Some(&view(&c, justification)),
        );
        changes["reclassified_cis"] = serde_json::json!(reclassified);
        tx.record(
            actor,
            custos_core::audit::AuditRecord::new("ci.classify", "ci", id, changes),
            now,
        );
        let after = Self::ci_in(&mut tx, id.0).await?;
        tx.commit().await?;
        Ok(after)
    }

    async fn add_relationship(
        &self,
        actor: &custos_core::authz::Actor,
        source: custos_core::CiId,
        target: custos_core::CiId,
        rel_type: custos_core::cmdb::RelType,
    ) -> custos_core::error::StoreResult<custos_core::cmdb::Relationship> {
        if source == target {
            return Err(
                custos_core::DomainError::new("target_id", "a CI cannot relate to itself").into(),
            );
        }
        let now = custos_core::Timestamp::now();
        let rel = custos_core::cmdb::Relationship {
            id: custos_core::RelationshipId::new(),
            source_id: source,
            target_id: target,
            rel_type,
            created_at: now,
        };
        let map = crate::error::map("relationship");
        let mut tx = self.audited().await?;
        Self::query(Self::LOCK_CMDB)
            .execute(&mut *tx)
            .await
            .map_err(&map)?;
        Self::query("INSERT INTO relationships (id, source_id, target_id, rel_type, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(rel.id.0)
            .bind(source.0)
            .bind(target.0)
            .bind(rel_type.as_str())
            .bind(now.0)
            .execute(&mut *tx)
            .await
            .map_err(|e| match map(e) {
                custos_core::StoreError::Conflict { constraint } if constraint == "foreign_key" || constraint.ends_with("_fkey") => {
                    custos_core::StoreError::not_found("configuration item")
                }
                custos_core::StoreError::Conflict { constraint } if constraint.starts_with("relationships_") => {
                    custos_core::StoreError::Conflict { constraint: "relationships_unique".into() }
                }
                other => other,
            })?;
        let reclassified = match rel_type.classification_flow(source, target) {
            // A new edge can only raise levels: walk from the child while it does.
            Some((from, to)) => Self::raise(&mut tx, from.0, to.0).await?,
            None => 0,
        };
        let changes = serde_json::json!({
            "source_id": {"after": source.to_string()},
            "target_id": {"after": target.to_string()},
            "rel_type": {"after": rel_type.as_str()},
            "reclassified_cis": reclassified,
        });
        tx.record(
            actor,
            custos_core::audit::AuditRecord::new(
                "relationship.create",
                "relationship",
                rel.id,
                changes,
            ),
            now,
        );
        tx.commit().await?;
        Ok(rel)
    }

    async fn delete_relationship(
        &self,
        actor: &custos_core::authz::Actor,
        id: custos_core::RelationshipId,
    ) -> custos_core::error::StoreResult<()> {
        let now = custos_core::Timestamp::now();
        let map = crate::error::map("relationship");
        let mut tx = self.audited().await?;
        Self::query(Self::LOCK_CMDB)
            .execute(&mut *tx)
            .await
            .map_err(&map)?;
        let rel: custos_core::cmdb::Relationship =
            Self::query_as::<crate::rows::RelRow>("SELECT id, source_id, target_id, rel_type, created_at FROM relationships WHERE id = $1")
                .bind(id.0)
                .fetch_one(&mut *tx)
                .await
                .map_err(&map)?
                .try_into()?;
        Self::query("DELETE FROM relationships WHERE id = $1")
            .bind(id.0)
            .execute(&mut *tx)
            .await
            .map_err(&map)?;
        let reclassified = match rel
            .rel_type
            .classification_flow(rel.source_id, rel.target_id)
        {
            Some((from, to)) => Self::lower(&mut tx, from.0, to.0).await?,
            None => 0,
        };
        let changes = serde_json::json!({
            "source_id": {"before": rel.source_id.to_string()},
            "target_id": {"before": rel.target_id.to_string()},
            "rel_type": {"before": rel.rel_type.as_str()},
            "reclassified_cis": reclassified,
        });
        tx.record(
            actor,
            custos_core::audit::AuditRecord::new(
                "relationship.delete",
                "relationship",
                id,
                changes,
            ),
            now,
        );
        tx.commit().await?;
        Ok(())
    }

    async fn relationship(
        &self,
        id: custos_core::RelationshipId,
    ) -> custos_core::error::StoreResult<custos_core::store::RelationshipView> {
        let sql = format!("{} WHERE r.id = $1", crate::rows::REL_VIEW_SQL);
        Self::query_as::<crate::rows::RelViewRow>(sqlx::AssertSqlSafe(sql))
            .bind(id.0)
            .fetch_one(self)
            .await
            .map_err(crate::error::map("relationship"))?
            .try_into()
    }

    async fn list_relationships(
        &self,
        ci: Option<custos_core::CiId>,
        page: custos_core::page::PageRequest,
    ) -> custos_core::error::StoreResult<
        custos_core::page::Page<custos_core::store::RelationshipView>,
    > {
        let sql = format!(
            "{} WHERE ($1 IS NULL OR r.source_id = $1 OR r.target_id = $1) AND ($2 IS NULL OR r.id > $2) ORDER BY r.id LIMIT $3",
            crate::rows::REL_VIEW_SQL
        );
        let rows: Vec<crate::rows::RelViewRow> = Self::query_as(sqlx::AssertSqlSafe(sql))
            .bind(ci.map(|c| c.0))
            .bind(page.after)
            .bind(page.fetch())
            .fetch_all(self)
            .await
            .map_err(crate::error::map("relationship"))?;
        let items = rows
            .into_iter()
            .map(TryInto::try_into)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(custos_core::page::Page::from_rows(
            items,
            page,
            |r: &custos_core::store::RelationshipView| r.rel.id.0,
        ))
    }

    async fn edges_touching(
        &self,
        ids: &[custos_core::CiId],
    ) -> custos_core::error::StoreResult<Vec<custos_core::cmdb::Relationship>> {
        let mut out = vec![];
        for chunk in ids.chunks(crate::cmdb::CHUNK) {
            let ph = crate::rows::placeholders(1, chunk.len());
            let sql = format!(
                "SELECT id, source_id, target_id, rel_type, created_at FROM relationships WHERE source_id IN ({ph}) \
                 UNION SELECT id, source_id, target_id, rel_type, created_at FROM relationships WHERE target_id IN ({ph})"
            );
            let mut q = Self::query_as::<crate::rows::RelRow>(sqlx::AssertSqlSafe(sql));
            for id in chunk {
                q = q.bind(id.0);
            }
            let rows = q
                .fetch_all(self)
                .await
                .map_err(crate::error::map("relationship"))?;
            for r in rows {
                out.push(r.try_into()?);
            }
        }
        Ok(out)
    }

    async fn bulk_upsert_cis(
        &self,
        actor: &custos_core::authz::Actor,
        rows: Vec<custos_core::cmdb::CiInput>,
    ) -> custos_core::error::StoreResult<(usize, usize, usize)> {
        use std::collections::HashMap;
        let now = custos_core::Timestamp::now();
        let map = crate::error::map("configuration item");
        let (mut created, mut updated, mut unchanged) = (0, 0, 0);
        let mut tx = self.audited().await?;
        for chunk in rows.chunks(crate::cmdb::CHUNK) {
            let keys: Vec<&str> = chunk
                .iter()
                .filter_map(|r| r.external_key.as_deref())
                .collect();
            if keys.is_empty() {
                continue;
            }
            let sql = format!(
                "{} WHERE c.external_key IN ({})",
                crate::rows::CI_SELECT,
                crate::rows::placeholders(1, keys.len())
            );
            let mut q = Self::query_as::<crate::rows::CiRow>(sqlx::AssertSqlSafe(sql));
            for k in &keys {
                q = q.bind(*k);
            }
            let mut existing: HashMap<String, custos_core::store::CiRecord> = HashMap::new();
            for r in q.fetch_all(&mut *tx).await.map_err(&map)? {
                let r: custos_core::store::CiRecord = r.try_into()?;
                existing.insert(r.ci.external_key.clone().unwrap_or_default(), r);
            }
            let (mut made, mut changed) = (vec![], vec![]);
            for row in chunk {
                let Some(key) = row.external_key.as_deref() else {
                    continue;
                };
                let attrs = custos_core::audit::canonical_json(&row.attributes);
                match existing.get(key) {
                    Some(cur) => {
                        let c = &cur.ci;
                        if c.ci_type == row.ci_type
                            && c.name == row.name
                            && c.status == row.status
                            && c.department_id == row.department_id
                            && c.owner_id == row.owner_id
                            && custos_core::audit::canonical_json(&c.attributes) == attrs
                        {
                            unchanged += 1;
                            continue;
                        }
                        Self::query(
                            "UPDATE cis SET ci_type = $2, name = $3, owner_id = $4, department_id = $5, status = $6, \
                             attributes = $7, updated_at = $8 WHERE id = $1",
                        )
                        .bind(c.id.0)
                        .bind(&row.ci_type)
                        .bind(&row.name)
                        .bind(row.owner_id.map(|u| u.0))
                        .bind(row.department_id.map(|d| d.0))
                        .bind(row.status.as_str())
                        .bind(&attrs)
                        .bind(now.0)
                        .execute(&mut *tx)
                        .await
                        .map_err(Self::map_ci_conflict)?;
                        updated += 1;
                        changed.push(key.to_string());
                    }
                    None => {
                        Self::query(
                            "INSERT INTO cis (id, ci_type, name, external_key, owner_id, department_id, status, attributes, \
                             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)",
                        )
                        .bind(uuid::Uuid::now_v7())
                        .bind(&row.ci_type)
                        .bind(&row.name)
                        .bind(key)
                        .bind(row.owner_id.map(|u| u.0))
                        .bind(row.department_id.map(|d| d.0))
                        .bind(row.status.as_str())
                        .bind(&attrs)
                        .bind(now.0)
                        .execute(&mut *tx)
                        .await
                        .map_err(Self::map_ci_conflict)?;
                        created += 1;
                        made.push(key.to_string());
                    }
                }
            }
            if !made.is_empty() || !changed.is_empty() {
                let changes = serde_json::json!({"created": made, "updated": changed});
                tx.record(
                    actor,
                    custos_core::audit::AuditRecord::new("ci.import", "ci", "bulk", changes),
                    now,
                );
            }
        }
        tx.commit_if_recorded().await?;
        Ok((created, updated, unchanged))
    }

    async fn bulk_add_relationships(
        &self,
        actor: &custos_core::authz::Actor,
        rows: Vec<(String, custos_core::cmdb::RelType, String)>,
    ) -> custos_core::error::StoreResult<Vec<Result<bool, String>>> {
        use std::collections::HashMap;
        let now = custos_core::Timestamp::now();
        let map = crate::error::map("relationship");
        let mut out = Vec::with_capacity(rows.len());
        let mut tx = self.audited().await?;
        Self::query(Self::LOCK_CMDB)
            .execute(&mut *tx)
            .await
            .map_err(&map)?;
        for chunk in rows.chunks(crate::cmdb::CHUNK) {
            let mut keys: Vec<&str> = chunk
                .iter()
                .flat_map(|(s, _, t)| [s.as_str(), t.as_str()])
                .collect();
            keys.sort();
            keys.dedup();
            let sql = format!(
                "SELECT external_key, id FROM cis WHERE external_key IN ({})",
                crate::rows::placeholders(1, keys.len())
            );
            let mut q = Self::query_as::<(String, uuid::Uuid)>(sqlx::AssertSqlSafe(sql));
            for k in &keys {
                q = q.bind(*k);
            }
            let ids: HashMap<String, uuid::Uuid> = q
                .fetch_all(&mut *tx)
                .await
                .map_err(&map)?
                .into_iter()
                .collect();
            let mut made = vec![];
            for (s, t, d) in chunk {
                let (Some(src), Some(dst)) = (ids.get(s), ids.get(d)) else {
                    let missing = if ids.contains_key(s) { d } else { s };
                    out.push(Err(format!("no CI with external key {missing:?}")));
                    continue;
                };
                if src == dst {
                    out.push(Err("a CI cannot relate to itself".into()));
                    continue;
                }
                let done = Self::query(
                    "INSERT INTO relationships (id, source_id, target_id, rel_type, created_at) VALUES ($1, $2, $3, $4, $5) \
                     ON CONFLICT (source_id, target_id, rel_type) DO NOTHING",
                )
                .bind(uuid::Uuid::now_v7())
                .bind(src)
                .bind(dst)
                .bind(t.as_str())
                .bind(now.0)
                .execute(&mut *tx)
                .await
                .map_err(&map)?;
                let created = done == 1;
                if created {
                    made.push(format!("{s} {} {d}", t.as_str()));
                }
                out.push(Ok(created));
            }
            if !made.is_empty() {
                let changes = serde_json::json!({"created": made});
                tx.record(
                    actor,
                    custos_core::audit::AuditRecord::new(
                        "relationship.import",
                        "relationship",
                        "bulk",
                        changes,
                    ),
                    now,
                );
            }
        }
        tx.commit_if_recorded().await?;
        Ok(out)
    }

    /// Recomputes every CI's effective classification from the whole graph.
    ///
    /// Built for a million CIs: rows are streamed rather than collected, each CI is
    /// read as its id and one integer of packed explicit levels (the stored effective
    /// levels come from the small `ci_levels`), the graph is held in dense indices
    /// (`classification::Children`), and only the CIs whose value changed are
    /// written, many per statement.
    async fn recompute_classification(&self) -> custos_core::error::StoreResult<u64> {
        use custos_core::classification::{Classification, Derived, Level, NO_NODE};
        use futures_util::TryStreamExt;
        let map = crate::error::map("configuration item");
        let mut tx = self.audited().await?;
        Self::query(Self::LOCK_CMDB)
            .execute(&mut *tx)
            .await
            .map_err(&map)?;
        let level = |v: u16| {
            Level::from_i16(v as i16).ok_or_else(|| {
                custos_core::StoreError::Internal(format!("classification level {v} out of range"))
            })
        };
        let scan = B::scan_cis(&mut tx).await?;
        let mut explicit: Vec<Classification> = Vec::with_capacity(scan.ids.len());
        for &bits in &scan.bits {
            let opt = |v: u16| if v == 0 { Ok(None) } else { level(v).map(Some) };
            explicit.push(Classification {
                confidentiality: opt(bits & 3)?,
                integrity: opt((bits >> 2) & 3)?,
                availability: opt((bits >> 4) & 3)?,
            });
        }
        // The stored levels, sources and vias of the CIs that carry a level; every
        // other CI is stored as low from nowhere.
        let mut stored: std::collections::HashMap<u32, ([i16; 3], [Option<uuid::Uuid>; 6])> =
            std::collections::HashMap::new();
        {
            let sql = format!("SELECT {} FROM ci_levels", crate::cmdb::LEVEL_COLS);
            let mut rows =
                Self::query_as::<crate::rows::ClsRow>(sqlx::AssertSqlSafe(sql)).fetch(&mut *tx);
            while let Some(r) = rows.try_next().await.map_err(&map)? {
                if let Some(i) = scan.index.get(&r.id) {
                    let e = r.eff.effective()?;
                    let id = |c: Option<custos_core::CiId>| c.map(|c| c.0);
                    stored.insert(
                        i,
                        (
                            std::array::from_fn(|d| e[d].level.as_i16()),
                            std::array::from_fn(|k| {
                                if k % 2 == 0 {
                                    id(e[k / 2].source)
                                } else {
                                    id(e[k / 2].via)
                                }
                            }),
                        ),
                    );
                }
            }
        }
        let pairs = B::scan_flow_edges(&mut tx, &scan).await?;
        let ids = scan.ids;
        let children = custos_core::classification::Children::from_pairs(ids.len(), &pairs);
        drop(pairs);
        let result = custos_core::classification::propagate_dense(&explicit, &children);
        drop(children);
        let id = |x: u32| (x != NO_NODE).then(|| ids[x as usize]);
        let mut changed: Vec<(uuid::Uuid, custos_core::classification::Effective)> = vec![];
        for (i, new) in result.iter().enumerate() {
            let (old_levels, old_refs) = stored
                .get(&(i as u32))
                .copied()
                .unwrap_or(([1; 3], [None; 6]));
            let same = (0..3).all(|d| {
                new[d].level.as_i16() == old_levels[d]
                    && id(new[d].source) == old_refs[2 * d]
                    && id(new[d].via) == old_refs[2 * d + 1]
            });
            if !same {
                let e: custos_core::classification::Effective = std::array::from_fn(|d| Derived {
                    level: new[d].level,
                    source: id(new[d].source).map(custos_core::CiId),
                    via: id(new[d].via).map(custos_core::CiId),
                });
                changed.push((ids[i], e));
            }
        }
        Self::write_effective(&mut tx, &changed).await?;
        // The copies of explicit values in `ci_levels` follow the CI table too.
        Self::query(
            "UPDATE ci_levels SET cls_c = c.cls_c, cls_i = c.cls_i, cls_a = c.cls_a FROM cis c \
             WHERE c.id = ci_levels.id AND (ci_levels.cls_c IS DISTINCT FROM c.cls_c \
             OR ci_levels.cls_i IS DISTINCT FROM c.cls_i OR ci_levels.cls_a IS DISTINCT FROM c.cls_a)",
        )
        .execute(&mut *tx)
        .await
        .map_err(&map)?;
        // Derived levels, recomputed from what is stored: nobody's change.
        tx.commit_unaudited().await?;
        Ok(changed.len() as u64)
    }
}
