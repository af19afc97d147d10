//! The control catalogue: idempotent OSCAL imports, baselines, hand-written controls.

impl<B: crate::sql::Backend> crate::sql::SqlStore<B> {
    /// The catalog for the organisation's own procedures, created on first use.
    async fn manual_catalog(
        tx: &mut crate::sql::AuditedTx<B>,
        now: custos_core::Timestamp,
    ) -> custos_core::error::StoreResult<uuid::Uuid> {
        let map = crate::error::map("catalog");
        let found: Option<(uuid::Uuid,)> =
            Self::query_as("SELECT id FROM catalogs WHERE source = 'manual' ORDER BY id LIMIT 1")
                .fetch_optional(&mut **tx)
                .await
                .map_err(&map)?;
        if let Some((id,)) = found {
            return Ok(id);
        }
        let id = uuid::Uuid::now_v7();
        Self::query("INSERT INTO catalogs (id, oscal_uuid, title, version, source, created_at, updated_at) VALUES ($1, NULL, $2, '', 'manual', $3, $3)")
            .bind(id)
            .bind("Organisation procedures")
            .bind(now.0)
            .execute(&mut **tx)
            .await
            .map_err(&map)?;
        Ok(id)
    }
}

#[async_trait::async_trait]
impl<B: crate::sql::Backend> custos_core::store::ControlStore for crate::sql::SqlStore<B> {
    async fn import_catalog(
        &self,
        actor: &custos_core::authz::Actor,
        c: custos_core::oscal::Catalog,
    ) -> custos_core::error::StoreResult<custos_core::controls::CatalogImport> {
        use std::collections::HashMap;
        let now = custos_core::Timestamp::now();
        let map = crate::error::map("catalog");
        let mut tx = self.audited().await?;
        let found: Option<(uuid::Uuid, String, String)> =
            Self::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT id, title, version FROM catalogs WHERE oscal_uuid = $1{}",
                Self::FOR_UPDATE
            )))
            .bind(&c.uuid)
            .fetch_optional(&mut *tx)
            .await
            .map_err(&map)?;
        let catalog_id = match &found {
            Some((id, title, version)) => {
                if *title != c.title || *version != c.version {
                    Self::query("UPDATE catalogs SET title = $2, version = $3, updated_at = $4 WHERE id = $1")
                        .bind(id)
                        .bind(&c.title)
                        .bind(&c.version)
                        .bind(now.0)
                        .execute(&mut *tx)
                        .await
                        .map_err(&map)?;
                }
                *id
            }
            None => {
                let id = uuid::Uuid::now_v7();
                Self::query("INSERT INTO catalogs (id, oscal_uuid, title, version, source, created_at, updated_at) VALUES ($1, $2, $3, $4, 'oscal', $5, $5)")
                    .bind(id)
                    .bind(&c.uuid)
                    .bind(&c.title)
                    .bind(&c.version)
                    .bind(now.0)
                    .execute(&mut *tx)
                    .await
                    .map_err(&map)?;
                id
            }
        };
        let sql = format!(
            "SELECT {} FROM controls k WHERE k.catalog_id = $1",
            crate::measures::rows::CONTROL_COLS
        );
        let existing: HashMap<String, crate::measures::rows::ControlRow> =
            Self::query_as::<crate::measures::rows::ControlRow>(sqlx::AssertSqlSafe(sql))
                .bind(catalog_id)
                .fetch_all(&mut *tx)
                .await
                .map_err(&map)?
                .into_iter()
                .map(|r| (r.control_id.clone(), r))
                .collect();
        let (mut inserted, mut updated, mut unchanged) = (vec![], vec![], 0usize);
        for spec in &c.controls {
            let source = if spec.function_from_catalog {
                "catalog"
            } else {
                "default"
            };
            match existing.get(&spec.control_id) {
                None => {
                    Self::query(
                        "INSERT INTO controls (id, catalog_id, control_id, label, title, family, parent_control_id, statement, guidance, \
                         function, function_source, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)",
                    )
                    .bind(uuid::Uuid::now_v7())
                    .bind(catalog_id)
                    .bind(&spec.control_id)
                    .bind(&spec.label)
                    .bind(&spec.title)
                    .bind(&spec.family)
                    .bind(spec.parent.as_deref())
                    .bind(&spec.statement)
                    .bind(&spec.guidance)
                    .bind(spec.function.as_str())
                    .bind(source)
                    .bind(now.0)
                    .execute(&mut *tx)
                    .await
                    .map_err(&map)?;
                    inserted.push(spec.control_id.clone());
                }
                Some(row) => {
                    let current: custos_core::controls::Control = row.clone().try_into()?;
                    // A function set by a person survives re-imports.
                    let (function, source) = if current.function_source == "manual" {
                        (current.spec.function, "manual")
                    } else {
                        (spec.function, source)
                    };
                    let same = current.spec.label == spec.label
                        && current.spec.title == spec.title
                        && current.spec.family == spec.family
                        && current.spec.parent == spec.parent
                        && current.spec.statement == spec.statement
                        && current.spec.guidance == spec.guidance
                        && current.spec.function == function
                        && current.function_source == source;
                    if same {
                        unchanged += 1;
                        continue;
                    }
                    Self::query(
                        "UPDATE controls SET label = $2, title = $3, family = $4, parent_control_id = $5, statement = $6, guidance = $7, \
                         function = $8, function_source = $9, updated_at = $10 WHERE id = $1",
                    )
                    .bind(row.id)
                    .bind(&spec.label)
                    .bind(&spec.title)
                    .bind(&spec.family)
                    .bind(spec.parent.as_deref())
                    .bind(&spec.statement)
                    .bind(&spec.guidance)
                    .bind(function.as_str())
                    .bind(source)
                    .bind(now.0)
                    .execute(&mut *tx)
                    .await
                    .map_err(&map)?;
                    updated.push(spec.control_id.clone());
                }
            }
        }
        let renamed = matches!(&found, Some((_, title, version)) if *title != c.title || *version != c.version);
        if found.is_none() || renamed || !inserted.is_empty() || !updated.is_empty() {
            let changes = serde_json::json!({
                "title": c.title, "version": c.version, "oscal_uuid": c.uuid,
                "inserted": inserted, "updated": updated, "unchanged": unchanged,
            });
            tx.record(
                actor,
                custos_core::audit::AuditRecord::new(
                    "catalog.import",
                    "catalog",
                    catalog_id,
                    changes,
                ),
                now,
            );
            tx.commit().await?;
        }
        // Otherwise nothing was written: the transaction rolls back on drop.
        Ok(custos_core::controls::CatalogImport {
            catalog_id: custos_core::CatalogId(catalog_id),
            title: c.title,
            inserted: inserted.len(),
            updated: updated.len(),
            unchanged,
        })
    }

    async fn import_profile(
        &self,
        actor: &custos_core::authz::Actor,
        p: custos_core::oscal::Profile,
        catalog: custos_core::CatalogId,
    ) -> custos_core::error::StoreResult<custos_core::controls::BaselineImport> {
        use std::collections::{BTreeSet, HashMap};
        let now = custos_core::Timestamp::now();
        let map = crate::error::map("baseline");
        let mut tx = self.audited().await?;
        let ids: HashMap<String, uuid::Uuid> = Self::query_as::<(String, uuid::Uuid)>(
            "SELECT control_id, id FROM controls WHERE catalog_id = $1",
        )
        .bind(catalog.0)
        .fetch_all(&mut *tx)
        .await
        .map_err(&map)?
        .into_iter()
        .collect();
        if ids.is_empty() {
            return Err(custos_core::StoreError::not_found("catalog"));
        }
        let wanted: Vec<String> = match &p.include {
            Some(list) => list.clone(),
            None => ids.keys().cloned().collect(),
        };
        let mut missing = vec![];
        let mut refs = BTreeSet::new();
        for id in wanted.iter().filter(|i| !p.exclude.contains(i)) {
            match ids.get(id) {
                Some(r) => {
                    refs.insert(*r);
                }
                None => missing.push(id.clone()),
            }
        }
        let found: Option<(uuid::Uuid, String, uuid::Uuid)> =
            Self::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT id, name, catalog_id FROM baselines WHERE oscal_uuid = $1{}",
                Self::FOR_UPDATE
            )))
            .bind(&p.uuid)
            .fetch_optional(&mut *tx)
            .await
            .map_err(&map)?;
        let (baseline_id, mut changed) = match found {
            Some((id, name, cat)) => {
                let differs = name != p.title || cat != catalog.0;
                if differs {
                    Self::query("UPDATE baselines SET name = $2, catalog_id = $3, updated_at = $4 WHERE id = $1")
                        .bind(id)
                        .bind(&p.title)
                        .bind(catalog.0)
                        .bind(now.0)
                        .execute(&mut *tx)
                        .await
                        .map_err(&map)?;
                }
                (id, differs)
            }
            None => {
                let id = uuid::Uuid::now_v7();
                Self::query("INSERT INTO baselines (id, oscal_uuid, name, catalog_id, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)")
                    .bind(id)
                    .bind(&p.uuid)
                    .bind(&p.title)
                    .bind(catalog.0)
                    .bind(now.0)
                    .execute(&mut *tx)
                    .await
                    .map_err(&map)?;
                (id, true)
            }
        };
        let current: BTreeSet<uuid::Uuid> = Self::query_as::<(uuid::Uuid,)>(
            "SELECT control_ref FROM baseline_controls WHERE baseline_id = $1",
        )
        .bind(baseline_id)
        .fetch_all(&mut *tx)
        .await
        .map_err(&map)?
        .into_iter()
        .map(|r| r.0)
        .collect();
        if current != refs {
            changed = true;
            Self::query("DELETE FROM baseline_controls WHERE baseline_id = $1")
                .bind(baseline_id)
                .execute(&mut *tx)
                .await
                .map_err(&map)?;
            for r in &refs {
                Self::query(
                    "INSERT INTO baseline_controls (baseline_id, control_ref) VALUES ($1, $2)",
                )
                .bind(baseline_id)
                .bind(r)
                .execute(&mut *tx)
                .await
                .map_err(&map)?;
            }
        }
        if changed {
            let changes = serde_json::json!({"name": p.title, "catalog_id": catalog.to_string(), "controls": refs.len(), "missing": missing});
            tx.record(
                actor,
                custos_core::audit::AuditRecord::new(
                    "baseline.import",
                    "baseline",
                    baseline_id,
                    changes,
                ),
                now,
            );
            tx.commit().await?;
        }
        // Otherwise nothing was written: the transaction rolls back on drop.
        Ok(custos_core::controls::BaselineImport {
            baseline_id: custos_core::BaselineId(baseline_id),
            name: p.title,
            controls: refs.len(),
            missing,
            changed,
        })
    }

    async fn list_catalogs(
        &self,
    ) -> custos_core::error::StoreResult<Vec<custos_core::controls::CatalogInfo>> {
        let rows: Vec<(uuid::Uuid, Option<String>, String, String, String, i64)> = Self::query_as(
            "SELECT c.id, c.oscal_uuid, c.title, c.version, c.source, (SELECT COUNT(*) FROM controls k WHERE k.catalog_id = c.id) \
             FROM catalogs c ORDER BY c.id",
        )
        .fetch_all(self)
        .await
        .map_err(crate::error::map("catalog"))?;
        Ok(rows
            .into_iter()
            .map(|(id, oscal_uuid, title, version, source, controls)| {
                custos_core::controls::CatalogInfo {
                    id: custos_core::CatalogId(id),
                    oscal_uuid,
                    title,
                    version,
                    source,
                    controls,
                }
            })
            .collect())
    }

    async fn list_baselines(
        &self,
    ) -> custos_core::error::StoreResult<Vec<custos_core::controls::BaselineInfo>> {
        let rows: Vec<(uuid::Uuid, String, uuid::Uuid, i64)> = Self::query_as(
            "SELECT b.id, b.name, b.catalog_id, (SELECT COUNT(*) FROM baseline_controls bc WHERE bc.baseline_id = b.id) \
             FROM baselines b ORDER BY b.name",
        )
        .fetch_all(self)
        .await
        .map_err(crate::error::map("baseline"))?;
        Ok(rows
            .into_iter()
            .map(
                |(id, name, catalog_id, controls)| custos_core::controls::BaselineInfo {
                    id: custos_core::BaselineId(id),
                    name,
                    catalog_id: custos_core::CatalogId(catalog_id),
                    controls,
                },
            )
            .collect())
    }

    async fn list_controls(
        &self,
        f: &custos_core::controls::ControlFilter,
        page: custos_core::page::PageRequest,
    ) -> custos_core::error::StoreResult<custos_core::page::Page<custos_core::controls::Control>>
    {
        let terms =
            f.q.as_deref()
                .map(custos_core::cmdb::search_terms)
                .unwrap_or_default();
        // Up to four words, each required somewhere in id, label or title.
        let mut search = String::new();
        for i in 0..terms.len().min(4) {
            let n = 6 + i;
            search.push_str(&format!(
                " AND (LOWER(k.control_id) LIKE ${n} OR LOWER(k.label) LIKE ${n} OR LOWER(k.title) LIKE ${n})"
            ));
        }
        let sql = format!(
            "SELECT {} FROM controls k WHERE ($1 IS NULL OR k.catalog_id = $1) AND ($2 IS NULL OR k.family = $2) \
             AND ($3 IS NULL OR k.id IN (SELECT control_ref FROM baseline_controls WHERE baseline_id = $3)) \
             AND ($4 IS NULL OR k.id > $4){search} ORDER BY k.id LIMIT $5",
            crate::measures::rows::CONTROL_COLS
        );
        let mut q = Self::query_as::<crate::measures::rows::ControlRow>(sqlx::AssertSqlSafe(sql))
            .bind(f.catalog.map(|c| c.0))
            .bind(f.family.as_deref())
            .bind(f.baseline.map(|b| b.0))
            .bind(page.after)
            .bind(page.fetch());
        for t in terms.iter().take(4) {
            q = q.bind(format!("%{t}%"));
        }
        let rows = q
            .fetch_all(self)
            .await
            .map_err(crate::error::map("control"))?;
        let items = rows
            .into_iter()
            .map(TryInto::try_into)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(custos_core::page::Page::from_rows(
            items,
            page,
            |c: &custos_core::controls::Control| c.id.0,
        ))
    }

    async fn control(
        &self,
        id: custos_core::ControlId,
    ) -> custos_core::error::StoreResult<custos_core::controls::Control> {
        let sql = format!(
            "SELECT {} FROM controls k WHERE k.id = $1",
            crate::measures::rows::CONTROL_COLS
        );
        Self::query_as::<crate::measures::rows::ControlRow>(sqlx::AssertSqlSafe(sql))
            .bind(id.0)
            .fetch_one(self)
            .await
            .map_err(crate::error::map("control"))?
            .try_into()
    }

    async fn controls_by_ids(
        &self,
        ids: &[custos_core::ControlId],
    ) -> custos_core::error::StoreResult<Vec<custos_core::controls::Control>> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(crate::cmdb::CHUNK) {
            let sql = format!(
                "SELECT {} FROM controls k WHERE k.id IN ({})",
                crate::measures::rows::CONTROL_COLS,
                crate::rows::placeholders(1, chunk.len())
            );
            let mut q =
                Self::query_as::<crate::measures::rows::ControlRow>(sqlx::AssertSqlSafe(sql));
            for id in chunk {
                q = q.bind(id.0);
            }
            for r in q
                .fetch_all(self)
                .await
                .map_err(crate::error::map("control"))?
            {
                out.push(r.try_into()?);
            }
        }
        Ok(out)
    }

    async fn create_control(
        &self,
        actor: &custos_core::authz::Actor,
        spec: custos_core::controls::ControlSpec,
    ) -> custos_core::error::StoreResult<custos_core::controls::Control> {
        let now = custos_core::Timestamp::now();
        let map = crate::error::map("control");
        let mut tx = self.audited().await?;
        let catalog = Self::manual_catalog(&mut tx, now).await?;
        let id = uuid::Uuid::now_v7();
        Self::query(
            "INSERT INTO controls (id, catalog_id, control_id, label, title, family, parent_control_id, statement, guidance, \
             function, function_source, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, NULL, $7, $8, $9, 'manual', $10, $10)",
        )
        .bind(id)
        .bind(catalog)
        .bind(&spec.control_id)
        .bind(&spec.label)
        .bind(&spec.title)
        .bind(&spec.family)
        .bind(&spec.statement)
        .bind(&spec.guidance)
        .bind(spec.function.as_str())
        .bind(now.0)
        .execute(&mut *tx)
        .await
        .map_err(&map)?;
        let changes = serde_json::json!({
            "control_id": {"after": spec.control_id}, "title": {"after": spec.title},
            "function": {"after": spec.function.as_str()}, "statement": {"after": spec.statement},
        });
        tx.record(
            actor,
            custos_core::audit::AuditRecord::new("control.create", "control", id, changes),
            now,
        );
        tx.commit().await?;
        self.control(custos_core::ControlId(id)).await
    }

    async fn set_control_function(
        &self,
        actor: &custos_core::authz::Actor,
        id: custos_core::ControlId,
        f: custos_core::controls::Function,
    ) -> custos_core::error::StoreResult<custos_core::controls::Control> {
        let now = custos_core::Timestamp::now();
        let map = crate::error::map("control");
        let mut tx = self.audited().await?;
        let sql = format!(
            "SELECT {} FROM controls k WHERE k.id = $1{}",
            crate::measures::rows::CONTROL_COLS,
            Self::FOR_UPDATE
        );
        let before: custos_core::controls::Control =
            Self::query_as::<crate::measures::rows::ControlRow>(sqlx::AssertSqlSafe(sql))
                .bind(id.0)
                .fetch_one(&mut *tx)
                .await
                .map_err(&map)?
                .try_into()?;
        Self::query("UPDATE controls SET function = $2, function_source = 'manual', updated_at = $3 WHERE id = $1")
            .bind(id.0)
            .bind(f.as_str())
            .bind(now.0)
            .execute(&mut *tx)
            .await
            .map_err(&map)?;
        let changes = serde_json::json!({"function": {"before": before.spec.function.as_str(), "after": f.as_str()}});
        tx.record(
            actor,
            custos_core::audit::AuditRecord::new("control.update", "control", id, changes),
            now,
        );
        tx.commit().await?;
        self.control(id).await
    }
}
