//! What reports and the dispatcher read: failed implementations on CIs, the incident figures of a
//! period, the notification outbox.

use crate::sql::{Backend, SqlStore};

pub(crate) async fn failed_implementations<B: Backend>(
    store: &SqlStore<B>,
    cis: &[custos_core::CiId],
) -> custos_core::error::StoreResult<Vec<(custos_core::CiId, custos_core::ControlId, String)>> {
    if cis.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT im.ci_id, im.control_ref, k.label FROM implementations im JOIN controls k ON k.id = im.control_ref \
         WHERE im.status = 'failed' AND im.ci_id IN ({}) ORDER BY im.ci_id, k.label",
        crate::rows::placeholders(1, cis.len())
    );
    let mut q =
        SqlStore::<B>::query_as::<(uuid::Uuid, uuid::Uuid, String)>(sqlx::AssertSqlSafe(sql));
    for c in cis {
        q = q.bind(c.0);
    }
    let rows = q
        .fetch_all(store)
        .await
        .map_err(crate::error::map("implementation"))?;
    Ok(rows
        .into_iter()
        .map(|(c, k, l)| (custos_core::CiId(c), custos_core::ControlId(k), l))
        .collect())
}

pub(crate) async fn incident_stats<B: Backend>(
    store: &SqlStore<B>,
    service: custos_core::CiId,
    from: custos_core::Timestamp,
    to: custos_core::Timestamp,
) -> custos_core::error::StoreResult<custos_core::store::IncidentStats> {
    use futures_util::TryStreamExt;
    let map = crate::error::map("incident");
    let actions: Vec<(uuid::Uuid, i64)> = SqlStore::<B>::query_as(
        "SELECT a.incident_id, MIN(a.at) FROM incident_actions a JOIN incidents i ON i.id = a.incident_id \
         WHERE i.service_id = $1 AND a.kind IN ('ci_isolated', 'ci_recovered', 'containment_action') GROUP BY a.incident_id",
    )
    .bind(service.0)
    .fetch_all(store)
    .await
    .map_err(&map)?;
    let contained: Vec<_> = actions
        .into_iter()
        .map(|(i, t)| (custos_core::IncidentId(i), custos_core::Timestamp(t)))
        .collect();
    let mut tally = custos_core::ticket_stats::Tally::new(&contained, from, to);
    // Streamed: a busy service has tens of thousands of incidents in a period,
    // which as one result would take tens of MiB at once.
    let sql = format!(
        "SELECT {} FROM incidents i WHERE i.service_id = $1 AND i.created_at < $3 AND (i.closed_at IS NULL OR i.closed_at >= $2) \
         AND (i.resolved_at IS NULL OR i.resolved_at >= $2 OR i.created_at >= $2) ORDER BY i.id",
        crate::incidents::rows::INCIDENT_COLS
    );
    let mut rows =
        SqlStore::<B>::query_as::<crate::incidents::rows::IncidentRow>(sqlx::AssertSqlSafe(sql))
            .bind(service.0)
            .bind(from.0)
            .bind(to.0)
            .fetch(store);
    while let Some(r) = rows.try_next().await.map_err(&map)? {
        tally.add(&r.into_incident(Vec::new())?);
    }
    Ok(tally.finish())
}

pub(crate) async fn pending_events<B: Backend>(
    store: &SqlStore<B>,
    limit: u32,
) -> custos_core::error::StoreResult<
    Vec<(
        custos_core::EventId,
        custos_core::Timestamp,
        custos_core::notify::Event,
    )>,
> {
    let sql = format!(
        "SELECT id, at, event FROM notification_events WHERE dispatched_at IS NULL ORDER BY at, id {}",
        crate::rows::limit(i64::from(limit))
    );
    let rows: Vec<(uuid::Uuid, i64, String)> = SqlStore::<B>::query_as(sqlx::AssertSqlSafe(sql))
        .fetch_all(store)
        .await
        .map_err(crate::error::map("notification event"))?;
    rows.into_iter()
        .map(|(id, at, e)| {
            Ok((
                custos_core::EventId(id),
                custos_core::Timestamp(at),
                crate::service_levels::rows::parse_json("notification event", &e)?,
            ))
        })
        .collect()
}

pub(crate) async fn mark_dispatched<B: Backend>(
    store: &SqlStore<B>,
    ids: &[custos_core::EventId],
    now: custos_core::Timestamp,
) -> custos_core::error::StoreResult<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "UPDATE notification_events SET dispatched_at = $1 WHERE id IN ({})",
        crate::rows::placeholders(2, ids.len())
    );
    let mut q = SqlStore::<B>::query(sqlx::AssertSqlSafe(sql)).bind(now.0);
    for id in ids {
        q = q.bind(id.0);
    }
    q.execute(store.writer())
        .await
        .map_err(crate::error::map("notification event"))?;
    Ok(())
}
