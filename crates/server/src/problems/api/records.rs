//! `/problems` (problem records, linked incidents, applying a known error's workaround to
//! an incident) and `/known-errors`. The fixes and their security review are in
//! `problem_fixes.rs`.

use crate::http::auth::Need;
use crate::http::auth::perm;
use crate::http::error::ApiResult;
use crate::http::error::Problem as ProblemJson;
use crate::http::extract::Json;
use crate::http::extract::Query;
use crate::http::state::AppState;
use crate::http::util::parse_id;
use crate::problems as uc;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use custos_core::authz::Principal;
use custos_core::incident::{Priority, Status};
use custos_core::problem::{
    Problem, ProblemFields, ProblemFilter, ProblemPatch, ProblemStatus, Review,
};
use custos_core::store::Store;
use custos_core::ticket::{IncidentFilter, Note};
use custos_core::{CiId, IncidentId, ProblemId, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_problems, create_problem))
        .routes(routes!(get_problem, patch_problem))
        .routes(routes!(link_incident))
        .routes(routes!(unlink_incident))
        .routes(routes!(apply_workaround))
        .routes(routes!(known_errors))
}

/// A linked incident the caller may see.
#[derive(Serialize, utoipa::ToSchema)]
pub struct LinkedIncident {
    pub id: Uuid,
    pub reference: String,
    pub title: String,
    pub status: Status,
    pub priority: Priority,
    /// A security incident (shown only to those with need-to-know).
    pub security: bool,
}

/// A problem with what the caller may see around it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ProblemOut {
    #[serde(flatten)]
    pub problem: Problem,
    /// Whether its fixes need a security manager's approval before they are published
    /// (affected CIs classified moderate or high, or marked as introducing security risk).
    pub security_review_required: bool,
    /// Linked incidents the caller may see; others are left out without a trace.
    pub linked_incidents: Vec<LinkedIncident>,
    /// Every security review of its fixes, oldest first.
    pub reviews: Vec<Review>,
}

/// The full view of a problem for `principal`.
pub async fn problem_out(
    store: &dyn Store,
    principal: &Principal,
    problem: Problem,
) -> ApiResult<ProblemOut> {
    let linked = store
        .linked_incidents(&uc::viewer(principal), problem.id)
        .await?;
    Ok(ProblemOut {
        security_review_required: uc::needs_review(store, &problem).await?,
        reviews: store.problem_reviews(problem.id).await?,
        linked_incidents: linked
            .into_iter()
            .map(|i| LinkedIncident {
                id: i.id.0,
                reference: i.reference,
                title: i.title,
                status: i.status,
                priority: i.priority,
                security: i.security.flagged,
            })
            .collect(),
        problem,
    })
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ProblemList {
    pub items: Vec<Problem>,
    pub next_cursor: Option<Uuid>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ProblemParams {
    /// new, investigating, known_error, resolved or closed.
    #[param(value_type = Option<custos_core::problem::ProblemStatus>)]
    pub status: Option<String>,
    /// true: only problems with a published workaround (known errors).
    pub known_error: Option<bool>,
    /// Only problems of this service.
    pub service: Option<Uuid>,
    /// true: only problems with a workaround or solution waiting for a security review.
    pub awaiting_review: Option<bool>,
    /// Only problems linked to this incident (id or reference; an incident the caller may
    /// not see is not found).
    #[param(value_type = Option<crate::http::doc::IncidentKey>)]
    pub incident: Option<String>,
    /// Full-text search over title, description and workaround (prefix match, all words).
    pub q: Option<String>,
    pub limit: Option<u32>,
    pub cursor: Option<Uuid>,
}

impl ProblemParams {
    pub fn filter(&self) -> ApiResult<ProblemFilter> {
        Ok(ProblemFilter {
            status: self
                .status
                .as_deref()
                .map(ProblemStatus::parse)
                .transpose()?,
            known_error: self.known_error,
            service: self.service.map(CiId),
            awaiting_review: self.awaiting_review.unwrap_or(false),
            incident: None,
            text: IncidentFilter::terms(self.q.as_deref().unwrap_or("")),
        })
    }
}

/// A problem `id` (a UUID).
pub async fn load(store: &dyn Store, id: &str) -> ApiResult<Problem> {
    Ok(store.problem(ProblemId(parse_id(id)?)).await?)
}

/// Lists problems, newest first.
#[utoipa::path(get, path = "/problems", tag = "problems", params(ProblemParams),
    responses((status = 200, description = "OK", body = ProblemList), (status = 400, description = "Invalid request", body = ProblemJson, content_type = "application/problem+json"), (status = 401, description = "Missing, invalid or expired token", body = ProblemJson, content_type = "application/problem+json"), (status = 403, description = "The token's roles lack the permission", body = ProblemJson, content_type = "application/problem+json")))]
async fn list_problems(
    State(state): State<AppState>,
    Need { principal, .. }: Need<perm::ReadProblems>,
    Query(q): Query<ProblemParams>,
) -> ApiResult<axum::Json<ProblemList>> {
    let mut filter = q.filter()?;
    if let Some(i) = q.incident.as_deref().filter(|i| !i.trim().is_empty()) {
        let inc = crate::incidents::records::find(&state, &crate::incidents::viewer(&principal), i)
            .await
            .map_err(|e| match e {
                custos_core::Error::Validation { .. } => custos_core::Error::validation(
                    "incident",
                    "must be an incident id or reference",
                ),
                e => e,
            })?;
        filter.incident = Some(inc.id);
    }
    let page = state
        .store
        .list_problems(
            &filter,
            custos_core::page::PageRequest::new(q.limit, q.cursor),
        )
        .await?;
    Ok(axum::Json(ProblemList {
        items: page.items,
        next_cursor: page.next_cursor,
    }))
}

/// Records a problem. Marking it as introducing security risk notifies the security
/// managers.
#[utoipa::path(post, path = "/problems", tag = "problems", request_body = ProblemFields,
    responses((status = 201, description = "Created", body = ProblemOut), (status = 400, description = "Invalid request (also: a CI, service or assignee that does not exist)", body = ProblemJson, content_type = "application/problem+json"), (status = 401, description = "Missing, invalid or expired token", body = ProblemJson, content_type = "application/problem+json"), (status = 403, description = "The token's roles lack the permission", body = ProblemJson, content_type = "application/problem+json")))]
async fn create_problem(
    State(state): State<AppState>,
    Need {
        principal, actor, ..
    }: Need<perm::ManageProblems>,
    Json(body): Json<ProblemFields>,
) -> ApiResult<(StatusCode, axum::Json<ProblemOut>)> {
    let store = state.store.as_ref();
    let p = uc::create(store, &actor, body, Timestamp::now()).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(problem_out(store, &principal, p).await?),
    ))
}

/// Reads a problem with the linked incidents the caller may see and its review history.
#[utoipa::path(get, path = "/problems/{id}", tag = "problems", params(("id" = Uuid, Path)),
    responses((status = 200, description = "OK", body = ProblemOut), (status = 400, description = "Invalid id", body = ProblemJson, content_type = "application/problem+json"), (status = 401, description = "Missing, invalid or expired token", body = ProblemJson, content_type = "application/problem+json"), (status = 403, description = "The token's roles lack the permission", body = ProblemJson, content_type = "application/problem+json"), (status = 404, description = "No such problem", body = ProblemJson, content_type = "application/problem+json")))]
async fn get_problem(
    State(state): State<AppState>,
    Need { principal, .. }: Need<perm::ReadProblems>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<ProblemOut>> {
    let store = state.store.as_ref();
    let p = load(store, &id).await?;
    Ok(axum::Json(problem_out(store, &principal, p).await?))
}

/// Changes fields and the status. Widening the affected CIs beyond what a review checked,
/// or marking the problem as introducing security risk, voids approvals (a published fix
/// is withdrawn).
#[utoipa::path(patch, path = "/problems/{id}", tag = "problems", params(("id" = Uuid, Path)), request_body = ProblemPatch,
    responses((status = 200, description = "OK", body = ProblemOut), (status = 400, description = "Invalid request, or a status whose condition is not met", body = ProblemJson, content_type = "application/problem+json"), (status = 401, description = "Missing, invalid or expired token", body = ProblemJson, content_type = "application/problem+json"), (status = 403, description = "The token's roles lack the permission", body = ProblemJson, content_type = "application/problem+json"), (status = 404, description = "No such problem", body = ProblemJson, content_type = "application/problem+json"), (status = 409, description = "Not allowed in this status, or changed meanwhile", body = ProblemJson, content_type = "application/problem+json")))]
async fn patch_problem(
    State(state): State<AppState>,
    Need {
        principal, actor, ..
    }: Need<perm::ManageProblems>,
    Path(id): Path<String>,
    Json(body): Json<ProblemPatch>,
) -> ApiResult<axum::Json<ProblemOut>> {
    let store = state.store.as_ref();
    let before = load(store, &id).await?;
    let p = uc::update(store, &actor, &before, body, Timestamp::now()).await?;
    Ok(axum::Json(problem_out(store, &principal, p).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IncidentRef {
    pub incident_id: Uuid,
}

/// Links an incident the caller may see (an incident outside the caller's need-to-know is
/// not found). Linking twice changes nothing.
#[utoipa::path(post, path = "/problems/{id}/incidents", tag = "problems", params(("id" = Uuid, Path)), request_body = IncidentRef,
    responses((status = 204, description = "Linked"), (status = 400, description = "Invalid request", body = ProblemJson, content_type = "application/problem+json"), (status = 401, description = "Missing, invalid or expired token", body = ProblemJson, content_type = "application/problem+json"), (status = 403, description = "The token's roles lack the permission", body = ProblemJson, content_type = "application/problem+json"), (status = 404, description = "No such problem or incident", body = ProblemJson, content_type = "application/problem+json")))]
async fn link_incident(
    State(state): State<AppState>,
    Need {
        principal, actor, ..
    }: Need<perm::ManageProblems>,
    Path(id): Path<String>,
    Json(body): Json<IncidentRef>,
) -> ApiResult<StatusCode> {
    let store = state.store.as_ref();
    let p = load(store, &id).await?;
    uc::link(
        store,
        &principal,
        &actor,
        &p,
        IncidentId(body.incident_id),
        true,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Unlinks an incident the caller may see.
#[utoipa::path(delete, path = "/problems/{id}/incidents/{incident_id}", tag = "problems", params(("id" = Uuid, Path), ("incident_id" = Uuid, Path)),
    responses((status = 204, description = "Unlinked"), (status = 400, description = "Invalid id", body = ProblemJson, content_type = "application/problem+json"), (status = 401, description = "Missing, invalid or expired token", body = ProblemJson, content_type = "application/problem+json"), (status = 403, description = "The token's roles lack the permission", body = ProblemJson, content_type = "application/problem+json"), (status = 404, description = "No such problem, incident or link", body = ProblemJson, content_type = "application/problem+json")))]
async fn unlink_incident(
    State(state): State<AppState>,
    Need {
        principal, actor, ..
    }: Need<perm::ManageProblems>,
    Path((id, incident)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let store = state.store.as_ref();
    let p = load(store, &id).await?;
    let incident = IncidentId(parse_id(&incident)?);
    uc::link(store, &principal, &actor, &p, incident, false).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Applies the published workaround to an incident the caller may see: a work note on the
/// incident naming the known error. Refused unless the workaround is published.
#[utoipa::path(post, path = "/problems/{id}/apply", tag = "problems", params(("id" = Uuid, Path)), request_body = IncidentRef,
    responses((status = 201, description = "The work note added", body = Note), (status = 400, description = "Invalid request", body = ProblemJson, content_type = "application/problem+json"), (status = 401, description = "Missing, invalid or expired token", body = ProblemJson, content_type = "application/problem+json"), (status = 403, description = "The token's roles lack the permission", body = ProblemJson, content_type = "application/problem+json"), (status = 404, description = "No such problem or incident", body = ProblemJson, content_type = "application/problem+json"), (status = 409, description = "The workaround is not published", body = ProblemJson, content_type = "application/problem+json")))]
async fn apply_workaround(
    State(state): State<AppState>,
    Need {
        principal, actor, ..
    }: Need<perm::ManageProblems>,
    Path(id): Path<String>,
    Json(body): Json<IncidentRef>,
) -> ApiResult<(StatusCode, axum::Json<Note>)> {
    let store = state.store.as_ref();
    let p = load(store, &id).await?;
    let note = uc::apply(store, &principal, &actor, &p, IncidentId(body.incident_id)).await?;
    Ok((StatusCode::CREATED, axum::Json(note)))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct KnownErrorParams {
    /// Only known errors of this service.
    pub service: Option<Uuid>,
    /// Full-text search over title, description and workaround (prefix match, all words).
    pub q: Option<String>,
    pub limit: Option<u32>,
    pub cursor: Option<Uuid>,
}

/// Known errors: problems whose workaround is published (approved by a security manager
/// where the gate requires it), newest first.
#[utoipa::path(get, path = "/known-errors", tag = "problems", params(KnownErrorParams),
    responses((status = 200, description = "OK", body = ProblemList), (status = 400, description = "Invalid request", body = ProblemJson, content_type = "application/problem+json"), (status = 401, description = "Missing, invalid or expired token", body = ProblemJson, content_type = "application/problem+json"), (status = 403, description = "The token's roles lack the permission", body = ProblemJson, content_type = "application/problem+json")))]
async fn known_errors(
    State(state): State<AppState>,
    _: Need<perm::ReadProblems>,
    Query(q): Query<KnownErrorParams>,
) -> ApiResult<axum::Json<ProblemList>> {
    let f = ProblemFilter {
        known_error: Some(true),
        service: q.service.map(CiId),
        text: IncidentFilter::terms(q.q.as_deref().unwrap_or("")),
        ..Default::default()
    };
    let page = state
        .store
        .list_problems(&f, custos_core::page::PageRequest::new(q.limit, q.cursor))
        .await?;
    Ok(axum::Json(ProblemList {
        items: page.items,
        next_cursor: page.next_cursor,
    }))
}
