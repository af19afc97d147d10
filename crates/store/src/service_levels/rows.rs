//! Row shapes of service level management: customers (with representatives), suppliers, the
//! service catalogue, the terms of OLAs and contracts; the helpers that map their errors.

use custos_core::service::{Customer, CustomerKind, RiskTier, Service, Supplier};
use custos_core::sla::{Contract, ContractTerms, Ola, OlaTerms};
use custos_core::time::Date;
use custos_core::{
    CiId, ContractId, CustomerId, DepartmentId, OlaId, StoreError, SupplierId, Timestamp, UserId,
};
use uuid::Uuid;

#[derive(sqlx::FromRow)]
pub(crate) struct CustomerRow {
    id: Uuid,
    name: String,
    kind: String,
    department_id: Option<Uuid>,
    contact: String,
    notes: String,
    created_at: i64,
    updated_at: i64,
}

impl CustomerRow {
    pub(crate) fn into_customer(self, reps: Vec<UserId>) -> Result<Customer, StoreError> {
        Ok(Customer {
            id: CustomerId(self.id),
            name: self.name,
            kind: CustomerKind::parse(&self.kind)?,
            department_id: self.department_id.map(DepartmentId),
            contact: self.contact,
            notes: self.notes,
            representatives: reps,
            created_at: Timestamp(self.created_at),
            updated_at: Timestamp(self.updated_at),
        })
    }
}

pub(crate) fn customer_view(c: &Customer) -> serde_json::Value {
    serde_json::json!({
        "name": c.name, "kind": c.kind.as_str(),
        "department_id": c.department_id.map(|d| d.to_string()),
        "contact": c.contact, "notes": c.notes,
        "representatives": c.representatives.iter().map(|u| u.to_string()).collect::<Vec<_>>(),
    })
}

#[derive(sqlx::FromRow)]
pub(crate) struct SupplierRow {
    id: Uuid,
    name: String,
    contact: String,
    security_requirements: String,
    risk_tier: String,
    contract_start: Option<String>,
    contract_end: Option<String>,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<SupplierRow> for Supplier {
    type Error = StoreError;
    fn try_from(r: SupplierRow) -> Result<Self, StoreError> {
        let date = |s: Option<String>| s.map(|s| Date::parse("date", &s)).transpose();
        Ok(Supplier {
            id: SupplierId(r.id),
            name: r.name,
            contact: r.contact,
            security_requirements: r.security_requirements,
            risk_tier: RiskTier::parse(&r.risk_tier)?,
            contract_start: date(r.contract_start)?,
            contract_end: date(r.contract_end)?,
            created_at: Timestamp(r.created_at),
            updated_at: Timestamp(r.updated_at),
        })
    }
}

pub(crate) fn json_of<T: ::serde::Serialize>(v: &T) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
}

pub(crate) fn parse_json<T: ::serde::de::DeserializeOwned>(
    what: &str,
    s: &str,
) -> Result<T, StoreError> {
    serde_json::from_str(s)
        .map_err(|e| StoreError::Internal(format!("stored {what} unreadable: {e}")))
}

#[derive(sqlx::FromRow)]
pub(crate) struct ServiceRow {
    ci_id: Uuid,
    name: String,
    description: String,
    owner_id: Option<Uuid>,
    hours: String,
    targets: String,
    updated_at: i64,
}

impl ServiceRow {
    pub(crate) fn into_service(
        self,
        baseline: Vec<custos_core::ControlId>,
    ) -> Result<Service, StoreError> {
        Ok(Service {
            ci_id: CiId(self.ci_id),
            name: self.name,
            description: self.description,
            owner_id: self.owner_id.map(UserId),
            hours: parse_json("service hours", &self.hours)?,
            targets: parse_json("targets", &self.targets)?,
            baseline,
            updated_at: Timestamp(self.updated_at),
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct TermsRow {
    id: Uuid,
    terms: String,
    pub(crate) created_at: i64,
    updated_at: i64,
}

impl TryFrom<TermsRow> for Ola {
    type Error = StoreError;
    fn try_from(r: TermsRow) -> Result<Self, StoreError> {
        Ok(Ola {
            id: OlaId(r.id),
            terms: parse_json::<OlaTerms>("OLA", &r.terms)?,
            created_at: Timestamp(r.created_at),
            updated_at: Timestamp(r.updated_at),
        })
    }
}

impl TryFrom<TermsRow> for Contract {
    type Error = StoreError;
    fn try_from(r: TermsRow) -> Result<Self, StoreError> {
        Ok(Contract {
            id: ContractId(r.id),
            terms: parse_json::<ContractTerms>("contract", &r.terms)?,
            created_at: Timestamp(r.created_at),
            updated_at: Timestamp(r.updated_at),
        })
    }
}

/// A foreign-key refusal on insert or update means a referenced record does not exist.
pub(crate) fn missing_ref(entity: &'static str) -> impl Fn(StoreError) -> StoreError {
    move |e| match e {
        StoreError::Conflict { constraint }
            if constraint == "foreign_key" || constraint.ends_with("_fkey") =>
        {
            StoreError::not_found(entity)
        }
        other => other,
    }
}

impl TermsRow {
    pub(crate) fn new<T: ::serde::Serialize>(id: Uuid, t: &T, now: Timestamp) -> Self {
        Self {
            id,
            terms: serde_json::to_string(t).unwrap_or_default(),
            created_at: now.0,
            updated_at: now.0,
        }
    }
}

impl CustomerRow {
    pub(crate) fn id(&self) -> Uuid {
        self.id
    }
}

impl ServiceRow {
    pub(crate) fn ci_id(&self) -> Uuid {
        self.ci_id
    }
}
