//! Working an incident: the security flag (agents flag; only a security manager unflags,
//! with a reason), the security procedure's phases, major incidents, procedure steps and
//! evidence, the need-to-know access list and links.

use crate::http::auth::Need;
use crate::http::auth::perm;
use crate::http::doc;
use crate::http::error::ApiResult;
use crate::http::error::Problem;
use crate::http::extract::Json;
use crate::http::extract::Query;
use crate::http::state::AppState;
use crate::http::util::parse_id;
use crate::http::util::rfc3339;
use crate::incidents::api::records::IncidentOut;
use crate::incidents::api::records::shown;
use crate::incidents::records::find;
use crate::incidents::viewer;
use crate::incidents::work::{
    AttachmentParams, MAX_ATTACHMENT_BYTES, advance_phase, attach, declare, flag_incident,
    record_action, set_link, unflag_incident,
};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::Response;
use custos_core::procedure::{ActionKind, Phase};
use custos_core::ticket::{Action, Attachment};
use custos_core::{CiId, Timestamp, UserId};
use serde::{Deserialize, Serialize};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(flag))
        .routes(routes!(unflag))
        .routes(routes!(set_phase))
        .routes(routes!(declare_major))
        .routes(routes!(list_actions, add_action))
        .merge(
            OpenApiRouter::new()
                .routes(routes!(list_attachments, add_attachment))
                .layer(axum::extract::DefaultBodyLimit::max(MAX_ATTACHMENT_BYTES)),
        )
        .routes(routes!(download_attachment))
        .routes(routes!(list_access, grant_access))
        .routes(routes!(revoke_access))
        .routes(routes!(link, unlink))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonIn {
    pub reason: String,
}

/// Flags an incident as a security incident by hand (the reason is recorded).
#[utoipa::path(post, path = "/incidents/{id}/flag", tag = "incidents", params(("id" = doc::IncidentKey, Path)), request_body = ReasonIn,
    responses((status = 200, description = "Flagged", body = IncidentOut), (status = 400, description = "Invalid request", body = Problem, content_type = "application/problem+json"), (status = 403, description = "The token's roles lack the permission", body = Problem, content_type = "application/problem+json"), (status = 404, description = "No such incident", body = Problem, content_type = "application/problem+json"), (status = 409, description = "Changed meanwhile", body = Problem, content_type = "application/problem+json")))]
async fn flag(
    State(state): State<AppState>,
    Need {
        principal, actor, ..
    }: Need<perm::ManageIncidents>,
    Path(id): Path<String>,
    Json(body): Json<ReasonIn>,
) -> ApiResult<axum::Json<IncidentOut>> {
    let inc = flag_incident(&state, &principal, actor, &id, &body.reason).await?;
    Ok(axum::Json(shown(&principal, &inc, Timestamp::now())))
}

/// Unflags a security incident (security managers only, with a reason).
#[utoipa::path(post, path = "/incidents/{id}/unflag", tag = "incidents", params(("id" = doc::IncidentKey, Path)), request_body = ReasonIn,
    responses((status = 200, description = "Unflagged", body = IncidentOut), (status = 400, description = "Invalid request", body = Problem, content_type = "application/problem+json"), (status = 403, description = "Security managers only", body = Problem, content_type = "application/problem+json"), (status = 404, description = "No such incident", body = Problem, content_type = "application/problem+json"), (status = 409, description = "Not flagged, or changed meanwhile", body = Problem, content_type = "application/problem+json")))]
async fn unflag(
    State(state): State<AppState>,
    Need {
        principal, actor, ..
    }: Need<perm::HandleSecurityIncidents>,
    Path(id): Path<String>,
    Json(body): Json<ReasonIn>,
) -> ApiResult<axum::Json<IncidentOut>> {
    let inc = unflag_incident(&state, &principal, actor, &id, &body.reason).await?;
    Ok(axum::Json(shown(&principal, &inc, Timestamp::now())))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PhaseIn {
    pub phase: Phase,
}

/// Moves a security incident to the next phase of the procedure, if the current phase is
/// complete (422 lists what is missing).
#[utoipa::path(post, path = "/incidents/{id}/phase", tag = "incidents", params(("id" = doc::IncidentKey, Path)), request_body = PhaseIn,
    responses((status = 200, description = "Moved", body = IncidentOut), (status = 400, description = "Not the next phase, or the current one is incomplete", body = Problem, content_type = "application/problem+json"), (status = 403, description = "The token's roles lack the permission", body = Problem, content_type = "application/problem+json"), (status = 404, description = "No such incident", body = Problem, content_type = "application/problem+json"), (status = 409, description = "Not a security incident, or changed meanwhile", body = Problem, content_type = "application/problem+json")))]
async fn set_phase(
    State(state): State<AppState>,
    Need {
        principal, actor, ..
    }: Need<perm::ManageIncidents>,
    Path(id): Path<String>,
    Json(body): Json<PhaseIn>,
) -> ApiResult<axum::Json<IncidentOut>> {
    let inc = advance_phase(&state, &principal, actor, &id, body.phase).await?;
    Ok(axum::Json(shown(&principal, &inc, Timestamp::now())))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MajorIn {
    /// The incident lead.
    pub lead: Uuid,
    /// Minutes between status updates (15–1440).
    pub cadence_minutes: u32,
}

/// Declares a major incident with its lead and communication cadence.
#[utoipa::path(post, path = "/incidents/{id}/major", tag = "incidents", params(("id" = doc::IncidentKey, Path)), request_body = MajorIn,
    responses((status = 200, description = "Declared", body = IncidentOut), (status = 400, description = "Invalid request", body = Problem, content_type = "application/problem+json"), (status = 403, description = "The token's roles lack the permission", body = Problem, content_type = "application/problem+json"), (status = 404, description = "No such incident or lead", body = Problem, content_type = "application/problem+json"), (status = 409, description = "Already major, or changed meanwhile", body = Problem, content_type = "application/problem+json")))]
async fn declare_major(
    State(state): State<AppState>,
    Need {
        principal, actor, ..
    }: Need<perm::ManageIncidents>,
    Path(id): Path<String>,
    Json(body): Json<MajorIn>,
) -> ApiResult<axum::Json<IncidentOut>> {
    let inc = declare(
        &state,
        &principal,
        actor,
        &id,
        UserId(body.lead),
        body.cadence_minutes,
    )
    .await?;
    Ok(axum::Json(shown(&principal, &inc, Timestamp::now())))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ActionOut {
    pub id: Uuid,
    pub kind: ActionKind,
    pub label: String,
    pub body: String,
    pub ci: Option<Uuid>,
    pub by: Option<Uuid>,
    pub at: String,
}

impl From<&Action> for ActionOut {
    fn from(a: &Action) -> Self {
        Self {
            id: a.id.0,
            kind: a.kind,
            label: a.kind.label().into(),
            body: a.body.clone(),
            ci: a.ci.map(|c| c.0),
            by: a.by.map(|u| u.0),
            at: rfc3339(a.at),
        }
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionIn {
    pub kind: ActionKind,
    pub body: String,
    /// For ci_isolated / ci_recovered: the affected CI.
    #[serde(default)]
    pub ci: Option<Uuid>,
}

/// The procedure steps recorded on an incident.
#[utoipa::path(get, path = "/incidents/{id}/actions", tag = "incidents", params(("id" = doc::IncidentKey, Path)),
    responses((status = 200, description = "OK", body = [ActionOut]), (status = 403, description = "The token's roles lack the permission", body = Problem, content_type = "application/problem+json"), (status = 404, description = "No such incident", body = Problem, content_type = "application/problem+json")))]
async fn list_actions(
    State(state): State<AppState>,
    Need { principal, .. }: Need<perm::ReadIncidents>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Vec<ActionOut>>> {
    let inc = find(&state, &viewer(&principal), &id).await?;
    let actions = state.store.actions(inc.id).await?;
    Ok(axum::Json(actions.iter().map(Into::into).collect()))
}

/// Records a procedure step.
#[utoipa::path(post, path = "/incidents/{id}/actions", tag = "incidents", params(("id" = doc::IncidentKey, Path)), request_body = ActionIn,
    responses((status = 201, description = "Recorded", body = ActionOut), (status = 400, description = "Invalid request", body = Problem, content_type = "application/problem+json"), (status = 403, description = "The token's roles lack the permission", body = Problem, content_type = "application/problem+json"), (status = 404, description = "No such incident", body = Problem, content_type = "application/problem+json"), (status = 409, description = "Not a security or major incident", body = Problem, content_type = "application/problem+json")))]
async fn add_action(
    State(state): State<AppState>,
    Need {
        principal, actor, ..
    }: Need<perm::ManageIncidents>,
    Path(id): Path<String>,
    Json(body): Json<ActionIn>,
) -> ApiResult<(StatusCode, axum::Json<ActionOut>)> {
    let a = record_action(
        &state,
        &principal,
        actor,
        &id,
        body.kind,
        &body.body,
        body.ci.map(CiId),
    )
    .await?;
    Ok((StatusCode::CREATED, axum::Json((&a).into())))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AttachmentOut {
    pub id: Uuid,
    pub file_name: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub evidence: bool,
    pub description: String,
    pub uploaded_by: Option<Uuid>,
    pub uploaded_at: String,
}

impl From<&Attachment> for AttachmentOut {
    fn from(a: &Attachment) -> Self {
        Self {
            id: a.id.0,
            file_name: a.file_name.clone(),
            content_type: a.content_type.clone(),
            size: a.size,
            sha256: a.sha256.clone(),
            evidence: a.evidence,
            description: a.description.clone(),
            uploaded_by: a.uploaded_by.map(|u| u.0),
            uploaded_at: rfc3339(a.uploaded_at),
        }
    }
}

/// Files attached to an incident, evidence included.
#[utoipa::path(get, path = "/incidents/{id}/attachments", tag = "incidents", params(("id" = doc::IncidentKey, Path)),
    responses((status = 200, description = "OK", body = [AttachmentOut]), (status = 403, description = "The token's roles lack the permission", body = Problem, content_type = "application/problem+json"), (status = 404, description = "No such incident", body = Problem, content_type = "application/problem+json")))]
async fn list_attachments(
    State(state): State<AppState>,
    Need { principal, .. }: Need<perm::ReadIncidents>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Vec<AttachmentOut>>> {
    let inc = find(&state, &viewer(&principal), &id).await?;
    let items = state.store.attachments(inc.id).await?;
    Ok(axum::Json(items.iter().map(Into::into).collect()))
}

/// Uploads an attachment or evidence item.
#[utoipa::path(post, path = "/incidents/{id}/attachments", tag = "incidents", params(("id" = doc::IncidentKey, Path), AttachmentParams),
    request_body(content = String, description = "The file", content_type = "application/octet-stream"),
    responses((status = 201, description = "Stored", body = AttachmentOut), (status = 400, description = "Invalid request", body = Problem, content_type = "application/problem+json"), (status = 403, description = "The token's roles lack the permission", body = Problem, content_type = "application/problem+json"), (status = 404, description = "No such incident", body = Problem, content_type = "application/problem+json"), (status = 409, description = "Evidence on a non-security incident", body = Problem, content_type = "application/problem+json"), (status = 413, description = "Larger than 10 MiB", body = Problem, content_type = "application/problem+json")))]
async fn add_attachment(
    State(state): State<AppState>,
    Need {
        principal, actor, ..
    }: Need<perm::ManageIncidents>,
    Path(id): Path<String>,
    Query(q): Query<AttachmentParams>,
    headers: axum::http::HeaderMap,
    crate::http::extract::RawBody(body): crate::http::extract::RawBody,
) -> ApiResult<(StatusCode, axum::Json<AttachmentOut>)> {
    let ct = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/octet-stream");
    let a = attach(&state, &principal, actor, &id, &q, ct, &body).await?;
    Ok((StatusCode::CREATED, axum::Json((&a).into())))
}

/// Downloads an attachment; `x-content-sha256` carries its recorded hash.
#[utoipa::path(get, path = "/incidents/{id}/attachments/{attachment}", tag = "incidents", params(("id" = doc::IncidentKey, Path), ("attachment" = Uuid, Path)),
    responses((status = 200, description = "The file", content_type = "application/octet-stream"), (status = 403, description = "The token's roles lack the permission", body = Problem, content_type = "application/problem+json"), (status = 404, description = "Not found", body = Problem, content_type = "application/problem+json")))]
async fn download_attachment(
    State(state): State<AppState>,
    Need { principal, .. }: Need<perm::ReadIncidents>,
    Path((id, attachment)): Path<(String, String)>,
) -> ApiResult<Response> {
    let inc = find(&state, &viewer(&principal), &id).await?;
    let (meta, content) = state
        .store
        .attachment_content(inc.id, custos_core::AttachmentId(parse_id(&attachment)?))
        .await?;
    Ok(crate::http::util::file_response(
        &meta.file_name,
        &meta.sha256,
        content,
    ))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AccessOut {
    pub user: Uuid,
    /// `added` (by the security team) or `sla` (the SLA's authorised personnel).
    pub source: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccessIn {
    pub user: Uuid,
}

/// Who besides the security team, assignee and reporter may see a security incident.
#[utoipa::path(get, path = "/incidents/{id}/access", tag = "incidents", params(("id" = doc::IncidentKey, Path)),
    responses((status = 200, description = "OK", body = [AccessOut]), (status = 403, description = "The token's roles lack the permission", body = Problem, content_type = "application/problem+json"), (status = 404, description = "No such incident", body = Problem, content_type = "application/problem+json")))]
async fn list_access(
    State(state): State<AppState>,
    Need { principal, .. }: Need<perm::ReadIncidents>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Vec<AccessOut>>> {
    let inc = find(&state, &viewer(&principal), &id).await?;
    let items = state.store.incident_access(inc.id).await?;
    Ok(axum::Json(
        items
            .into_iter()
            .map(|(u, s)| AccessOut {
                user: u.0,
                source: s,
            })
            .collect(),
    ))
}

/// Adds a person to a security incident's need-to-know list (security team only).
#[utoipa::path(post, path = "/incidents/{id}/access", tag = "incidents", params(("id" = doc::IncidentKey, Path)), request_body = AccessIn,
    responses((status = 204, description = "Added"), (status = 403, description = "Security managers only", body = Problem, content_type = "application/problem+json"), (status = 404, description = "No such incident or user", body = Problem, content_type = "application/problem+json"), (status = 409, description = "Already on the list", body = Problem, content_type = "application/problem+json")))]
async fn grant_access(
    State(state): State<AppState>,
    Need {
        principal, actor, ..
    }: Need<perm::HandleSecurityIncidents>,
    Path(id): Path<String>,
    Json(body): Json<AccessIn>,
) -> ApiResult<StatusCode> {
    let inc = find(&state, &viewer(&principal), &id).await?;
    state
        .store
        .grant_incident_access(&actor, inc.id, UserId(body.user))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Removes a person added to the need-to-know list.
#[utoipa::path(delete, path = "/incidents/{id}/access/{user}", tag = "incidents", params(("id" = doc::IncidentKey, Path), ("user" = Uuid, Path)),
    responses((status = 204, description = "Removed"), (status = 403, description = "Security managers only", body = Problem, content_type = "application/problem+json"), (status = 404, description = "Not on the list", body = Problem, content_type = "application/problem+json")))]
async fn revoke_access(
    State(state): State<AppState>,
    Need {
        principal, actor, ..
    }: Need<perm::HandleSecurityIncidents>,
    Path((id, user)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let inc = find(&state, &viewer(&principal), &id).await?;
    state
        .store
        .revoke_incident_access(&actor, inc.id, UserId(parse_id(&user)?))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Links two incidents (both must be visible to the caller).
#[utoipa::path(put, path = "/incidents/{id}/links/{other}", tag = "incidents", params(("id" = doc::IncidentKey, Path), ("other" = doc::IncidentKey, Path)),
    responses((status = 204, description = "Linked"), (status = 403, description = "The token's roles lack the permission", body = Problem, content_type = "application/problem+json"), (status = 404, description = "No such incident", body = Problem, content_type = "application/problem+json"), (status = 409, description = "Already linked", body = Problem, content_type = "application/problem+json")))]
async fn link(
    State(state): State<AppState>,
    Need {
        principal, actor, ..
    }: Need<perm::ManageIncidents>,
    Path((id, other)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    set_link(&state, &principal, actor, &id, &other, true).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Removes a link.
#[utoipa::path(delete, path = "/incidents/{id}/links/{other}", tag = "incidents", params(("id" = doc::IncidentKey, Path), ("other" = doc::IncidentKey, Path)),
    responses((status = 204, description = "Unlinked"), (status = 403, description = "The token's roles lack the permission", body = Problem, content_type = "application/problem+json"), (status = 404, description = "No such incident or link", body = Problem, content_type = "application/problem+json")))]
async fn unlink(
    State(state): State<AppState>,
    Need {
        principal, actor, ..
    }: Need<perm::ManageIncidents>,
    Path((id, other)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    set_link(&state, &principal, actor, &id, &other, false).await?;
    Ok(StatusCode::NO_CONTENT)
}
