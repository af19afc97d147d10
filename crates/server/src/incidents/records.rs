//! Recording and changing incidents: the create, update and find use cases, the list query
//! and its CSV (the API, the pages, the demo and the benchmark share these).

use crate::http::api::PageParams;

use crate::http::doc;
use crate::http::state::AppState;
use crate::http::util::rfc3339;
use crate::incidents::assignment_event;
use crate::incidents::change_status;
use crate::incidents::evaluate;
use crate::incidents::viewer;
use crate::incidents::write;
use custos_core::authz::{Permission, Principal};
use custos_core::incident::{IncidentFields, IncidentInput, Priority, Status};
use custos_core::ticket::{Channel, Incident, IncidentFilter, IncidentPatch, Security, Viewer};
use custos_core::time::Date;
use custos_core::{Error, Outcome};
use custos_core::{GroupId, IncidentId, Timestamp, UserId};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

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
    /// Only incidents whose response or resolution clock has breached.
    pub breached: Option<bool>,
    /// Only incidents with an external communication waiting for a security manager.
    pub awaiting_approval: Option<bool>,
    /// Full-text search over title and description.
    pub q: Option<String>,
    /// `json` (default) or `csv` (export of the page).
    #[param(value_type = Option<doc::TableFormat>)]
    pub format: Option<String>,
    pub limit: Option<u32>,
    pub cursor: Option<Uuid>,
}

impl IncidentQuery {
    pub fn filter(&self, me: UserId) -> Outcome<IncidentFilter> {
        let user = |field: &str, v: &Option<String>| -> Outcome<Option<UserId>> {
            match v.as_deref().map(str::trim) {
                None | Some("") => Ok(None),
                Some("me") => Ok(Some(me)),
                Some(s) => Uuid::parse_str(s)
                    .map(|u| Some(UserId(u)))
                    .map_err(|_| Error::validation(field, "must be a user id or me")),
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
            breached: self.breached.unwrap_or(false),
            awaiting_approval: self.awaiting_approval.unwrap_or(false),
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
pub async fn find(state: &AppState, v: &Viewer, id: &str) -> Outcome<Incident> {
    if let Ok(u) = Uuid::parse_str(id) {
        return Ok(state.store.incident(v, IncidentId(u)).await?);
    }
    match custos_core::ticket::parse_reference(id) {
        Some(n) => Ok(state.store.incident_by_number(v, n).await?),
        None => Err(Error::validation(
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
) -> Outcome<Incident> {
    let Routing {
        group,
        assignee,
        reporter,
    } = routing;
    let reporter = reporter.filter(|r| *r != principal.user_id);
    if (group.is_some() || assignee.is_some() || reporter.is_some())
        && !principal.has(Permission::ManageIncidents)
    {
        return Err(Error::Forbidden(custos_core::authz::Forbidden(
            Permission::ManageIncidents,
        )));
    }
    check_assignee(state, assignee).await?;
    if let Some(r) = reporter {
        match state.store.user(r).await {
            Ok(u) if !u.disabled => {}
            Ok(_) => return Err(Error::validation("reporter", "is disabled")),
            Err(custos_core::StoreError::NotFound { .. }) => {
                return Err(Error::validation("reporter", "no such user"));
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
                return Err(Error::validation("group", "no such group"));
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
async fn check_assignee(state: &AppState, assignee: Option<UserId>) -> Outcome<()> {
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
) -> Outcome<()> {
    if !inc.security.flagged || principal.has(Permission::HandleSecurityIncidents) {
        return Ok(());
    }
    let user = state.store.user(to).await?;
    if crate::incidents::user_sees(state.store.as_ref(), &user, inc.id).await? {
        return Ok(());
    }
    Err(Error::validation(
        "assignee",
        "a security incident can only be handed to someone with need-to-know; ask the security team to add them first",
    ))
}

/// Checks that `u` is an active user who works on incidents (an agent or a security
/// manager); a validation error on `field` otherwise.
pub async fn works_on_incidents(state: &AppState, u: UserId, field: &str) -> Outcome<()> {
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
        Ok(_) => Err(Error::validation(
            field,
            "must be an active user who works on incidents (an agent or a security manager)",
        )),
        Err(custos_core::StoreError::NotFound { .. }) => {
            Err(Error::validation(field, "no such user"))
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

/// Applies a change to a visible incident: re-evaluated, saved if nobody changed it
/// meanwhile (409 otherwise).
pub async fn update(
    state: &AppState,
    principal: &Principal,
    actor: custos_core::authz::Actor,
    id: &str,
    patch: IncidentPatch,
) -> Outcome<Incident> {
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
                    return Err(Error::validation("group", "no such group"));
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
