//! `ServiceLevelStore`: customers, suppliers and services (`parties.rs`, row shapes in
//! `rows.rs`), OLAs and contracts (`terms.rs`), SLAs with their lifecycle (`slas.rs`), kept
//! reports and job leases (`reports.rs`).

mod parties;
mod reports;
pub(crate) mod rows;
pub(crate) mod slas;
pub(crate) mod terms;

#[async_trait::async_trait]
impl<B: crate::sql::Backend> custos_core::store::ServiceLevelStore for crate::sql::SqlStore<B> {
    async fn create_customer(
        &self,
        actor: &custos_core::authz::Actor,
        c: custos_core::service::CustomerInput,
    ) -> custos_core::error::StoreResult<custos_core::service::Customer> {
        self.write_customer(actor, None, c).await
    }

    async fn update_customer(
        &self,
        actor: &custos_core::authz::Actor,
        id: custos_core::CustomerId,
        c: custos_core::service::CustomerInput,
    ) -> custos_core::error::StoreResult<custos_core::service::Customer> {
        self.write_customer(actor, Some(id), c).await
    }

    async fn delete_customer(
        &self,
        actor: &custos_core::authz::Actor,
        id: custos_core::CustomerId,
    ) -> custos_core::error::StoreResult<()> {
        let now = custos_core::Timestamp::now();
        let map = crate::error::map("customer");
        let mut tx = self.audited().await?;
        let before = Self::customer_in(&mut tx, id.0).await?;
        Self::query("DELETE FROM customers WHERE id = $1")
            .bind(id.0)
            .execute(&mut *tx)
            .await
            .map_err(&map)?;
        let changes = custos_core::audit::diff(
            Some(&crate::service_levels::rows::customer_view(&before)),
            None,
        );
        tx.record(
            actor,
            custos_core::audit::AuditRecord::new("customer.delete", "customer", id, changes),
            now,
        );
        tx.commit().await?;
        Ok(())
    }

    async fn customer(
        &self,
        id: custos_core::CustomerId,
    ) -> custos_core::error::StoreResult<custos_core::service::Customer> {
        let mut conn = self
            .pool
            .acquire()
            .await
            .map_err(crate::error::map("customer"))?;
        Self::customer_in(&mut conn, id.0).await
    }

    async fn list_customers(
        &self,
        page: custos_core::page::PageRequest,
    ) -> custos_core::error::StoreResult<custos_core::page::Page<custos_core::service::Customer>>
    {
        let map = crate::error::map("customer");
        let mut conn = self.pool.acquire().await.map_err(&map)?;
        let rows: Vec<crate::service_levels::rows::CustomerRow> = Self::query_as(
            "SELECT * FROM customers WHERE ($1 IS NULL OR id > $1) ORDER BY id LIMIT $2",
        )
        .bind(page.after)
        .bind(page.fetch())
        .fetch_all(&mut *conn)
        .await
        .map_err(&map)?;
        let ids: Vec<uuid::Uuid> = rows.iter().map(|r| r.id()).collect();
        let mut reps = Self::customer_reps(&mut conn, &ids).await?;
        let items = rows
            .into_iter()
            .map(|r| {
                let id = r.id();
                r.into_customer(reps.remove(&id).unwrap_or_default())
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(custos_core::page::Page::from_rows(
            items,
            page,
            |c: &custos_core::service::Customer| c.id.0,
        ))
    }

    async fn customers_of(
        &self,
        user: custos_core::UserId,
    ) -> custos_core::error::StoreResult<Vec<custos_core::CustomerId>> {
        let rows: Vec<(uuid::Uuid,)> =
            Self::query_as("SELECT customer_id FROM customer_representatives WHERE user_id = $1")
                .bind(user.0)
                .fetch_all(self)
                .await
                .map_err(crate::error::map("customer"))?;
        Ok(rows
            .into_iter()
            .map(|r| custos_core::CustomerId(r.0))
            .collect())
    }

    async fn create_supplier(
        &self,
        actor: &custos_core::authz::Actor,
        s: custos_core::service::SupplierInput,
    ) -> custos_core::error::StoreResult<custos_core::service::Supplier> {
        self.write_supplier(actor, None, s).await
    }

    async fn update_supplier(
        &self,
        actor: &custos_core::authz::Actor,
        id: custos_core::SupplierId,
        s: custos_core::service::SupplierInput,
    ) -> custos_core::error::StoreResult<custos_core::service::Supplier> {
        self.write_supplier(actor, Some(id), s).await
    }

    async fn delete_supplier(
        &self,
        actor: &custos_core::authz::Actor,
        id: custos_core::SupplierId,
    ) -> custos_core::error::StoreResult<()> {
        let now = custos_core::Timestamp::now();
        let map = crate::error::map("supplier");
        let mut tx = self.audited().await?;
        let before: custos_core::service::Supplier =
            Self::query_as::<crate::service_levels::rows::SupplierRow>(
                "SELECT * FROM suppliers WHERE id = $1",
            )
            .bind(id.0)
            .fetch_one(&mut *tx)
            .await
            .map_err(&map)?
            .try_into()?;
        Self::query("DELETE FROM suppliers WHERE id = $1")
            .bind(id.0)
            .execute(&mut *tx)
            .await
            .map_err(&map)?;
        let changes =
            custos_core::audit::diff(Some(&crate::service_levels::rows::json_of(&before)), None);
        tx.record(
            actor,
            custos_core::audit::AuditRecord::new("supplier.delete", "supplier", id, changes),
            now,
        );
        tx.commit().await?;
        Ok(())
    }

    async fn supplier(
        &self,
        id: custos_core::SupplierId,
    ) -> custos_core::error::StoreResult<custos_core::service::Supplier> {
        Self::query_as::<crate::service_levels::rows::SupplierRow>(
            "SELECT * FROM suppliers WHERE id = $1",
        )
        .bind(id.0)
        .fetch_one(self)
        .await
        .map_err(crate::error::map("supplier"))?
        .try_into()
    }

    async fn list_suppliers(
        &self,
        page: custos_core::page::PageRequest,
    ) -> custos_core::error::StoreResult<custos_core::page::Page<custos_core::service::Supplier>>
    {
        let rows: Vec<crate::service_levels::rows::SupplierRow> = Self::query_as(
            "SELECT * FROM suppliers WHERE ($1 IS NULL OR id > $1) ORDER BY id LIMIT $2",
        )
        .bind(page.after)
        .bind(page.fetch())
        .fetch_all(self)
        .await
        .map_err(crate::error::map("supplier"))?;
        let items = rows
            .into_iter()
            .map(TryInto::try_into)
            .collect::<Result<Vec<custos_core::service::Supplier>, _>>()?;
        Ok(custos_core::page::Page::from_rows(
            items,
            page,
            |s: &custos_core::service::Supplier| s.id.0,
        ))
    }

    async fn put_service(
        &self,
        actor: &custos_core::authz::Actor,
        ci: custos_core::CiId,
        s: custos_core::service::ServiceInput,
    ) -> custos_core::error::StoreResult<custos_core::service::Service> {
        let now = custos_core::Timestamp::now();
        let map = crate::error::map("service");
        let mut tx = self.audited().await?;
        let ci_type: Option<(String,)> = Self::query_as("SELECT ci_type FROM cis WHERE id = $1")
            .bind(ci.0)
            .fetch_optional(&mut *tx)
            .await
            .map_err(&map)?;
        match ci_type {
            None => return Err(custos_core::StoreError::not_found("configuration item")),
            Some((t,)) if t != "business_service" => {
                return Err(custos_core::DomainError::new(
                    "ci_id",
                    "a service is a CI of type business_service",
                )
                .into());
            }
            _ => {}
        }
        let before = Self::services_in(&mut tx, Some(&[ci.0]), None, 1)
            .await?
            .pop();
        Self::query(
            "INSERT INTO services (ci_id, description, owner_id, hours, targets, updated_at) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (ci_id) DO UPDATE SET description = excluded.description, owner_id = excluded.owner_id, \
             hours = excluded.hours, targets = excluded.targets, updated_at = excluded.updated_at",
        )
        .bind(ci.0)
        .bind(&s.description)
        .bind(s.owner_id.map(|u| u.0))
        .bind(serde_json::to_string(&s.hours).unwrap_or_default())
        .bind(serde_json::to_string(&s.targets).unwrap_or_default())
        .bind(now.0)
        .execute(&mut *tx)
        .await
        .map_err(|e| crate::service_levels::rows::missing_ref("owner (user)")(map(e)))?;
        Self::query("DELETE FROM service_baseline WHERE ci_id = $1")
            .bind(ci.0)
            .execute(&mut *tx)
            .await
            .map_err(&map)?;
        for c in &s.baseline {
            Self::query("INSERT INTO service_baseline (ci_id, control_ref) VALUES ($1, $2)")
                .bind(ci.0)
                .bind(c.0)
                .execute(&mut *tx)
                .await
                .map_err(|e| crate::service_levels::rows::missing_ref("control")(map(e)))?;
        }
        let after = Self::services_in(&mut tx, Some(&[ci.0]), None, 1)
            .await?
            .pop()
            .ok_or_else(|| custos_core::StoreError::not_found("service"))?;
        let action = if before.is_some() {
            "service.update"
        } else {
            "service.create"
        };
        let changes = custos_core::audit::diff(
            before
                .as_ref()
                .map(crate::service_levels::rows::json_of)
                .as_ref(),
            Some(&crate::service_levels::rows::json_of(&after)),
        );
        tx.record(
            actor,
            custos_core::audit::AuditRecord::new(action, "service", ci, changes),
            now,
        );
        tx.commit().await?;
        Ok(after)
    }

    async fn service(
        &self,
        ci: custos_core::CiId,
    ) -> custos_core::error::StoreResult<custos_core::service::Service> {
        let mut conn = self
            .pool
            .acquire()
            .await
            .map_err(crate::error::map("service"))?;
        Self::services_in(&mut conn, Some(&[ci.0]), None, 1)
            .await?
            .pop()
            .ok_or_else(|| custos_core::StoreError::not_found("service"))
    }

    async fn list_services(
        &self,
        page: custos_core::page::PageRequest,
    ) -> custos_core::error::StoreResult<custos_core::page::Page<custos_core::service::Service>>
    {
        let mut conn = self
            .pool
            .acquire()
            .await
            .map_err(crate::error::map("service"))?;
        let items = Self::services_in(&mut conn, None, page.after, page.fetch()).await?;
        Ok(custos_core::page::Page::from_rows(
            items,
            page,
            |s: &custos_core::service::Service| s.ci_id.0,
        ))
    }

    async fn create_ola(
        &self,
        actor: &custos_core::authz::Actor,
        o: custos_core::sla::OlaTerms,
    ) -> custos_core::error::StoreResult<custos_core::sla::Ola> {
        crate::service_levels::terms::create::<crate::service_levels::terms::Olas, B>(
            self, actor, o,
        )
        .await
    }
    async fn update_ola(
        &self,
        actor: &custos_core::authz::Actor,
        id: custos_core::OlaId,
        o: custos_core::sla::OlaTerms,
    ) -> custos_core::error::StoreResult<custos_core::sla::Ola> {
        crate::service_levels::terms::update::<crate::service_levels::terms::Olas, B>(
            self, actor, id.0, o,
        )
        .await
    }
    async fn delete_ola(
        &self,
        actor: &custos_core::authz::Actor,
        id: custos_core::OlaId,
    ) -> custos_core::error::StoreResult<()> {
        crate::service_levels::terms::delete::<crate::service_levels::terms::Olas, B>(
            self, actor, id.0,
        )
        .await
    }
    async fn ola(
        &self,
        id: custos_core::OlaId,
    ) -> custos_core::error::StoreResult<custos_core::sla::Ola> {
        crate::service_levels::terms::get::<crate::service_levels::terms::Olas, B>(self, id.0).await
    }
    async fn list_olas(
        &self,
        service: Option<custos_core::CiId>,
        page: custos_core::page::PageRequest,
    ) -> custos_core::error::StoreResult<custos_core::page::Page<custos_core::sla::Ola>> {
        crate::service_levels::terms::list::<crate::service_levels::terms::Olas, B>(
            self,
            service.map(|s| s.0),
            page,
        )
        .await
    }
    async fn create_contract(
        &self,
        actor: &custos_core::authz::Actor,
        c: custos_core::sla::ContractTerms,
    ) -> custos_core::error::StoreResult<custos_core::sla::Contract> {
        crate::service_levels::terms::create::<crate::service_levels::terms::Contracts, B>(
            self, actor, c,
        )
        .await
    }
    async fn update_contract(
        &self,
        actor: &custos_core::authz::Actor,
        id: custos_core::ContractId,
        c: custos_core::sla::ContractTerms,
    ) -> custos_core::error::StoreResult<custos_core::sla::Contract> {
        crate::service_levels::terms::update::<crate::service_levels::terms::Contracts, B>(
            self, actor, id.0, c,
        )
        .await
    }
    async fn delete_contract(
        &self,
        actor: &custos_core::authz::Actor,
        id: custos_core::ContractId,
    ) -> custos_core::error::StoreResult<()> {
        crate::service_levels::terms::delete::<crate::service_levels::terms::Contracts, B>(
            self, actor, id.0,
        )
        .await
    }
    async fn contract(
        &self,
        id: custos_core::ContractId,
    ) -> custos_core::error::StoreResult<custos_core::sla::Contract> {
        crate::service_levels::terms::get::<crate::service_levels::terms::Contracts, B>(self, id.0)
            .await
    }
    async fn list_contracts(
        &self,
        service: Option<custos_core::CiId>,
        page: custos_core::page::PageRequest,
    ) -> custos_core::error::StoreResult<custos_core::page::Page<custos_core::sla::Contract>> {
        crate::service_levels::terms::list::<crate::service_levels::terms::Contracts, B>(
            self,
            service.map(|s| s.0),
            page,
        )
        .await
    }
    async fn create_sla(
        &self,
        actor: &custos_core::authz::Actor,
        terms: custos_core::sla::SlaTerms,
    ) -> custos_core::error::StoreResult<custos_core::sla::Sla> {
        self.sl_create_sla(actor, terms).await
    }
    async fn update_sla(
        &self,
        actor: &custos_core::authz::Actor,
        id: custos_core::SlaId,
        terms: custos_core::sla::SlaTerms,
    ) -> custos_core::error::StoreResult<custos_core::sla::Sla> {
        self.sl_update_sla(actor, id, terms).await
    }
    async fn delete_sla(
        &self,
        actor: &custos_core::authz::Actor,
        id: custos_core::SlaId,
    ) -> custos_core::error::StoreResult<()> {
        self.sl_delete_sla(actor, id).await
    }
    async fn new_sla_version(
        &self,
        actor: &custos_core::authz::Actor,
        id: custos_core::SlaId,
    ) -> custos_core::error::StoreResult<custos_core::sla::Sla> {
        self.sl_new_sla_version(actor, id).await
    }
    async fn agree_sla(
        &self,
        actor: &custos_core::authz::Actor,
        id: custos_core::SlaId,
        side: custos_core::sla::Side,
        today: &custos_core::time::Date,
    ) -> custos_core::error::StoreResult<custos_core::sla::Sla> {
        self.sl_agree_sla(actor, id, side, today).await
    }
    async fn expire_slas(
        &self,
        today: &custos_core::time::Date,
    ) -> custos_core::error::StoreResult<Vec<custos_core::CiId>> {
        self.sl_expire_slas(today).await
    }
    async fn sla(
        &self,
        id: custos_core::SlaId,
    ) -> custos_core::error::StoreResult<custos_core::sla::Sla> {
        self.sl_sla(id).await
    }
    async fn list_slas(
        &self,
        f: &custos_core::store::SlaFilter,
        page: custos_core::page::PageRequest,
    ) -> custos_core::error::StoreResult<custos_core::page::Page<custos_core::sla::Sla>> {
        self.sl_list_slas(f, page).await
    }
    async fn sla_versions(
        &self,
        series: custos_core::SlaId,
    ) -> custos_core::error::StoreResult<Vec<custos_core::sla::Sla>> {
        self.sl_sla_versions(series).await
    }
    async fn implemented_controls(
        &self,
        controls: &[custos_core::ControlId],
    ) -> custos_core::error::StoreResult<Vec<custos_core::ControlId>> {
        self.sl_implemented_controls(controls).await
    }
    async fn keep_report(
        &self,
        actor: &custos_core::authz::Actor,
        sla: custos_core::SlaId,
        period: &custos_core::sla_report::Period,
        content: &str,
    ) -> custos_core::error::StoreResult<custos_core::store::KeptReport> {
        self.sl_keep_report(actor, sla, period, content).await
    }
    async fn kept_report(
        &self,
        sla: custos_core::SlaId,
        period: &custos_core::sla_report::Period,
    ) -> custos_core::error::StoreResult<(custos_core::store::KeptReport, String)> {
        self.sl_kept_report(sla, period).await
    }
    async fn list_reports(
        &self,
        sla: custos_core::SlaId,
    ) -> custos_core::error::StoreResult<Vec<custos_core::store::KeptReport>> {
        self.sl_list_reports(sla).await
    }
    async fn report_history(
        &self,
        sla: custos_core::SlaId,
        before: &custos_core::sla_report::Period,
        n: u32,
    ) -> custos_core::error::StoreResult<Vec<(custos_core::store::KeptReport, String)>> {
        self.sl_report_history(sla, before, n).await
    }
    async fn take_lease(
        &self,
        name: &str,
        holder: &str,
        now: custos_core::Timestamp,
        until: custos_core::Timestamp,
    ) -> custos_core::error::StoreResult<bool> {
        self.sl_take_lease(name, holder, now, until).await
    }
}
