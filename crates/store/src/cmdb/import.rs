//! Bulk imports of CIs and relationships and the full re-classification.

use crate::sql::{Backend, SqlStore};

pub(crate) async fn bulk_upsert_cis<B: Backend>(
    store: &SqlStore<B>,
    actor: &custos_core::authz::Actor,
    rows: Vec<custos_core::cmdb::CiInput>,
) -> custos_core::error::StoreResult<(usize, usize, usize)> {
    use std::collections::HashMap;
    let now = custos_core::Timestamp::now();
    let map = crate::error::map("configuration item");
    let (mut created, mut updated, mut unchanged) = (0, 0, 0);
    let mut tx = store.audited().await?;
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
            crate::cmdb::rows::CI_SELECT,
            crate::rows::placeholders(1, keys.len())
        );
        let mut q = SqlStore::<B>::query_as::<crate::cmdb::rows::CiRow>(sqlx::AssertSqlSafe(sql));
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
                    SqlStore::<B>::query(
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
                    .map_err(SqlStore::<B>::map_ci_conflict)?;
                    updated += 1;
                    changed.push(key.to_string());
                }
                None => {
                    SqlStore::<B>::query(
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
                    .map_err(SqlStore::<B>::map_ci_conflict)?;
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

pub(crate) async fn bulk_add_relationships<B: Backend>(
    store: &SqlStore<B>,
    actor: &custos_core::authz::Actor,
    rows: Vec<(String, custos_core::cmdb::RelType, String)>,
) -> custos_core::error::StoreResult<Vec<Result<bool, String>>> {
    use std::collections::HashMap;
    let now = custos_core::Timestamp::now();
    let map = crate::error::map("relationship");
    let mut out = Vec::with_capacity(rows.len());
    let mut tx = store.audited().await?;
    SqlStore::<B>::query(SqlStore::<B>::LOCK_CMDB)
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
        let mut q = SqlStore::<B>::query_as::<(String, uuid::Uuid)>(sqlx::AssertSqlSafe(sql));
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
            let done = SqlStore::<B>::query(
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
pub(crate) async fn recompute_classification<B: Backend>(
    store: &SqlStore<B>,
) -> custos_core::error::StoreResult<u64> {
    use custos_core::classification::{Classification, Derived, Level, NO_NODE};
    use futures_util::TryStreamExt;
    let map = crate::error::map("configuration item");
    let mut tx = store.audited().await?;
    SqlStore::<B>::query(SqlStore::<B>::LOCK_CMDB)
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
            SqlStore::<B>::query_as::<crate::cmdb::rows::ClsRow>(sqlx::AssertSqlSafe(sql))
                .fetch(&mut *tx);
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
    SqlStore::<B>::write_effective(&mut tx, &changed).await?;
    // The copies of explicit values in `ci_levels` follow the CI table too.
    SqlStore::<B>::query(
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
