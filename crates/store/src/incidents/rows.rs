//! Row shapes of incident management and the SQL pieces both backends share: the column
//! list, the need-to-know predicate, dynamic filters.

use custos_core::incident::{Impact, NoteKind, Priority, Status, Urgency};
use custos_core::procedure::{ActionKind, Phase};
use custos_core::sla_clock::Clock;
use custos_core::ticket::{
    Action, Attachment, Audience, Channel, CommStatus, FlagDecision, Group, Incident, Major, Note,
    SavedFilter, Security,
};
use custos_core::{
    ActionId, AttachmentId, CiId, FilterId, GroupId, IncidentId, NoteId, SlaId, StoreError,
    Timestamp, UserId,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub(crate) const INCIDENT_COLS: &str = "i.id, i.number, i.title, i.description, i.category, i.impact, i.urgency, \
    i.priority, i.status, i.service_id, i.group_id, i.assignee_id, i.reporter_id, i.channel, i.security, i.phase, \
    i.major, i.sla_id, i.responded_at, i.resolved_at, i.closed_at, i.detail, i.resolution, i.created_at, i.updated_at";

/// The columns an insert writes, in bind order (see `bind_incident!`).
pub(crate) const INSERT_COLS: &str = "id, number, title, description, category, impact, urgency, priority, status, \
    service_id, group_id, assignee_id, reporter_id, channel, security, phase, authorised_roles, major, sla_id, \
    response_due_at, resolution_due_at, response_state, resolution_state, clock_check_at, responded_at, \
    resolved_at, closed_at, detail, resolution, created_at, updated_at";
pub(crate) const INSERT_NCOLS: usize = 31;

/// What the `detail` JSON column holds.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct Detail {
    #[serde(default)]
    pub reasons: Vec<custos_core::recognition::Reason>,
    #[serde(default)]
    pub manual_flag: Option<FlagDecision>,
    #[serde(default)]
    pub unflagged: Option<FlagDecision>,
    #[serde(default)]
    pub major: Option<Major>,
    #[serde(default)]
    pub clock: Option<Clock>,
    #[serde(default)]
    pub holds: Vec<(Timestamp, Option<Timestamp>)>,
}

impl Detail {
    pub fn of(i: &Incident, holds: &[(Timestamp, Option<Timestamp>)]) -> Self {
        Self {
            reasons: i.security.reasons.clone(),
            manual_flag: i.security.manual_flag.clone(),
            unflagged: i.security.unflagged.clone(),
            major: i.major.clone(),
            clock: i.clock,
            holds: holds.to_vec(),
        }
    }
}

/// One incident with its CIs and links in the same row (comma-separated ids, see the
/// backends' `uuid_list`), so reading one incident is one round trip.
#[derive(sqlx::FromRow)]
pub(crate) struct IncidentFullRow {
    #[sqlx(flatten)]
    pub row: IncidentRow,
    pub ci_list: Option<String>,
    pub link_list: Option<String>,
}

impl IncidentFullRow {
    pub fn into_incident(self) -> Result<Incident, StoreError> {
        let ids = |list: Option<String>| -> Result<Vec<Uuid>, StoreError> {
            let mut v = list
                .unwrap_or_default()
                .split(',')
                .filter(|s| !s.is_empty())
                .map(|s| {
                    Uuid::parse_str(s)
                        .map_err(|e| StoreError::Internal(format!("stored id {s:?}: {e}")))
                })
                .collect::<Result<Vec<_>, _>>()?;
            v.sort();
            v.dedup();
            Ok(v)
        };
        let cis = ids(self.ci_list)?.into_iter().map(CiId).collect();
        let links = ids(self.link_list)?;
        let mut inc = self.row.into_incident(cis)?;
        inc.links = links.into_iter().map(custos_core::IncidentId).collect();
        Ok(inc)
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct IncidentRow {
    id: Uuid,
    number: i64,
    title: String,
    description: String,
    category: String,
    impact: String,
    urgency: String,
    priority: String,
    status: String,
    service_id: Option<Uuid>,
    group_id: Option<Uuid>,
    assignee_id: Option<Uuid>,
    reporter_id: Uuid,
    channel: String,
    security: bool,
    phase: Option<String>,
    major: bool,
    sla_id: Option<Uuid>,
    responded_at: Option<i64>,
    resolved_at: Option<i64>,
    closed_at: Option<i64>,
    detail: String,
    resolution: String,
    created_at: i64,
    updated_at: i64,
}

fn bad(what: &str, v: &str) -> StoreError {
    StoreError::Internal(format!("stored incident has an unknown {what} {v:?}"))
}

impl IncidentRow {
    pub fn id(&self) -> Uuid {
        self.id
    }

    pub fn holds(&self) -> Result<Vec<(Timestamp, Option<Timestamp>)>, StoreError> {
        Ok(
            crate::service_levels::rows::parse_json::<Detail>("incident detail", &self.detail)?
                .holds,
        )
    }

    /// The incident of this row; `cis` as stored (with the service, which `incident_cis`
    /// keeps among them for lookups), returned as the caller gave them (without it).
    pub fn into_incident(self, mut cis: Vec<CiId>) -> Result<Incident, StoreError> {
        let d: Detail = crate::service_levels::rows::parse_json("incident detail", &self.detail)?;
        cis.retain(|c| Some(c.0) != self.service_id);
        let phase = match &self.phase {
            Some(p) => Some(Phase::parse(p).map_err(|_| bad("phase", p))?),
            None => None,
        };
        Ok(Incident {
            id: IncidentId(self.id),
            number: self.number,
            reference: custos_core::ticket::reference(self.number),
            title: self.title,
            description: self.description,
            category: self.category,
            impact: Impact::parse(&self.impact).map_err(|_| bad("impact", &self.impact))?,
            urgency: Urgency::parse(&self.urgency).map_err(|_| bad("urgency", &self.urgency))?,
            priority: Priority::parse(&self.priority)
                .map_err(|_| bad("priority", &self.priority))?,
            status: Status::parse(&self.status).map_err(|_| bad("status", &self.status))?,
            service: self.service_id.map(CiId),
            cis,
            group: self.group_id.map(GroupId),
            assignee: self.assignee_id.map(UserId),
            reporter: UserId(self.reporter_id),
            channel: Channel::parse(&self.channel).ok_or_else(|| bad("channel", &self.channel))?,
            security: Security {
                flagged: self.security,
                reasons: d.reasons,
                manual_flag: d.manual_flag,
                unflagged: d.unflagged,
                phase,
            },
            major: if self.major { d.major } else { None },
            sla: self.sla_id.map(SlaId),
            clock: d.clock,
            resolution: self.resolution,
            responded_at: self.responded_at.map(Timestamp),
            resolved_at: self.resolved_at.map(Timestamp),
            closed_at: self.closed_at.map(Timestamp),
            created_at: Timestamp(self.created_at),
            updated_at: Timestamp(self.updated_at),
            links: Vec::new(),
        })
    }
}

/// The need-to-know predicate over `incidents i`, with four parameters from `$p`:
/// viewer id, security team (bool), role mask, own-only (bool). The one place that decides
/// who sees which incident: every read of incidents includes it. An own-only viewer (no
/// permission to read incidents: requesters, customer representatives) sees its own
/// reports and the incidents it was given sight of by name (added, or the SLA's authorised
/// personnel). Having reported a security incident gives sight of it only in that own-only
/// view (the portal: status and public comments); an agent who reported one hands it to
/// the security team like anyone else and follows it in the portal.
pub(crate) fn need_to_know(p: usize) -> String {
    need_to_know_of("i", p)
}

/// [`need_to_know`] over incidents named `i` in the query (e.g. linked incidents `l`).
pub(crate) fn need_to_know_of(i: &str, p: usize) -> String {
    let (u, team, mask, own) = (p, p + 1, p + 2, p + 3);
    format!(
        "((${own} = FALSE OR {i}.reporter_id = ${u} \
         OR EXISTS (SELECT 1 FROM incident_access a WHERE a.incident_id = {i}.id AND a.user_id = ${u})) \
         AND ({i}.security = FALSE OR ${team} \
         OR {i}.assignee_id = ${u} OR (${own} AND {i}.reporter_id = ${u}) OR ({i}.authorised_roles & ${mask}) <> 0 \
         OR EXISTS (SELECT 1 FROM incident_access a WHERE a.incident_id = {i}.id AND a.user_id = ${u})))"
    )
}

pub use crate::sql::Listing;

/// A bind value of a dynamically built query.
#[derive(Clone)]
pub(crate) enum Arg {
    Uuid(Uuid),
    Text(String),
    Bool(bool),
    I64(i64),
}

/// Builds the WHERE clause of an incident list: need-to-know first ($1..$4), then the
/// filter's conditions. Returns the clause and the extra arguments (from $5 on).
pub(crate) fn filter_clause(
    f: &custos_core::ticket::IncidentFilter,
    search: impl Fn(usize) -> String,
    fts_query: impl Fn(&[String]) -> String,
) -> (String, Vec<Arg>) {
    let mut conds = vec![need_to_know(1)];
    let mut args: Vec<Arg> = Vec::new();
    let next = |args: &mut Vec<Arg>, a: Arg| {
        args.push(a);
        args.len() + 4
    };
    if f.open {
        // Exactly the predicate of the partial indexes in migration 0011 (open queues).
        conds.push("i.status IN ('new', 'in_progress', 'on_hold')".into());
    }
    if let Some(s) = f.status {
        let n = next(&mut args, Arg::Text(s.as_str().into()));
        conds.push(format!("i.status = ${n}"));
    }
    if let Some(g) = f.group {
        let n = next(&mut args, Arg::Uuid(g.0));
        conds.push(format!("i.group_id = ${n}"));
    }
    if let Some(u) = f.assignee {
        let n = next(&mut args, Arg::Uuid(u.0));
        conds.push(format!("i.assignee_id = ${n}"));
    }
    if let Some(u) = f.reporter {
        let n = next(&mut args, Arg::Uuid(u.0));
        conds.push(format!("i.reporter_id = ${n}"));
    }
    if let Some(u) = f.authorised {
        let n = next(&mut args, Arg::Uuid(u.0));
        conds.push(format!(
            "i.id IN (SELECT incident_id FROM incident_access WHERE user_id = ${n})"
        ));
    }
    if let Some(p) = f.priority {
        let n = next(&mut args, Arg::Text(p.as_str().into()));
        conds.push(format!("i.priority = ${n}"));
    }
    if let Some(s) = f.service {
        let n = next(&mut args, Arg::Uuid(s.0));
        conds.push(format!("i.service_id = ${n}"));
    }
    if let Some(b) = f.security {
        let n = next(&mut args, Arg::Bool(b));
        conds.push(format!("i.security = ${n}"));
    }
    if let Some(b) = f.major {
        let n = next(&mut args, Arg::Bool(b));
        conds.push(format!("i.major = ${n}"));
    }
    if f.breached {
        conds.push("(i.response_state = 'breached' OR i.resolution_state = 'breached')".into());
    }
    if f.awaiting_approval {
        conds
            .push("i.id IN (SELECT incident_id FROM incident_notes WHERE status = 'draft')".into());
    }
    if !f.text.is_empty() {
        let n = next(&mut args, Arg::Text(fts_query(&f.text)));
        conds.push(search(n));
    }
    (conds.join(" AND "), args)
}

#[derive(sqlx::FromRow)]
pub(crate) struct GroupRow {
    pub id: Uuid,
    pub name: String,
    pub description: String,
    pub lead_id: Option<Uuid>,
}

impl GroupRow {
    pub fn into_group(self, members: Vec<UserId>) -> Group {
        Group {
            id: GroupId(self.id),
            name: self.name,
            description: self.description,
            lead: self.lead_id.map(UserId),
            members,
        }
    }
}

pub(crate) const NOTE_COLS: &str = "id, incident_id, kind, body, audience, recipient, status, author_id, \
    created_at, decided_by, decided_at, decision_reason, sent_at";

#[derive(sqlx::FromRow)]
pub(crate) struct NoteRow {
    id: Uuid,
    incident_id: Uuid,
    kind: String,
    body: String,
    audience: Option<String>,
    recipient: String,
    status: String,
    author_id: Option<Uuid>,
    created_at: i64,
    decided_by: Option<Uuid>,
    decided_at: Option<i64>,
    decision_reason: String,
    sent_at: Option<i64>,
}

impl TryFrom<NoteRow> for Note {
    type Error = StoreError;
    fn try_from(r: NoteRow) -> Result<Self, StoreError> {
        Ok(Note {
            id: NoteId(r.id),
            incident: IncidentId(r.incident_id),
            kind: NoteKind::parse(&r.kind).map_err(|_| bad("note kind", &r.kind))?,
            body: r.body,
            audience: r.audience.as_deref().and_then(Audience::parse),
            recipient: r.recipient,
            status: CommStatus::parse(&r.status).ok_or_else(|| bad("note status", &r.status))?,
            author: r.author_id.map(UserId),
            created_at: Timestamp(r.created_at),
            decided_by: r.decided_by.map(UserId),
            decided_at: r.decided_at.map(Timestamp),
            decision_reason: r.decision_reason,
            sent_at: r.sent_at.map(Timestamp),
        })
    }
}

pub(crate) const ATTACHMENT_COLS: &str = "id, incident_id, file_name, content_type, size, sha256, evidence, \
    description, uploaded_by, uploaded_at";

#[derive(sqlx::FromRow)]
pub(crate) struct AttachmentRow {
    id: Uuid,
    incident_id: Uuid,
    file_name: String,
    content_type: String,
    size: i64,
    sha256: String,
    evidence: bool,
    description: String,
    uploaded_by: Option<Uuid>,
    uploaded_at: i64,
}

impl From<AttachmentRow> for Attachment {
    fn from(r: AttachmentRow) -> Self {
        Attachment {
            id: AttachmentId(r.id),
            incident: IncidentId(r.incident_id),
            file_name: r.file_name,
            content_type: r.content_type,
            size: r.size,
            sha256: r.sha256,
            evidence: r.evidence,
            description: r.description,
            uploaded_by: r.uploaded_by.map(UserId),
            uploaded_at: Timestamp(r.uploaded_at),
        }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct ActionRow {
    id: Uuid,
    incident_id: Uuid,
    kind: String,
    body: String,
    ci_id: Option<Uuid>,
    by_id: Option<Uuid>,
    at: i64,
}

impl TryFrom<ActionRow> for Action {
    type Error = StoreError;
    fn try_from(r: ActionRow) -> Result<Self, StoreError> {
        Ok(Action {
            id: ActionId(r.id),
            incident: IncidentId(r.incident_id),
            kind: ActionKind::parse(&r.kind).map_err(|_| bad("action kind", &r.kind))?,
            body: r.body,
            ci: r.ci_id.map(CiId),
            by: r.by_id.map(UserId),
            at: Timestamp(r.at),
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct FilterRow {
    id: Uuid,
    name: String,
    query: String,
    created_at: i64,
}

impl From<FilterRow> for SavedFilter {
    fn from(r: FilterRow) -> Self {
        SavedFilter {
            id: FilterId(r.id),
            name: r.name,
            query: r.query,
            created_at: Timestamp(r.created_at),
        }
    }
}
