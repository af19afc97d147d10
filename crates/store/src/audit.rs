//! The audit log: sealing, listing, reading the chain (entries are appended by
//! `sql::AuditedTx::commit`, in the writer's transaction). See `custos_core::audit` for the design.

pub(crate) use crate::sql::AUDIT_INSERT;

/// Binds one unsealed audit entry's 8 columns ([`AUDIT_INSERT`]).
pub(crate) fn bind_audit<Q: crate::sql::Bind>(
    q: Q,
    actor: &custos_core::authz::Actor,
    rec: &custos_core::audit::AuditRecord,
    now: custos_core::Timestamp,
) -> Q {
    q.bind(custos_core::AuditId::new().0)
        .bind(now.0)
        .bind(actor.label())
        .bind(actor.user_id().map(|u| u.0))
        .bind(rec.action.as_str())
        .bind(rec.entity_type)
        .bind(rec.entity_id.as_str())
        .bind(custos_core::audit::canonical_json(&rec.changes))
}

#[async_trait::async_trait]
impl<B: crate::sql::Backend> custos_core::store::AuditStore for crate::sql::SqlStore<B> {
    async fn list_audit(
        &self,
        f: &custos_core::store::AuditFilter,
        page: custos_core::page::PageRequest,
    ) -> custos_core::error::StoreResult<custos_core::page::Page<custos_core::audit::AuditEntry>>
    {
        let sql = format!(
            "SELECT {} FROM audit_log WHERE ($1 IS NULL OR entity_type = $1) \
             AND ($2 IS NULL OR entity_id = $2) AND ($3 IS NULL OR actor = $3) \
             AND ($4 IS NULL OR action = $4) AND ($5 IS NULL OR at >= $5) \
             AND ($6 IS NULL OR at < $6) AND ($7 IS NULL OR id < $7) \
             ORDER BY id DESC LIMIT $8",
            crate::accounts::rows::AUDIT_COLS
        );
        let rows: Vec<crate::accounts::rows::AuditRow> = Self::query_as(sqlx::AssertSqlSafe(sql))
            .bind(f.entity_type.as_deref())
            .bind(f.entity_id.as_deref())
            .bind(f.actor.as_deref())
            .bind(f.action.as_deref())
            .bind(f.from.map(|t| t.0))
            .bind(f.to.map(|t| t.0))
            .bind(page.after)
            .bind(page.fetch())
            .fetch_all(self)
            .await
            .map_err(crate::error::map("audit entry"))?;
        let entries = rows
            .into_iter()
            .map(custos_core::audit::AuditEntry::from)
            .collect();
        Ok(custos_core::page::Page::from_rows(entries, page, |e| {
            e.id.0
        }))
    }

    async fn seal_audit(&self, max: u32) -> custos_core::error::StoreResult<u64> {
        let map = crate::error::map("audit chain");
        let mut tx = self.audited().await?;
        // Only sealers take this lock; writers never touch the head row.
        let (mut seq, mut prev): (i64, String) = Self::query_as(Self::LOCK_AUDIT_HEAD)
            .fetch_one(&mut *tx)
            .await
            .map_err(&map)?;
        let sql = format!(
            "SELECT {} FROM audit_log WHERE seq IS NULL ORDER BY id {}",
            crate::accounts::rows::AUDIT_COLS,
            crate::rows::limit(i64::from(max))
        );
        let rows: Vec<crate::accounts::rows::AuditRow> = Self::query_as(sqlx::AssertSqlSafe(sql))
            .fetch_all(&mut *tx)
            .await
            .map_err(&map)?;
        if rows.is_empty() {
            return Ok(0);
        }
        let n = rows.len() as u64;
        let mut sealed: Vec<(uuid::Uuid, i64, String, String)> = Vec::with_capacity(rows.len());
        for row in rows {
            let entry = custos_core::audit::AuditEntry::from(row);
            seq += 1;
            let hash = custos_core::audit::entry_hash(&entry, seq, &prev);
            sealed.push((
                entry.id.0,
                seq,
                std::mem::replace(&mut prev, hash.clone()),
                hash,
            ));
        }
        // A few multi-row updates instead of one statement per entry: the sealer
        // holds the write transaction (on SQLite the one writer connection) for
        // milliseconds, not for a round trip per entry.
        for chunk in sealed.chunks(250) {
            let sql = Self::update_from_values(
                "audit_log",
                "a",
                "seq = v.column2, prev_hash = v.column3, hash = v.column4",
                &crate::rows::value_lists(chunk.len(), 4),
            );
            let mut q = Self::query(sqlx::AssertSqlSafe(Self::params(sql)));
            for (id, seq, prev, hash) in chunk {
                q = q
                    .bind(*id)
                    .bind(*seq)
                    .bind(prev.as_str())
                    .bind(hash.as_str());
            }
            q.execute(&mut *tx).await.map_err(&map)?;
        }
        Self::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE singleton = 1")
            .bind(seq)
            .bind(&prev)
            .execute(&mut *tx)
            .await
            .map_err(&map)?;
        tx.commit_unaudited().await?;
        Ok(n)
    }

    async fn audit_chain(
        &self,
        after_seq: i64,
        limit: u32,
    ) -> custos_core::error::StoreResult<Vec<custos_core::audit::AuditEntry>> {
        let sql = format!(
            "SELECT {} FROM audit_log WHERE seq > $1 ORDER BY seq {}",
            crate::accounts::rows::AUDIT_COLS,
            crate::rows::limit(i64::from(limit))
        );
        let rows: Vec<crate::accounts::rows::AuditRow> = Self::query_as(sqlx::AssertSqlSafe(sql))
            .bind(after_seq)
            .fetch_all(self)
            .await
            .map_err(crate::error::map("audit chain"))?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn audit_head(&self) -> custos_core::error::StoreResult<Option<(i64, String)>> {
        Self::query_as("SELECT seq, hash FROM audit_head WHERE singleton = 1")
            .fetch_optional(self)
            .await
            .map_err(crate::error::map("audit chain head"))
    }

    async fn unsealed_audit_count(&self) -> custos_core::error::StoreResult<i64> {
        let (n,): (i64,) = Self::query_as("SELECT COUNT(*) FROM audit_log WHERE seq IS NULL")
            .fetch_one(self)
            .await
            .map_err(crate::error::map("audit entry"))?;
        Ok(n)
    }
}
