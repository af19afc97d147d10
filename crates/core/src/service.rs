//! The parties and the catalogue of service level management: customers (external, or
//! internal business units) with their representatives, suppliers, and services — a
//! business_service CI with a catalogue entry (owner, service hours, the security baseline
//! every customer gets, standard targets).

use crate::account::{check_name, clean_text};
use crate::calendar::ServiceHours;
use crate::error::DomainError;
use crate::ids::{CiId, ControlId, CustomerId, DepartmentId, SupplierId, UserId};
use crate::time::{Date, Timestamp};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum CustomerKind {
    External,
    Internal,
}

impl CustomerKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CustomerKind::External => "external",
            CustomerKind::Internal => "internal",
        }
    }

    pub fn parse(s: &str) -> Result<Self, DomainError> {
        match s.trim() {
            "external" => Ok(Self::External),
            "internal" => Ok(Self::Internal),
            _ => Err(DomainError::new("kind", "must be external or internal")),
        }
    }
}

/// What a person sets on a customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerInput {
    pub name: String,
    pub kind: CustomerKind,
    /// For an internal business unit: its department.
    pub department_id: Option<DepartmentId>,
    pub contact: String,
    pub notes: String,
    /// Users who speak for this customer (classification, agreement, reports).
    pub representatives: Vec<UserId>,
}

impl CustomerInput {
    pub fn new(
        name: &str,
        kind: CustomerKind,
        department_id: Option<DepartmentId>,
        contact: &str,
        notes: &str,
        mut representatives: Vec<UserId>,
    ) -> Result<Self, DomainError> {
        if kind == CustomerKind::External && department_id.is_some() {
            return Err(DomainError::new(
                "department_id",
                "only an internal customer belongs to a department",
            ));
        }
        representatives.sort();
        representatives.dedup();
        Ok(Self {
            name: check_name("name", name, 200)?,
            kind,
            department_id,
            contact: clean_text(contact, 500),
            notes: clean_text(notes, 4000),
            representatives,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Customer {
    pub id: CustomerId,
    pub name: String,
    pub kind: CustomerKind,
    pub department_id: Option<DepartmentId>,
    pub contact: String,
    pub notes: String,
    pub representatives: Vec<UserId>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum RiskTier {
    Low,
    Medium,
    High,
    Critical,
}

impl RiskTier {
    pub const ALL: [RiskTier; 4] = [Self::Low, Self::Medium, Self::High, Self::Critical];

    pub fn as_str(self) -> &'static str {
        match self {
            RiskTier::Low => "low",
            RiskTier::Medium => "medium",
            RiskTier::High => "high",
            RiskTier::Critical => "critical",
        }
    }

    pub fn parse(s: &str) -> Result<Self, DomainError> {
        Self::ALL
            .into_iter()
            .find(|t| t.as_str() == s.trim())
            .ok_or_else(|| DomainError::new("risk_tier", "must be low, medium, high or critical"))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SupplierInput {
    pub name: String,
    pub contact: String,
    /// What the organisation requires of this supplier's security.
    pub security_requirements: String,
    pub risk_tier: RiskTier,
    pub contract_start: Option<Date>,
    pub contract_end: Option<Date>,
}

impl SupplierInput {
    pub fn new(
        name: &str,
        contact: &str,
        security_requirements: &str,
        risk_tier: RiskTier,
        contract_start: Option<Date>,
        contract_end: Option<Date>,
    ) -> Result<Self, DomainError> {
        check_period(
            "contract_end",
            contract_start.as_ref(),
            contract_end.as_ref(),
        )?;
        Ok(Self {
            name: check_name("name", name, 200)?,
            contact: clean_text(contact, 500),
            security_requirements: clean_text(security_requirements, 8000),
            risk_tier,
            contract_start,
            contract_end,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Supplier {
    pub id: SupplierId,
    pub name: String,
    pub contact: String,
    pub security_requirements: String,
    pub risk_tier: RiskTier,
    pub contract_start: Option<Date>,
    pub contract_end: Option<Date>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// An end date, when both are given, must not precede the start.
pub fn check_period(
    field: &str,
    from: Option<&Date>,
    to: Option<&Date>,
) -> Result<(), DomainError> {
    match (from, to) {
        (Some(f), Some(t)) if t < f => Err(DomainError::new(field, "must not be before the start")),
        _ => Ok(()),
    }
}

/// Response and resolution targets for one priority, in business minutes of the service
/// calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PriorityTarget {
    pub response_minutes: u32,
    pub resolution_minutes: u32,
}

/// Service targets: availability and P1–P4 response/resolution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Targets {
    /// Percentage of agreed service time, e.g. 99.5.
    pub availability_pct: f64,
    /// P1, P2, P3, P4 in that order.
    pub priorities: [PriorityTarget; 4],
}

impl Default for Targets {
    fn default() -> Self {
        let t = |r, s| PriorityTarget {
            response_minutes: r,
            resolution_minutes: s,
        };
        Self {
            availability_pct: 99.0,
            priorities: [t(15, 240), t(30, 480), t(240, 1440), t(480, 4800)],
        }
    }
}

impl Targets {
    pub fn validate(&self) -> Result<(), DomainError> {
        if !(self.availability_pct.is_finite() && (0.0..=100.0).contains(&self.availability_pct)) {
            return Err(DomainError::new(
                "targets.availability_pct",
                "must be a percentage between 0 and 100",
            ));
        }
        for (i, p) in self.priorities.iter().enumerate() {
            let f = |what: &str| format!("targets.priorities[{i}].{what}");
            if p.response_minutes == 0 || p.response_minutes > 525_600 {
                return Err(DomainError::new(
                    f("response_minutes"),
                    "must be 1 to 525600",
                ));
            }
            if p.resolution_minutes < p.response_minutes || p.resolution_minutes > 525_600 {
                return Err(DomainError::new(
                    f("resolution_minutes"),
                    "must be at least the response time and at most 525600",
                ));
            }
        }
        Ok(())
    }
}

/// What a service owner sets on a service's catalogue entry.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceInput {
    pub description: String,
    pub owner_id: Option<UserId>,
    pub hours: ServiceHours,
    /// The security baseline: controls every customer of this service gets.
    pub baseline: Vec<ControlId>,
    pub targets: Targets,
}

impl ServiceInput {
    pub fn new(
        description: &str,
        owner_id: Option<UserId>,
        hours: ServiceHours,
        mut baseline: Vec<ControlId>,
        targets: Targets,
    ) -> Result<Self, DomainError> {
        hours.validate()?;
        targets.validate()?;
        baseline.sort();
        baseline.dedup();
        Ok(Self {
            description: clean_text(description, 8000),
            owner_id,
            hours,
            baseline,
            targets,
        })
    }
}

/// A catalogue entry on a business_service CI.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Service {
    pub ci_id: CiId,
    pub name: String,
    pub description: String,
    pub owner_id: Option<UserId>,
    pub hours: ServiceHours,
    pub baseline: Vec<ControlId>,
    pub targets: Targets,
    pub updated_at: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn external_customers_have_no_department_and_representatives_are_unique() {
        let u = UserId::new();
        let c =
            CustomerInput::new("Acme", CustomerKind::Internal, None, "", "", vec![u, u]).unwrap();
        assert_eq!(c.representatives, vec![u]);
        let err = CustomerInput::new(
            "Acme",
            CustomerKind::External,
            Some(DepartmentId::new()),
            "",
            "",
            vec![],
        )
        .unwrap_err();
        assert_eq!(err.field, "department_id");
        assert_eq!(
            CustomerInput::new(" ", CustomerKind::External, None, "", "", vec![])
                .unwrap_err()
                .field,
            "name"
        );
    }

    #[test]
    fn targets_are_checked_per_priority() {
        assert!(Targets::default().validate().is_ok());
        let t = Targets {
            availability_pct: 100.5,
            ..Default::default()
        };
        assert_eq!(t.validate().unwrap_err().field, "targets.availability_pct");
        let mut t = Targets::default();
        t.priorities[2].resolution_minutes = 1;
        assert_eq!(
            t.validate().unwrap_err().field,
            "targets.priorities[2].resolution_minutes"
        );
        let mut t = Targets::default();
        t.priorities[0].response_minutes = 0;
        assert_eq!(
            t.validate().unwrap_err().field,
            "targets.priorities[0].response_minutes"
        );
    }

    #[test]
    fn contract_periods_run_forward() {
        let a = Date::parse("d", "2026-01-01").unwrap();
        let b = Date::parse("d", "2025-01-01").unwrap();
        let err = SupplierInput::new(
            "X",
            "",
            "",
            RiskTier::High,
            Some(a.clone()),
            Some(b.clone()),
        )
        .unwrap_err();
        assert_eq!(err.field, "contract_end");
        assert!(SupplierInput::new("X", "", "", RiskTier::High, Some(b), Some(a)).is_ok());
        assert_eq!(RiskTier::parse("extreme").unwrap_err().field, "risk_tier");
    }
}
