//! The communications log of an incident (work notes, public comments, external
//! communications — which on a security incident wait for a security manager's approval),
//! the timeline, support groups and saved filters.

use crate::http::auth::Need;
use crate::http::auth::perm;
use crate::http::doc;
use crate::http::error::ApiResult;
use crate::http::error::Problem;
use crate::http::extract::Json;
use crate::http::state::AppState;
use crate::http::util::parse_id;
use crate::http::util::rfc3339;
use crate::incidents::comms::{check_filter, decide, note, timeline_of};
use crate::incidents::records::find;
use crate::incidents::viewer;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use custos_core::authz::Permission;
use custos_core::incident::NoteKind;
use custos_core::ticket::{Audience, CommStatus, Group, GroupInput, Note, NoteInput, SavedFilter};
use custos_core::{FilterId, GroupId};
use serde::{Deserialize, Serialize};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_notes, add_note))
        .routes(routes!(approve_note))
        .routes(routes!(reject_note))
        .routes(routes!(timeline))
        .routes(routes!(list_groups, create_group))
        .routes(routes!(get_group, put_group, delete_group))
        .routes(routes!(list_filters, save_filter))
        .routes(routes!(delete_filter))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct NoteOut {
    pub id: Uuid,
    pub kind: NoteKind,
    pub body: String,
    pub audience: Option<Audience>,
    pub recipient: String,
    /// recorded, draft (awaiting a security manager), sent or rejected.
    pub status: CommStatus,
    pub author: Option<Uuid>,
    pub created_at: String,
    pub decided_by: Option<Uuid>,
    pub decided_at: Option<String>,
    pub decision_reason: String,
    pub sent_at: Option<String>,
}

impl From<&Note> for NoteOut {
    fn from(n: &Note) -> Self {
        Self {
            id: n.id.0,
            kind: n.kind,
            body: n.body.clone(),
            audience: n.audience,
            recipient: n.recipient.clone(),
            status: n.status,
            author: n.author.map(|u| u.0),
            created_at: rfc3339(n.created_at),
            decided_by: n.decided_by.map(|u| u.0),
            decided_at: n.decided_at.map(rfc3339),
            decision_reason: n.decision_reason.clone(),
            sent_at: n.sent_at.map(rfc3339),
        }
    }
}

/// The communications log (a requester sees the public comments of its own report).
#[utoipa::path(get, path = "/incidents/{id}/notes", tag = "incidents", params(("id" = doc::IncidentKey, Path)),
    responses((status = 200, description = "OK", body = [NoteOut]), (status = 404, description = "No such incident", body = Problem, content_type = "application/problem+json")))]
async fn list_notes(
    State(state): State<AppState>,
    Need { principal, .. }: Need<perm::ReportIncidents>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Vec<NoteOut>>> {
    let inc = find(&state, &viewer(&principal), &id).await?;
    let notes = state
        .store
        .notes(inc.id, !principal.has(Permission::ReadIncidents))
        .await?;
    Ok(axum::Json(notes.iter().map(Into::into).collect()))
}

/// Adds a work note, public comment or external communication.
#[utoipa::path(post, path = "/incidents/{id}/notes", tag = "incidents", params(("id" = doc::IncidentKey, Path)), request_body = NoteInput,
    responses((status = 201, description = "Recorded (or drafted for approval)", body = NoteOut), (status = 400, description = "Invalid request", body = Problem, content_type = "application/problem+json"), (status = 403, description = "Only agents write notes and external communications", body = Problem, content_type = "application/problem+json"), (status = 404, description = "No such incident", body = Problem, content_type = "application/problem+json")))]
async fn add_note(
    State(state): State<AppState>,
    Need {
        principal, actor, ..
    }: Need<perm::ReportIncidents>,
    Path(id): Path<String>,
    Json(body): Json<NoteInput>,
) -> ApiResult<(StatusCode, axum::Json<NoteOut>)> {
    let n = note(&state, &principal, actor, &id, body).await?;
    Ok((StatusCode::CREATED, axum::Json((&n).into())))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionIn {
    #[serde(default)]
    pub reason: String,
}

/// Approves a draft external communication: it is sent (recorded as sent) and audited.
#[utoipa::path(post, path = "/incidents/{id}/notes/{note}/approve", tag = "incidents", params(("id" = doc::IncidentKey, Path), ("note" = Uuid, Path)), request_body = DecisionIn,
    responses((status = 200, description = "Approved and sent", body = NoteOut), (status = 403, description = "Security managers only", body = Problem, content_type = "application/problem+json"), (status = 404, description = "No such incident or note", body = Problem, content_type = "application/problem+json"), (status = 409, description = "Not a draft", body = Problem, content_type = "application/problem+json")))]
async fn approve_note(
    State(state): State<AppState>,
    Need {
        principal, actor, ..
    }: Need<perm::ApproveSecurity>,
    Path((id, note)): Path<(String, String)>,
    Json(body): Json<DecisionIn>,
) -> ApiResult<axum::Json<NoteOut>> {
    let n = decide(&state, &principal, actor, &id, &note, true, &body.reason).await?;
    Ok(axum::Json((&n).into()))
}

/// Rejects a draft external communication, with reasons.
#[utoipa::path(post, path = "/incidents/{id}/notes/{note}/reject", tag = "incidents", params(("id" = doc::IncidentKey, Path), ("note" = Uuid, Path)), request_body = DecisionIn,
    responses((status = 200, description = "Rejected", body = NoteOut), (status = 400, description = "No reason given", body = Problem, content_type = "application/problem+json"), (status = 403, description = "Security managers only", body = Problem, content_type = "application/problem+json"), (status = 404, description = "No such incident or note", body = Problem, content_type = "application/problem+json"), (status = 409, description = "Not a draft", body = Problem, content_type = "application/problem+json")))]
async fn reject_note(
    State(state): State<AppState>,
    Need {
        principal, actor, ..
    }: Need<perm::ApproveSecurity>,
    Path((id, note)): Path<(String, String)>,
    Json(body): Json<DecisionIn>,
) -> ApiResult<axum::Json<NoteOut>> {
    let n = decide(&state, &principal, actor, &id, &note, false, &body.reason).await?;
    Ok(axum::Json((&n).into()))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TimelineOut {
    pub at: String,
    pub source: String,
    pub actor: String,
    pub what: String,
    pub detail: String,
}

/// The incident's timeline: every action, oldest first.
#[utoipa::path(get, path = "/incidents/{id}/timeline", tag = "incidents", params(("id" = doc::IncidentKey, Path)),
    responses((status = 200, description = "OK", body = [TimelineOut]), (status = 403, description = "The token's roles lack the permission", body = Problem, content_type = "application/problem+json"), (status = 404, description = "No such incident", body = Problem, content_type = "application/problem+json")))]
async fn timeline(
    State(state): State<AppState>,
    Need { principal, .. }: Need<perm::ReadIncidents>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Vec<TimelineOut>>> {
    let t = timeline_of(&state, &principal, &id).await?;
    Ok(axum::Json(
        t.into_iter()
            .map(|e| TimelineOut {
                at: rfc3339(e.at),
                source: e.source,
                actor: e.actor,
                what: e.what,
                detail: e.detail,
            })
            .collect(),
    ))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct GroupOut {
    pub id: Uuid,
    pub name: String,
    pub description: String,
    pub lead: Option<Uuid>,
    pub members: Vec<Uuid>,
}

impl From<&Group> for GroupOut {
    fn from(g: &Group) -> Self {
        Self {
            id: g.id.0,
            name: g.name.clone(),
            description: g.description.clone(),
            lead: g.lead.map(|u| u.0),
            members: g.members.iter().map(|u| u.0).collect(),
        }
    }
}

/// Support (assignment) groups.
#[utoipa::path(get, path = "/groups", tag = "incidents",
    responses((status = 200, description = "OK", body = [GroupOut]), (status = 401, description = "Missing, invalid or expired token", body = Problem, content_type = "application/problem+json"), (status = 403, description = "The token's roles lack the permission", body = Problem, content_type = "application/problem+json")))]
async fn list_groups(
    State(state): State<AppState>,
    _: Need<perm::ReadIncidents>,
) -> ApiResult<axum::Json<Vec<GroupOut>>> {
    let groups = state.store.list_groups().await?;
    Ok(axum::Json(groups.iter().map(Into::into).collect()))
}

/// Creates a support group.
#[utoipa::path(post, path = "/groups", tag = "incidents", request_body = GroupInput,
    responses((status = 201, description = "Created", body = GroupOut), (status = 400, description = "Invalid request", body = Problem, content_type = "application/problem+json"), (status = 403, description = "Admins only", body = Problem, content_type = "application/problem+json"), (status = 404, description = "A member does not exist", body = Problem, content_type = "application/problem+json"), (status = 409, description = "The name is taken", body = Problem, content_type = "application/problem+json")))]
async fn create_group(
    State(state): State<AppState>,
    Need { actor, .. }: Need<perm::ManageGroups>,
    Json(body): Json<GroupInput>,
) -> ApiResult<(StatusCode, axum::Json<GroupOut>)> {
    let g = state.store.create_group(&actor, body.validate()?).await?;
    Ok((StatusCode::CREATED, axum::Json((&g).into())))
}

/// Reads a support group.
#[utoipa::path(get, path = "/groups/{id}", tag = "incidents", params(("id" = Uuid, Path)),
    responses((status = 200, description = "OK", body = GroupOut), (status = 403, description = "The token's roles lack the permission", body = Problem, content_type = "application/problem+json"), (status = 404, description = "No such group", body = Problem, content_type = "application/problem+json")))]
async fn get_group(
    State(state): State<AppState>,
    _: Need<perm::ReadIncidents>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<GroupOut>> {
    let g = state.store.group(GroupId(parse_id(&id)?)).await?;
    Ok(axum::Json((&g).into()))
}

/// Replaces a support group.
#[utoipa::path(put, path = "/groups/{id}", tag = "incidents", params(("id" = Uuid, Path)), request_body = GroupInput,
    responses((status = 200, description = "OK", body = GroupOut), (status = 400, description = "Invalid request", body = Problem, content_type = "application/problem+json"), (status = 403, description = "Admins only", body = Problem, content_type = "application/problem+json"), (status = 404, description = "No such group or member", body = Problem, content_type = "application/problem+json"), (status = 409, description = "The name is taken", body = Problem, content_type = "application/problem+json")))]
async fn put_group(
    State(state): State<AppState>,
    Need { actor, .. }: Need<perm::ManageGroups>,
    Path(id): Path<String>,
    Json(body): Json<GroupInput>,
) -> ApiResult<axum::Json<GroupOut>> {
    let g = state
        .store
        .update_group(&actor, GroupId(parse_id(&id)?), body.validate()?)
        .await?;
    Ok(axum::Json((&g).into()))
}

/// Deletes a support group (its incidents keep their history, unassigned from it).
#[utoipa::path(delete, path = "/groups/{id}", tag = "incidents", params(("id" = Uuid, Path)),
    responses((status = 204, description = "Deleted"), (status = 403, description = "Admins only", body = Problem, content_type = "application/problem+json"), (status = 404, description = "No such group", body = Problem, content_type = "application/problem+json")))]
async fn delete_group(
    State(state): State<AppState>,
    Need { actor, .. }: Need<perm::ManageGroups>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state
        .store
        .delete_group(&actor, GroupId(parse_id(&id)?))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct FilterOut {
    pub id: Uuid,
    pub name: String,
    /// The incident list's query string.
    pub query: String,
}

impl From<&SavedFilter> for FilterOut {
    fn from(f: &SavedFilter) -> Self {
        Self {
            id: f.id.0,
            name: f.name.clone(),
            query: f.query.clone(),
        }
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FilterIn {
    pub name: String,
    /// The incident list's query string, e.g. `open=true&group=…&q=vpn`.
    pub query: String,
}

/// The caller's saved incident filters.
#[utoipa::path(get, path = "/incident-filters", tag = "incidents",
    responses((status = 200, description = "OK", body = [FilterOut]), (status = 401, description = "Missing, invalid or expired token", body = Problem, content_type = "application/problem+json")))]
async fn list_filters(
    State(state): State<AppState>,
    Need { principal, .. }: Need<perm::ReportIncidents>,
) -> ApiResult<axum::Json<Vec<FilterOut>>> {
    let f = state.store.filters(principal.user_id).await?;
    Ok(axum::Json(f.iter().map(Into::into).collect()))
}

/// Saves a named incident filter for the caller.
#[utoipa::path(post, path = "/incident-filters", tag = "incidents", request_body = FilterIn,
    responses((status = 201, description = "Saved", body = FilterOut), (status = 400, description = "Invalid request", body = Problem, content_type = "application/problem+json"), (status = 409, description = "The name is taken", body = Problem, content_type = "application/problem+json")))]
async fn save_filter(
    State(state): State<AppState>,
    Need { principal, .. }: Need<perm::ReportIncidents>,
    Json(body): Json<FilterIn>,
) -> ApiResult<(StatusCode, axum::Json<FilterOut>)> {
    let (name, query) = check_filter(&body.name, &body.query)?;
    let f = state
        .store
        .save_filter(principal.user_id, &name, &query)
        .await?;
    Ok((StatusCode::CREATED, axum::Json((&f).into())))
}

/// Deletes one of the caller's saved filters.
#[utoipa::path(delete, path = "/incident-filters/{id}", tag = "incidents", params(("id" = Uuid, Path)),
    responses((status = 204, description = "Deleted"), (status = 404, description = "No such filter of yours", body = Problem, content_type = "application/problem+json")))]
async fn delete_filter(
    State(state): State<AppState>,
    Need { principal, .. }: Need<perm::ReportIncidents>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state
        .store
        .delete_filter(principal.user_id, FilterId(parse_id(&id)?))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
