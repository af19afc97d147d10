//! `/incidents`: report (people and systems), list with filters, full-text search and CSV
//! export, count, read, change. Security incidents are need-to-know: every read passes the
//! caller's [`Viewer`](custos_core::ticket::Viewer), and an incident the caller may not see
//! is "not found" — the same answer as one that does not exist.

use crate::http::api::PageParams;

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
use crate::incidents::assignment_event;
use crate::incidents::change_status;
use crate::incidents::evaluate;
use crate::incidents::viewer;
use crate::incidents::write;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use custos_core::authz::{Permission, Principal};
use custos_core::incident::{Impact, IncidentFields, IncidentInput, Priority, Status, Urgency};
use custos_core::procedure::Phase;
use custos_core::recognition::Reason;
use custos_core::sla_clock::{Clock, ClockState, TargetState};
use custos_core::ticket::{
    Channel, FlagDecision, Incident, IncidentFilter, IncidentPatch, Security, Viewer,
};
use custos_core::time::Date;
use custos_core::{GroupId, IncidentId, Timestamp, UserId};
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

/// List filters (all optional, combined with AND).
#[derive(Debug, Default, Deserialize, Serialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct IncidentQuery {
    /// Only open incidents (new, in progress, on hold).
    pub open: Option<bool>,
    #[param(value_type = Option<Status>)]
    pub status: Option<String>,
    pub group: Option<Uuid>,
    /// A user id, or `me`.
    #[param(value_type = Option<doc::UserKey>)]
    pub assignee: Option<String>,
    /// A user id, or `me`.
    #[param(value_type = Option<doc::UserKey>)]
    pub reporter: Option<String>,
    #[param(value_type = Option<Priority>)]
    pub priority: Option<String>,
    pub service: Option<Uuid>,
    pub security: Option<bool>,
    pub major: Option<bool>,
    /// Full-text search over title and description.
    pub q: Option<String>,
    /// `json` (default) or `csv` (export of the page).
    #[param(value_type = Option<doc::TableFormat>)]
    pub format: Option<String>,
    pub limit: Option<u32>,
    pub cursor: Option<Uuid>,
}

impl IncidentQuery {
    pub fn filter(&self, me: UserId) -> Result<IncidentFilter, ApiError> {
        let user = |field: &str, v: &Option<String>| -> Result<Option<UserId>, ApiError> {
            match v.as_deref().map(str::trim) {
                None | Some("") => Ok(None),
                Some("me") => Ok(Some(me)),
                Some(s) => Uuid::parse_str(s)
                    .map(|u| Some(UserId(u)))
                    .map_err(|_| ApiError::validation(field, "must be a user id or me")),
            }
        };
        Ok(IncidentFilter {
            open: self.open.unwrap_or(false),
            status: match self.status.as_deref().filter(|s| !s.is_empty()) {
                Some(s) => Some(Status::parse(s)?),
                None => None,
            },
            group: self.group.map(GroupId),
            assignee: user("assignee", &self.assignee)?,
            reporter: user("reporter", &self.reporter)?,
            authorised: None,
            priority: match self.priority.as_deref().filter(|s| !s.is_empty()) {
                Some(s) => Some(Priority::parse(s)?),
                None => None,
            },
            service: self.service.map(custos_core::CiId),
            security: self.security,
            major: self.major,
            text: self
                .q
                .as_deref()
                .map(IncidentFilter::terms)
                .unwrap_or_default(),
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

/// Finds an incident by id or reference (`INC-000042`) under need-to-know.
pub async fn find(state: &AppState, v: &Viewer, id: &str) -> Result<Incident, ApiError> {
    if let Ok(u) = Uuid::parse_str(id) {
        return Ok(state.store.incident(v, IncidentId(u)).await?);
    }
    match custos_core::ticket::parse_reference(id) {
        Some(n) => Ok(state.store.incident_by_number(v, n).await?),
        None => Err(ApiError::validation(
            "id",
            "must be an incident id or reference",
        )),
    }
}

const CSV_HEADER: &str = "reference,status,priority,category,title,service,group,assignee,security,major,created_at,resolved_at\n";

/// CSV of incidents; cells that would start a spreadsheet formula are neutralised.
pub fn incidents_csv(items: &[Incident]) -> String {
    let cell = crate::http::util::csv_field;
    let mut out = String::from(CSV_HEADER);
    for i in items {
        let row = [
            i.reference.clone(),
            i.status.as_str().into(),
            i.priority.as_str().into(),
            i.category.clone(),
            i.title.clone(),
            i.service.map(|s| s.to_string()).unwrap_or_default(),
            i.group.map(|s| s.to_string()).unwrap_or_default(),
            i.assignee.map(|s| s.to_string()).unwrap_or_default(),
            i.security.flagged.to_string(),
            i.major.is_some().to_string(),
            rfc3339(i.created_at),
            i.resolved_at.map(rfc3339).unwrap_or_default(),
        ];
        out.push_str(&row.iter().map(|c| cell(c)).collect::<Vec<_>>().join(","));
        out.push('\n');
    }
    out
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

/// Who handles a new incident, and whom it is reported for (agents only).
#[derive(Debug, Default, Clone, Copy)]
pub struct Routing {
    pub group: Option<GroupId>,
    pub assignee: Option<UserId>,
    /// Reported on behalf of this user (the caller when `None`).
    pub reporter: Option<UserId>,
}

/// Creates an incident: priority from the matrix, security recognition, SLA clocks,
/// audit, search index and notifications — committed before the answer.
pub async fn create(
    state: &AppState,
    principal: &Principal,
    actor: custos_core::authz::Actor,
    fields: IncidentFields,
    routing: Routing,
    channel: Channel,
) -> Result<Incident, ApiError> {
    let Routing {
        group,
        assignee,
        reporter,
    } = routing;
    let reporter = reporter.filter(|r| *r != principal.user_id);
    if (group.is_some() || assignee.is_some() || reporter.is_some())
        && !principal.has(Permission::ManageIncidents)
    {
        return Err(ApiError::Forbidden(custos_core::authz::Forbidden(
            Permission::ManageIncidents,
        )));
    }
    check_assignee(state, assignee).await?;
    if let Some(r) = reporter {
        match state.store.user(r).await {
            Ok(u) if !u.disabled => {}
            Ok(_) => return Err(ApiError::validation("reporter", "is disabled")),
            Err(custos_core::StoreError::NotFound { .. }) => {
                return Err(ApiError::validation("reporter", "no such user"));
            }
            Err(e) => return Err(e.into()),
        }
    }
    let arriving = state.incident_writer.arriving();
    let input = IncidentInput::new(fields, reporter.unwrap_or(principal.user_id))?;
    let now = Timestamp::now();
    let ctx = state
        .incident_context(input.service, &input.cis, &Date::of(now))
        .await?;
    let lead = match group {
        Some(g) => match state.store.group(g).await {
            Ok(g) => g.lead,
            Err(custos_core::StoreError::NotFound { .. }) => {
                return Err(ApiError::validation("group", "no such group"));
            }
            Err(e) => return Err(e.into()),
        },
        None => None,
    };
    let mut inc = new_incident(input, channel, group, assignee, now);
    let mut ev = evaluate(&mut inc, &ctx, &[], &state.settings.priority_matrix, now);
    if group.is_some() || assignee.is_some() {
        ev.events.push(assignment_event(&inc, lead));
    }
    let w = write(inc, None, Vec::new(), &ctx, ev, actor, "incident.create");
    Ok(state
        .incident_writer
        .create(&state.store, w, arriving)
        .await?)
}

/// An assignee must be an active user who works on incidents: being assigned gives sight
/// of a security incident, so it cannot be handed to a requester, an auditor or an admin.
async fn check_assignee(state: &AppState, assignee: Option<UserId>) -> Result<(), ApiError> {
    match assignee {
        Some(u) => works_on_incidents(state, u, "assignee").await,
        None => Ok(()),
    }
}

/// Handing a security incident to someone is handing them its content: outside the
/// security team it may only go to a person who already has need-to-know (a member of the
/// security team, someone it added, the SLA's authorised personnel). Anyone else must be
/// added by the security team first, so an assignee cannot widen the circle alone.
async fn check_hand_off(
    state: &AppState,
    principal: &Principal,
    inc: &Incident,
    to: UserId,
) -> Result<(), ApiError> {
    if !inc.security.flagged || principal.has(Permission::HandleSecurityIncidents) {
        return Ok(());
    }
    let user = state.store.user(to).await?;
    if crate::incidents::user_sees(state.store.as_ref(), &user, inc.id).await? {
        return Ok(());
    }
    Err(ApiError::validation(
        "assignee",
        "a security incident can only be handed to someone with need-to-know; ask the security team to add them first",
    ))
}

/// Checks that `u` is an active user who works on incidents (an agent or a security
/// manager); a validation error on `field` otherwise.
pub async fn works_on_incidents(state: &AppState, u: UserId, field: &str) -> Result<(), ApiError> {
    match state.store.user(u).await {
        Ok(user)
            if !user.disabled
                && user
                    .roles
                    .iter()
                    .any(|r| custos_core::authz::role_grants(r, Permission::ManageIncidents)) =>
        {
            Ok(())
        }
        Ok(_) => Err(ApiError::validation(
            field,
            "must be an active user who works on incidents (an agent or a security manager)",
        )),
        Err(custos_core::StoreError::NotFound { .. }) => {
            Err(ApiError::validation(field, "no such user"))
        }
        Err(e) => Err(e.into()),
    }
}

/// A new, not yet evaluated incident (status new, opened `now`).
pub fn new_incident(
    input: IncidentInput,
    channel: Channel,
    group: Option<GroupId>,
    assignee: Option<UserId>,
    now: Timestamp,
) -> Incident {
    Incident {
        id: IncidentId::new(),
        number: 0,
        reference: custos_core::ticket::PENDING_REFERENCE.to_string(),
        title: input.title,
        description: input.description,
        category: input.category.as_str().to_string(),
        impact: input.impact,
        urgency: input.urgency,
        priority: Priority::P4,
        status: Status::New,
        service: input.service,
        cis: input.cis,
        group,
        assignee,
        reporter: input.reporter,
        channel,
        security: Security {
            flagged: false,
            reasons: Vec::new(),
            manual_flag: None,
            unflagged: None,
            phase: None,
        },
        major: None,
        sla: None,
        clock: None,
        resolution: String::new(),
        responded_at: None,
        resolved_at: None,
        closed_at: None,
        created_at: now,
        updated_at: now,
        links: Vec::new(),
    }
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

/// Applies a change to a visible incident: re-evaluated, saved if nobody changed it
/// meanwhile (409 otherwise).
pub async fn update(
    state: &AppState,
    principal: &Principal,
    actor: custos_core::authz::Actor,
    id: &str,
    patch: IncidentPatch,
) -> Result<Incident, ApiError> {
    let patch = patch.validate()?;
    let v = viewer(principal);
    let before = find(state, &v, id).await?;
    if let Some(a) = patch.assignee
        && a != before.assignee
    {
        check_assignee(state, a).await?;
        if let Some(u) = a {
            check_hand_off(state, principal, &before, u).await?;
        }
    }
    let mut holds = state.store.incident_holds(before.id).await?;
    let mut inc = before.clone();
    let now = Timestamp::now();
    if let Some(t) = patch.title {
        inc.title = t;
    }
    if let Some(d) = patch.description {
        inc.description = d;
    }
    if let Some(c) = patch.category {
        inc.category = c;
    }
    if let Some(x) = patch.impact {
        inc.impact = x;
    }
    if let Some(x) = patch.urgency {
        inc.urgency = x;
    }
    if let Some(s) = patch.service {
        inc.service = s;
    }
    if let Some(c) = patch.cis {
        inc.cis = c;
    }
    if let Some(g) = patch.group {
        inc.group = g;
    }
    if let Some(a) = patch.assignee {
        inc.assignee = a;
    }
    if let Some(r) = patch.resolution {
        inc.resolution = r;
    }
    if let Some(s) = patch.status {
        change_status(&mut inc, &mut holds, s, now)?;
    }
    inc.updated_at = now;
    let ctx = state
        .incident_context(inc.service, &inc.cis, &Date::of(now))
        .await?;
    let mut ev = evaluate(&mut inc, &ctx, &holds, &state.settings.priority_matrix, now);
    if inc.group != before.group || inc.assignee != before.assignee {
        let lead = match inc.group {
            Some(g) if inc.group != before.group => match state.store.group(g).await {
                Ok(g) => g.lead,
                Err(custos_core::StoreError::NotFound { .. }) => {
                    return Err(ApiError::validation("group", "no such group"));
                }
                Err(e) => return Err(e.into()),
            },
            _ => None,
        };
        ev.events.push(assignment_event(&inc, lead));
    }
    let w = write(
        inc,
        Some(&before),
        holds,
        &ctx,
        ev,
        actor,
        "incident.update",
    );
    let mut saved = state.store.save_incident(w, before.updated_at).await?;
    saved.links = before.links;
    Ok(saved)
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
