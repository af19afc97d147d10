//! What a security review records: the reviewer's decision and confirmations, and the
//! check they were shown (SLA requirements per affected service, baseline status per
//! affected CI).

use super::{Decision, FixKind};
use crate::account::clean_text;
use crate::classification::Level;
use crate::error::DomainError;
use crate::ids::{CiId, UserId};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// What the reviewer was shown about one affected service: the requirements of its agreed
/// SLAs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ServiceCheck {
    pub service: CiId,
    pub name: String,
    /// Names of the agreed SLAs considered.
    pub slas: Vec<String>,
    /// Keys of their security requirements (e.g. `SR-1`).
    pub requirements: Vec<String>,
}

/// What the reviewer was shown about one affected CI: its effective classification and the
/// state of the controls its baseline requires.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CiCheck {
    pub ci: CiId,
    pub name: String,
    pub confidentiality: Level,
    pub integrity: Level,
    pub availability: Level,
    /// Required controls, and of those how many failed and how many are missing (not
    /// started or planned).
    pub required: u32,
    pub failed: u32,
    pub missing: u32,
}

/// The check a review records: SLA requirements per affected service, baseline status per
/// affected CI — as they stood when the reviewer decided.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SecurityCheck {
    pub services: Vec<ServiceCheck>,
    pub cis: Vec<CiCheck>,
}

impl SecurityCheck {
    /// Whether every CI in `affected` was checked.
    pub fn covers(&self, affected: &[CiId]) -> bool {
        affected.iter().all(|a| self.cis.iter().any(|c| c.ci == *a))
    }
}

/// What a security manager submits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReviewInput {
    pub approve: bool,
    /// Why (required when rejecting).
    #[serde(default)]
    pub reasons: String,
    /// The reviewer confirms the fix keeps the affected services' SLA requirements.
    pub sla_requirements_met: bool,
    /// The reviewer confirms the fix keeps the affected CIs' baseline controls.
    pub baseline_met: bool,
    #[serde(default)]
    pub notes: String,
}

impl ReviewInput {
    /// An approval needs both confirmations; a rejection needs reasons.
    pub fn validate(mut self) -> Result<Self, DomainError> {
        self.reasons = clean_text(&self.reasons, 5000);
        self.notes = clean_text(&self.notes, 5000);
        if self.approve {
            if !self.sla_requirements_met {
                return Err(DomainError::new(
                    "sla_requirements_met",
                    "must be confirmed to approve; reject with reasons otherwise",
                ));
            }
            if !self.baseline_met {
                return Err(DomainError::new(
                    "baseline_met",
                    "must be confirmed to approve; reject with reasons otherwise",
                ));
            }
        } else if self.reasons.is_empty() {
            return Err(DomainError::new(
                "reasons",
                "a rejection needs reasons the author can act on",
            ));
        }
        Ok(self)
    }
}

/// A recorded review of one text of a fix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Review {
    pub fix: FixKind,
    pub reviewer: Option<UserId>,
    pub at: Timestamp,
    pub decision: Decision,
    pub reasons: String,
    pub sla_requirements_met: bool,
    pub baseline_met: bool,
    pub notes: String,
    /// SHA-256 of the text reviewed.
    pub text_sha256: String,
    /// Whether the problem was marked as introducing security risk when reviewed.
    pub security_risk: bool,
    pub check: SecurityCheck,
}
