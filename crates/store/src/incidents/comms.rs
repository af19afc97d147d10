//! The communications log, attachments and evidence, procedure actions.

use crate::sql::{Backend, SqlStore};

pub(crate) async fn add_note<B: Backend>(
    store: &SqlStore<B>,
    actor: &custos_core::authz::Actor,
    incident: custos_core::IncidentId,
    n: custos_core::ticket::NoteInput,
    status: custos_core::ticket::CommStatus,
    events: Vec<custos_core::notify::Event>,
) -> custos_core::error::StoreResult<custos_core::ticket::Note> {
    let now = custos_core::Timestamp::now();
    let map = crate::error::map("note");
    let id = custos_core::NoteId::new();
    let mut tx = store.audited().await?;
    let sent = (status == custos_core::ticket::CommStatus::Sent).then_some(now.0);
    SqlStore::<B>::query(
        "INSERT INTO incident_notes (id, incident_id, kind, body, audience, recipient, status, author_id, created_at, sent_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(id.0)
    .bind(incident.0)
    .bind(n.kind.as_str())
    .bind(&n.body)
    .bind(n.audience.map(|a| a.as_str()))
    .bind(&n.recipient)
    .bind(status.as_str())
    .bind(actor.user_id().map(|u| u.0))
    .bind(now.0)
    .bind(sent)
    .execute(&mut *tx)
    .await
    .map_err(|e| crate::service_levels::rows::missing_ref("incident")(map(e)))?;
    SqlStore::<B>::write_events(&mut tx, &events, now).await?;
    // The body stays out of the audit log (need-to-know); its hash goes in.
    let changes = serde_json::json!({
        "note": id,
        "kind": n.kind.as_str(),
        "audience": n.audience.map(|a| a.as_str()),
        "status": status.as_str(),
        "sha256": custos_core::secret::sha256_hex(n.body.as_bytes()),
    });
    tx.record(
        actor,
        custos_core::audit::AuditRecord::new("incident.note", "incident", incident, changes),
        now,
    );
    let sql = format!(
        "SELECT {} FROM incident_notes WHERE id = $1",
        crate::incidents::rows::NOTE_COLS
    );
    let row: crate::incidents::rows::NoteRow = SqlStore::<B>::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id.0)
        .fetch_one(&mut *tx)
        .await
        .map_err(&map)?;
    tx.commit().await?;
    row.try_into()
}

pub(crate) async fn decide_note<B: Backend>(
    store: &SqlStore<B>,
    actor: &custos_core::authz::Actor,
    incident: custos_core::IncidentId,
    note: custos_core::NoteId,
    approve: bool,
    reason: &str,
    events: Vec<custos_core::notify::Event>,
) -> custos_core::error::StoreResult<custos_core::ticket::Note> {
    let now = custos_core::Timestamp::now();
    let map = crate::error::map("note");
    let mut tx = store.audited().await?;
    let status = if approve { "sent" } else { "rejected" };
    let done = SqlStore::<B>::query(
        "UPDATE incident_notes SET status = $3, decided_by = $4, decided_at = $5, decision_reason = $6, sent_at = $7 \
         WHERE id = $1 AND incident_id = $2 AND status = 'draft'",
    )
    .bind(note.0)
    .bind(incident.0)
    .bind(status)
    .bind(actor.user_id().map(|u| u.0))
    .bind(now.0)
    .bind(reason)
    .bind(approve.then_some(now.0))
    .execute(&mut *tx)
    .await
    .map_err(&map)?;
    let sql = format!(
        "SELECT {} FROM incident_notes WHERE id = $1 AND incident_id = $2",
        crate::incidents::rows::NOTE_COLS
    );
    let row: crate::incidents::rows::NoteRow = SqlStore::<B>::query_as(sqlx::AssertSqlSafe(sql))
        .bind(note.0)
        .bind(incident.0)
        .fetch_one(&mut *tx)
        .await
        .map_err(&map)?;
    if done == 0 {
        return Err(custos_core::StoreError::Conflict {
            constraint: "note_not_draft".into(),
        });
    }
    SqlStore::<B>::write_events(&mut tx, &events, now).await?;
    let action = if approve {
        "incident.communication.approve"
    } else {
        "incident.communication.reject"
    };
    tx.record(
        actor,
        custos_core::audit::AuditRecord::new(
            action,
            "incident",
            incident,
            serde_json::json!({"note": note, "status": status}),
        ),
        now,
    );
    tx.commit().await?;
    row.try_into()
}

pub(crate) async fn notes<B: Backend>(
    store: &SqlStore<B>,
    incident: custos_core::IncidentId,
    public_only: bool,
) -> custos_core::error::StoreResult<Vec<custos_core::ticket::Note>> {
    let sql = format!(
        "SELECT {} FROM incident_notes WHERE incident_id = $1 AND ($2 = FALSE OR kind = 'public_comment') ORDER BY id LIMIT 5000",
        crate::incidents::rows::NOTE_COLS
    );
    let rows: Vec<crate::incidents::rows::NoteRow> =
        SqlStore::<B>::query_as(sqlx::AssertSqlSafe(sql))
            .bind(incident.0)
            .bind(public_only)
            .fetch_all(store)
            .await
            .map_err(crate::error::map("note"))?;
    rows.into_iter().map(TryInto::try_into).collect()
}

#[allow(clippy::too_many_arguments)] // the trait method's arguments, passed on
pub(crate) async fn add_attachment<B: Backend>(
    store: &SqlStore<B>,
    actor: &custos_core::authz::Actor,
    incident: custos_core::IncidentId,
    file_name: &str,
    content_type: &str,
    content: &[u8],
    evidence: bool,
    description: &str,
) -> custos_core::error::StoreResult<custos_core::ticket::Attachment> {
    let now = custos_core::Timestamp::now();
    let map = crate::error::map("attachment");
    let id = custos_core::AttachmentId::new();
    let sha = custos_core::secret::sha256_hex(content);
    let mut tx = store.audited().await?;
    SqlStore::<B>::query(
        "INSERT INTO incident_attachments (id, incident_id, file_name, content_type, size, sha256, evidence, description, content, uploaded_by, uploaded_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(id.0)
    .bind(incident.0)
    .bind(file_name)
    .bind(content_type)
    .bind(content.len() as i64)
    .bind(&sha)
    .bind(evidence)
    .bind(description)
    .bind(content)
    .bind(actor.user_id().map(|u| u.0))
    .bind(now.0)
    .execute(&mut *tx)
    .await
    .map_err(|e| crate::service_levels::rows::missing_ref("incident")(map(e)))?;
    // The hash is chained into the audit log: evidence cannot change unnoticed.
    let action = if evidence {
        "incident.evidence"
    } else {
        "incident.attachment"
    };
    tx.record(
        actor,
        custos_core::audit::AuditRecord::new(
            action,
            "incident",
            incident,
            serde_json::json!({"attachment": id, "sha256": sha, "size": content.len()}),
        ),
        now,
    );
    let sql = format!(
        "SELECT {} FROM incident_attachments WHERE id = $1",
        crate::incidents::rows::ATTACHMENT_COLS
    );
    let row: crate::incidents::rows::AttachmentRow =
        SqlStore::<B>::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id.0)
            .fetch_one(&mut *tx)
            .await
            .map_err(&map)?;
    tx.commit().await?;
    Ok(row.into())
}

pub(crate) async fn attachments<B: Backend>(
    store: &SqlStore<B>,
    incident: custos_core::IncidentId,
) -> custos_core::error::StoreResult<Vec<custos_core::ticket::Attachment>> {
    let sql = format!(
        "SELECT {} FROM incident_attachments WHERE incident_id = $1 ORDER BY id",
        crate::incidents::rows::ATTACHMENT_COLS
    );
    let rows: Vec<crate::incidents::rows::AttachmentRow> =
        SqlStore::<B>::query_as(sqlx::AssertSqlSafe(sql))
            .bind(incident.0)
            .fetch_all(store)
            .await
            .map_err(crate::error::map("attachment"))?;
    Ok(rows.into_iter().map(Into::into).collect())
}

pub(crate) async fn attachment_content<B: Backend>(
    store: &SqlStore<B>,
    incident: custos_core::IncidentId,
    id: custos_core::AttachmentId,
) -> custos_core::error::StoreResult<(custos_core::ticket::Attachment, Vec<u8>)> {
    let map = crate::error::map("attachment");
    let sql = format!(
        "SELECT {} FROM incident_attachments WHERE id = $1 AND incident_id = $2",
        crate::incidents::rows::ATTACHMENT_COLS
    );
    let row: crate::incidents::rows::AttachmentRow =
        SqlStore::<B>::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id.0)
            .bind(incident.0)
            .fetch_one(store)
            .await
            .map_err(&map)?;
    let (content,): (Vec<u8>,) =
        SqlStore::<B>::query_as("SELECT content FROM incident_attachments WHERE id = $1")
            .bind(id.0)
            .fetch_one(store)
            .await
            .map_err(&map)?;
    Ok((row.into(), content))
}

pub(crate) async fn add_action<B: Backend>(
    store: &SqlStore<B>,
    actor: &custos_core::authz::Actor,
    incident: custos_core::IncidentId,
    kind: custos_core::procedure::ActionKind,
    body: &str,
    ci: Option<custos_core::CiId>,
) -> custos_core::error::StoreResult<custos_core::ticket::Action> {
    let now = custos_core::Timestamp::now();
    let map = crate::error::map("action");
    let id = custos_core::ActionId::new();
    let mut tx = store.audited().await?;
    SqlStore::<B>::query("INSERT INTO incident_actions (id, incident_id, kind, body, ci_id, by_id, at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
        .bind(id.0)
        .bind(incident.0)
        .bind(kind.as_str())
        .bind(body)
        .bind(ci.map(|c| c.0))
        .bind(actor.user_id().map(|u| u.0))
        .bind(now.0)
        .execute(&mut *tx)
        .await
        .map_err(|e| crate::service_levels::rows::missing_ref("incident or CI")(map(e)))?;
    tx.record(actor, custos_core::audit::AuditRecord::new(
            "incident.action",
            "incident",
            incident,
            serde_json::json!({"action": id, "kind": kind.as_str(), "ci": ci, "sha256": custos_core::secret::sha256_hex(body.as_bytes())})
        ), now);
    tx.commit().await?;
    Ok(custos_core::ticket::Action {
        id,
        incident,
        kind,
        body: body.to_string(),
        ci,
        by: actor.user_id(),
        at: now,
    })
}

pub(crate) async fn actions<B: Backend>(
    store: &SqlStore<B>,
    incident: custos_core::IncidentId,
) -> custos_core::error::StoreResult<Vec<custos_core::ticket::Action>> {
    let rows: Vec<crate::incidents::rows::ActionRow> = SqlStore::<B>::query_as(
        "SELECT id, incident_id, kind, body, ci_id, by_id, at FROM incident_actions WHERE incident_id = $1 ORDER BY id LIMIT 5000",
    )
    .bind(incident.0)
    .fetch_all(store)
    .await
    .map_err(crate::error::map("action"))?;
    rows.into_iter().map(TryInto::try_into).collect()
}
