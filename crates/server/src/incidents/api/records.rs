//! `/incidents`: report (people and systems), list with filters, full-text search and CSV
//! export, count, read, change. Security incidents are need-to-know: every read passes the
//! caller's [`Viewer`](custos_core::ticket::Viewer), and an incident the caller may not see
//! is "not found" — the same answer as one that does not exist.

use crate::http::auth::Need;
use crate::http::auth::perm;
use crate::http::doc;
use crate::http::error::ApiError;
use crate::http::error::ApiResult;
use crate::http::error::Problem;
use crate::http::extract::Json;
use crate::http::extract::Query;
use crate::http::state::AppState;
use crate::http::util::rfc3339;
use crate::incidents;
use crate::incidents::records::{IncidentQuery, Routing, create, find, incidents_csv, update};
use crate::incidents::viewer;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use custos_core::authz::{Permission, Principal};
use custos_core::incident::{Impact, IncidentFields, Priority, Status, Urgency};
use custos_core::procedure::Phase;
use custos_core::recognition::Reason;
use custos_core::sla_clock::{Clock, ClockState, TargetState};
use custos_core::ticket::{Channel, FlagDecision, Incident, IncidentPatch, Security};
use custos_core::{GroupId, Timestamp, UserId};
use serde::{Deserialize, Serialize};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_incidents, create_incident))
        .routes(routes!(count_incidents))
        .routes(routes!(get_incident, patch_incident))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ClockStateOut {
    pub state: TargetState,
    pub due_at: Option<String>,
    pub warn_at: Option<String>,
    pub elapsed_secs: i64,
    pub target_secs: i64,
    pub percent: u32,
    pub paused: bool,
}

impl From<&ClockState> for ClockStateOut {
    fn from(c: &ClockState) -> Self {
        Self {
            state: c.state,
            due_at: c.due_at.map(rfc3339),
            warn_at: c.warn_at.map(rfc3339),
            elapsed_secs: c.elapsed_secs,
            target_secs: c.target_secs,
            percent: c.percent,
            paused: c.paused,
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ClockOut {
    pub response: ClockStateOut,
    pub resolution: ClockStateOut,
}

impl From<&Clock> for ClockOut {
    fn from(c: &Clock) -> Self {
        Self {
            response: (&c.response).into(),
            resolution: (&c.resolution).into(),
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct DecisionOut {
    pub by: Option<Uuid>,
    pub at: String,
    pub reason: String,
}

impl From<&FlagDecision> for DecisionOut {
    fn from(d: &FlagDecision) -> Self {
        Self {
            by: d.by.map(|u| u.0),
            at: rfc3339(d.at),
            reason: d.reason.clone(),
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SecurityOut {
    pub flagged: bool,
    /// Why the rules recognise it as a security incident (which rule, SLA clause, control).
    pub reasons: Vec<Reason>,
    /// The same reasons, one sentence each.
    pub reasons_text: Vec<String>,
    pub manual_flag: Option<DecisionOut>,
    pub unflagged: Option<DecisionOut>,
    pub phase: Option<Phase>,
}

impl From<&Security> for SecurityOut {
    fn from(s: &Security) -> Self {
        Self {
            flagged: s.flagged,
            reasons: s.reasons.clone(),
            reasons_text: s
                .reasons
                .iter()
                .map(custos_core::recognition::describe)
                .collect(),
            manual_flag: s.manual_flag.as_ref().map(Into::into),
            unflagged: s.unflagged.as_ref().map(Into::into),
            phase: s.phase,
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct MajorOut {
    pub lead: Uuid,
    pub cadence_minutes: u32,
    pub declared_at: String,
    pub next_update_due: String,
    pub update_overdue: bool,
    pub reviewed: bool,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct IncidentOut {
    pub id: Uuid,
    /// `INC-000042`.
    pub reference: String,
    pub title: String,
    pub description: String,
    pub category: String,
    pub impact: Impact,
    pub urgency: Urgency,
    pub priority: Priority,
    pub status: Status,
    pub service: Option<Uuid>,
    pub cis: Vec<Uuid>,
    pub group: Option<Uuid>,
    pub assignee: Option<Uuid>,
    pub reporter: Uuid,
    pub channel: Channel,
    pub security: SecurityOut,
    pub major: Option<MajorOut>,
    /// The SLA whose targets the clocks count.
    pub sla: Option<Uuid>,
    pub clock: Option<ClockOut>,
    pub resolution: String,
    pub responded_at: Option<String>,
    pub resolved_at: Option<String>,
    pub closed_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub links: Vec<Uuid>,
}

impl IncidentOut {
    pub fn new(i: &Incident, now: Timestamp) -> Self {
        Self {
            id: i.id.0,
            reference: i.reference.clone(),
            title: i.title.clone(),
            description: i.description.clone(),
            category: i.category.clone(),
            impact: i.impact,
            urgency: i.urgency,
            priority: i.priority,
            status: i.status,
            service: i.service.map(|c| c.0),
            cis: i.cis.iter().map(|c| c.0).collect(),
            group: i.group.map(|g| g.0),
            assignee: i.assignee.map(|u| u.0),
            reporter: i.reporter.0,
            channel: i.channel,
            security: (&i.security).into(),
            major: i.major.as_ref().map(|m| MajorOut {
                lead: m.lead.0,
                cadence_minutes: m.cadence_minutes,
                declared_at: rfc3339(m.declared_at),
                next_update_due: rfc3339(m.next_update_due),
                update_overdue: i.status.is_open() && m.next_update_due < now,
                reviewed: m.reviewed,
            }),
            sla: i.sla.map(|s| s.0),
            clock: i.clock.as_ref().map(Into::into),
            resolution: i.resolution.clone(),
            responded_at: i.responded_at.map(rfc3339),
            resolved_at: i.resolved_at.map(rfc3339),
            closed_at: i.closed_at.map(rfc3339),
            created_at: rfc3339(i.created_at),
            updated_at: rfc3339(i.updated_at),
            links: i.links.iter().map(|l| l.0).collect(),
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct IncidentList {
    pub items: Vec<IncidentOut>,
    pub next_cursor: Option<Uuid>,
}

/// Lists incidents, newest first (only those the caller may see; requesters see their
/// own). `format=csv` exports the page as CSV.
#[utoipa::path(get, path = "/incidents", tag = "incidents", params(IncidentQuery),
    responses((status = 200, description = "OK", body = IncidentList), (status = 400, description = "Invalid filter", body = Problem, content_type = "application/problem+json"), (status = 401, description = "Missing, invalid or expired token", body = Problem, content_type = "application/problem+json")))]
async fn list_incidents(
    State(state): State<AppState>,
    Need { principal, .. }: Need<perm::ReportIncidents>,
    Query(q): Query<IncidentQuery>,
) -> ApiResult<Response> {
    let v = viewer(&principal);
    let f = q.filter(principal.user_id)?;
    let page = state.store.list_incidents(&v, &f, q.page()).await?;
    match q.format.as_deref() {
        None | Some("json") => {
            let now = Timestamp::now();
            let items = page
                .items
                .iter()
                .map(|i| shown(&principal, i, now))
                .collect();
            Ok(axum::Json(IncidentList {
                items,
                next_cursor: page.next_cursor,
            })
            .into_response())
        }
        Some("csv") => Ok((
            [
                (CONTENT_TYPE, "text/csv; charset=utf-8"),
                (
                    CONTENT_DISPOSITION,
                    "attachment; filename=\"incidents.csv\"",
                ),
            ],
            incidents_csv(&page.items),
        )
            .into_response()),
        Some(_) => Err(ApiError::validation("format", "must be json or csv")),
    }
}

/// What a caller sees of an incident: a requester (portal) sees its own report without the
/// security analysis.
pub fn shown(p: &Principal, i: &Incident, now: Timestamp) -> IncidentOut {
    let mut out = IncidentOut::new(i, now);
    if !p.has(Permission::ReadIncidents) {
        out.security.reasons.clear();
        out.security.reasons_text.clear();
        out.security.manual_flag = None;
        out.security.unflagged = None;
        out.security.phase = None;
    }
    out
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CountOut {
    pub count: i64,
}

/// Counts incidents matching the filters (only those the caller may see).
#[utoipa::path(get, path = "/incidents/count", tag = "incidents", params(IncidentQuery),
    responses((status = 200, description = "OK", body = CountOut), (status = 400, description = "Invalid filter", body = Problem, content_type = "application/problem+json"), (status = 401, description = "Missing, invalid or expired token", body = Problem, content_type = "application/problem+json")))]
async fn count_incidents(
    State(state): State<AppState>,
    Need { principal, .. }: Need<perm::ReportIncidents>,
    Query(q): Query<IncidentQuery>,
) -> ApiResult<axum::Json<CountOut>> {
    let v = viewer(&principal);
    let count = state
        .store
        .count_incidents(&v, &q.filter(principal.user_id)?)
        .await?;
    Ok(axum::Json(CountOut { count }))
}

/// A new incident. Agents may assign it at once; everyone else reports.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IncidentIn {
    #[serde(flatten)]
    pub fields: IncidentFields,
    #[serde(default)]
    pub group: Option<Uuid>,
    #[serde(default)]
    pub assignee: Option<Uuid>,
    /// Agents only: the person the incident is reported for (a call or a visit to the
    /// desk); the caller when absent. The agent is recorded as the one who created it.
    #[serde(default)]
    pub reporter: Option<Uuid>,
}

/// Reports an incident (people through the portal or API, systems with a service
/// account's token).
#[utoipa::path(post, path = "/incidents", tag = "incidents", request_body = IncidentIn,
    responses((status = 201, description = "Created", body = IncidentOut), (status = 400, description = "Invalid request", body = Problem, content_type = "application/problem+json"), (status = 401, description = "Missing, invalid or expired token", body = Problem, content_type = "application/problem+json"), (status = 403, description = "Only agents assign", body = Problem, content_type = "application/problem+json")))]
async fn create_incident(
    State(state): State<AppState>,
    Need {
        principal, actor, ..
    }: Need<perm::ReportIncidents>,
    Json(body): Json<IncidentIn>,
) -> ApiResult<(StatusCode, axum::Json<IncidentOut>)> {
    let inc = create(
        &state,
        &principal,
        actor,
        body.fields,
        Routing {
            group: body.group.map(GroupId),
            assignee: body.assignee.map(UserId),
            reporter: body.reporter.map(UserId),
        },
        Channel::Api,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(shown(&principal, &inc, Timestamp::now())),
    ))
}

/// Reads an incident by id or reference (`INC-000042`).
#[utoipa::path(get, path = "/incidents/{id}", tag = "incidents", params(("id" = doc::IncidentKey, Path)),
    responses((status = 200, description = "OK", body = IncidentOut), (status = 401, description = "Missing, invalid or expired token", body = Problem, content_type = "application/problem+json"), (status = 404, description = "No such incident (or not yours to see)", body = Problem, content_type = "application/problem+json")))]
async fn get_incident(
    State(state): State<AppState>,
    Need { principal, .. }: Need<perm::ReportIncidents>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<IncidentOut>> {
    let inc = find(&state, &viewer(&principal), &id).await?;
    Ok(axum::Json(shown(&principal, &inc, Timestamp::now())))
}

/// Changes an incident (fields, assignment, status with its allowed transitions).
#[utoipa::path(patch, path = "/incidents/{id}", tag = "incidents", params(("id" = doc::IncidentKey, Path)), request_body = IncidentPatch,
    responses((status = 200, description = "OK", body = IncidentOut), (status = 400, description = "Invalid request or transition", body = Problem, content_type = "application/problem+json"), (status = 401, description = "Missing, invalid or expired token", body = Problem, content_type = "application/problem+json"), (status = 403, description = "The token's roles lack the permission", body = Problem, content_type = "application/problem+json"), (status = 404, description = "No such incident", body = Problem, content_type = "application/problem+json"), (status = 409, description = "Changed by someone else meanwhile", body = Problem, content_type = "application/problem+json")))]
async fn patch_incident(
    State(state): State<AppState>,
    Need {
        principal, actor, ..
    }: Need<perm::ManageIncidents>,
    Path(id): Path<String>,
    Json(patch): Json<IncidentPatch>,
) -> ApiResult<axum::Json<IncidentOut>> {
    let inc = update(&state, &principal, actor, &id, patch).await?;
    Ok(axum::Json(shown(&principal, &inc, Timestamp::now())))
}

/// The group-commit writer lives in the state; see [`incidents::writer`].
pub use incidents::writer::Writer;
