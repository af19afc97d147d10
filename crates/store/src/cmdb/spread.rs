//! Keeping effective classification right after a change: the walks up (`raise`) and down
//! (`lower`, `repropagate`) the inheritance edges, inside the writer's transaction.

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
    ) -> custos_core::error::StoreResult<Vec<crate::cmdb::rows::ClsRow>> {
        Self::id_rows(tx, ids, crate::cmdb::cls_rows_sql).await
    }

    /// The classification rows of those of `ids` that carry a level.
    pub(crate) async fn level_rows(
        tx: &mut <B::Db as sqlx::Database>::Connection,
        ids: &[uuid::Uuid],
    ) -> custos_core::error::StoreResult<Vec<crate::cmdb::rows::ClsRow>> {
        Self::id_rows(tx, ids, crate::cmdb::level_rows_sql).await
    }

    /// Runs `sql` (classification rows of the listed ids) over `ids`.
    pub(crate) async fn id_rows(
        tx: &mut <B::Db as sqlx::Database>::Connection,
        ids: &[uuid::Uuid],
        sql: fn(crate::cmdb::IdList) -> String,
    ) -> custos_core::error::StoreResult<Vec<crate::cmdb::rows::ClsRow>> {
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
    ) -> custos_core::error::StoreResult<Vec<crate::cmdb::rows::ChildLevels>> {
        Self::edge_rows(tx, ids, |l| {
            crate::cmdb::flow_children_with(crate::cmdb::rows::STORED_LEVELS, l)
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
        mut inside: Vec<crate::cmdb::rows::ClsRow>,
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
        let inside = Self::query_as::<crate::cmdb::rows::ClsRow>(sqlx::AssertSqlSafe(
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
        let sql = format!("{} WHERE c.id = $1{lock}", crate::cmdb::rows::CI_SELECT);
        Self::query_as::<crate::cmdb::rows::CiRow>(sqlx::AssertSqlSafe(sql))
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
