//! Incidents: what a reporter records, how impact × urgency becomes a priority through a
//! configurable matrix, the status lifecycle and its allowed transitions, categories
//! (with the built-in security categories) and the two kinds of notes.
//!
//! Pure rules only: storing, numbering, assignment and the SLA clock (see
//! [`crate::sla_clock`]) and security recognition (see [`crate::recognition`]) build on
//! these types.

use crate::account::{check_name, clean_text};
use crate::error::DomainError;
use crate::ids::{CiId, UserId};
use crate::service::{PriorityTarget, Targets};
use crate::sla::check_category;
use serde::{Deserialize, Serialize};

/// How badly the incident affects the business. Listed from high to low everywhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Impact {
    High,
    Medium,
    Low,
}

/// How soon the business needs it resolved. Listed from high to low everywhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Urgency {
    High,
    Medium,
    Low,
}

macro_rules! three_levels {
    ($ty:ident, $field:literal) => {
        impl $ty {
            pub const ALL: [$ty; 3] = [$ty::High, $ty::Medium, $ty::Low];

            pub fn as_str(self) -> &'static str {
                match self {
                    $ty::High => "high",
                    $ty::Medium => "medium",
                    $ty::Low => "low",
                }
            }

            pub fn parse(s: &str) -> Result<Self, DomainError> {
                Self::ALL
                    .into_iter()
                    .find(|x| x.as_str() == s.trim())
                    .ok_or_else(|| DomainError::new($field, "must be high, medium or low"))
            }

            /// 0 for high, 1 for medium, 2 for low: the row/column in a [`PriorityMatrix`].
            pub fn index(self) -> usize {
                self as usize
            }
        }
    };
}

three_levels!(Impact, "impact");
three_levels!(Urgency, "urgency");

/// P1 (most urgent) to P4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Priority {
    P1,
    P2,
    P3,
    P4,
}

impl Priority {
    pub const ALL: [Priority; 4] = [Priority::P1, Priority::P2, Priority::P3, Priority::P4];

    pub fn as_str(self) -> &'static str {
        match self {
            Priority::P1 => "p1",
            Priority::P2 => "p2",
            Priority::P3 => "p3",
            Priority::P4 => "p4",
        }
    }

    /// For people: "P1".."P4".
    pub fn label(self) -> &'static str {
        match self {
            Priority::P1 => "P1",
            Priority::P2 => "P2",
            Priority::P3 => "P3",
            Priority::P4 => "P4",
        }
    }

    /// Accepts "p1".."p4" (and the labels "P1".."P4").
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let s = s.trim();
        Self::ALL
            .into_iter()
            .find(|p| p.as_str() == s || p.label() == s)
            .ok_or_else(|| DomainError::new("priority", "must be p1, p2, p3 or p4"))
    }

    /// 0 for P1 … 3 for P4: the position in [`Targets::priorities`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// This priority's response and resolution targets.
    pub fn target(self, targets: &Targets) -> PriorityTarget {
        targets.priorities[self.index()]
    }
}

/// Impact × urgency → priority. `cells[impact][urgency]`, each index in the order high,
/// medium, low (see [`Impact::index`], [`Urgency::index`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PriorityMatrix {
    pub cells: [[Priority; 3]; 3],
}

impl Default for PriorityMatrix {
    /// The usual ITIL matrix.
    fn default() -> Self {
        use Priority::*;
        Self {
            cells: [[P1, P2, P3], [P2, P3, P4], [P3, P4, P4]],
        }
    }
}

impl PriorityMatrix {
    pub fn priority(&self, impact: Impact, urgency: Urgency) -> Priority {
        self.cells[impact.index()][urgency.index()]
    }

    /// A matrix must be monotone: a higher impact or a higher urgency never gives a less
    /// urgent priority. The error names the offending cell ("priority_matrix.cells[1][0]").
    pub fn validate(&self) -> Result<(), DomainError> {
        for i in 0..3 {
            for u in 0..3 {
                let here = self.cells[i][u];
                let better_impact = i > 0 && self.cells[i - 1][u] > here;
                let better_urgency = u > 0 && self.cells[i][u - 1] > here;
                if better_impact || better_urgency {
                    return Err(DomainError::new(
                        format!("priority_matrix.cells[{i}][{u}]"),
                        "a higher impact or urgency must not give a lower priority",
                    ));
                }
            }
        }
        Ok(())
    }
}

/// Where an incident is in its lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Status {
    New,
    InProgress,
    /// Waiting (for the reporter, a supplier, a change): the SLA clocks are paused.
    OnHold,
    Resolved,
    Closed,
}

impl Status {
    pub const ALL: [Status; 5] = [
        Status::New,
        Status::InProgress,
        Status::OnHold,
        Status::Resolved,
        Status::Closed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::New => "new",
            Status::InProgress => "in_progress",
            Status::OnHold => "on_hold",
            Status::Resolved => "resolved",
            Status::Closed => "closed",
        }
    }

    pub fn parse(s: &str) -> Result<Self, DomainError> {
        Self::ALL
            .into_iter()
            .find(|x| x.as_str() == s.trim())
            .ok_or_else(|| {
                DomainError::new(
                    "status",
                    "must be new, in_progress, on_hold, resolved or closed",
                )
            })
    }

    /// Not yet resolved: new, in_progress or on_hold.
    pub fn is_open(self) -> bool {
        matches!(self, Status::New | Status::InProgress | Status::OnHold)
    }

    /// The statuses an incident in this status may move to. Staying put is not a move.
    pub fn next(self) -> &'static [Status] {
        use Status::*;
        match self {
            New => &[InProgress, OnHold, Resolved],
            InProgress => &[OnHold, Resolved],
            OnHold => &[InProgress, Resolved],
            // Back to in_progress is a reopen.
            Resolved => &[Closed, InProgress],
            Closed => &[],
        }
    }

    pub fn can_move(self, to: Status) -> bool {
        self.next().contains(&to)
    }

    /// Ok when `self` → `to` is allowed; otherwise an error on field "status" saying
    /// where it may go instead.
    pub fn transition(self, to: Status) -> Result<(), DomainError> {
        if self.can_move(to) {
            return Ok(());
        }
        let allowed: Vec<&str> = self.next().iter().map(|s| s.as_str()).collect();
        let message = if allowed.is_empty() {
            format!("a {} incident cannot change status", self.as_str())
        } else {
            format!(
                "cannot move from {} to {}; allowed: {}",
                self.as_str(),
                to.as_str(),
                allowed.join(", ")
            )
        };
        Err(DomainError::new("status", message))
    }
}

/// Categories that are security incidents by the baseline, whatever the SLA says.
pub const SECURITY_CATEGORIES: [&str; 9] = [
    "data_leak",
    "malware",
    "phishing",
    "unauthorized_access",
    "account_compromise",
    "denial_of_service",
    "vulnerability_exploited",
    "policy_violation",
    "lost_device",
];

/// An incident category: 1–60 lowercase letters, digits or underscores (the same rule as
/// an SLA's security-incident categories, so the two compare as strings).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String))]
pub struct Category(String);

impl Category {
    /// Trims and lowercases; errors name `field`.
    pub fn parse(field: &str, s: &str) -> Result<Self, DomainError> {
        check_category(field, s).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// One of [`SECURITY_CATEGORIES`].
    pub fn is_security(&self) -> bool {
        SECURITY_CATEGORIES.contains(&self.0.as_str())
    }
}

impl TryFrom<String> for Category {
    type Error = DomainError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Category::parse("category", &s)
    }
}

impl From<Category> for String {
    fn from(c: Category) -> String {
        c.0
    }
}

impl std::fmt::Display for Category {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The longest description accepted, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 20_000;

/// What a reporter (person, or a system through its service account's token) sends, as
/// received: [`IncidentInput::new`] checks it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IncidentFields {
    /// 1–200 characters, not blank.
    #[cfg_attr(
        feature = "openapi",
        schema(
            max_length = 200,
            pattern = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$"
        )
    )]
    pub title: String,
    /// At most 20,000 characters.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 20000))]
    pub description: String,
    /// 1–60 letters, digits or underscores (compared in lower case), e.g. `network` or
    /// `data_leak`.
    #[cfg_attr(feature = "openapi", schema(pattern = r"^\s*[A-Za-z0-9_]{1,60}\s*$"))]
    pub category: String,
    pub impact: Impact,
    pub urgency: Urgency,
    /// The affected business service, if known.
    #[serde(default)]
    pub service: Option<CiId>,
    /// Other affected CIs.
    #[serde(default)]
    pub cis: Vec<CiId>,
}

/// A checked incident: title 1–200 characters, description at most 20,000 (control
/// characters other than newline and tab removed), a valid category, CIs sorted and unique.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentInput {
    pub title: String,
    pub description: String,
    pub category: Category,
    pub impact: Impact,
    pub urgency: Urgency,
    pub service: Option<CiId>,
    pub cis: Vec<CiId>,
    pub reporter: UserId,
}

impl IncidentInput {
    pub fn new(fields: IncidentFields, reporter: UserId) -> Result<Self, DomainError> {
        let title = check_name("title", &fields.title, 200)?;
        if fields.description.chars().count() > MAX_DESCRIPTION_CHARS {
            return Err(DomainError::new(
                "description",
                format!("must be at most {MAX_DESCRIPTION_CHARS} characters"),
            ));
        }
        let mut cis = fields.cis;
        cis.sort();
        cis.dedup();
        Ok(Self {
            title,
            description: clean_text(&fields.description, MAX_DESCRIPTION_CHARS),
            category: Category::parse("category", &fields.category)?,
            impact: fields.impact,
            urgency: fields.urgency,
            service: fields.service,
            cis,
            reporter,
        })
    }

    pub fn priority(&self, matrix: &PriorityMatrix) -> Priority {
        matrix.priority(self.impact, self.urgency)
    }
}

/// An entry in an incident's communications log: an internal work note, a public comment
/// (a message the reporter sees), or an external communication (customers, suppliers,
/// press, authorities) — which on a security incident waits for a security manager.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum NoteKind {
    WorkNote,
    PublicComment,
    External,
}

impl NoteKind {
    pub fn as_str(self) -> &'static str {
        match self {
            NoteKind::WorkNote => "work_note",
            NoteKind::PublicComment => "public_comment",
            NoteKind::External => "external",
        }
    }

    pub fn parse(s: &str) -> Result<Self, DomainError> {
        match s.trim() {
            "work_note" => Ok(NoteKind::WorkNote),
            "public_comment" => Ok(NoteKind::PublicComment),
            "external" => Ok(NoteKind::External),
            _ => Err(DomainError::new(
                "kind",
                "must be work_note, public_comment or external",
            )),
        }
    }

    /// Whether the reporter (portal) sees it.
    pub fn is_public(self) -> bool {
        self == NoteKind::PublicComment
    }
}

#[cfg(test)]
mod tests;
