//! Who may see an incident (SLA access, grants), links between incidents, the SLA clock.

use crate::sql::{Backend, SqlStore};

pub(crate) async fn refresh_sla_access<B: Backend>(
    store: &SqlStore<B>,
    actor: &custos_core::authz::Actor,
    service: custos_core::CiId,
    users: &[custos_core::UserId],
    roles: i64,
) -> custos_core::error::StoreResult<u64> {
    let now = custos_core::Timestamp::now();
    let map = crate::error::map("incident access");
    let mut tx = store.audited().await?;
    // Idempotent: only what differs is written, so running it again (the
    // scheduler does, around an SLA's start) changes and audits nothing.
    let roles_changed = SqlStore::<B>::query(
        "UPDATE incidents SET authorised_roles = $2 WHERE service_id = $1 AND authorised_roles <> $2",
    )
    .bind(service.0)
    .bind(roles)
    .execute(&mut *tx)
    .await
    .map_err(&map)?
    ;
    let keep = if users.is_empty() {
        String::new()
    } else {
        format!(
            " AND user_id NOT IN ({})",
            crate::rows::placeholders(2, users.len())
        )
    };
    let sql = format!(
        "DELETE FROM incident_access WHERE source = 'sla' AND incident_id IN \
         (SELECT id FROM incidents WHERE service_id = $1){keep}"
    );
    let mut q = SqlStore::<B>::query(sqlx::AssertSqlSafe(sql)).bind(service.0);
    for u in users {
        q = q.bind(u.0);
    }
    let removed = q.execute(&mut *tx).await.map_err(&map)?;
    let mut added = 0;
    for chunk in users.chunks(crate::incidents::CHUNK_ROWS) {
        let sql = format!(
            "INSERT INTO incident_access (incident_id, user_id, source, added_by, added_at) \
             SELECT i.id, u.column1, 'sla', NULL, $2 FROM incidents i CROSS JOIN (VALUES {}) AS u \
             WHERE i.service_id = $1 ON CONFLICT DO NOTHING",
            crate::rows::value_lists_from(3, chunk.len(), 1)
        );
        let mut q = SqlStore::<B>::query(sqlx::AssertSqlSafe(sql))
            .bind(service.0)
            .bind(now.0);
        for u in chunk {
            q = q.bind(u.0);
        }
        added += q
            .execute(&mut *tx)
            .await
            .map_err(|e| crate::service_levels::rows::missing_ref("user")(map(e)))?;
    }
    let n = roles_changed + removed + added;
    let changes = serde_json::json!({
        "sla_authorised_users": {"after": users.iter().map(|u| u.to_string()).collect::<Vec<_>>()},
        "sla_authorised_roles": {"after": custos_core::ticket::roles_of_mask(roles).iter().map(|r| r.as_str()).collect::<Vec<_>>()},
        "incidents_roles_changed": roles_changed,
        "access_rows_removed": removed,
        "access_rows_added": added,
    });
    if n > 0 {
        tx.record(
            actor,
            custos_core::audit::AuditRecord::new("incident.sla_access", "ci", service, changes),
            now,
        );
    }
    tx.commit_if_recorded().await?;
    Ok(n)
}

pub(crate) async fn incident_access<B: Backend>(
    store: &SqlStore<B>,
    id: custos_core::IncidentId,
) -> custos_core::error::StoreResult<Vec<(custos_core::UserId, String)>> {
    let rows: Vec<(uuid::Uuid, String)> = SqlStore::<B>::query_as(
        "SELECT user_id, source FROM incident_access WHERE incident_id = $1 ORDER BY source, user_id",
    )
    .bind(id.0)
    .fetch_all(store)
    .await
    .map_err(crate::error::map("incident access"))?;
    Ok(rows
        .into_iter()
        .map(|(u, s)| (custos_core::UserId(u), s))
        .collect())
}

pub(crate) async fn grant_incident_access<B: Backend>(
    store: &SqlStore<B>,
    actor: &custos_core::authz::Actor,
    id: custos_core::IncidentId,
    user: custos_core::UserId,
) -> custos_core::error::StoreResult<()> {
    let now = custos_core::Timestamp::now();
    let map = crate::error::map("incident access");
    let mut tx = store.audited().await?;
    SqlStore::<B>::query("INSERT INTO incident_access (incident_id, user_id, source, added_by, added_at) VALUES ($1, $2, 'added', $3, $4)")
        .bind(id.0)
        .bind(user.0)
        .bind(actor.user_id().map(|u| u.0))
        .bind(now.0)
        .execute(&mut *tx)
        .await
        .map_err(|e| crate::service_levels::rows::missing_ref("incident or user")(map(e)))?;
    tx.record(
        actor,
        custos_core::audit::AuditRecord::new(
            "incident.access.grant",
            "incident",
            id,
            serde_json::json!({"user": user}),
        ),
        now,
    );
    tx.commit().await?;
    Ok(())
}

pub(crate) async fn revoke_incident_access<B: Backend>(
    store: &SqlStore<B>,
    actor: &custos_core::authz::Actor,
    id: custos_core::IncidentId,
    user: custos_core::UserId,
) -> custos_core::error::StoreResult<()> {
    let now = custos_core::Timestamp::now();
    let map = crate::error::map("incident access");
    let mut tx = store.audited().await?;
    let done = SqlStore::<B>::query(
        "DELETE FROM incident_access WHERE incident_id = $1 AND user_id = $2 AND source = 'added'",
    )
    .bind(id.0)
    .bind(user.0)
    .execute(&mut *tx)
    .await
    .map_err(&map)?;
    if done == 0 {
        return Err(custos_core::StoreError::not_found("incident access"));
    }
    tx.record(
        actor,
        custos_core::audit::AuditRecord::new(
            "incident.access.revoke",
            "incident",
            id,
            serde_json::json!({"user": user}),
        ),
        now,
    );
    tx.commit().await?;
    Ok(())
}

pub(crate) async fn link_incidents<B: Backend>(
    store: &SqlStore<B>,
    actor: &custos_core::authz::Actor,
    a: custos_core::IncidentId,
    b: custos_core::IncidentId,
    link: bool,
) -> custos_core::error::StoreResult<()> {
    if a == b {
        return Err(custos_core::DomainError::new(
            "incident",
            "an incident cannot be linked to itself",
        )
        .into());
    }
    let (lo, hi) = if a.0 < b.0 { (a, b) } else { (b, a) };
    let now = custos_core::Timestamp::now();
    let map = crate::error::map("incident link");
    let mut tx = store.audited().await?;
    if link {
        SqlStore::<B>::query("INSERT INTO incident_links (a, b, created_at) VALUES ($1, $2, $3)")
            .bind(lo.0)
            .bind(hi.0)
            .bind(now.0)
            .execute(&mut *tx)
            .await
            .map_err(|e| crate::service_levels::rows::missing_ref("incident")(map(e)))?;
    } else {
        let done = SqlStore::<B>::query("DELETE FROM incident_links WHERE a = $1 AND b = $2")
            .bind(lo.0)
            .bind(hi.0)
            .execute(&mut *tx)
            .await
            .map_err(&map)?;
        if done == 0 {
            return Err(custos_core::StoreError::not_found("incident link"));
        }
    }
    let action = if link {
        "incident.link"
    } else {
        "incident.unlink"
    };
    tx.record(
        actor,
        custos_core::audit::AuditRecord::new(
            action,
            "incident",
            a,
            serde_json::json!({"other": b}),
        ),
        now,
    );
    tx.commit().await?;
    Ok(())
}

#[allow(clippy::too_many_arguments)] // the trait method's arguments, passed on
pub(crate) async fn save_clock<B: Backend>(
    store: &SqlStore<B>,
    id: custos_core::IncidentId,
    clock: Option<custos_core::sla_clock::Clock>,
    clock_check_at: Option<custos_core::Timestamp>,
    expected: custos_core::Timestamp,
    audit: Option<(&'static str, serde_json::Value)>,
    events: Vec<custos_core::notify::Event>,
    reminded: Option<custos_core::Timestamp>,
) -> custos_core::error::StoreResult<bool> {
    let now = custos_core::Timestamp::now();
    let map = crate::error::map("incident");
    let mut tx = store.audited().await?;
    let sql = format!(
        "SELECT {} FROM incidents i WHERE i.id = $1 AND i.updated_at = $2",
        crate::incidents::rows::INCIDENT_COLS
    );
    let Some(row): Option<crate::incidents::rows::IncidentRow> =
        SqlStore::<B>::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id.0)
            .bind(expected.0)
            .fetch_optional(&mut *tx)
            .await
            .map_err(&map)?
    else {
        return Ok(false);
    };
    let holds = row.holds()?;
    let mut inc = row.into_incident(Vec::new())?;
    inc.clock = clock;
    if let (Some(slot), Some(m)) = (reminded, inc.major.as_mut()) {
        m.reminded_for = Some(slot);
    }
    let detail = crate::incidents::rows::Detail::of(&inc, &holds);
    let c = clock.as_ref();
    SqlStore::<B>::query(
        "UPDATE incidents SET response_due_at = $2, resolution_due_at = $3, response_state = $4, resolution_state = $5, \
         clock_check_at = $6, detail = $7 WHERE id = $1",
    )
    .bind(id.0)
    .bind(c.and_then(|c| c.response.due_at).map(|t| t.0))
    .bind(c.and_then(|c| c.resolution.due_at).map(|t| t.0))
    .bind(c.map(|c| c.response.state.as_str()))
    .bind(c.map(|c| c.resolution.state.as_str()))
    .bind(clock_check_at.map(|t| t.0))
    .bind(serde_json::to_string(&detail).unwrap_or_default())
    .execute(&mut *tx)
    .await
    .map_err(&map)?;
    SqlStore::<B>::write_events(&mut tx, &events, now).await?;
    if let Some((action, changes)) = audit {
        tx.record(
            &custos_core::authz::Actor::System("sla-clock"),
            custos_core::audit::AuditRecord::new(action, "incident", id, changes),
            now,
        );
        tx.commit().await?;
    } else {
        // A clock recomputed without a change of state (due times, next check) is derived
        // bookkeeping, like the search index: nobody's change.
        tx.commit_unaudited().await?;
    }
    Ok(true)
}
