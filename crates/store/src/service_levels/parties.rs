//! Customers (with representatives), suppliers and the service catalogue.

impl<B: crate::sql::Backend> crate::sql::SqlStore<B> {
    pub(crate) async fn customer_reps(
        conn: &mut <B::Db as sqlx::Database>::Connection,
        ids: &[uuid::Uuid],
    ) -> custos_core::error::StoreResult<
        std::collections::HashMap<uuid::Uuid, Vec<custos_core::UserId>>,
    > {
        let mut out: std::collections::HashMap<uuid::Uuid, Vec<custos_core::UserId>> =
            std::collections::HashMap::new();
        if ids.is_empty() {
            return Ok(out);
        }
        let sql = format!(
            "SELECT customer_id, user_id FROM customer_representatives WHERE customer_id IN ({}) ORDER BY user_id",
            crate::rows::placeholders(1, ids.len())
        );
        let mut q = Self::query_as::<(uuid::Uuid, uuid::Uuid)>(sqlx::AssertSqlSafe(sql));
        for id in ids {
            q = q.bind(*id);
        }
        for (c, u) in q
            .fetch_all(&mut *conn)
            .await
            .map_err(crate::error::map("customer"))?
        {
            out.entry(c).or_default().push(custos_core::UserId(u));
        }
        Ok(out)
    }

    pub(crate) async fn customer_in(
        conn: &mut <B::Db as sqlx::Database>::Connection,
        id: uuid::Uuid,
    ) -> custos_core::error::StoreResult<custos_core::service::Customer> {
        let row: crate::service_levels::rows::CustomerRow =
            Self::query_as("SELECT * FROM customers WHERE id = $1")
                .bind(id)
                .fetch_one(&mut *conn)
                .await
                .map_err(crate::error::map("customer"))?;
        let mut reps = Self::customer_reps(conn, &[id]).await?;
        row.into_customer(reps.remove(&id).unwrap_or_default())
    }

    pub(crate) async fn write_customer(
        &self,
        actor: &custos_core::authz::Actor,
        id: Option<custos_core::CustomerId>,
        c: custos_core::service::CustomerInput,
    ) -> custos_core::error::StoreResult<custos_core::service::Customer> {
        let now = custos_core::Timestamp::now();
        let map = crate::error::map("customer");
        let mut tx = self.audited().await?;
        let before = match id {
            Some(id) => Some(Self::customer_in(&mut tx, id.0).await?),
            None => None,
        };
        let id = id.unwrap_or_default();
        let sql = if before.is_some() {
            "UPDATE customers SET name = $2, kind = $3, department_id = $4, contact = $5, notes = $6, updated_at = $7 WHERE id = $1"
        } else {
            "INSERT INTO customers (id, name, kind, department_id, contact, notes, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7)"
        };
        Self::query(sql)
            .bind(id.0)
            .bind(&c.name)
            .bind(c.kind.as_str())
            .bind(c.department_id.map(|d| d.0))
            .bind(&c.contact)
            .bind(&c.notes)
            .bind(now.0)
            .execute(&mut *tx)
            .await
            .map_err(|e| crate::service_levels::rows::missing_ref("department")(map(e)))?;
        Self::query("DELETE FROM customer_representatives WHERE customer_id = $1")
            .bind(id.0)
            .execute(&mut *tx)
            .await
            .map_err(&map)?;
        for u in &c.representatives {
            Self::query(
                "INSERT INTO customer_representatives (customer_id, user_id) VALUES ($1, $2)",
            )
            .bind(id.0)
            .bind(u.0)
            .execute(&mut *tx)
            .await
            .map_err(|e| {
                crate::service_levels::rows::missing_ref("representative (user)")(map(e))
            })?;
        }
        let after = Self::customer_in(&mut tx, id.0).await?;
        let action = if before.is_some() {
            "customer.update"
        } else {
            "customer.create"
        };
        let changes = custos_core::audit::diff(
            before
                .as_ref()
                .map(crate::service_levels::rows::customer_view)
                .as_ref(),
            Some(&crate::service_levels::rows::customer_view(&after)),
        );
        tx.record(
            actor,
            custos_core::audit::AuditRecord::new(action, "customer", id, changes),
            now,
        );
        tx.commit().await?;
        Ok(after)
    }

    pub(crate) async fn write_supplier(
        &self,
        actor: &custos_core::authz::Actor,
        id: Option<custos_core::SupplierId>,
        s: custos_core::service::SupplierInput,
    ) -> custos_core::error::StoreResult<custos_core::service::Supplier> {
        let now = custos_core::Timestamp::now();
        let map = crate::error::map("supplier");
        let mut tx = self.audited().await?;
        let before: Option<custos_core::service::Supplier> = match id {
            Some(id) => Some(
                Self::query_as::<crate::service_levels::rows::SupplierRow>(
                    "SELECT * FROM suppliers WHERE id = $1",
                )
                .bind(id.0)
                .fetch_one(&mut *tx)
                .await
                .map_err(&map)?
                .try_into()?,
            ),
            None => None,
        };
        let id = id.unwrap_or_default();
        let sql = if before.is_some() {
            "UPDATE suppliers SET name = $2, contact = $3, security_requirements = $4, risk_tier = $5, contract_start = $6, contract_end = $7, updated_at = $8 WHERE id = $1"
        } else {
            "INSERT INTO suppliers (id, name, contact, security_requirements, risk_tier, contract_start, contract_end, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)"
        };
        Self::query(sql)
            .bind(id.0)
            .bind(&s.name)
            .bind(&s.contact)
            .bind(&s.security_requirements)
            .bind(s.risk_tier.as_str())
            .bind(s.contract_start.as_ref().map(|d| d.to_string()))
            .bind(s.contract_end.as_ref().map(|d| d.to_string()))
            .bind(now.0)
            .execute(&mut *tx)
            .await
            .map_err(&map)?;
        let after: custos_core::service::Supplier =
            Self::query_as::<crate::service_levels::rows::SupplierRow>(
                "SELECT * FROM suppliers WHERE id = $1",
            )
            .bind(id.0)
            .fetch_one(&mut *tx)
            .await
            .map_err(&map)?
            .try_into()?;
        let action = if before.is_some() {
            "supplier.update"
        } else {
            "supplier.create"
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
            custos_core::audit::AuditRecord::new(action, "supplier", id, changes),
            now,
        );
        tx.commit().await?;
        Ok(after)
    }

    pub(crate) async fn services_in(
        conn: &mut <B::Db as sqlx::Database>::Connection,
        ids: Option<&[uuid::Uuid]>,
        after: Option<uuid::Uuid>,
        limit: i64,
    ) -> custos_core::error::StoreResult<Vec<custos_core::service::Service>> {
        let map = crate::error::map("service");
        let rows: Vec<crate::service_levels::rows::ServiceRow> = match ids {
            Some(ids) => {
                let sql = format!(
                    "SELECT s.ci_id, c.name, s.description, s.owner_id, s.hours, s.targets, s.updated_at FROM services s JOIN cis c ON c.id = s.ci_id WHERE s.ci_id IN ({})",
                    crate::rows::placeholders(1, ids.len())
                );
                let mut q = Self::query_as(sqlx::AssertSqlSafe(sql));
                for id in ids {
                    q = q.bind(*id);
                }
                q.fetch_all(&mut *conn).await.map_err(&map)?
            }
            None => Self::query_as(
                "SELECT s.ci_id, c.name, s.description, s.owner_id, s.hours, s.targets, s.updated_at FROM services s JOIN cis c ON c.id = s.ci_id \
                 WHERE ($1 IS NULL OR s.ci_id > $1) ORDER BY s.ci_id LIMIT $2",
            )
            .bind(after)
            .bind(limit)
            .fetch_all(&mut *conn)
            .await
            .map_err(&map)?,
        };
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let ci: uuid::Uuid = r.ci_id();
            let base: Vec<(uuid::Uuid,)> = Self::query_as(
                "SELECT control_ref FROM service_baseline WHERE ci_id = $1 ORDER BY control_ref",
            )
            .bind(ci)
            .fetch_all(&mut *conn)
            .await
            .map_err(&map)?;
            out.push(
                r.into_service(
                    base.into_iter()
                        .map(|b| custos_core::ControlId(b.0))
                        .collect(),
                )?,
            );
        }
        Ok(out)
    }
}
