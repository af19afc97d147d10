//! The CMDB: CI types, CIs, relationships, and keeping effective classification right
//! after every change (re-propagating the region downstream of it, in the same transaction).

mod import;
mod queries;
pub(crate) mod rows;
pub(crate) mod scan;
mod spread;

pub(crate) use crate::sql::{CHUNK, IdList};
pub(crate) use queries::*;
pub(crate) use scan::*;

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
        let changes = custos_core::audit::diff(None, Some(&crate::cmdb::rows::ci_view(&rec.ci)));
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
            Some(&crate::cmdb::rows::ci_view(&before.ci)),
            Some(&crate::cmdb::rows::ci_view(&after.ci)),
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
        let mut changes =
            custos_core::audit::diff(Some(&crate::cmdb::rows::ci_view(&before.ci)), None);
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
        let sql = format!("{} WHERE c.id = $1", crate::cmdb::rows::CI_SELECT);
        Self::query_as::<crate::cmdb::rows::CiRow>(sqlx::AssertSqlSafe(sql))
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
        let sql = format!("{} WHERE c.external_key = $1", crate::cmdb::rows::CI_SELECT);
        Self::query_as::<crate::cmdb::rows::CiRow>(sqlx::AssertSqlSafe(sql))
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
                crate::cmdb::rows::CI_SELECT,
                crate::rows::placeholders(1, chunk.len())
            );
            let mut q = Self::query_as::<crate::cmdb::rows::CiRow>(sqlx::AssertSqlSafe(sql));
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
            crate::cmdb::rows::CI_SELECT
        );
        let mut q = Self::query_as::<crate::cmdb::rows::CiRow>(sqlx::AssertSqlSafe(sql))
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
            Self::query_as::<crate::cmdb::rows::RelRow>("SELECT id, source_id, target_id, rel_type, created_at FROM relationships WHERE id = $1")
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
        let sql = format!("{} WHERE r.id = $1", crate::cmdb::rows::REL_VIEW_SQL);
        Self::query_as::<crate::cmdb::rows::RelViewRow>(sqlx::AssertSqlSafe(sql))
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
            crate::cmdb::rows::REL_VIEW_SQL
        );
        let rows: Vec<crate::cmdb::rows::RelViewRow> = Self::query_as(sqlx::AssertSqlSafe(sql))
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
            let mut q = Self::query_as::<crate::cmdb::rows::RelRow>(sqlx::AssertSqlSafe(sql));
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
        import::bulk_upsert_cis(self, actor, rows).await
    }

    async fn bulk_add_relationships(
        &self,
        actor: &custos_core::authz::Actor,
        rows: Vec<(String, custos_core::cmdb::RelType, String)>,
    ) -> custos_core::error::StoreResult<Vec<Result<bool, String>>> {
        import::bulk_add_relationships(self, actor, rows).await
    }

    /// Recomputes every CI's effective classification from the whole graph.
    ///
    /// Built for a million CIs: rows are streamed rather than collected, each CI is
    /// read as its id and one integer of packed explicit levels (the stored effective
    /// levels come from the small `ci_levels`), the graph is held in dense indices
    /// (`classification::Children`), and only the CIs whose value changed are
    /// written, many per statement.
    async fn recompute_classification(&self) -> custos_core::error::StoreResult<u64> {
        import::recompute_classification(self).await
    }
}
