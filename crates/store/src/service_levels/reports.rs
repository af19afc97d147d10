//! Kept SLA reports (content hashed and stored as issued) and job leases.

impl<B: crate::sql::Backend> crate::sql::SqlStore<B> {
    pub(crate) async fn sl_keep_report(
        &self,
        actor: &custos_core::authz::Actor,
        sla: custos_core::SlaId,
        period: &custos_core::sla_report::Period,
        content: &str,
    ) -> custos_core::error::StoreResult<custos_core::store::KeptReport> {
        let now = custos_core::Timestamp::now();
        let map = crate::error::map("report");
        let id = custos_core::ReportId::new();
        let sha = custos_core::secret::sha256_hex(content.as_bytes());
        let mut tx = self.audited().await?;
        let (series,): (uuid::Uuid,) = Self::query_as("SELECT series_id FROM slas WHERE id = $1")
            .bind(sla.0)
            .fetch_one(&mut *tx)
            .await
            .map_err(crate::error::map("SLA"))?;
        Self::query("INSERT INTO sla_reports (id, sla_id, series_id, period, generated_at, generated_by, content, sha256) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
        .bind(id.0)
        .bind(sla.0)
        .bind(series)
        .bind(period.as_str())
        .bind(now.0)
        .bind(actor.user_id().map(|u| u.0))
        .bind(content)
        .bind(&sha)
        .execute(&mut *tx)
        .await
        .map_err(&map)?;
        let changes = serde_json::json!({"sla_id": {"after": sla.to_string()}, "period": {"after": period.as_str()}, "sha256": {"after": sha}});
        tx.record(
            actor,
            custos_core::audit::AuditRecord::new("sla_report.keep", "sla_report", id, changes),
            now,
        );
        tx.commit().await?;
        Ok(custos_core::store::KeptReport {
            id,
            sla_id: sla,
            period: period.clone(),
            generated_at: now,
            generated_by: actor.user_id(),
            sha256: sha,
        })
    }

    pub(crate) async fn sl_kept_report(
        &self,
        sla: custos_core::SlaId,
        period: &custos_core::sla_report::Period,
    ) -> custos_core::error::StoreResult<(custos_core::store::KeptReport, String)> {
        let sql = format!(
            "SELECT {}, content FROM sla_reports WHERE sla_id = $1 AND period = $2",
            crate::service_levels::slas::REPORT_COLS
        );
        let (meta, content): (crate::service_levels::slas::ReportRow, String) =
            Self::query_as::<crate::service_levels::slas::ReportWithContent>(sqlx::AssertSqlSafe(
                sql,
            ))
            .bind(sla.0)
            .bind(period.as_str())
            .fetch_one(self)
            .await
            .map_err(crate::error::map("report"))?
            .split();
        Ok((meta.try_into()?, content))
    }

    pub(crate) async fn sl_list_reports(
        &self,
        sla: custos_core::SlaId,
    ) -> custos_core::error::StoreResult<Vec<custos_core::store::KeptReport>> {
        let sql = format!(
            "SELECT {} FROM sla_reports WHERE series_id = (SELECT series_id FROM slas WHERE id = $1) ORDER BY period DESC, generated_at DESC",
            crate::service_levels::slas::REPORT_COLS
        );
        let rows: Vec<crate::service_levels::slas::ReportRow> =
            Self::query_as(sqlx::AssertSqlSafe(sql))
                .bind(sla.0)
                .fetch_all(self)
                .await
                .map_err(crate::error::map("report"))?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    pub(crate) async fn sl_report_history(
        &self,
        sla: custos_core::SlaId,
        before: &custos_core::sla_report::Period,
        n: u32,
    ) -> custos_core::error::StoreResult<Vec<(custos_core::store::KeptReport, String)>> {
        let sql = format!(
            "SELECT {}, content FROM sla_reports WHERE series_id = (SELECT series_id FROM slas WHERE id = $1) AND period < $2 \
         ORDER BY period DESC LIMIT $3",
            crate::service_levels::slas::REPORT_COLS
        );
        let rows: Vec<crate::service_levels::slas::ReportWithContent> =
            Self::query_as(sqlx::AssertSqlSafe(sql))
                .bind(sla.0)
                .bind(before.as_str())
                .bind(i64::from(n))
                .fetch_all(self)
                .await
                .map_err(crate::error::map("report"))?;
        rows.into_iter()
            .map(|r| {
                let (m, c) = r.split();
                Ok((m.try_into()?, c))
            })
            .collect()
    }

    pub(crate) async fn sl_take_lease(
        &self,
        name: &str,
        holder: &str,
        now: custos_core::Timestamp,
        until: custos_core::Timestamp,
    ) -> custos_core::error::StoreResult<bool> {
        let done = Self::query(
            "INSERT INTO job_leases (name, holder, until) VALUES ($1, $2, $3) \
         ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until = excluded.until \
         WHERE job_leases.until < $4 OR job_leases.holder = excluded.holder",
        )
        .bind(name)
        .bind(holder)
        .bind(until.0)
        .bind(now.0)
        .execute(self.writer())
        .await
        .map_err(crate::error::map("lease"))?;
        Ok(done == 1)
    }
}
