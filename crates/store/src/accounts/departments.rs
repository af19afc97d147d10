//! Departments and their security profiles.

use crate::accounts::rows::{DepartmentRow, department_view};
use crate::sql::{Backend, SqlStore};
use custos_core::account::{Department, NewDepartment};
use custos_core::audit::{AuditRecord, diff};
use custos_core::authz::Actor;
use custos_core::error::StoreResult;
use custos_core::page::{Page, PageRequest};
use custos_core::store::DepartmentStore;
use custos_core::{DepartmentId, StoreError, Timestamp};

#[async_trait::async_trait]
impl<B: Backend> DepartmentStore for SqlStore<B> {
    async fn create_department(&self, actor: &Actor, d: NewDepartment) -> StoreResult<Department> {
        let now = Timestamp::now();
        let dept = Department {
            id: DepartmentId::new(),
            name: d.name,
            description: d.description,
            profile: d.profile,
            created_at: now,
            updated_at: now,
        };
        let map = crate::error::map("department");
        let mut tx = self.audited().await?;
        Self::query(
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
        let changes = diff(None, Some(&department_view(&dept)));
        let record = AuditRecord::new("department.create", "department", dept.id, changes);
        tx.record(actor, record, now);
        tx.commit().await?;
        Ok(dept)
    }

    async fn update_department(
        &self,
        actor: &Actor,
        id: DepartmentId,
        d: NewDepartment,
    ) -> StoreResult<Department> {
        let now = Timestamp::now();
        let map = crate::error::map("department");
        let mut tx = self.audited().await?;
        let before = locked(&mut tx, id).await?;
        let after = Department {
            name: d.name,
            description: d.description,
            profile: d.profile,
            updated_at: now,
            ..before.clone()
        };
        Self::query(
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
        let changes = diff(
            Some(&department_view(&before)),
            Some(&department_view(&after)),
        );
        let record = AuditRecord::new("department.update", "department", id, changes);
        tx.record(actor, record, now);
        tx.commit().await?;
        Ok(after)
    }

    async fn delete_department(&self, actor: &Actor, id: DepartmentId) -> StoreResult<()> {
        let now = Timestamp::now();
        let map = crate::error::map("department");
        let mut tx = self.audited().await?;
        let before = locked(&mut tx, id).await?;
        Self::query("DELETE FROM departments WHERE id = $1")
            .bind(id.0)
            .execute(&mut *tx)
            .await
            .map_err(|e| match map(e) {
                // The only reference that blocks a delete: members.
                StoreError::Conflict { .. } => StoreError::Conflict {
                    constraint: "users_department_id_fkey".into(),
                },
                other => other,
            })?;
        let changes = diff(Some(&department_view(&before)), None);
        let record = AuditRecord::new("department.delete", "department", id, changes);
        tx.record(actor, record, now);
        tx.commit().await
    }

    async fn department(&self, id: DepartmentId) -> StoreResult<Department> {
        Self::query_as::<DepartmentRow>("SELECT * FROM departments WHERE id = $1")
            .bind(id.0)
            .fetch_one(self)
            .await
            .map_err(crate::error::map("department"))?
            .try_into()
    }

    async fn department_by_name(&self, name: &str) -> StoreResult<Department> {
        Self::query_as::<DepartmentRow>("SELECT * FROM departments WHERE name = $1")
            .bind(name.trim())
            .fetch_one(self)
            .await
            .map_err(crate::error::map("department"))?
            .try_into()
    }

    async fn list_departments(&self, page: PageRequest) -> StoreResult<Page<Department>> {
        let rows = Self::query_as::<DepartmentRow>(
            "SELECT * FROM departments WHERE ($1 IS NULL OR id > $1) ORDER BY id LIMIT $2",
        )
        .bind(page.after)
        .bind(page.fetch())
        .fetch_all(self)
        .await
        .map_err(crate::error::map("department"))?;
        let items = rows
            .into_iter()
            .map(TryInto::try_into)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page::from_rows(items, page, |d: &Department| d.id.0))
    }
}

/// The department, locked for the rest of the write transaction.
async fn locked<B: Backend>(
    tx: &mut crate::sql::AuditedTx<B>,
    id: DepartmentId,
) -> StoreResult<Department> {
    let sql = format!("SELECT * FROM departments WHERE id = $1{}", B::FOR_UPDATE);
    SqlStore::<B>::query_as::<DepartmentRow>(sqlx::AssertSqlSafe(sql))
        .bind(id.0)
        .fetch_one(&mut **tx)
        .await
        .map_err(crate::error::map("department"))?
        .try_into()
}
