//! Announcements: service notices with a window and an audience.

use crate::sql::{AuditedTx, Backend, SqlStore};
use custos_core::announcement::{Announcement, AnnouncementInput, Audience, Severity};
use custos_core::audit::{AuditRecord, diff};
use custos_core::authz::Actor;
use custos_core::error::StoreResult;
use custos_core::page::{Page, PageRequest};
use custos_core::store::{AnnouncementFilter, AnnouncementStore};
use custos_core::{AnnouncementId, CiId, StoreError, Timestamp, UserId};
use uuid::Uuid;

#[derive(sqlx::FromRow)]
struct AnnouncementRow {
    id: Uuid,
    title: String,
    body: String,
    severity: String,
    service_id: Option<Uuid>,
    starts_at: i64,
    ends_at: i64,
    audience: String,
    created_by: Option<Uuid>,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<AnnouncementRow> for Announcement {
    type Error = StoreError;
    fn try_from(r: AnnouncementRow) -> Result<Self, StoreError> {
        Ok(Announcement {
            id: AnnouncementId(r.id),
            title: r.title,
            body: r.body,
            severity: Severity::parse(&r.severity)?,
            service_id: r.service_id.map(CiId),
            starts_at: Timestamp(r.starts_at),
            ends_at: Timestamp(r.ends_at),
            audience: Audience::parse(&r.audience)?,
            created_by: r.created_by.map(UserId),
            created_at: Timestamp(r.created_at),
            updated_at: Timestamp(r.updated_at),
        })
    }
}

/// What the audit log keeps of an announcement: every field a person sets.
fn view(a: &Announcement) -> serde_json::Value {
    serde_json::json!({
        "title": a.title,
        "body": a.body,
        "severity": a.severity.as_str(),
        "service_id": a.service_id.map(|s| s.to_string()),
        "starts_at": a.starts_at.0,
        "ends_at": a.ends_at.0,
        "audience": a.audience.as_str(),
    })
}

const COLS: &str = "id, title, body, severity, service_id, starts_at, ends_at, audience, \
                    created_by, created_at, updated_at";

#[async_trait::async_trait]
impl<B: Backend> AnnouncementStore for SqlStore<B> {
    async fn create_announcement(
        &self,
        actor: &Actor,
        a: AnnouncementInput,
    ) -> StoreResult<Announcement> {
        let now = Timestamp::now();
        let created = Announcement {
            id: AnnouncementId::new(),
            title: a.title,
            body: a.body,
            severity: a.severity,
            service_id: a.service_id,
            starts_at: a.starts_at,
            ends_at: a.ends_at,
            audience: a.audience,
            created_by: actor.user_id(),
            created_at: now,
            updated_at: now,
        };
        let mut tx = self.audited().await?;
        Self::query(
            "INSERT INTO announcements (id, title, body, severity, service_id, starts_at, ends_at, \
             audience, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(created.id.0)
        .bind(&created.title)
        .bind(&created.body)
        .bind(created.severity.as_str())
        .bind(created.service_id.map(|s| s.0))
        .bind(created.starts_at.0)
        .bind(created.ends_at.0)
        .bind(created.audience.as_str())
        .bind(created.created_by.map(|u| u.0))
        .bind(now.0)
        .bind(now.0)
        .execute(&mut *tx)
        .await
        .map_err(crate::error::map("announcement"))?;
        let changes = diff(None, Some(&view(&created)));
        let record = AuditRecord::new("announcement.create", "announcement", created.id, changes);
        tx.record(actor, record, now);
        tx.commit().await?;
        Ok(created)
    }

    async fn update_announcement(
        &self,
        actor: &Actor,
        id: AnnouncementId,
        a: AnnouncementInput,
    ) -> StoreResult<Announcement> {
        let now = Timestamp::now();
        let mut tx = self.audited().await?;
        let before = locked(&mut tx, id).await?;
        let after = Announcement {
            title: a.title,
            body: a.body,
            severity: a.severity,
            service_id: a.service_id,
            starts_at: a.starts_at,
            ends_at: a.ends_at,
            audience: a.audience,
            updated_at: now,
            ..before.clone()
        };
        Self::query(
            "UPDATE announcements SET title = $2, body = $3, severity = $4, service_id = $5, \
             starts_at = $6, ends_at = $7, audience = $8, updated_at = $9 WHERE id = $1",
        )
        .bind(id.0)
        .bind(&after.title)
        .bind(&after.body)
        .bind(after.severity.as_str())
        .bind(after.service_id.map(|s| s.0))
        .bind(after.starts_at.0)
        .bind(after.ends_at.0)
        .bind(after.audience.as_str())
        .bind(now.0)
        .execute(&mut *tx)
        .await
        .map_err(crate::error::map("announcement"))?;
        let changes = diff(Some(&view(&before)), Some(&view(&after)));
        let record = AuditRecord::new("announcement.update", "announcement", id, changes);
        tx.record(actor, record, now);
        tx.commit().await?;
        Ok(after)
    }

    async fn delete_announcement(&self, actor: &Actor, id: AnnouncementId) -> StoreResult<()> {
        let now = Timestamp::now();
        let mut tx = self.audited().await?;
        let before = locked(&mut tx, id).await?;
        Self::query("DELETE FROM announcements WHERE id = $1")
            .bind(id.0)
            .execute(&mut *tx)
            .await
            .map_err(crate::error::map("announcement"))?;
        let changes = diff(Some(&view(&before)), None);
        let record = AuditRecord::new("announcement.delete", "announcement", id, changes);
        tx.record(actor, record, now);
        tx.commit().await
    }

    async fn announcement(&self, id: AnnouncementId) -> StoreResult<Announcement> {
        let sql = format!("SELECT {COLS} FROM announcements WHERE id = $1");
        Self::query_as::<AnnouncementRow>(sqlx::AssertSqlSafe(sql))
            .bind(id.0)
            .fetch_one(self)
            .await
            .map_err(crate::error::map("announcement"))?
            .try_into()
    }

    async fn list_announcements(
        &self,
        filter: &AnnouncementFilter,
        page: PageRequest,
    ) -> StoreResult<Page<Announcement>> {
        let sql = format!(
            "SELECT {COLS} FROM announcements WHERE ($1 IS NULL OR id < $1) \
             AND ($2 IS NULL OR audience = $2) \
             AND ($3 IS NULL OR $3 = (starts_at <= $4 AND ends_at > $4)) \
             ORDER BY id DESC LIMIT $5"
        );
        let rows = Self::query_as::<AnnouncementRow>(sqlx::AssertSqlSafe(sql))
            .bind(page.after)
            .bind(filter.everyone_only.then_some(Audience::Everyone.as_str()))
            .bind(filter.active)
            .bind(filter.now.0)
            .bind(page.fetch())
            .fetch_all(self)
            .await
            .map_err(crate::error::map("announcement"))?;
        let items = rows
            .into_iter()
            .map(TryInto::try_into)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page::from_rows(items, page, |a: &Announcement| a.id.0))
    }
}

/// The announcement, locked for the rest of the write transaction.
async fn locked<B: Backend>(
    tx: &mut AuditedTx<B>,
    id: AnnouncementId,
) -> StoreResult<Announcement> {
    let sql = format!(
        "SELECT {COLS} FROM announcements WHERE id = $1{}",
        B::FOR_UPDATE
    );
    SqlStore::<B>::query_as::<AnnouncementRow>(sqlx::AssertSqlSafe(sql))
        .bind(id.0)
        .fetch_one(&mut **tx)
        .await
        .map_err(crate::error::map("announcement"))?
        .try_into()
}
