//! `NotificationStore`: deliveries made from outbox events, claimed by dispatchers under a
//! lease (their next attempt moves to the lease's end; PostgreSQL also skips rows another
//! dispatcher is claiming), and the outcome of every attempt.

use custos_core::notify::{Channel, ClaimedDelivery, Delivery, DeliveryStatus, Event, EventKind};
use custos_core::{DeliveryId, EventId, StoreError, Timestamp};

/// Columns of [`DeliveryRow`]: the delivery and its event (`d`, `e`).
pub(crate) const DELIVERY_COLS: &str = "d.id, d.event_id, e.at AS event_at, e.kind, e.event, d.channel, d.target, \
    d.status, d.attempts, d.next_attempt_at, d.last_error, d.created_at, d.sent_at";

pub(crate) const DELIVERY_FROM: &str =
    "notification_deliveries d JOIN notification_events e ON e.id = d.event_id";

#[derive(sqlx::FromRow)]
pub(crate) struct DeliveryRow {
    id: uuid::Uuid,
    event_id: uuid::Uuid,
    event_at: i64,
    kind: String,
    event: String,
    channel: String,
    target: String,
    status: String,
    attempts: i32,
    next_attempt_at: Option<i64>,
    last_error: Option<String>,
    created_at: i64,
    sent_at: Option<i64>,
}

fn unreadable(what: &str, v: &str) -> StoreError {
    StoreError::Internal(format!("stored delivery has an unknown {what} {v:?}"))
}

impl DeliveryRow {
    /// The delivery with its whole event.
    pub(crate) fn into_claimed(self) -> Result<ClaimedDelivery, StoreError> {
        let event: Event =
            crate::service_levels::rows::parse_json("notification event", &self.event)?;
        let delivery = Delivery {
            id: DeliveryId(self.id),
            event_id: EventId(self.event_id),
            kind: EventKind::parse(&self.kind).ok_or_else(|| unreadable("kind", &self.kind))?,
            entity_type: event.entity_type.clone(),
            entity_id: event.entity_id.clone(),
            reference: event.reference.clone(),
            channel: Channel::parse(&self.channel)
                .ok_or_else(|| unreadable("channel", &self.channel))?,
            target: self.target,
            status: DeliveryStatus::parse(&self.status)
                .map_err(|_| unreadable("status", &self.status))?,
            attempts: self.attempts,
            next_attempt_at: self.next_attempt_at.map(Timestamp),
            last_error: self.last_error,
            created_at: Timestamp(self.created_at),
            sent_at: self.sent_at.map(Timestamp),
            confidential: event.confidential,
        };
        Ok(ClaimedDelivery {
            delivery,
            event,
            event_at: Timestamp(self.event_at),
        })
    }

    pub(crate) fn into_delivery(self) -> Result<Delivery, StoreError> {
        self.into_claimed().map(|c| c.delivery)
    }
}

/// `%,role,%` with LIKE's wildcards escaped (role names hold `_`), for matching one role in
/// the stored comma list wrapped in commas.
pub(crate) fn role_pattern(role: custos_core::account::Role) -> String {
    let name = role
        .as_str()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%,{name},%")
}

impl<B: crate::sql::Backend> crate::sql::SqlStore<B> {
    async fn delivery_in<'e>(
        ex: impl Into<crate::sql::On<'e, B>>,
        id: custos_core::DeliveryId,
    ) -> custos_core::error::StoreResult<custos_core::notify::Delivery> {
        let sql = format!(
            "SELECT {} FROM {} WHERE d.id = $1",
            crate::notifications::DELIVERY_COLS,
            crate::notifications::DELIVERY_FROM
        );
        Self::query_as::<crate::notifications::DeliveryRow>(sqlx::AssertSqlSafe(sql))
            .bind(id.0)
            .fetch_one(ex)
            .await
            .map_err(crate::error::map("notification delivery"))?
            .into_delivery()
    }
}

#[async_trait::async_trait]
impl<B: crate::sql::Backend> custos_core::store::NotificationStore for crate::sql::SqlStore<B> {
    async fn enqueue_event(
        &self,
        event: &custos_core::notify::Event,
        now: custos_core::Timestamp,
    ) -> custos_core::error::StoreResult<custos_core::EventId> {
        let id = custos_core::EventId::new();
        Self::query(
            "INSERT INTO notification_events (id, at, kind, entity_type, entity_id, event) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id.0)
        .bind(now.0)
        .bind(event.kind.as_str())
        .bind(&event.entity_type)
        .bind(&event.entity_id)
        .bind(serde_json::to_string(event).unwrap_or_default())
        .execute(self.writer())
        .await
        .map_err(crate::error::map("notification event"))?;
        Ok(id)
    }

    async fn recipients(
        &self,
        users: &[custos_core::UserId],
        roles: &[custos_core::account::Role],
    ) -> custos_core::error::StoreResult<Vec<String>> {
        if users.is_empty() && roles.is_empty() {
            return Ok(Vec::new());
        }
        let mut conds = Vec::new();
        if !users.is_empty() {
            conds.push(format!(
                "id IN ({})",
                crate::rows::placeholders(1, users.len())
            ));
        }
        for i in 0..roles.len() {
            conds.push(format!(
                "(',' || roles || ',') LIKE ${} ESCAPE '\\'",
                users.len() + 1 + i
            ));
        }
        let sql = format!(
            "SELECT DISTINCT email FROM users WHERE disabled = FALSE AND ({}) ORDER BY email",
            conds.join(" OR ")
        );
        let mut q = Self::query_as::<(String,)>(sqlx::AssertSqlSafe(sql));
        for u in users {
            q = q.bind(u.0);
        }
        for r in roles {
            q = q.bind(crate::notifications::role_pattern(*r));
        }
        let rows = q.fetch_all(self).await.map_err(crate::error::map("user"))?;
        Ok(rows.into_iter().map(|(e,)| e).collect())
    }

    async fn plan_deliveries(
        &self,
        plans: &[(custos_core::EventId, Vec<custos_core::store::NewDelivery>)],
        now: custos_core::Timestamp,
    ) -> custos_core::error::StoreResult<u64> {
        if plans.is_empty() {
            return Ok(0);
        }
        let map = crate::error::map("notification delivery");
        let mut tx = self.audited().await?;
        let mut created = 0;
        for (event, deliveries) in plans {
            for d in deliveries {
                created += Self::query(
                    "INSERT INTO notification_deliveries (id, event_id, channel, target, status, attempts, next_attempt_at, created_at) \
                     VALUES ($1, $2, $3, $4, 'pending', 0, $5, $5) ON CONFLICT (event_id, channel, target) DO NOTHING",
                )
                .bind(custos_core::DeliveryId::new().0)
                .bind(event.0)
                .bind(d.channel.as_str())
                .bind(&d.target)
                .bind(now.0)
                .execute(&mut *tx)
                .await
                .map_err(&map)?
                ;
            }
        }
        for chunk in plans.chunks(500) {
            let sql = format!(
                "UPDATE notification_events SET dispatched_at = $1 WHERE dispatched_at IS NULL AND id IN ({})",
                crate::rows::placeholders(2, chunk.len())
            );
            let mut q = Self::query(sqlx::AssertSqlSafe(sql)).bind(now.0);
            for (event, _) in chunk {
                q = q.bind(event.0);
            }
            q.execute(&mut *tx).await.map_err(&map)?;
        }
        tx.commit_unaudited().await?;
        Ok(created)
    }

    async fn claim_deliveries(
        &self,
        now: custos_core::Timestamp,
        lease_until: custos_core::Timestamp,
        limit: u32,
    ) -> custos_core::error::StoreResult<Vec<custos_core::notify::ClaimedDelivery>> {
        let map = crate::error::map("notification delivery");
        let mut tx = self.audited().await?;
        let sql = format!(
            "SELECT {} FROM {} WHERE d.status IN ('pending', 'failed') AND d.next_attempt_at <= $1 \
             ORDER BY d.next_attempt_at, d.id LIMIT $2{}",
            crate::notifications::DELIVERY_COLS,
            crate::notifications::DELIVERY_FROM,
            Self::CLAIM_LOCK
        );
        let rows: Vec<crate::notifications::DeliveryRow> = Self::query_as(sqlx::AssertSqlSafe(sql))
            .bind(now.0)
            .bind(i64::from(limit))
            .fetch_all(&mut *tx)
            .await
            .map_err(&map)?;
        let claimed = rows
            .into_iter()
            .map(crate::notifications::DeliveryRow::into_claimed)
            .collect::<Result<Vec<_>, _>>()?;
        if claimed.is_empty() {
            return Ok(claimed);
        }
        let sql = format!(
            "UPDATE notification_deliveries SET next_attempt_at = $1 WHERE id IN ({})",
            crate::rows::placeholders(2, claimed.len())
        );
        let mut q = Self::query(sqlx::AssertSqlSafe(sql)).bind(lease_until.0);
        for c in &claimed {
            q = q.bind(c.delivery.id.0);
        }
        q.execute(&mut *tx).await.map_err(&map)?;
        tx.commit_unaudited().await?;
        Ok(claimed)
    }

    async fn record_delivery(
        &self,
        id: custos_core::DeliveryId,
        outcome: &custos_core::notify::Outcome,
        now: custos_core::Timestamp,
    ) -> custos_core::error::StoreResult<custos_core::notify::Delivery> {
        use custos_core::notify::Outcome;
        let map = crate::error::map("notification delivery");
        let (status, next, error, sent) = match outcome {
            Outcome::Sent => ("sent", None, None, Some(now.0)),
            Outcome::Failed {
                error,
                next_attempt_at,
            } => (
                "failed",
                Some(next_attempt_at.0),
                Some(error.as_str()),
                None,
            ),
            Outcome::Dead { error } => ("dead", None, Some(error.as_str()), None),
        };
        let mut tx = self.audited().await?;
        let done = Self::query(
            "UPDATE notification_deliveries SET status = $2, attempts = attempts + 1, next_attempt_at = $3, \
             last_error = $4, sent_at = $5 WHERE id = $1",
        )
        .bind(id.0)
        .bind(status)
        .bind(next)
        .bind(error)
        .bind(sent)
        .execute(&mut *tx)
        .await
        .map_err(&map)?;
        if done == 0 {
            return Err(custos_core::StoreError::not_found("notification delivery"));
        }
        let d = Self::delivery_in(&mut *tx, id).await?;
        tx.commit_unaudited().await?;
        Ok(d)
    }

    async fn list_deliveries(
        &self,
        status: Option<custos_core::notify::DeliveryStatus>,
        page: custos_core::page::PageRequest,
    ) -> custos_core::error::StoreResult<custos_core::page::Page<custos_core::notify::Delivery>>
    {
        let sql = format!(
            "SELECT {} FROM {} WHERE ($1 IS NULL OR d.id < $1) AND ($2 IS NULL OR d.status = $2) \
             ORDER BY d.id DESC LIMIT $3",
            crate::notifications::DELIVERY_COLS,
            crate::notifications::DELIVERY_FROM
        );
        let rows: Vec<crate::notifications::DeliveryRow> = Self::query_as(sqlx::AssertSqlSafe(sql))
            .bind(page.after)
            .bind(status.map(|s| s.as_str()))
            .bind(page.fetch())
            .fetch_all(self)
            .await
            .map_err(crate::error::map("notification delivery"))?;
        let items = rows
            .into_iter()
            .map(crate::notifications::DeliveryRow::into_delivery)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(custos_core::page::Page::from_rows(
            items,
            page,
            |d: &custos_core::notify::Delivery| d.id.0,
        ))
    }

    async fn delivery(
        &self,
        id: custos_core::DeliveryId,
    ) -> custos_core::error::StoreResult<custos_core::notify::Delivery> {
        Self::delivery_in(self, id).await
    }

    async fn retry_delivery(
        &self,
        actor: &custos_core::authz::Actor,
        id: custos_core::DeliveryId,
        now: custos_core::Timestamp,
    ) -> custos_core::error::StoreResult<custos_core::notify::Delivery> {
        let map = crate::error::map("notification delivery");
        let mut tx = self.audited().await?;
        let sql = format!(
            "SELECT status FROM notification_deliveries WHERE id = $1{}",
            Self::FOR_UPDATE
        );
        let (before,): (String,) = Self::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id.0)
            .fetch_one(&mut *tx)
            .await
            .map_err(&map)?;
        if !custos_core::notify::DeliveryStatus::parse(&before).is_ok_and(|s| s.retryable()) {
            return Err(custos_core::StoreError::Conflict {
                constraint: "delivery_not_retryable".into(),
            });
        }
        Self::query("UPDATE notification_deliveries SET status = 'pending', next_attempt_at = $2 WHERE id = $1")
            .bind(id.0)
            .bind(now.0)
            .execute(&mut *tx)
            .await
            .map_err(&map)?;
        tx.record(
            actor,
            custos_core::audit::AuditRecord::new(
                "notification.retry",
                "notification_delivery",
                id,
                serde_json::json!({"status": {"before": before, "after": "pending"}}),
            ),
            now,
        );
        let d = Self::delivery_in(&mut *tx, id).await?;
        tx.commit().await?;
        Ok(d)
    }

    async fn delivery_counts(
        &self,
    ) -> custos_core::error::StoreResult<custos_core::store::DeliveryCounts> {
        let rows: Vec<(String, i64)> =
            Self::query_as("SELECT status, COUNT(*) FROM notification_deliveries GROUP BY status")
                .fetch_all(self)
                .await
                .map_err(crate::error::map("notification delivery"))?;
        let mut c = custos_core::store::DeliveryCounts::default();
        for (status, n) in rows {
            match status.as_str() {
                "pending" => c.pending = n,
                "sent" => c.sent = n,
                "failed" => c.failed = n,
                "dead" => c.dead = n,
                _ => {}
            }
        }
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::role_pattern;
    use custos_core::account::Role;

    #[test]
    fn role_patterns_escape_like_wildcards() {
        assert_eq!(
            role_pattern(Role::SecurityManager),
            "%,security\\_manager,%"
        );
        assert_eq!(role_pattern(Role::Agent), "%,agent,%");
    }
}
