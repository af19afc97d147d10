//! SLAs: drafts, versions, two-sided agreement (which raises the service's classification
//! and makes the requirements' controls required), expiry; the row shapes of kept reports
//! (which `reports.rs` writes and reads).

use custos_core::sla::{Agreement, Sla, SlaStatus, SlaTerms};
use custos_core::{SlaId, StoreError, Timestamp, UserId};
use uuid::Uuid;

pub(crate) const SLA_COLS: &str = "id, series_id, version, status, terms, customer_agreed_by, customer_agreed_at, \
    owner_agreed_by, owner_agreed_at, created_by, created_at, updated_at";

#[derive(sqlx::FromRow)]
pub(crate) struct SlaRow {
    id: Uuid,
    series_id: Uuid,
    version: i32,
    status: String,
    terms: String,
    customer_agreed_by: Option<Uuid>,
    customer_agreed_at: Option<i64>,
    owner_agreed_by: Option<Uuid>,
    owner_agreed_at: Option<i64>,
    created_by: Option<Uuid>,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<SlaRow> for Sla {
    type Error = StoreError;
    fn try_from(r: SlaRow) -> Result<Self, StoreError> {
        let agreement = |u: Option<Uuid>, at: Option<i64>| {
            at.map(|at| Agreement {
                // A deleted user keeps the record of the agreement, without the name.
                user_id: UserId(u.unwrap_or(Uuid::nil())),
                at: Timestamp(at),
            })
        };
        Ok(Sla {
            id: SlaId(r.id),
            series_id: SlaId(r.series_id),
            version: r.version,
            status: SlaStatus::parse(&r.status)
                .ok_or_else(|| StoreError::Internal(format!("unknown SLA status {}", r.status)))?,
            terms: crate::service_levels::rows::parse_json::<SlaTerms>("SLA terms", &r.terms)?,
            customer_agreement: agreement(r.customer_agreed_by, r.customer_agreed_at),
            owner_agreement: agreement(r.owner_agreed_by, r.owner_agreed_at),
            created_by: r.created_by.map(UserId),
            created_at: Timestamp(r.created_at),
            updated_at: Timestamp(r.updated_at),
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct ReportRow {
    id: Uuid,
    sla_id: Uuid,
    period: String,
    generated_at: i64,
    generated_by: Option<Uuid>,
    sha256: String,
}

pub(crate) const REPORT_COLS: &str = "id, sla_id, period, generated_at, generated_by, sha256";

impl TryFrom<ReportRow> for custos_core::store::KeptReport {
    type Error = StoreError;
    fn try_from(r: ReportRow) -> Result<Self, StoreError> {
        Ok(Self {
            id: custos_core::ReportId(r.id),
            sla_id: SlaId(r.sla_id),
            period: custos_core::sla_report::Period::parse(&r.period)?,
            generated_at: Timestamp(r.generated_at),
            generated_by: r.generated_by.map(UserId),
            sha256: r.sha256,
        })
    }
}

/// The `ServiceLevelStore` methods for SLAs, reports and leases (the trait impl in
/// `service_levels.rs` calls them).
impl<B: crate::sql::Backend> crate::sql::SqlStore<B> {
    pub(crate) async fn sl_create_sla(
        &self,
        actor: &custos_core::authz::Actor,
        terms: custos_core::sla::SlaTerms,
    ) -> custos_core::error::StoreResult<custos_core::sla::Sla> {
        let now = custos_core::Timestamp::now();
        let id = custos_core::SlaId::new();
        let mut tx = self.audited().await?;
        Self::insert_sla(&mut tx, id, id, 1, &terms, actor.user_id(), now).await?;
        let changes =
            custos_core::audit::diff(None, Some(&crate::service_levels::rows::json_of(&terms)));
        tx.record(
            actor,
            custos_core::audit::AuditRecord::new("sla.create", "sla", id, changes),
            now,
        );
        let sla = Self::sla_in(&mut tx, id.0, false).await?;
        tx.commit().await?;
        Ok(sla)
    }

    pub(crate) async fn sl_update_sla(
        &self,
        actor: &custos_core::authz::Actor,
        id: custos_core::SlaId,
        terms: custos_core::sla::SlaTerms,
    ) -> custos_core::error::StoreResult<custos_core::sla::Sla> {
        let now = custos_core::Timestamp::now();
        let map = crate::error::map("SLA");
        let mut tx = self.audited().await?;
        let before = Self::sla_in(&mut tx, id.0, true).await?;
        if before.status != custos_core::sla::SlaStatus::Draft {
            return Err(custos_core::StoreError::Conflict {
                constraint: "sla_not_draft".into(),
            });
        }
        Self::query("UPDATE slas SET customer_id = $2, service_id = $3, name = $4, valid_from = $5, valid_to = $6, terms = $7, \
                 customer_agreed_by = NULL, customer_agreed_at = NULL, owner_agreed_by = NULL, owner_agreed_at = NULL, updated_at = $8 WHERE id = $1")
        .bind(id.0)
        .bind(terms.customer_id.0)
        .bind(terms.service_id.0)
        .bind(&terms.name)
        .bind(terms.valid_from.as_str())
        .bind(terms.valid_to.as_str())
        .bind(serde_json::to_string(&terms).unwrap_or_default())
        .bind(now.0)
        .execute(&mut *tx)
        .await
        .map_err(|e| crate::service_levels::rows::missing_ref("customer or service")(map(e)))?;
        let changes = custos_core::audit::diff(
            Some(&crate::service_levels::rows::json_of(&before.terms)),
            Some(&crate::service_levels::rows::json_of(&terms)),
        );
        tx.record(
            actor,
            custos_core::audit::AuditRecord::new("sla.update", "sla", id, changes),
            now,
        );
        let sla = Self::sla_in(&mut tx, id.0, false).await?;
        tx.commit().await?;
        Ok(sla)
    }

    pub(crate) async fn sl_delete_sla(
        &self,
        actor: &custos_core::authz::Actor,
        id: custos_core::SlaId,
    ) -> custos_core::error::StoreResult<()> {
        let now = custos_core::Timestamp::now();
        let map = crate::error::map("SLA");
        let mut tx = self.audited().await?;
        let before = Self::sla_in(&mut tx, id.0, true).await?;
        if before.status != custos_core::sla::SlaStatus::Draft {
            return Err(custos_core::StoreError::Conflict {
                constraint: "sla_not_draft".into(),
            });
        }
        Self::query("DELETE FROM slas WHERE id = $1")
            .bind(id.0)
            .execute(&mut *tx)
            .await
            .map_err(&map)?;
        let changes = custos_core::audit::diff(
            Some(&crate::service_levels::rows::json_of(&before.terms)),
            None,
        );
        tx.record(
            actor,
            custos_core::audit::AuditRecord::new("sla.delete", "sla", id, changes),
            now,
        );
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn sl_new_sla_version(
        &self,
        actor: &custos_core::authz::Actor,
        id: custos_core::SlaId,
    ) -> custos_core::error::StoreResult<custos_core::sla::Sla> {
        let now = custos_core::Timestamp::now();
        let map = crate::error::map("SLA");
        let mut tx = self.audited().await?;
        let base = Self::sla_in(&mut tx, id.0, true).await?;
        let (last,): (i32,) = Self::query_as("SELECT MAX(version) FROM slas WHERE series_id = $1")
            .bind(base.series_id.0)
            .fetch_one(&mut *tx)
            .await
            .map_err(&map)?;
        let new_id = custos_core::SlaId::new();
        Self::insert_sla(
            &mut tx,
            new_id,
            base.series_id,
            last + 1,
            &base.terms,
            actor.user_id(),
            now,
        )
        .await
        .map_err(|e| match e {
            custos_core::StoreError::Conflict { .. } => custos_core::StoreError::Conflict {
                constraint: "slas_one_draft".into(),
            },
            other => other,
        })?;
        let changes =
            serde_json::json!({"version": {"after": last + 1}, "from": {"after": id.to_string()}});
        tx.record(
            actor,
            custos_core::audit::AuditRecord::new("sla.new_version", "sla", new_id, changes),
            now,
        );
        let sla = Self::sla_in(&mut tx, new_id.0, false).await?;
        tx.commit().await?;
        Ok(sla)
    }

    pub(crate) async fn sl_agree_sla(
        &self,
        actor: &custos_core::authz::Actor,
        id: custos_core::SlaId,
        side: custos_core::sla::Side,
        today: &custos_core::time::Date,
    ) -> custos_core::error::StoreResult<custos_core::sla::Sla> {
        use custos_core::sla::Side;
        let now = custos_core::Timestamp::now();
        let map = crate::error::map("SLA");
        let user = actor
            .user_id()
            .ok_or_else(|| custos_core::StoreError::Internal("agreement needs a user".into()))?;
        let mut tx = self.audited().await?;
        // Graph lock first, as every classification change takes it first.
        Self::query(Self::LOCK_CMDB)
            .execute(&mut *tx)
            .await
            .map_err(&map)?;
        let sla = Self::sla_in(&mut tx, id.0, true).await?;
        custos_core::sla::check_agreement(&sla, side, today).map_err(|e| {
            match e.field.as_str() {
                "status" | "side" => custos_core::StoreError::Conflict {
                    constraint: format!("sla_{}", e.field),
                },
                _ => e.into(),
            }
        })?;
        let sql = match side {
            Side::Customer => {
                "UPDATE slas SET customer_agreed_by = $2, customer_agreed_at = $3, updated_at = $3 WHERE id = $1"
            }
            Side::Owner => {
                "UPDATE slas SET owner_agreed_by = $2, owner_agreed_at = $3, updated_at = $3 WHERE id = $1"
            }
        };
        Self::query(sql)
            .bind(id.0)
            .bind(user.0)
            .bind(now.0)
            .execute(&mut *tx)
            .await
            .map_err(&map)?;
        let side_name = match side {
            Side::Customer => "customer",
            Side::Owner => "owner",
        };
        let both = match side {
            Side::Customer => sla.owner_agreement.is_some(),
            Side::Owner => sla.customer_agreement.is_some(),
        };
        let mut changes = serde_json::json!({"side": {"after": side_name}});
        if both {
            Self::query("UPDATE slas SET status = 'superseded', updated_at = $3 WHERE series_id = $1 AND status = 'agreed' AND id <> $2")
            .bind(sla.series_id.0)
            .bind(id.0)
            .bind(now.0)
            .execute(&mut *tx)
            .await
            .map_err(&map)?;
            Self::query("DELETE FROM sla_controls WHERE sla_id IN (SELECT id FROM slas WHERE series_id = $1 AND id <> $2)")
            .bind(sla.series_id.0)
            .bind(id.0)
            .execute(&mut *tx)
            .await
            .map_err(&map)?;
            Self::query("UPDATE slas SET status = 'agreed' WHERE id = $1")
                .bind(id.0)
                .execute(&mut *tx)
                .await
                .map_err(&map)?;
            let service = sla.terms.service_id;
            for c in sla.terms.requirement_controls() {
                Self::query(
                    "INSERT INTO sla_controls (sla_id, ci_id, control_ref) VALUES ($1, $2, $3)",
                )
                .bind(id.0)
                .bind(service.0)
                .bind(c.0)
                .execute(&mut *tx)
                .await
                .map_err(|e| crate::service_levels::rows::missing_ref("control")(map(e)))?;
            }
            // Raise (never lower) the service's explicit classification to the SLA's.
            let ci = Self::ci_in(&mut tx, service.0).await?;
            let had = ci.ci.explicit;
            let want = sla.terms.security.classification;
            let max =
                |a: Option<custos_core::classification::Level>,
                 b: Option<custos_core::classification::Level>| a.max(b);
            let raised = custos_core::classification::Classification {
                confidentiality: max(had.confidentiality, want.confidentiality),
                integrity: max(had.integrity, want.integrity),
                availability: max(had.availability, want.availability),
            };
            if raised != had {
                let why = format!("SLA \"{}\" version {} agreed", sla.terms.name, sla.version);
                Self::query("UPDATE cis SET cls_c = $2, cls_i = $3, cls_a = $4, cls_justification = $5, updated_at = $6 WHERE id = $1")
                .bind(service.0)
                .bind(raised.confidentiality.map(|l| l.as_i16()))
                .bind(raised.integrity.map(|l| l.as_i16()))
                .bind(raised.availability.map(|l| l.as_i16()))
                .bind(&why)
                .bind(now.0)
                .execute(&mut *tx)
                .await
                .map_err(&map)?;
                let reclassified = Self::reclassify(&mut tx, vec![service.0]).await?;
                Self::copy_explicit(&mut tx, service.0, &raised).await?;
                let view = |x: &custos_core::classification::Classification| {
                    serde_json::json!({
                        "confidentiality": x.confidentiality.map(|l| l.as_str()),
                        "integrity": x.integrity.map(|l| l.as_str()),
                        "availability": x.availability.map(|l| l.as_str()),
                    })
                };
                let mut cls = custos_core::audit::diff(Some(&view(&had)), Some(&view(&raised)));
                cls["justification"] = serde_json::json!({"after": why});
                cls["reclassified_cis"] = serde_json::json!(reclassified);
                tx.record(
                    actor,
                    custos_core::audit::AuditRecord::new("ci.classify", "ci", service, cls),
                    now,
                );
            }
            changes["status"] = serde_json::json!({"before": "draft", "after": "agreed"});
        }
        tx.record(
            actor,
            custos_core::audit::AuditRecord::new("sla.agree", "sla", id, changes),
            now,
        );
        let after = Self::sla_in(&mut tx, id.0, false).await?;
        tx.commit().await?;
        Ok(after)
    }

    pub(crate) async fn sl_expire_slas(
        &self,
        today: &custos_core::time::Date,
    ) -> custos_core::error::StoreResult<Vec<custos_core::CiId>> {
        let now = custos_core::Timestamp::now();
        let map = crate::error::map("SLA");
        let mut tx = self.audited().await?;
        let ids: Vec<(uuid::Uuid, uuid::Uuid)> = Self::query_as(
            "SELECT id, service_id FROM slas WHERE status = 'agreed' AND valid_to < $1",
        )
        .bind(today.as_str())
        .fetch_all(&mut *tx)
        .await
        .map_err(&map)?;
        let actor = custos_core::authz::Actor::System("sla-expiry");
        for (id, _) in &ids {
            Self::query("UPDATE slas SET status = 'expired', updated_at = $2 WHERE id = $1")
                .bind(id)
                .bind(now.0)
                .execute(&mut *tx)
                .await
                .map_err(&map)?;
            Self::query("DELETE FROM sla_controls WHERE sla_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(&map)?;
            let changes = serde_json::json!({"status": {"before": "agreed", "after": "expired"}});
            tx.record(
                &actor,
                custos_core::audit::AuditRecord::new("sla.expire", "sla", id, changes),
                now,
            );
        }
        tx.commit_if_recorded().await?;
        let mut services: Vec<custos_core::CiId> =
            ids.into_iter().map(|(_, s)| custos_core::CiId(s)).collect();
        services.sort();
        services.dedup();
        Ok(services)
    }

    pub(crate) async fn sl_sla(
        &self,
        id: custos_core::SlaId,
    ) -> custos_core::error::StoreResult<custos_core::sla::Sla> {
        let mut conn = self
            .pool
            .acquire()
            .await
            .map_err(crate::error::map("SLA"))?;
        Self::sla_in(&mut conn, id.0, false).await
    }

    pub(crate) async fn sl_list_slas(
        &self,
        f: &custos_core::store::SlaFilter,
        page: custos_core::page::PageRequest,
    ) -> custos_core::error::StoreResult<custos_core::page::Page<custos_core::sla::Sla>> {
        let mut sql = format!(
            "SELECT {} FROM slas WHERE ($1 IS NULL OR id > $1) AND ($2 IS NULL OR service_id = $2) AND ($3 IS NULL OR status = $3)",
            crate::service_levels::slas::SLA_COLS
        );
        let customers: Vec<uuid::Uuid> = f.customers.iter().flatten().map(|c| c.0).collect();
        if f.customers.is_some() {
            if customers.is_empty() {
                return Ok(custos_core::page::Page::from_rows(
                    vec![],
                    page,
                    |s: &custos_core::sla::Sla| s.id.0,
                ));
            }
            sql.push_str(&format!(
                " AND customer_id IN ({})",
                crate::rows::placeholders(5, customers.len())
            ));
        }
        sql.push_str(" ORDER BY id LIMIT $4");
        let mut q = Self::query_as::<crate::service_levels::slas::SlaRow>(sqlx::AssertSqlSafe(sql))
            .bind(page.after)
            .bind(f.service.map(|s| s.0))
            .bind(f.status.map(|s| s.as_str()))
            .bind(page.fetch());
        for c in customers {
            q = q.bind(c);
        }
        let rows = q.fetch_all(self).await.map_err(crate::error::map("SLA"))?;
        let items = rows
            .into_iter()
            .map(TryInto::try_into)
            .collect::<Result<Vec<custos_core::sla::Sla>, _>>()?;
        Ok(custos_core::page::Page::from_rows(
            items,
            page,
            |s: &custos_core::sla::Sla| s.id.0,
        ))
    }

    pub(crate) async fn sl_sla_versions(
        &self,
        series: custos_core::SlaId,
    ) -> custos_core::error::StoreResult<Vec<custos_core::sla::Sla>> {
        let rows: Vec<crate::service_levels::slas::SlaRow> =
            Self::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {} FROM slas WHERE series_id = $1 ORDER BY version",
                crate::service_levels::slas::SLA_COLS
            )))
            .bind(series.0)
            .fetch_all(self)
            .await
            .map_err(crate::error::map("SLA"))?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    pub(crate) async fn sl_implemented_controls(
        &self,
        controls: &[custos_core::ControlId],
    ) -> custos_core::error::StoreResult<Vec<custos_core::ControlId>> {
        let mut out = vec![];
        for chunk in controls.chunks(crate::cmdb::CHUNK) {
            let sql = format!(
                "SELECT DISTINCT control_ref FROM implementations WHERE status IN ('implemented', 'verified') AND control_ref IN ({})",
                crate::rows::placeholders(1, chunk.len())
            );
            let mut q = Self::query_as::<(uuid::Uuid,)>(sqlx::AssertSqlSafe(sql));
            for c in chunk {
                q = q.bind(c.0);
            }
            out.extend(
                q.fetch_all(self)
                    .await
                    .map_err(crate::error::map("implementation"))?
                    .into_iter()
                    .map(|r| custos_core::ControlId(r.0)),
            );
        }
        Ok(out)
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct ReportWithContent {
    #[sqlx(flatten)]
    meta: ReportRow,
    content: String,
}

impl ReportWithContent {
    pub(crate) fn split(self) -> (ReportRow, String) {
        (self.meta, self.content)
    }
}

/// Inherent helpers for SLAs (expanded next to the store's other inherent methods).
impl<B: crate::sql::Backend> crate::sql::SqlStore<B> {
    async fn sla_in(
        conn: &mut <B::Db as sqlx::Database>::Connection,
        id: uuid::Uuid,
        lock: bool,
    ) -> custos_core::error::StoreResult<custos_core::sla::Sla> {
        let sql = format!(
            "SELECT {} FROM slas WHERE id = $1{}",
            crate::service_levels::slas::SLA_COLS,
            if lock { Self::FOR_UPDATE } else { "" }
        );
        Self::query_as::<crate::service_levels::slas::SlaRow>(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_one(&mut *conn)
            .await
            .map_err(crate::error::map("SLA"))?
            .try_into()
    }

    async fn insert_sla(
        conn: &mut <B::Db as sqlx::Database>::Connection,
        id: custos_core::SlaId,
        series: custos_core::SlaId,
        version: i32,
        terms: &custos_core::sla::SlaTerms,
        by: Option<custos_core::UserId>,
        now: custos_core::Timestamp,
    ) -> custos_core::error::StoreResult<()> {
        let map = crate::error::map("SLA");
        Self::query(
            "INSERT INTO slas (id, series_id, version, status, customer_id, service_id, name, valid_from, valid_to, terms, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, 'draft', $4, $5, $6, $7, $8, $9, $10, $11, $11)",
        )
        .bind(id.0)
        .bind(series.0)
        .bind(version)
        .bind(terms.customer_id.0)
        .bind(terms.service_id.0)
        .bind(&terms.name)
        .bind(terms.valid_from.as_str())
        .bind(terms.valid_to.as_str())
        .bind(serde_json::to_string(terms).unwrap_or_default())
        .bind(by.map(|u| u.0))
        .bind(now.0)
        .execute(&mut *conn)
        .await
        .map_err(|e| crate::service_levels::rows::missing_ref("customer or service")(map(e)))?;
        Ok(())
    }
}
