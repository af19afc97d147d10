//! Problems and known errors: the problem record and its lifecycle, the two fixes (the
//! workaround that makes a problem a known error, and the permanent solution), and the
//! security review gate they pass before anyone may use them.
//!
//! The gate: a fix of a problem whose affected CIs (its service included) are classified
//! moderate or high in any dimension, or that is marked as introducing security risk, is
//! published only after a security manager approved exactly its current text, with a
//! recorded check against the SLA requirements and the baseline of every affected CI.
//! Changing the text, or widening the affected CIs beyond what the review checked, voids
//! the approval (and withdraws a published fix). Pure rules only; storing and computing the
//! check live elsewhere.

use crate::account::{check_name, clean_text};
use crate::classification::{Effective, Level};
use crate::error::DomainError;
use crate::ids::{CiId, ProblemId, UserId};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// Longest fix, description or root cause text, in characters.
pub const MAX_TEXT_CHARS: usize = 16_000;
/// Most CIs a problem names.
pub const MAX_CIS: usize = 100;

/// `PRB-000042`.
pub fn reference(number: i64) -> String {
    format!("PRB-{number:06}")
}

/// Parses `PRB-42`, `prb-000042` or `42`.
pub fn parse_reference(s: &str) -> Option<i64> {
    let s = s.trim();
    let digits = s
        .strip_prefix("PRB-")
        .or_else(|| s.strip_prefix("prb-"))
        .unwrap_or(s);
    digits.parse().ok().filter(|n: &i64| *n > 0)
}

macro_rules! word_enum {
    ($ty:ident, $field:literal, $msg:literal, [$($v:ident => $s:literal),* $(,)?]) => {
        impl $ty {
            pub const ALL: &'static [$ty] = &[$($ty::$v),*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($ty::$v => $s),*
                }
            }

            pub fn parse(s: &str) -> Result<Self, DomainError> {
                Self::ALL
                    .iter()
                    .copied()
                    .find(|x| x.as_str() == s.trim())
                    .ok_or_else(|| DomainError::new($field, $msg))
            }
        }

        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

/// Where a problem is in its lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ProblemStatus {
    New,
    /// Root cause analysis under way.
    Investigating,
    /// The root cause is known and a workaround is published.
    KnownError,
    /// The permanent solution is published (and applied).
    Resolved,
    Closed,
}

word_enum!(ProblemStatus, "status", "must be new, investigating, known_error, resolved or closed", [
    New => "new",
    Investigating => "investigating",
    KnownError => "known_error",
    Resolved => "resolved",
    Closed => "closed",
]);

impl ProblemStatus {
    /// For people.
    pub fn label(self) -> &'static str {
        match self {
            ProblemStatus::New => "New",
            ProblemStatus::Investigating => "Investigating",
            ProblemStatus::KnownError => "Known error",
            ProblemStatus::Resolved => "Resolved",
            ProblemStatus::Closed => "Closed",
        }
    }

    /// The moves the lifecycle allows (guards aside: see [`Problem::transition`]). A resolved
    /// problem may be reopened; a closed one is final.
    pub fn can_move_to(self, to: ProblemStatus) -> bool {
        use ProblemStatus::*;
        matches!(
            (self, to),
            (New, Investigating | Closed)
                | (Investigating, KnownError | Resolved | Closed)
                | (KnownError, Investigating | Resolved | Closed)
                | (Resolved, Investigating | Closed)
        )
    }
}

/// The two fixes of a problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum FixKind {
    /// Restores service while the cause remains; published, it is the known error record.
    Workaround,
    /// Removes the cause.
    Solution,
}

word_enum!(FixKind, "fix", "must be workaround or solution", [
    Workaround => "workaround",
    Solution => "solution",
]);

impl FixKind {
    pub fn label(self) -> &'static str {
        match self {
            FixKind::Workaround => "Workaround",
            FixKind::Solution => "Permanent solution",
        }
    }
}

/// Where a fix is on its way to publication.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum FixState {
    /// Being written (also: an approval voided by a change).
    Draft,
    /// Submitted; waits for a security manager.
    PendingReview,
    /// A security manager approved this text.
    Approved,
    /// Visible to agents (a workaround: as a known error) and applicable to incidents.
    Published,
    /// A security manager refused it, with reasons; editing it makes it a draft again.
    Rejected,
}

word_enum!(FixState, "state", "must be draft, pending_review, approved, published or rejected", [
    Draft => "draft",
    PendingReview => "pending_review",
    Approved => "approved",
    Published => "published",
    Rejected => "rejected",
]);

impl FixState {
    pub fn label(self) -> &'static str {
        match self {
            FixState::Draft => "Draft",
            FixState::PendingReview => "Waiting for security review",
            FixState::Approved => "Approved",
            FixState::Published => "Published",
            FixState::Rejected => "Rejected",
        }
    }
}

/// A security manager's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Decision {
    Approved,
    Rejected,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Approved => "approved",
            Decision::Rejected => "rejected",
        }
    }
}

/// A workaround or a solution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Fix {
    pub text: String,
    pub state: FixState,
    pub edited_by: Option<UserId>,
    pub edited_at: Option<Timestamp>,
    pub submitted_by: Option<UserId>,
    pub submitted_at: Option<Timestamp>,
    pub published_by: Option<UserId>,
    pub published_at: Option<Timestamp>,
    /// The review of the current text, if it had one.
    pub review: Option<Review>,
}

impl Default for Fix {
    fn default() -> Self {
        Self {
            text: String::new(),
            state: FixState::Draft,
            edited_by: None,
            edited_at: None,
            submitted_by: None,
            submitted_at: None,
            published_by: None,
            published_at: None,
            review: None,
        }
    }
}

impl Fix {
    /// Back to draft: any approval or publication is void.
    fn reset(&mut self) {
        self.state = FixState::Draft;
        self.submitted_by = None;
        self.submitted_at = None;
        self.published_by = None;
        self.published_at = None;
        self.review = None;
    }

    /// Whether its (approving) review still covers the problem as it is now.
    fn approval_covers(&self, affected: &[CiId], risk: bool) -> bool {
        self.review.as_ref().is_some_and(|r| {
            r.decision == Decision::Approved
                && r.text_sha256 == crate::secret::sha256_hex(self.text.as_bytes())
                && r.check.covers(affected)
                && (r.security_risk || !risk)
        })
    }
}

/// The fields a person sets when recording a problem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProblemFields {
    pub title: String,
    #[serde(default)]
    pub description: String,
    /// The affected service (a business service CI).
    #[serde(default)]
    pub service: Option<CiId>,
    /// Other affected CIs.
    #[serde(default)]
    pub cis: Vec<CiId>,
    #[serde(default)]
    pub assignee: Option<UserId>,
    #[serde(default)]
    pub root_cause: String,
    /// The problem (or fixing it) introduces a security risk: the security manager is
    /// involved and every fix needs a security review.
    #[serde(default)]
    pub introduces_security_risk: bool,
}

fn long_text(field: &str, s: &str) -> Result<String, DomainError> {
    if s.chars().count() > MAX_TEXT_CHARS {
        return Err(DomainError::new(
            field,
            format!("must be at most {MAX_TEXT_CHARS} characters"),
        ));
    }
    Ok(clean_text(s, MAX_TEXT_CHARS))
}

fn check_cis(cis: &mut Vec<CiId>) -> Result<(), DomainError> {
    cis.sort();
    cis.dedup();
    if cis.len() > MAX_CIS {
        return Err(DomainError::new(
            "cis",
            format!("at most {MAX_CIS} CIs per problem"),
        ));
    }
    Ok(())
}

impl ProblemFields {
    pub fn validate(mut self) -> Result<Self, DomainError> {
        self.title = check_name("title", &self.title, 200)?;
        self.description = long_text("description", &self.description)?;
        self.root_cause = long_text("root_cause", &self.root_cause)?;
        check_cis(&mut self.cis)?;
        Ok(self)
    }
}

/// A change to a problem's fields; `None` leaves a field alone, `Some(None)` clears an
/// optional reference.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProblemPatch {
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub status: Option<ProblemStatus>,
    #[serde(default, with = "crate::ticket::double_option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub service: Option<Option<CiId>>,
    #[serde(default)]
    pub cis: Option<Vec<CiId>>,
    #[serde(default, with = "crate::ticket::double_option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub assignee: Option<Option<UserId>>,
    #[serde(default)]
    pub root_cause: Option<String>,
    #[serde(default)]
    pub introduces_security_risk: Option<bool>,
}

impl ProblemPatch {
    pub fn validate(mut self) -> Result<Self, DomainError> {
        if let Some(t) = &self.title {
            self.title = Some(check_name("title", t, 200)?);
        }
        if let Some(d) = &self.description {
            self.description = Some(long_text("description", d)?);
        }
        if let Some(r) = &self.root_cause {
            self.root_cause = Some(long_text("root_cause", r)?);
        }
        if let Some(cis) = &mut self.cis {
            check_cis(cis)?;
        }
        Ok(self)
    }

    pub fn is_empty(&self) -> bool {
        *self == ProblemPatch::default()
    }
}

/// Why an action on a problem was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProblemError {
    #[error(transparent)]
    Invalid(#[from] DomainError),
    /// Not possible in the current state (approving a draft, closing twice, …).
    #[error("{0}")]
    State(String),
    /// Publishing needs a security manager's approval first.
    #[error(
        "the {} of this problem touches CIs classified moderate or high (or is marked as introducing security risk): a security manager must approve it before it is published; submit it for review",
        .0.as_str()
    )]
    ReviewRequired(FixKind),
}

/// A stored problem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
// Not `Problem`: that is the problem+json error body, and one name would replace the other.
#[cfg_attr(feature = "openapi", schema(as = ProblemRecord))]
pub struct Problem {
    pub id: ProblemId,
    pub number: i64,
    /// `PRB-000042`.
    pub reference: String,
    pub title: String,
    pub description: String,
    pub status: ProblemStatus,
    pub service: Option<CiId>,
    pub cis: Vec<CiId>,
    pub assignee: Option<UserId>,
    pub introduces_security_risk: bool,
    pub root_cause: String,
    pub workaround: Fix,
    pub solution: Fix,
    pub created_by: Option<UserId>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub resolved_at: Option<Timestamp>,
    pub closed_at: Option<Timestamp>,
}

/// Whether a fix needs a security manager's approval before it is published: some affected
/// CI (the service included) is effectively moderate or high in any dimension, or the
/// problem introduces security risk.
pub fn needs_security_review(levels: &[[Level; 3]], introduces_security_risk: bool) -> bool {
    introduces_security_risk || levels.iter().flatten().any(|l| *l >= Level::Moderate)
}

/// The three effective levels of a CI.
pub fn levels_of(e: &Effective) -> [Level; 3] {
    [e[0].level, e[1].level, e[2].level]
}

/// Which problems a list shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProblemFilter {
    pub status: Option<ProblemStatus>,
    /// `Some(true)`: only those with a published workaround (known errors).
    pub known_error: Option<bool>,
    pub service: Option<CiId>,
    /// Only problems linked to this incident (callers check the incident is visible first:
    /// need-to-know).
    pub incident: Option<crate::ids::IncidentId>,
    /// Only problems with a workaround or solution waiting for a security review.
    pub awaiting_review: bool,
    /// Full-text terms over title, description and workaround (all must match, as
    /// prefixes); see [`crate::ticket::IncidentFilter::terms`].
    pub text: Vec<String>,
}

mod lifecycle;
mod review;

pub use review::*;

#[cfg(test)]
mod tests;
