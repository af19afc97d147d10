//! Departments and their security profiles.

macro_rules! impl_department_store {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl custos_core::store::DepartmentStore for $store {
            async fn create_department(
                &self,
                actor: &custos_core::authz::Actor,
                d: custos_core::account::NewDepartment,
            ) -> custos_core::error::StoreResult<custos_core::account::Department> {
                let now = custos_core::Timestamp::now();
                let dept = custos_core::account::Department {
                    id: custos_core::DepartmentId::new(),
                    name: d.name,
                    description: d.description,
                    profile: d.profile,
                    created_at: now,
                    updated_at: now,
                };
                let map = crate::error::map("department");
                let mut tx = self.begin_write().await?;
                sqlx::query(
                    "INSERT INTO departments (id, name, description, mfa_required, session_lifetime_minutes, \
                     idle_timeout_minutes, access_two_approvals, monitoring_level, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                )
                .bind(dept.id.0)
                .bind(&dept.name)
                .bind(&dept.description)
                .bind(dept.profile.mfa_required)
                .bind(dept.profile.session_lifetime_minutes)
                .bind(dept.profile.idle_timeout_minutes)
                .bind(dept.profile.access_two_approvals)
                .bind(dept.profile.monitoring_level.as_str())
                .bind(now.0)
                .bind(now.0)
                .execute(&mut *tx)
                .await
                .map_err(&map)?;
                let changes = custos_core::audit::diff(None, Some(&crate::rows::department_view(&dept)));
                crate::audit::append_audit!(
                    tx,
                    actor,
                    custos_core::audit::AuditRecord::new("department.create", "department", dept.id, changes),
                    now
                );
                tx.commit().await.map_err(&map)?;
                Ok(dept)
            }

            async fn update_department(
                &self,
                actor: &custos_core::authz::Actor,
                id: custos_core::DepartmentId,
                d: custos_core::account::NewDepartment,
            ) -> custos_core::error::StoreResult<custos_core::account::Department> {
                let now = custos_core::Timestamp::now();
                let map = crate::error::map("department");
                let mut tx = self.begin_write().await?;
                let lock = format!("SELECT * FROM departments WHERE id = $1{}", Self::FOR_UPDATE);
                let before: custos_core::account::Department =
                    sqlx::query_as::<_, crate::rows::DepartmentRow>(sqlx::AssertSqlSafe(lock))
                        .bind(id.0)
                        .fetch_one(&mut *tx)
                        .await
                        .map_err(&map)?
                        .try_into()?;
                let after = custos_core::account::Department {
                    name: d.name,
                    description: d.description,
                    profile: d.profile,
                    updated_at: now,
                    ..before.clone()
                };
                sqlx::query(
                    "UPDATE departments SET name = $2, description = $3, mfa_required = $4, \
                     session_lifetime_minutes = $5, idle_timeout_minutes = $6, access_two_approvals = $7, \
                     monitoring_level = $8, updated_at = $9 WHERE id = $1",
                )
                .bind(id.0)
                .bind(&after.name)
                .bind(&after.description)
                .bind(after.profile.mfa_required)
                .bind(after.profile.session_lifetime_minutes)
                .bind(after.profile.idle_timeout_minutes)
                .bind(after.profile.access_two_approvals)
                .bind(after.profile.monitoring_level.as_str())
                .bind(now.0)
                .execute(&mut *tx)
                .await
                .map_err(&map)?;
                let changes = custos_core::audit::diff(
                    Some(&crate::rows::department_view(&before)),
                    Some(&crate::rows::department_view(&after)),
                );
                crate::audit::append_audit!(
                    tx,
                    actor,
                    custos_core::audit::AuditRecord::new("department.update", "department", id, changes),
                    now
                );
                tx.commit().await.map_err(&map)?;
                Ok(after)
            }

            async fn delete_department(
                &self,
                actor: &custos_core::authz::Actor,
                id: custos_core::DepartmentId,
            ) -> custos_core::error::StoreResult<()> {
                let now = custos_core::Timestamp::now();
                let map = crate::error::map("department");
                let mut tx = self.begin_write().await?;
                let lock = format!("SELECT * FROM departments WHERE id = $1{}", Self::FOR_UPDATE);
                let before: custos_core::account::Department =
                    sqlx::query_as::<_, crate::rows::DepartmentRow>(sqlx::AssertSqlSafe(lock))
                        .bind(id.0)
                        .fetch_one(&mut *tx)
                        .await
                        .map_err(&map)?
                        .try_into()?;
                sqlx::query("DELETE FROM departments WHERE id = $1")
                    .bind(id.0)
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| match map(e) {
                        custos_core::StoreError::Conflict { .. } => custos_core::StoreError::Conflict {
                            constraint: "users_department_id_fkey".into(),
                        },
                        other => other,
                    })?;
                let changes = custos_core::audit::diff(Some(&crate::rows::department_view(&before)), None);
                crate::audit::append_audit!(
                    tx,
                    actor,
                    custos_core::audit::AuditRecord::new("department.delete", "department", id, changes),
                    now
                );
                tx.commit().await.map_err(&map)?;
                Ok(())
            }

            async fn department(
                &self,
                id: custos_core::DepartmentId,
            ) -> custos_core::error::StoreResult<custos_core::account::Department> {
                sqlx::query_as::<_, crate::rows::DepartmentRow>("SELECT * FROM departments WHERE id = $1")
                    .bind(id.0)
                    .fetch_one(&self.pool)
                    .await
                    .map_err(crate::error::map("department"))?
                    .try_into()
            }

            async fn department_by_name(
                &self,
                name: &str,
            ) -> custos_core::error::StoreResult<custos_core::account::Department> {
                sqlx::query_as::<_, crate::rows::DepartmentRow>("SELECT * FROM departments WHERE name = $1")
                    .bind(name.trim())
                    .fetch_one(&self.pool)
                    .await
                    .map_err(crate::error::map("department"))?
                    .try_into()
            }

            async fn list_departments(
                &self,
                page: custos_core::page::PageRequest,
            ) -> custos_core::error::StoreResult<custos_core::page::Page<custos_core::account::Department>> {
                let rows: Vec<crate::rows::DepartmentRow> = sqlx::query_as(
                    "SELECT * FROM departments WHERE ($1 IS NULL OR id > $1) ORDER BY id LIMIT $2",
                )
                .bind(page.after)
                .bind(page.fetch())
                .fetch_all(&self.pool)
                .await
                .map_err(crate::error::map("department"))?;
                let items = rows.into_iter().map(TryInto::try_into).collect::<Result<Vec<_>, _>>()?;
                Ok(custos_core::page::Page::from_rows(items, page, |d: &custos_core::account::Department| d.id.0))
            }
        }
    };
}
pub(crate) use impl_department_store;
