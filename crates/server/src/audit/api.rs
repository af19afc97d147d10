//! `/audit`: the tamper-evident log, for auditors and administrators.

use crate::audit::{AuditParams, verify_chain};
use crate::http::auth::Need;
use crate::http::auth::perm;
use crate::http::error::ApiResult;
use crate::http::error::Problem;
use crate::http::extract::Query;
use crate::http::state::AppState;
use crate::http::util::rfc3339;
use axum::extract::State;
use custos_core::audit::AuditEntry;
use serde::Serialize;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_audit))
        .routes(routes!(verify_audit))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AuditOut {
    pub id: Uuid,
    /// Position in the chain; null until sealed (within about a second).
    pub seq: Option<i64>,
    pub at: String,
    pub actor: String,
    pub actor_id: Option<Uuid>,
    pub action: String,
    pub entity_type: String,
    pub entity_id: String,
    /// `{"field": {"before": …, "after": …}}`
    #[schema(value_type = Object)]
    pub changes: serde_json::Value,
    pub prev_hash: Option<String>,
    pub hash: Option<String>,
}

impl From<&AuditEntry> for AuditOut {
    fn from(e: &AuditEntry) -> Self {
        Self {
            id: e.id.0,
            seq: e.seq,
            at: rfc3339(e.at),
            actor: e.actor.clone(),
            actor_id: e.actor_id.map(|u| u.0),
            action: e.action.clone(),
            entity_type: e.entity_type.clone(),
            entity_id: e.entity_id.clone(),
            changes: serde_json::from_str(&e.changes).unwrap_or(serde_json::Value::Null),
            prev_hash: e.prev_hash.clone(),
            hash: e.hash.clone(),
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AuditList {
    pub items: Vec<AuditOut>,
    pub next_cursor: Option<Uuid>,
}

/// Audit entries, newest first, filtered by entity, actor, action and time range.
#[utoipa::path(get, path = "/audit", tag = "audit", params(AuditParams),
    responses((status = 200, description = "OK", body = AuditList), (status = 400, description = "Invalid request; `field` names the offending field", body = Problem, content_type = "application/problem+json"), (status = 401, description = "Missing, invalid or expired token", body = Problem, content_type = "application/problem+json"), (status = 403, description = "The token's roles lack the permission", body = Problem, content_type = "application/problem+json")))]
async fn list_audit(
    State(state): State<AppState>,
    Need { principal, .. }: Need<perm::ReadAudit>,
    Query(q): Query<AuditParams>,
) -> ApiResult<axum::Json<AuditList>> {
    let page = state.store.list_audit(&q.filter()?, q.page()).await?;
    let items = crate::incidents::hide_unseen(state.store.as_ref(), &principal, page.items).await?;
    Ok(axum::Json(AuditList {
        items: items.iter().map(AuditOut::from).collect(),
        next_cursor: page.next_cursor,
    }))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct VerifyOut {
    pub intact: bool,
    /// Sealed entries checked.
    pub checked: u64,
    /// Entries written but not yet chained (normally sealed within a second).
    pub unsealed: i64,
    /// The first broken entry, when not intact.
    pub first_break: Option<String>,
}

/// Verifies the hash chain of the audit log.
#[utoipa::path(get, path = "/audit/verify", tag = "audit",
    responses((status = 200, description = "OK", body = VerifyOut), (status = 401, description = "Missing, invalid or expired token", body = Problem, content_type = "application/problem+json"), (status = 403, description = "The token's roles lack the permission", body = Problem, content_type = "application/problem+json")))]
async fn verify_audit(
    State(state): State<AppState>,
    _: Need<perm::ReadAudit>,
) -> ApiResult<axum::Json<VerifyOut>> {
    let (checked, result) = verify_chain(state.store.as_ref()).await?;
    Ok(axum::Json(VerifyOut {
        intact: result.is_ok(),
        checked,
        unsealed: state.store.unsealed_audit_count().await?,
        first_break: result.err().map(|b| b.to_string()),
    }))
}
