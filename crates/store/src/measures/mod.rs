//! Required measures: level → baseline mapping, controls added to CIs, implementations,
//! and the data a gap computation needs.

mod controls;
pub(crate) mod rows;

#[async_trait::async_trait]
impl<B: crate::sql::Backend> custos_core::store::MeasureStore for crate::sql::SqlStore<B> {
    async fn level_baselines(
        &self,
    ) -> custos_core::error::StoreResult<[Option<custos_core::BaselineId>; 3]> {
        let rows: Vec<(i16, Option<uuid::Uuid>)> =
            Self::query_as("SELECT level, baseline_id FROM level_baselines")
                .fetch_all(self)
                .await
                .map_err(crate::error::map("baseline"))?;
        let mut out = [None; 3];
        for (level, b) in rows {
            if (1..=3).contains(&level) {
                out[(level - 1) as usize] = b.map(custos_core::BaselineId);
            }
        }
        Ok(out)
    }

    async fn set_level_baseline(
        &self,
        actor: &custos_core::authz::Actor,
        level: custos_core::classification::Level,
        baseline: Option<custos_core::BaselineId>,
    ) -> custos_core::error::StoreResult<()> {
        let now = custos_core::Timestamp::now();
        let map = crate::error::map("baseline");
        let mut tx = self.audited().await?;
        let before: Option<(Option<uuid::Uuid>,)> =
            Self::query_as("SELECT baseline_id FROM level_baselines WHERE level = $1")
                .bind(level.as_i16())
                .fetch_optional(&mut *tx)
                .await
                .map_err(&map)?;
        Self::query(
            "INSERT INTO level_baselines (level, baseline_id) VALUES ($1, $2) \
             ON CONFLICT (level) DO UPDATE SET baseline_id = excluded.baseline_id",
        )
        .bind(level.as_i16())
        .bind(baseline.map(|b| b.0))
        .execute(&mut *tx)
        .await
        .map_err(|e| match map(e) {
            custos_core::StoreError::Conflict { .. } => {
                custos_core::StoreError::not_found("baseline")
            }
            other => other,
        })?;
        let changes = serde_json::json!({"baseline_id": {
            "before": before.and_then(|b| b.0).map(|u| u.to_string()),
            "after": baseline.map(|b| b.to_string()),
        }});
        let rec = custos_core::audit::AuditRecord::new(
            "level_baseline.set",
            "classification_level",
            level.as_str(),
            changes,
        );
        tx.record(actor, rec, now);
        tx.commit().await?;
        Ok(())
    }

    async fn add_ci_control(
        &self,
        actor: &custos_core::authz::Actor,
        ci: custos_core::CiId,
        control: custos_core::ControlId,
        reason: &str,
    ) -> custos_core::error::StoreResult<()> {
        let now = custos_core::Timestamp::now();
        let map = crate::error::map("required control");
        let mut tx = self.audited().await?;
        Self::query("INSERT INTO ci_controls (ci_id, control_ref, reason, created_at) VALUES ($1, $2, $3, $4)")
            .bind(ci.0)
            .bind(control.0)
            .bind(reason)
            .bind(now.0)
            .execute(&mut *tx)
            .await
            .map_err(|e| match map(e) {
                custos_core::StoreError::Conflict { constraint } if constraint == "foreign_key" || constraint.ends_with("_fkey") => {
                    custos_core::StoreError::not_found("CI or control")
                }
                other => other,
            })?;
        let changes = serde_json::json!({"control_id": {"after": control.to_string()}, "reason": {"after": reason}});
        tx.record(
            actor,
            custos_core::audit::AuditRecord::new("ci.control_add", "ci", ci, changes),
            now,
        );
        tx.commit().await?;
        Ok(())
    }

    async fn remove_ci_control(
        &self,
        actor: &custos_core::authz::Actor,
        ci: custos_core::CiId,
        control: custos_core::ControlId,
    ) -> custos_core::error::StoreResult<()> {
        let now = custos_core::Timestamp::now();
        let map = crate::error::map("required control");
        let mut tx = self.audited().await?;
        let done = Self::query("DELETE FROM ci_controls WHERE ci_id = $1 AND control_ref = $2")
            .bind(ci.0)
            .bind(control.0)
            .execute(&mut *tx)
            .await
            .map_err(&map)?;
        if done == 0 {
            return Err(custos_core::StoreError::not_found("required control"));
        }
        let changes = serde_json::json!({"control_id": {"before": control.to_string()}});
        tx.record(
            actor,
            custos_core::audit::AuditRecord::new("ci.control_remove", "ci", ci, changes),
            now,
        );
        tx.commit().await?;
        Ok(())
    }

    async fn put_implementation(
        &self,
        actor: &custos_core::authz::Actor,
        imp: custos_core::measures::Implementation,
    ) -> custos_core::error::StoreResult<custos_core::measures::Implementation> {
        let now = custos_core::Timestamp::now();
        let map = crate::error::map("implementation");
        let mut tx = self.audited().await?;
        let sql = format!(
            "SELECT {} FROM implementations i WHERE i.ci_id = $1 AND i.control_ref = $2{}",
            crate::measures::rows::IMPL_COLS,
            Self::FOR_UPDATE
        );
        let before: Option<custos_core::measures::Implementation> =
            Self::query_as::<crate::measures::rows::ImplRow>(sqlx::AssertSqlSafe(sql))
                .bind(imp.ci_id.0)
                .bind(imp.control_id.0)
                .fetch_optional(&mut *tx)
                .await
                .map_err(&map)?
                .map(TryInto::try_into)
                .transpose()?;
        let after = custos_core::measures::Implementation {
            updated_at: now,
            ..imp
        };
        Self::query(
            "INSERT INTO implementations (ci_id, control_ref, status, justification, evidence, links, owner_id, last_verified_at, \
             next_review_at, inheritable, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
             ON CONFLICT (ci_id, control_ref) DO UPDATE SET status = excluded.status, justification = excluded.justification, \
             evidence = excluded.evidence, links = excluded.links, owner_id = excluded.owner_id, \
             last_verified_at = excluded.last_verified_at, next_review_at = excluded.next_review_at, \
             inheritable = excluded.inheritable, updated_at = excluded.updated_at",
        )
        .bind(after.ci_id.0)
        .bind(after.control_id.0)
        .bind(after.status.as_str())
        .bind(&after.justification)
        .bind(&after.evidence)
        .bind(serde_json::to_string(&after.links).unwrap_or_else(|_| "[]".into()))
        .bind(after.owner_id.map(|u| u.0))
        .bind(after.last_verified_at.map(|t| t.0))
        .bind(after.next_review_at.map(|t| t.0))
        .bind(after.inheritable)
        .bind(now.0)
        .execute(&mut *tx)
        .await
        .map_err(|e| match map(e) {
            custos_core::StoreError::Conflict { constraint } if constraint == "foreign_key" || constraint.ends_with("_fkey") => {
                custos_core::StoreError::not_found("CI, control or owner")
            }
            other => other,
        })?;
        let changes = custos_core::audit::diff(
            before
                .as_ref()
                .map(crate::measures::rows::impl_view)
                .as_ref(),
            Some(&crate::measures::rows::impl_view(&after)),
        );
        let rec = custos_core::audit::AuditRecord::new(
            "implementation.set",
            "implementation",
            format!("{}/{}", after.ci_id, after.control_id),
            changes,
        );
        tx.record(actor, rec, now);
        tx.commit().await?;
        Ok(after)
    }

    async fn gap_data_many(
        &self,
        items: &[(custos_core::CiId, Option<custos_core::BaselineId>)],
    ) -> custos_core::error::StoreResult<Vec<custos_core::store::GapData>> {
        use std::collections::{HashMap, HashSet};
        let map = crate::error::map("measures");
        let mut tx = self.pool.begin().await.map_err(&map)?;
        // Everything the scope inherits classification from, with the parent links.
        let scope: Vec<uuid::Uuid> = items.iter().map(|(c, _)| c.0).collect();
        let mut parents: HashMap<uuid::Uuid, Vec<uuid::Uuid>> = HashMap::new();
        let mut seen: HashSet<uuid::Uuid> = scope.iter().copied().collect();
        let mut frontier = scope.clone();
        while !frontier.is_empty() {
            let mut next = vec![];
            for (p, c) in Self::flow_parents(&mut tx, &frontier).await? {
                parents.entry(c).or_default().push(p);
                if seen.insert(p) {
                    next.push(p);
                }
            }
            frontier = next;
        }
        let all: Vec<uuid::Uuid> = seen.into_iter().collect();
        let mut added: HashMap<uuid::Uuid, Vec<custos_core::ControlId>> = HashMap::new();
        let mut common: HashMap<uuid::Uuid, Vec<custos_core::measures::Implementation>> =
            HashMap::new();
        for chunk in all.chunks(crate::cmdb::CHUNK) {
            let ph = crate::rows::placeholders(1, chunk.len());
            // Explicit additions, the service's security baseline and agreed SLAs' requirements.
            let sql = format!(
                "SELECT control_ref, ci_id FROM ci_controls WHERE ci_id IN ({ph}) \
                 UNION SELECT control_ref, ci_id FROM service_baseline WHERE ci_id IN ({ph}) \
                 UNION SELECT control_ref, ci_id FROM sla_controls WHERE ci_id IN ({ph})"
            );
            let mut q = Self::query_as::<(uuid::Uuid, uuid::Uuid)>(sqlx::AssertSqlSafe(sql));
            for id in chunk {
                q = q.bind(*id);
            }
            for (k, c) in q.fetch_all(&mut *tx).await.map_err(&map)? {
                added.entry(c).or_default().push(custos_core::ControlId(k));
            }
            let sql = format!(
                "SELECT {} FROM implementations i JOIN cis c ON c.id = i.ci_id WHERE i.inheritable \
                 AND c.ci_type = 'business_service' AND i.ci_id IN ({ph})",
                crate::measures::rows::IMPL_COLS
            );
            let mut q = Self::query_as::<crate::measures::rows::ImplRow>(sqlx::AssertSqlSafe(sql));
            for id in chunk {
                q = q.bind(*id);
            }
            for r in q.fetch_all(&mut *tx).await.map_err(&map)? {
                let i: custos_core::measures::Implementation = r.try_into()?;
                common.entry(i.ci_id.0).or_default().push(i);
            }
        }
        let mut own: HashMap<uuid::Uuid, Vec<custos_core::measures::Implementation>> =
            HashMap::new();
        for chunk in scope.chunks(crate::cmdb::CHUNK) {
            let sql = format!(
                "SELECT {} FROM implementations i WHERE i.ci_id IN ({})",
                crate::measures::rows::IMPL_COLS,
                crate::rows::placeholders(1, chunk.len())
            );
            let mut q = Self::query_as::<crate::measures::rows::ImplRow>(sqlx::AssertSqlSafe(sql));
            for id in chunk {
                q = q.bind(*id);
            }
            for r in q.fetch_all(&mut *tx).await.map_err(&map)? {
                let i: custos_core::measures::Implementation = r.try_into()?;
                own.entry(i.ci_id.0).or_default().push(i);
            }
        }
        let mut baselines: HashMap<
            custos_core::BaselineId,
            std::sync::Arc<[custos_core::ControlId]>,
        > = HashMap::new();
        for b in items.iter().filter_map(|(_, b)| *b) {
            if let std::collections::hash_map::Entry::Vacant(e) = baselines.entry(b) {
                let rows = Self::query_as::<(uuid::Uuid,)>(
                    "SELECT control_ref FROM baseline_controls WHERE baseline_id = $1",
                )
                .bind(b.0)
                .fetch_all(&mut *tx)
                .await
                .map_err(&map)?;
                e.insert(
                    rows.into_iter()
                        .map(|r| custos_core::ControlId(r.0))
                        .collect::<Vec<_>>()
                        .into(),
                );
            }
        }
        tx.commit().await.map_err(&map)?;
        let mut out = Vec::with_capacity(items.len());
        let mut shared_common: HashMap<
            Vec<uuid::Uuid>,
            std::sync::Arc<[custos_core::measures::Implementation]>,
        > = HashMap::new();
        for (ci, b) in items {
            // This CI's ancestors, from the parent links.
            let mut anc: HashSet<uuid::Uuid> = HashSet::new();
            let mut stack = vec![ci.0];
            while let Some(n) = stack.pop() {
                for p in parents.get(&n).into_iter().flatten() {
                    if *p != ci.0 && anc.insert(*p) {
                        stack.push(*p);
                    }
                }
            }
            let mut add = vec![];
            for on in std::iter::once(ci.0).chain(anc.iter().copied()) {
                for k in added.get(&on).into_iter().flatten() {
                    add.push((*k, custos_core::CiId(on)));
                }
            }
            // CIs inheriting from the same services share one list of common
            // implementations (a large service scope would otherwise copy it per CI).
            let mut sources: Vec<uuid::Uuid> = anc
                .iter()
                .filter(|a| common.contains_key(*a))
                .copied()
                .collect();
            sources.sort_unstable();
            let shared = shared_common
                .entry(sources.clone())
                .or_insert_with(|| {
                    sources
                        .iter()
                        .flat_map(|a| common.get(a).cloned().unwrap_or_default())
                        .collect()
                })
                .clone();
            out.push(custos_core::store::GapData {
                baseline: b
                    .and_then(|b| baselines.get(&b).cloned())
                    .unwrap_or_else(|| std::sync::Arc::from(Vec::new())),
                added: add,
                own: own.remove(&ci.0).unwrap_or_default(),
                common: shared,
            });
        }
        Ok(out)
    }

    async fn add_evidence(
        &self,
        actor: &custos_core::authz::Actor,
        ci: custos_core::CiId,
        control: custos_core::ControlId,
        file_name: &str,
        content_type: &str,
        content: &[u8],
    ) -> custos_core::error::StoreResult<custos_core::measures::EvidenceFile> {
        let now = custos_core::Timestamp::now();
        let map = crate::error::map("evidence");
        let file = custos_core::measures::EvidenceFile {
            id: custos_core::EvidenceId::new(),
            ci_id: ci,
            control_id: control,
            file_name: file_name.to_string(),
            content_type: content_type.to_string(),
            size: content.len() as i64,
            sha256: custos_core::secret::sha256_hex(content),
            uploaded_by: actor.label(),
            uploaded_at: now,
        };
        let mut tx = self.audited().await?;
        Self::query(
            "INSERT INTO evidence_files (id, ci_id, control_ref, file_name, content_type, size, sha256, content, uploaded_by, uploaded_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(file.id.0)
        .bind(ci.0)
        .bind(control.0)
        .bind(&file.file_name)
        .bind(&file.content_type)
        .bind(file.size)
        .bind(&file.sha256)
        .bind(content)
        .bind(&file.uploaded_by)
        .bind(now.0)
        .execute(&mut *tx)
        .await
        .map_err(|e| match map(e) {
            custos_core::StoreError::Conflict { constraint } if constraint == "foreign_key" || constraint.ends_with("_fkey") => {
                custos_core::StoreError::not_found("CI or control")
            }
            other => other,
        })?;
        let changes = serde_json::json!({
            "file_name": file.file_name, "size": file.size, "sha256": file.sha256,
            "ci_id": ci.to_string(), "control_id": control.to_string(),
        });
        tx.record(
            actor,
            custos_core::audit::AuditRecord::new("evidence.add", "evidence", file.id, changes),
            now,
        );
        tx.commit().await?;
        Ok(file)
    }

    async fn list_evidence(
        &self,
        ci: custos_core::CiId,
        control: custos_core::ControlId,
    ) -> custos_core::error::StoreResult<Vec<custos_core::measures::EvidenceFile>> {
        let sql = format!(
            "SELECT {} FROM evidence_files WHERE ci_id = $1 AND control_ref = $2 ORDER BY id",
            crate::measures::rows::EVIDENCE_COLS
        );
        let rows: Vec<crate::measures::rows::EvidenceRow> =
            Self::query_as(sqlx::AssertSqlSafe(sql))
                .bind(ci.0)
                .bind(control.0)
                .fetch_all(self)
                .await
                .map_err(crate::error::map("evidence"))?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn evidence(
        &self,
        id: custos_core::EvidenceId,
    ) -> custos_core::error::StoreResult<(custos_core::measures::EvidenceFile, Vec<u8>)> {
        let sql = format!(
            "SELECT {} FROM evidence_files WHERE id = $1",
            crate::measures::rows::EVIDENCE_COLS
        );
        let meta: crate::measures::rows::EvidenceRow = Self::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id.0)
            .fetch_one(self)
            .await
            .map_err(crate::error::map("evidence"))?;
        let (content,): (Vec<u8>,) =
            Self::query_as("SELECT content FROM evidence_files WHERE id = $1")
                .bind(id.0)
                .fetch_one(self)
                .await
                .map_err(crate::error::map("evidence"))?;
        Ok((meta.into(), content))
    }
}
