//! Stored incidents and what hangs off them: the incident record (with its security flag,
//! procedure phase, major-incident state and SLA clock), changes, filters, the
//! communications log, attachments and evidence, procedure steps, support groups, saved
//! filters — and the need-to-know [`Viewer`] that every read of incidents goes through.

use crate::account::{Role, Roles, check_name, clean_text};
use crate::error::DomainError;
use crate::ids::{
    ActionId, AttachmentId, CiId, FilterId, GroupId, IncidentId, NoteId, SlaId, UserId,
};
use crate::incident::{Category, Impact, NoteKind, Priority, Status, Urgency};
use crate::procedure::{ActionKind, Phase};
use crate::recognition::Reason;
use crate::sla_clock::Clock;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// The reference of an incident not yet numbered. The store replaces it, in the incident's
/// notification events and audit entry, with the number it assigns at commit.
pub const PENDING_REFERENCE: &str = "INC-pending";

/// `INC-000042`.
pub fn reference(number: i64) -> String {
    format!("INC-{number:06}")
}

/// Parses `INC-42`, `inc-000042` or `42`.
pub fn parse_reference(s: &str) -> Option<i64> {
    let s = s.trim();
    let digits = s
        .strip_prefix("INC-")
        .or_else(|| s.strip_prefix("inc-"))
        .unwrap_or(s);
    digits.parse().ok().filter(|n: &i64| *n > 0)
}

/// How the incident was reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Channel {
    /// The requester portal.
    Portal,
    /// The agents' pages.
    Web,
    /// The API (people, or systems with a service account's token).
    Api,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Portal => "portal",
            Channel::Web => "web",
            Channel::Api => "api",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "portal" => Some(Channel::Portal),
            "web" => Some(Channel::Web),
            "api" => Some(Channel::Api),
            _ => None,
        }
    }
}

/// A manual flag or unflag: who, when, why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FlagDecision {
    pub by: Option<UserId>,
    pub at: Timestamp,
    pub reason: String,
}

/// The security side of an incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Security {
    /// Whether it is (treated as) a security incident: need-to-know applies.
    pub flagged: bool,
    /// Why the rules recognise it (latest evaluation), empty if they do not.
    pub reasons: Vec<Reason>,
    /// An agent's manual flag, if it was flagged by hand.
    pub manual_flag: Option<FlagDecision>,
    /// A security manager's unflag, if it was unflagged.
    pub unflagged: Option<FlagDecision>,
    /// The procedure's phase while flagged.
    pub phase: Option<Phase>,
}

/// A major incident's procedure state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Major {
    pub lead: UserId,
    pub cadence_minutes: u32,
    pub declared_at: Timestamp,
    pub declared_by: Option<UserId>,
    /// When the next update is due (last update, or declaration, plus the cadence).
    pub next_update_due: Timestamp,
    /// Whether the major incident review is recorded (needed before closing).
    pub reviewed: bool,
    /// The reminder slot last reminded of (see [`Major::reminder_due`]).
    #[serde(default)]
    pub reminded_for: Option<Timestamp>,
}

impl Major {
    fn cadence_ms(&self) -> i64 {
        i64::from(self.cadence_minutes.max(1)) * 60_000
    }

    /// An overdue update is reminded of at its due time and again every cadence until an
    /// update is recorded (which moves `next_update_due`): the slots `next_update_due + k ×
    /// cadence`. Returns the latest slot at or before `now` not reminded of yet.
    pub fn reminder_due(&self, now: Timestamp) -> Option<Timestamp> {
        let due = self.next_update_due.0;
        if now.0 < due {
            return None;
        }
        let slot = Timestamp(due + (now.0 - due) / self.cadence_ms() * self.cadence_ms());
        (self.reminded_for.is_none_or(|r| r < slot)).then_some(slot)
    }

    /// The first reminder slot after `now` (when the clock job must look again).
    pub fn next_reminder(&self, now: Timestamp) -> Timestamp {
        let due = self.next_update_due.0;
        if now.0 < due {
            return self.next_update_due;
        }
        Timestamp(due + ((now.0 - due) / self.cadence_ms() + 1) * self.cadence_ms())
    }
}

/// A stored incident.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Incident {
    pub id: IncidentId,
    pub number: i64,
    /// `INC-000042`.
    pub reference: String,
    pub title: String,
    pub description: String,
    pub category: String,
    pub impact: Impact,
    pub urgency: Urgency,
    pub priority: Priority,
    pub status: Status,
    pub service: Option<CiId>,
    pub cis: Vec<CiId>,
    pub group: Option<GroupId>,
    pub assignee: Option<UserId>,
    pub reporter: UserId,
    pub channel: Channel,
    pub security: Security,
    pub major: Option<Major>,
    /// The SLA whose targets the clock counts (absent: the service catalogue's standard
    /// targets, or no clock without a service).
    pub sla: Option<SlaId>,
    pub clock: Option<Clock>,
    pub resolution: String,
    pub responded_at: Option<Timestamp>,
    pub resolved_at: Option<Timestamp>,
    pub closed_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Linked incidents (loaded on single reads; empty in lists).
    #[serde(default)]
    pub links: Vec<IncidentId>,
}

impl Incident {
    /// What the audit log records of an incident: field values but never free text
    /// (title, description, resolution, category), so that the log carries no
    /// need-to-know content.
    pub fn audit_view(&self) -> serde_json::Value {
        serde_json::json!({
            "reference": self.reference,
            "status": self.status.as_str(),
            "priority": self.priority.as_str(),
            "service": self.service,
            "cis": self.cis,
            "group": self.group,
            "assignee": self.assignee,
            "security": self.security.flagged,
            "phase": self.security.phase.map(|p| p.as_str()),
            "major": self.major.is_some(),
        })
    }
}

/// A change to an incident's fields; `None` leaves a field alone. Clearing an optional
/// reference is `Some(None)`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IncidentPatch {
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub impact: Option<Impact>,
    #[serde(default)]
    pub urgency: Option<Urgency>,
    #[serde(default, with = "double_option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub service: Option<Option<CiId>>,
    #[serde(default)]
    pub cis: Option<Vec<CiId>>,
    #[serde(default, with = "double_option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub group: Option<Option<GroupId>>,
    #[serde(default, with = "double_option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub assignee: Option<Option<UserId>>,
    #[serde(default)]
    pub status: Option<Status>,
    /// Resolution notes (required when resolving).
    #[serde(default)]
    pub resolution: Option<String>,
}

/// `Some(None)` for an explicit JSON `null`, `None` for an absent field (patches).
pub(crate) mod double_option {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    pub fn deserialize<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Option<T>>, D::Error> {
        Option::<T>::deserialize(d).map(Some)
    }
    pub fn serialize<T: Serialize, S: Serializer>(
        v: &Option<Option<T>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match v {
            Some(inner) => inner.serialize(s),
            None => s.serialize_none(),
        }
    }
}

impl IncidentPatch {
    /// Checks the text fields; errors name the field.
    pub fn validate(mut self) -> Result<Self, DomainError> {
        if let Some(t) = &self.title {
            self.title = Some(check_name("title", t, 200)?);
        }
        if let Some(d) = &self.description {
            if d.chars().count() > crate::incident::MAX_DESCRIPTION_CHARS {
                return Err(DomainError::new("description", "is too long"));
            }
            self.description = Some(clean_text(d, crate::incident::MAX_DESCRIPTION_CHARS));
        }
        if let Some(c) = &self.category {
            self.category = Some(Category::parse("category", c)?.as_str().to_string());
        }
        if let Some(r) = &self.resolution {
            self.resolution = Some(clean_text(r, 5000));
        }
        if let Some(cis) = &mut self.cis {
            cis.sort();
            cis.dedup();
        }
        Ok(self)
    }

    pub fn is_empty(&self) -> bool {
        *self == IncidentPatch::default()
    }
}

/// Who is reading, for need-to-know. A security incident is visible only to the security
/// team, its assignee, its reporter, people explicitly added, and the authorised
/// personnel of the SLA (users, and holders of the SLA's authorised roles). Everyone else
/// — admins included — gets no trace of it. There is no "see everything" viewer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Viewer {
    pub user: UserId,
    /// A security manager: the security team.
    pub security_team: bool,
    /// [`role_mask`] of the viewer's roles.
    pub role_mask: i64,
    /// Only incidents this viewer reported (the requester portal).
    pub own_only: bool,
}

impl Viewer {
    pub fn new(user: UserId, roles: &Roles, own_only: bool) -> Self {
        Self {
            user,
            security_team: roles.contains(Role::SecurityManager),
            role_mask: role_mask(roles.iter()),
            own_only,
        }
    }
}

/// One bit per role, in [`Role::ALL`] order.
pub fn role_mask(roles: impl IntoIterator<Item = Role>) -> i64 {
    roles.into_iter().fold(0, |m, r| {
        m | (1 << Role::ALL.iter().position(|x| *x == r).unwrap_or(0))
    })
}

/// The roles whose bits are set in `mask` (the inverse of [`role_mask`]).
pub fn roles_of_mask(mask: i64) -> Vec<Role> {
    Role::ALL
        .iter()
        .enumerate()
        .filter(|(i, _)| mask & (1 << i) != 0)
        .map(|(_, r)| *r)
        .collect()
}

/// Which incidents a list shows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentFilter {
    /// `open` (new, in progress, on hold), or one status.
    pub open: bool,
    pub status: Option<Status>,
    pub group: Option<GroupId>,
    pub assignee: Option<UserId>,
    pub reporter: Option<UserId>,
    /// Only incidents this user was given sight of by name: added by the security team,
    /// or named by the SLA of the service as authorised personnel.
    pub authorised: Option<UserId>,
    pub priority: Option<Priority>,
    pub service: Option<CiId>,
    pub security: Option<bool>,
    pub major: Option<bool>,
    /// Only incidents whose response or resolution clock has breached.
    pub breached: bool,
    /// Only incidents with an external communication waiting for a security manager.
    pub awaiting_approval: bool,
    /// Full-text terms over title and description (all must match, as prefixes).
    pub text: Vec<String>,
}

impl IncidentFilter {
    /// Splits free text into search terms: letters and digits only, at most 8 terms.
    pub fn terms(q: &str) -> Vec<String> {
        q.split(|c: char| !c.is_alphanumeric())
            .filter(|t| !t.is_empty())
            .take(8)
            .map(|t| t.to_lowercase())
            .collect()
    }
}

/// Status of an entry in the communications log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum CommStatus {
    /// Notes and comments: recorded.
    Recorded,
    /// An external communication on a security incident awaiting a security manager.
    Draft,
    /// An external communication released (approved, where that was needed) and sent.
    Sent,
    /// Refused by a security manager, with reasons.
    Rejected,
}

impl CommStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CommStatus::Recorded => "recorded",
            CommStatus::Draft => "draft",
            CommStatus::Sent => "sent",
            CommStatus::Rejected => "rejected",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "recorded" => Some(CommStatus::Recorded),
            "draft" => Some(CommStatus::Draft),
            "sent" => Some(CommStatus::Sent),
            "rejected" => Some(CommStatus::Rejected),
            _ => None,
        }
    }
}

/// Who an external communication is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Audience {
    Customers,
    Suppliers,
    Press,
    Authorities,
}

impl Audience {
    pub const ALL: [Audience; 4] = [
        Audience::Customers,
        Audience::Suppliers,
        Audience::Press,
        Audience::Authorities,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Audience::Customers => "customers",
            Audience::Suppliers => "suppliers",
            Audience::Press => "press",
            Audience::Authorities => "authorities",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

/// What a user writes into the communications log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NoteInput {
    pub kind: NoteKind,
    pub body: String,
    /// External communications only: who it is for, and the addressee (e.g. the
    /// authority's name or an address).
    #[serde(default)]
    pub audience: Option<Audience>,
    #[serde(default)]
    pub recipient: String,
}

impl NoteInput {
    pub fn validate(mut self) -> Result<Self, DomainError> {
        let body = clean_text(&self.body, 20_000);
        if body.is_empty() {
            return Err(DomainError::new("body", "must not be empty"));
        }
        self.body = body;
        self.recipient = clean_text(&self.recipient, 300);
        match (self.kind, self.audience) {
            (NoteKind::External, None) => {
                return Err(DomainError::new(
                    "audience",
                    "an external communication needs an audience",
                ));
            }
            (NoteKind::External, Some(_)) => {}
            (_, Some(_)) => {
                return Err(DomainError::new(
                    "audience",
                    "only external communications have an audience",
                ));
            }
            _ => {}
        }
        Ok(self)
    }
}

/// An entry in the communications log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Note {
    pub id: NoteId,
    pub incident: IncidentId,
    pub kind: NoteKind,
    pub body: String,
    pub audience: Option<Audience>,
    pub recipient: String,
    pub status: CommStatus,
    pub author: Option<UserId>,
    pub created_at: Timestamp,
    pub decided_by: Option<UserId>,
    pub decided_at: Option<Timestamp>,
    pub decision_reason: String,
    pub sent_at: Option<Timestamp>,
}

/// A file on an incident; `evidence` ones belong to the security procedure and their
/// SHA-256 is in the audit chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Attachment {
    pub id: AttachmentId,
    pub incident: IncidentId,
    pub file_name: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub evidence: bool,
    pub description: String,
    pub uploaded_by: Option<UserId>,
    pub uploaded_at: Timestamp,
}

/// A recorded procedure step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Action {
    pub id: ActionId,
    pub incident: IncidentId,
    pub kind: ActionKind,
    pub body: String,
    pub ci: Option<CiId>,
    pub by: Option<UserId>,
    pub at: Timestamp,
}

/// A support (assignment) group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Group {
    pub id: GroupId,
    pub name: String,
    pub description: String,
    pub lead: Option<UserId>,
    pub members: Vec<UserId>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GroupInput {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub lead: Option<UserId>,
    #[serde(default)]
    pub members: Vec<UserId>,
}

impl GroupInput {
    pub fn validate(mut self) -> Result<Self, DomainError> {
        self.name = check_name("name", &self.name, 100)?;
        self.description = clean_text(&self.description, 2000);
        if let Some(l) = self.lead
            && !self.members.contains(&l)
        {
            self.members.push(l);
        }
        self.members.sort();
        self.members.dedup();
        Ok(self)
    }
}

/// A user's named incident filter (the query string of the list).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SavedFilter {
    pub id: FilterId,
    pub name: String,
    /// The list's query string, e.g. `open=true&group=…&q=vpn`.
    pub query: String,
    pub created_at: Timestamp,
}

/// A timeline entry: everything that happened to an incident, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TimelineEntry {
    pub at: Timestamp,
    /// `audit`, `note`, `action` or `attachment`.
    pub source: String,
    pub actor: String,
    /// The audit action (`incident.update`, …), note kind, action kind or file name.
    pub what: String,
    pub detail: String,
}

#[cfg(test)]
mod tests;
