//! Service level agreements with a security section, operational level agreements (OLAs)
//! and underpinning contracts (UCs), and the pure rules around them: the requirements check
//! (SLA requirements against the service's baseline) and underpinning (which OLA/UC assures
//! each requirement's controls).
//!
//! An SLA is customer × service × validity period. It is drafted, then agreed by both sides
//! (a representative of the customer and the service owner, each recorded); an agreed SLA
//! never changes — a change is a new version in the same series, which supersedes the old
//! one when it is agreed in turn. Agreement makes the SLA binding: its classification is
//! raised onto the service CI (and spreads through the CMDB), its requirements' controls
//! become required controls of the service and everything that inherits from it.

use crate::account::{Role, check_name, clean_text};
use crate::classification::{Classification, Level};
use crate::error::DomainError;
use crate::ids::{
    CiId, ContractId, ControlId, CustomerId, DepartmentId, OlaId, SlaId, SupplierId, UserId,
};
use crate::service::{Targets, check_period};
use crate::time::{Date, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum SlaStatus {
    Draft,
    Agreed,
    /// Replaced by an agreed later version.
    Superseded,
    /// Past its validity period.
    Expired,
}

impl SlaStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SlaStatus::Draft => "draft",
            SlaStatus::Agreed => "agreed",
            SlaStatus::Superseded => "superseded",
            SlaStatus::Expired => "expired",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "draft" => Some(Self::Draft),
            "agreed" => Some(Self::Agreed),
            "superseded" => Some(Self::Superseded),
            "expired" => Some(Self::Expired),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Frequency {
    Monthly,
    Quarterly,
}

impl Frequency {
    pub fn as_str(self) -> &'static str {
        match self {
            Frequency::Monthly => "monthly",
            Frequency::Quarterly => "quarterly",
        }
    }
}

/// A C/I/A level condition: an affected CI whose `dimension` is at least `at_least`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LevelCriterion {
    /// "confidentiality", "integrity" or "availability".
    pub dimension: String,
    pub at_least: Level,
}

/// What counts as a security incident for this customer; evaluated by the incident
/// recognition rules.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IncidentCriteria {
    /// Incident categories that are always security incidents (e.g. data_leak, malware).
    #[serde(default)]
    pub categories: Vec<String>,
    /// An affected CI classified at least this high in this dimension.
    #[serde(default)]
    pub affected_levels: Vec<LevelCriterion>,
    /// A required control of an affected CI in state failed.
    #[serde(default)]
    pub control_failures: bool,
    /// Words in the title or description (case-insensitive).
    #[serde(default)]
    pub keywords: Vec<String>,
}

/// A security requirement beyond the baseline, met by one or more controls.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Requirement {
    /// Short reference unique within the SLA, e.g. "SR-1".
    pub key: String,
    pub text: String,
    pub controls: Vec<ControlId>,
}

/// The security section of an SLA.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SecuritySection {
    /// The customer's classification of its information; becomes the explicit
    /// classification of the service CI when the SLA is agreed.
    pub classification: Classification,
    #[serde(default)]
    pub requirements: Vec<Requirement>,
    #[serde(default)]
    pub incident_criteria: IncidentCriteria,
    /// Users allowed to see and handle this customer's records.
    #[serde(default)]
    pub authorised_users: Vec<UserId>,
    #[serde(default)]
    pub authorised_roles: Vec<Role>,
    #[serde(default)]
    pub asset_protection: String,
    #[serde(default)]
    pub copying_restrictions: String,
    pub reporting: Frequency,
}

/// Built-in KPI metrics. Those whose data arrives with later features report "no data yet".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Metric {
    AvailabilityAchieved,
    ResponseWithinTarget,
    ResolutionWithinTarget,
    SecurityIncidents,
    MeanTimeToContain,
    ControlCoverage,
    OverdueControlReviews,
    OverdueContinuityTests,
}

impl Metric {
    pub const ALL: [Metric; 8] = [
        Metric::AvailabilityAchieved,
        Metric::ResponseWithinTarget,
        Metric::ResolutionWithinTarget,
        Metric::SecurityIncidents,
        Metric::MeanTimeToContain,
        Metric::ControlCoverage,
        Metric::OverdueControlReviews,
        Metric::OverdueContinuityTests,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Metric::AvailabilityAchieved => "availability_achieved",
            Metric::ResponseWithinTarget => "response_within_target",
            Metric::ResolutionWithinTarget => "resolution_within_target",
            Metric::SecurityIncidents => "security_incidents",
            Metric::MeanTimeToContain => "mean_time_to_contain",
            Metric::ControlCoverage => "control_coverage",
            Metric::OverdueControlReviews => "overdue_control_reviews",
            Metric::OverdueContinuityTests => "overdue_continuity_tests",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Metric::AvailabilityAchieved => "Availability achieved (%)",
            Metric::ResponseWithinTarget => "Incidents responded to within target (%)",
            Metric::ResolutionWithinTarget => "Incidents resolved within target (%)",
            Metric::SecurityIncidents => "Security incidents (count)",
            Metric::MeanTimeToContain => "Mean time to contain security incidents (hours)",
            Metric::ControlCoverage => "Control coverage (%)",
            Metric::OverdueControlReviews => "Overdue control reviews (count)",
            Metric::OverdueContinuityTests => "Overdue continuity tests (count)",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == s)
    }

    /// Whether the metric is a percentage (0–100).
    pub fn is_percentage(self) -> bool {
        matches!(
            self,
            Metric::AvailabilityAchieved
                | Metric::ResponseWithinTarget
                | Metric::ResolutionWithinTarget
                | Metric::ControlCoverage
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Comparison {
    AtLeast,
    AtMost,
}

impl Comparison {
    pub fn met(self, value: f64, target: f64) -> bool {
        match self {
            Comparison::AtLeast => value >= target,
            Comparison::AtMost => value <= target,
        }
    }

    pub fn symbol(self) -> &'static str {
        match self {
            Comparison::AtLeast => "≥",
            Comparison::AtMost => "≤",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Kpi {
    pub metric: Metric,
    pub target: f64,
    pub comparison: Comparison,
    /// How it is measured, in words the customer agreed to.
    #[serde(default)]
    pub measured_how: String,
}

/// Everything a person writes in an SLA (draft or new version).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SlaTerms {
    pub name: String,
    pub customer_id: CustomerId,
    pub service_id: CiId,
    pub valid_from: Date,
    pub valid_to: Date,
    pub targets: Targets,
    pub security: SecuritySection,
    #[serde(default)]
    pub kpis: Vec<Kpi>,
}

impl SlaTerms {
    /// Checks and normalises every field; errors name the field.
    pub fn validate(mut self) -> Result<Self, DomainError> {
        self.name = check_name("name", &self.name, 200)?;
        check_period("valid_to", Some(&self.valid_from), Some(&self.valid_to))?;
        self.targets.validate()?;
        let s = &mut self.security;
        let mut keys = BTreeSet::new();
        for (i, r) in s.requirements.iter_mut().enumerate() {
            r.key = check_name(&format!("security.requirements[{i}].key"), &r.key, 40)?;
            r.text = check_name(&format!("security.requirements[{i}].text"), &r.text, 2000)?;
            if !keys.insert(r.key.clone()) {
                return Err(DomainError::new(
                    format!("security.requirements[{i}].key"),
                    "is used twice",
                ));
            }
            if r.controls.is_empty() {
                return Err(DomainError::new(
                    format!("security.requirements[{i}].controls"),
                    "must name at least one control",
                ));
            }
            r.controls.sort();
            r.controls.dedup();
        }
        let c = &mut s.incident_criteria;
        for (i, cat) in c.categories.iter_mut().enumerate() {
            *cat = check_category(&format!("security.incident_criteria.categories[{i}]"), cat)?;
        }
        for (i, l) in c.affected_levels.iter().enumerate() {
            if !crate::classification::DIMENSIONS.contains(&l.dimension.as_str()) {
                return Err(DomainError::new(
                    format!("security.incident_criteria.affected_levels[{i}].dimension"),
                    "must be confidentiality, integrity or availability",
                ));
            }
        }
        c.keywords = c
            .keywords
            .iter()
            .map(|k| clean_text(k, 100).to_lowercase())
            .filter(|k| !k.is_empty())
            .collect();
        s.authorised_users.sort();
        s.authorised_users.dedup();
        s.asset_protection = clean_text(&s.asset_protection, 8000);
        s.copying_restrictions = clean_text(&s.copying_restrictions, 8000);
        for (i, k) in self.kpis.iter_mut().enumerate() {
            let field = format!("kpis[{i}].target");
            if !k.target.is_finite() || k.target < 0.0 {
                return Err(DomainError::new(field, "must be a number ≥ 0"));
            }
            if k.metric.is_percentage() && k.target > 100.0 {
                return Err(DomainError::new(field, "is a percentage: at most 100"));
            }
            k.measured_how = clean_text(&k.measured_how, 2000);
        }
        Ok(self)
    }

    /// Every control the requirements name, once.
    pub fn requirement_controls(&self) -> BTreeSet<ControlId> {
        self.security
            .requirements
            .iter()
            .flat_map(|r| r.controls.iter().copied())
            .collect()
    }
}

/// An incident category: lowercase letters, digits and underscores.
pub fn check_category(field: &str, s: &str) -> Result<String, DomainError> {
    let s = s.trim().to_lowercase();
    if s.is_empty()
        || s.len() > 60
        || !s
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        return Err(DomainError::new(
            field,
            "must be 1–60 lowercase letters, digits or underscores",
        ));
    }
    Ok(s)
}

/// One side's agreement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Agreement {
    pub user_id: UserId,
    pub at: Timestamp,
}

/// One version of an SLA.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sla {
    pub id: SlaId,
    /// The first version's id; shared by every version.
    pub series_id: SlaId,
    pub version: i32,
    pub status: SlaStatus,
    #[serde(flatten)]
    pub terms: SlaTerms,
    pub customer_agreement: Option<Agreement>,
    pub owner_agreement: Option<Agreement>,
    pub created_by: Option<UserId>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Sla {
    /// The status in effect on `today`: an agreed SLA past its end date has expired even
    /// before the background job records it.
    pub fn status_on(&self, today: &Date) -> SlaStatus {
        match self.status {
            SlaStatus::Agreed if &self.terms.valid_to < today => SlaStatus::Expired,
            s => s,
        }
    }
}

/// Which side agrees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Side {
    Customer,
    Owner,
}

/// Decides whether `side` may record its agreement on `sla` now. Pure: the caller says
/// whether the user speaks for that side.
pub fn check_agreement(sla: &Sla, side: Side, today: &Date) -> Result<(), DomainError> {
    if sla.status != SlaStatus::Draft {
        return Err(DomainError::new(
            "status",
            "only a draft can be agreed; change an agreed SLA with a new version",
        ));
    }
    if &sla.terms.valid_to < today {
        return Err(DomainError::new(
            "valid_to",
            "the validity period has already ended",
        ));
    }
    let done = match side {
        Side::Customer => &sla.customer_agreement,
        Side::Owner => &sla.owner_agreement,
    };
    if done.is_some() {
        return Err(DomainError::new("side", "this side has already agreed"));
    }
    Ok(())
}

/// Where a requirement's controls stand against the service's baseline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
// Not `Coverage`: that is the control coverage of an SLA report.
#[cfg_attr(feature = "openapi", schema(as = RequirementCoverage))]
pub enum Coverage {
    /// Every control is in the service's baseline (or the level baseline its
    /// classification requires): no extra cost.
    Baseline,
    /// At least one control is beyond the baseline: extra controls and cost.
    Additional,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RequirementCheck {
    pub key: String,
    pub text: String,
    pub coverage: Coverage,
    /// Controls beyond the baseline.
    pub additional_controls: Vec<ControlId>,
    /// Controls nobody implements yet (no implemented or verified record anywhere).
    pub unimplemented_controls: Vec<ControlId>,
}

/// The requirements check (service level requirements against the catalogue): for each
/// requirement, whether the baseline covers it, which controls are additional, and which
/// no CI implements yet.
pub fn requirements_check(
    requirements: &[Requirement],
    baseline: &BTreeSet<ControlId>,
    implemented_anywhere: &BTreeSet<ControlId>,
) -> Vec<RequirementCheck> {
    requirements
        .iter()
        .map(|r| {
            let additional: Vec<ControlId> = r
                .controls
                .iter()
                .filter(|c| !baseline.contains(c))
                .copied()
                .collect();
            RequirementCheck {
                key: r.key.clone(),
                text: r.text.clone(),
                coverage: if additional.is_empty() {
                    Coverage::Baseline
                } else {
                    Coverage::Additional
                },
                additional_controls: additional,
                unimplemented_controls: r
                    .controls
                    .iter()
                    .filter(|c| !implemented_anywhere.contains(c))
                    .copied()
                    .collect(),
            }
        })
        .collect()
}

/// An operational level agreement: how an internal team assures a service component.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OlaTerms {
    pub service_id: CiId,
    /// The team: a department, or a named support group.
    pub department_id: Option<DepartmentId>,
    pub team: String,
    /// The component: one CI, or every CI of a type.
    pub component_ci: Option<CiId>,
    pub component_type: Option<String>,
    /// The controls this team assures for the component.
    #[serde(default)]
    pub controls: Vec<ControlId>,
    /// Targets in words (e.g. "patches within 14 days").
    #[serde(default)]
    pub targets: String,
    pub valid_from: Date,
    pub valid_to: Date,
    pub review_date: Option<Date>,
}

impl OlaTerms {
    pub fn validate(mut self) -> Result<Self, DomainError> {
        self.team = check_name("team", &self.team, 200)?;
        if self.component_ci.is_some() == self.component_type.is_some() {
            return Err(DomainError::new(
                "component_ci",
                "name either one CI (component_ci) or a CI type (component_type)",
            ));
        }
        self.targets = clean_text(&self.targets, 4000);
        check_period("valid_to", Some(&self.valid_from), Some(&self.valid_to))?;
        self.controls.sort();
        self.controls.dedup();
        Ok(self)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ola {
    pub id: OlaId,
    #[serde(flatten)]
    pub terms: OlaTerms,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// An underpinning contract with a supplier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ContractTerms {
    pub supplier_id: SupplierId,
    pub service_id: CiId,
    pub title: String,
    #[serde(default)]
    pub security_requirements: String,
    /// The controls the supplier assures.
    #[serde(default)]
    pub controls: Vec<ControlId>,
    #[serde(default)]
    pub penalties: String,
    pub penalty_amount: Option<f64>,
    #[serde(default)]
    pub currency: String,
    pub valid_from: Date,
    pub valid_to: Date,
    pub review_date: Option<Date>,
}

impl ContractTerms {
    pub fn validate(mut self) -> Result<Self, DomainError> {
        self.title = check_name("title", &self.title, 200)?;
        self.security_requirements = clean_text(&self.security_requirements, 8000);
        self.penalties = clean_text(&self.penalties, 4000);
        self.currency = self.currency.trim().to_uppercase();
        if let Some(a) = self.penalty_amount {
            if !a.is_finite() || a < 0.0 {
                return Err(DomainError::new("penalty_amount", "must be a number ≥ 0"));
            }
            if self.currency.len() != 3 || !self.currency.chars().all(|c| c.is_ascii_uppercase()) {
                return Err(DomainError::new(
                    "currency",
                    "a penalty amount needs a three-letter currency code (EUR, USD…)",
                ));
            }
        }
        check_period("valid_to", Some(&self.valid_from), Some(&self.valid_to))?;
        self.controls.sort();
        self.controls.dedup();
        Ok(self)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Contract {
    pub id: ContractId,
    #[serde(flatten)]
    pub terms: ContractTerms,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// Who assures one control of a requirement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Underpin {
    Ola { id: OlaId, team: String },
    Contract { id: ContractId, title: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RequirementUnderpinning {
    pub sla_id: SlaId,
    pub key: String,
    pub text: String,
    /// Per control of the requirement: the OLAs and contracts that assure it.
    pub controls: BTreeMap<ControlId, Vec<Underpin>>,
    /// True when some control is assured by nothing.
    pub unsupported: bool,
}

/// Which OLA or UC underpins each requirement of the given SLAs; only agreements valid on
/// `today` count.
pub fn underpinning(
    slas: &[&Sla],
    olas: &[Ola],
    contracts: &[Contract],
    today: &Date,
) -> Vec<RequirementUnderpinning> {
    let valid = |from: &Date, to: &Date| from <= today && today <= to;
    let mut out = vec![];
    for sla in slas {
        for r in &sla.terms.security.requirements {
            let mut controls = BTreeMap::new();
            for c in &r.controls {
                let mut by: Vec<Underpin> = olas
                    .iter()
                    .filter(|o| valid(&o.terms.valid_from, &o.terms.valid_to))
                    .filter(|o| o.terms.controls.contains(c))
                    .map(|o| Underpin::Ola {
                        id: o.id,
                        team: o.terms.team.clone(),
                    })
                    .collect();
                by.extend(
                    contracts
                        .iter()
                        .filter(|k| valid(&k.terms.valid_from, &k.terms.valid_to))
                        .filter(|k| k.terms.controls.contains(c))
                        .map(|k| Underpin::Contract {
                            id: k.id,
                            title: k.terms.title.clone(),
                        }),
                );
                controls.insert(*c, by);
            }
            out.push(RequirementUnderpinning {
                sla_id: sla.id,
                key: r.key.clone(),
                text: r.text.clone(),
                unsupported: controls.values().any(|v| v.is_empty()),
                controls,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests;
