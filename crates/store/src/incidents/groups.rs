//! Support groups and saved filters.

use crate::sql::{Backend, SqlStore};

pub(crate) async fn create_group<B: Backend>(
    store: &SqlStore<B>,
    actor: &custos_core::authz::Actor,
    g: custos_core::ticket::GroupInput,
) -> custos_core::error::StoreResult<custos_core::ticket::Group> {
    store.write_group(actor, None, g).await
}

pub(crate) async fn update_group<B: Backend>(
    store: &SqlStore<B>,
    actor: &custos_core::authz::Actor,
    id: custos_core::GroupId,
    g: custos_core::ticket::GroupInput,
) -> custos_core::error::StoreResult<custos_core::ticket::Group> {
    store.write_group(actor, Some(id), g).await
}

pub(crate) async fn delete_group<B: Backend>(
    store: &SqlStore<B>,
    actor: &custos_core::authz::Actor,
    id: custos_core::GroupId,
) -> custos_core::error::StoreResult<()> {
    let now = custos_core::Timestamp::now();
    let map = crate::error::map("group");
    let mut tx = store.audited().await?;
    let before = SqlStore::<B>::group_in(&mut tx, id.0).await?;
    SqlStore::<B>::query("DELETE FROM support_groups WHERE id = $1")
        .bind(id.0)
        .execute(&mut *tx)
        .await
        .map_err(&map)?;
    let changes =
        custos_core::audit::diff(Some(&crate::service_levels::rows::json_of(&before)), None);
    tx.record(
        actor,
        custos_core::audit::AuditRecord::new("group.delete", "group", id, changes),
        now,
    );
    tx.commit().await?;
    Ok(())
}

pub(crate) async fn group<B: Backend>(
    store: &SqlStore<B>,
    id: custos_core::GroupId,
) -> custos_core::error::StoreResult<custos_core::ticket::Group> {
    let mut conn = store
        .pool
        .acquire()
        .await
        .map_err(crate::error::map("group"))?;
    SqlStore::<B>::group_in(&mut conn, id.0).await
}

pub(crate) async fn list_groups<B: Backend>(
    store: &SqlStore<B>,
) -> custos_core::error::StoreResult<Vec<custos_core::ticket::Group>> {
    let map = crate::error::map("group");
    let rows: Vec<crate::incidents::rows::GroupRow> = SqlStore::<B>::query_as(
        "SELECT id, name, description, lead_id FROM support_groups ORDER BY name LIMIT 1000",
    )
    .fetch_all(store)
    .await
    .map_err(&map)?;
    let members: Vec<(uuid::Uuid, uuid::Uuid)> = SqlStore::<B>::query_as(
        "SELECT group_id, user_id FROM support_group_members ORDER BY user_id",
    )
    .fetch_all(store)
    .await
    .map_err(&map)?;
    let mut by: std::collections::HashMap<uuid::Uuid, Vec<custos_core::UserId>> =
        std::collections::HashMap::new();
    for (g, u) in members {
        by.entry(g).or_default().push(custos_core::UserId(u));
    }
    Ok(rows
        .into_iter()
        .map(|r| {
            let m = by.remove(&r.id).unwrap_or_default();
            r.into_group(m)
        })
        .collect())
}

pub(crate) async fn save_filter<B: Backend>(
    store: &SqlStore<B>,
    user: custos_core::UserId,
    name: &str,
    query: &str,
) -> custos_core::error::StoreResult<custos_core::ticket::SavedFilter> {
    let id = custos_core::FilterId::new();
    let now = custos_core::Timestamp::now();
    SqlStore::<B>::query("INSERT INTO saved_filters (id, user_id, name, query, created_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(id.0)
        .bind(user.0)
        .bind(name)
        .bind(query)
        .bind(now.0)
        .execute(store.writer())
        .await
        .map_err(crate::error::map("saved filter"))?;
    Ok(custos_core::ticket::SavedFilter {
        id,
        name: name.to_string(),
        query: query.to_string(),
        created_at: now,
    })
}

pub(crate) async fn filters<B: Backend>(
    store: &SqlStore<B>,
    user: custos_core::UserId,
) -> custos_core::error::StoreResult<Vec<custos_core::ticket::SavedFilter>> {
    let rows: Vec<crate::incidents::rows::FilterRow> =
        SqlStore::<B>::query_as("SELECT id, name, query, created_at FROM saved_filters WHERE user_id = $1 ORDER BY name LIMIT 200")
            .bind(user.0)
            .fetch_all(store)
            .await
            .map_err(crate::error::map("saved filter"))?;
    Ok(rows.into_iter().map(Into::into).collect())
}

pub(crate) async fn delete_filter<B: Backend>(
    store: &SqlStore<B>,
    user: custos_core::UserId,
    id: custos_core::FilterId,
) -> custos_core::error::StoreResult<()> {
    let done = SqlStore::<B>::query("DELETE FROM saved_filters WHERE id = $1 AND user_id = $2")
        .bind(id.0)
        .bind(user.0)
        .execute(store.writer())
        .await
        .map_err(crate::error::map("saved filter"))?;
    if done == 0 {
        return Err(custos_core::StoreError::not_found("saved filter"));
    }
    Ok(())
}
