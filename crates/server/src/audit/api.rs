//! `/audit`: the tamper-evident log, for auditors and administrators.

use crate::http::api::PageParams;
use crate::http::auth::Need;
use crate::http::auth::perm;
use crate::http::error::ApiError;
use crate::http::error::ApiResult;
use crate::http::error::Problem;
use crate::http::extract::Query;
use crate::http::state::AppState;
use crate::http::util::parse_rfc3339;
use crate::http::util::rfc3339;
use axum::extract::State;
use custos_core::audit::{AuditEntry, ChainBreak, ChainVerifier};
use custos_core::store::{AuditFilter, Store};
use serde::{Deserialize, Serialize};
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

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditParams {
    /// e.g. user, department, api_token, session
    pub entity_type: Option<String>,
    pub entity_id: Option<String>,
    /// The actor's e-mail, `system:<name>` or `anonymous`.
    pub actor: Option<String>,
    /// e.g. user.create, auth.login_failed, token.revoke
    pub action: Option<String>,
    /// RFC 3339, inclusive.
    #[param(value_type = Option<crate::http::doc::Instant>)]
    pub from: Option<String>,
    /// RFC 3339, exclusive.
    #[param(value_type = Option<crate::http::doc::Instant>)]
    pub to: Option<String>,
    pub limit: Option<u32>,
    pub cursor: Option<Uuid>,
}

impl AuditParams {
    pub fn filter(&self) -> Result<AuditFilter, ApiError> {
        let time = |field: &str, v: &Option<String>| -> Result<_, ApiError> {
            v.as_deref()
                .filter(|s| !s.is_empty())
                .map(|s| {
                    parse_rfc3339(s).ok_or_else(|| {
                        ApiError::validation(
                            field,
                            "must be an RFC 3339 time such as 2026-11-01T00:00:00Z",
                        )
                    })
                })
                .transpose()
        };
        let text = |field: &str, v: &Option<String>| -> Result<Option<String>, ApiError> {
            match v.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
                Some(s) if s.len() > 300 || s.chars().any(char::is_control) => Err(
                    ApiError::validation(field, "must be at most 300 printable characters"),
                ),
                other => Ok(other.map(str::to_string)),
            }
        };
        Ok(AuditFilter {
            entity_type: text("entity_type", &self.entity_type)?,
            entity_id: text("entity_id", &self.entity_id)?,
            actor: text("actor", &self.actor)?,
            action: text("action", &self.action)?,
            from: time("from", &self.from)?,
            to: time("to", &self.to)?,
        })
    }

    pub fn page(&self) -> custos_core::page::PageRequest {
        PageParams {
            limit: self.limit,
            cursor: self.cursor,
        }
        .request()
    }
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

/// Walks the whole chain in constant memory. Used by `custos audit verify` and the API.
pub async fn verify_chain(store: &dyn Store) -> Result<(u64, Result<(), ChainBreak>), ApiError> {
    let mut v = ChainVerifier::default();
    let mut after = 0;
    loop {
        let chunk = store.audit_chain(after, 5000).await?;
        let Some(last) = chunk.last() else { break };
        after = last.seq.unwrap_or(after);
        for e in &chunk {
            if let Err(b) = v.push(e) {
                return Ok((v.checked(), Err(b)));
            }
        }
    }
    let head = store.audit_head().await?;
    Ok((v.checked(), v.finish(head)))
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
