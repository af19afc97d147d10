//! Customers, suppliers, services, OLAs, contracts, SLAs, kept reports and leases.

use crate::authz::Actor;
use crate::error::StoreResult;
use crate::ids::UserId;
use crate::page::{Page, PageRequest};
use crate::time::Timestamp;
use async_trait::async_trait;
use serde::Serialize;

/// Which SLAs a list returns. `customers = Some(..)` restricts to those customers (a
/// customer representative's view).
#[derive(Debug, Clone, Default)]
pub struct SlaFilter {
    pub customers: Option<Vec<crate::ids::CustomerId>>,
    pub service: Option<crate::ids::CiId>,
    pub status: Option<crate::sla::SlaStatus>,
}

/// A kept report's metadata; its content is the `SlaReport` JSON whose SHA-256 is `sha256`.
#[derive(Debug, Clone, Serialize)]
pub struct KeptReport {
    pub id: crate::ids::ReportId,
    pub sla_id: crate::ids::SlaId,
    pub period: crate::sla_report::Period,
    pub generated_at: Timestamp,
    /// None when the scheduler generated it.
    pub generated_by: Option<UserId>,
    pub sha256: String,
}

/// Customers, suppliers, the service catalogue, SLAs, OLAs, contracts and kept reports.
#[async_trait]
pub trait ServiceLevelStore {
    async fn create_customer(
        &self,
        actor: &Actor,
        c: crate::service::CustomerInput,
    ) -> StoreResult<crate::service::Customer>;
    async fn update_customer(
        &self,
        actor: &Actor,
        id: crate::ids::CustomerId,
        c: crate::service::CustomerInput,
    ) -> StoreResult<crate::service::Customer>;
    /// Refused (conflict) while SLAs refer to the customer.
    async fn delete_customer(&self, actor: &Actor, id: crate::ids::CustomerId) -> StoreResult<()>;
    async fn customer(&self, id: crate::ids::CustomerId) -> StoreResult<crate::service::Customer>;
    async fn list_customers(
        &self,
        page: PageRequest,
    ) -> StoreResult<Page<crate::service::Customer>>;
    /// The customers `user` represents.
    async fn customers_of(&self, user: UserId) -> StoreResult<Vec<crate::ids::CustomerId>>;

    async fn create_supplier(
        &self,
        actor: &Actor,
        s: crate::service::SupplierInput,
    ) -> StoreResult<crate::service::Supplier>;
    async fn update_supplier(
        &self,
        actor: &Actor,
        id: crate::ids::SupplierId,
        s: crate::service::SupplierInput,
    ) -> StoreResult<crate::service::Supplier>;
    /// Refused (conflict) while contracts refer to the supplier.
    async fn delete_supplier(&self, actor: &Actor, id: crate::ids::SupplierId) -> StoreResult<()>;
    async fn supplier(&self, id: crate::ids::SupplierId) -> StoreResult<crate::service::Supplier>;
    async fn list_suppliers(
        &self,
        page: PageRequest,
    ) -> StoreResult<Page<crate::service::Supplier>>;

    /// Creates or replaces the catalogue entry of a business_service CI.
    async fn put_service(
        &self,
        actor: &Actor,
        ci: crate::ids::CiId,
        s: crate::service::ServiceInput,
    ) -> StoreResult<crate::service::Service>;
    async fn service(&self, ci: crate::ids::CiId) -> StoreResult<crate::service::Service>;
    async fn list_services(&self, page: PageRequest) -> StoreResult<Page<crate::service::Service>>;

    async fn create_sla(
        &self,
        actor: &Actor,
        terms: crate::sla::SlaTerms,
    ) -> StoreResult<crate::sla::Sla>;
    /// Replaces a draft's terms; anything but a draft is refused (conflict).
    async fn update_sla(
        &self,
        actor: &Actor,
        id: crate::ids::SlaId,
        terms: crate::sla::SlaTerms,
    ) -> StoreResult<crate::sla::Sla>;
    /// Deletes a draft; anything else is refused (conflict).
    async fn delete_sla(&self, actor: &Actor, id: crate::ids::SlaId) -> StoreResult<()>;
    /// A new draft version copying `id`'s terms; refused while the series has a draft.
    async fn new_sla_version(
        &self,
        actor: &Actor,
        id: crate::ids::SlaId,
    ) -> StoreResult<crate::sla::Sla>;
    /// Records one side's agreement (rules in `sla::check_agreement`). When both sides have
    /// agreed, in the same transaction: the SLA becomes agreed, earlier agreed versions are
    /// superseded, the service CI's explicit classification is raised to the SLA's and
    /// re-propagated, and the requirements' controls become required on the service.
    async fn agree_sla(
        &self,
        actor: &Actor,
        id: crate::ids::SlaId,
        side: crate::sla::Side,
        today: &crate::time::Date,
    ) -> StoreResult<crate::sla::Sla>;
    /// Marks agreed SLAs whose validity ended before `today` as expired and drops their
    /// required controls; returns their services (once each).
    async fn expire_slas(&self, today: &crate::time::Date) -> StoreResult<Vec<crate::ids::CiId>>;
    async fn sla(&self, id: crate::ids::SlaId) -> StoreResult<crate::sla::Sla>;
    async fn list_slas(
        &self,
        f: &SlaFilter,
        page: PageRequest,
    ) -> StoreResult<Page<crate::sla::Sla>>;
    /// Every version of a series, oldest first.
    async fn sla_versions(&self, series: crate::ids::SlaId) -> StoreResult<Vec<crate::sla::Sla>>;

    async fn create_ola(
        &self,
        actor: &Actor,
        o: crate::sla::OlaTerms,
    ) -> StoreResult<crate::sla::Ola>;
    async fn update_ola(
        &self,
        actor: &Actor,
        id: crate::ids::OlaId,
        o: crate::sla::OlaTerms,
    ) -> StoreResult<crate::sla::Ola>;
    async fn delete_ola(&self, actor: &Actor, id: crate::ids::OlaId) -> StoreResult<()>;
    async fn ola(&self, id: crate::ids::OlaId) -> StoreResult<crate::sla::Ola>;
    async fn list_olas(
        &self,
        service: Option<crate::ids::CiId>,
        page: PageRequest,
    ) -> StoreResult<Page<crate::sla::Ola>>;

    async fn create_contract(
        &self,
        actor: &Actor,
        c: crate::sla::ContractTerms,
    ) -> StoreResult<crate::sla::Contract>;
    async fn update_contract(
        &self,
        actor: &Actor,
        id: crate::ids::ContractId,
        c: crate::sla::ContractTerms,
    ) -> StoreResult<crate::sla::Contract>;
    async fn delete_contract(&self, actor: &Actor, id: crate::ids::ContractId) -> StoreResult<()>;
    async fn contract(&self, id: crate::ids::ContractId) -> StoreResult<crate::sla::Contract>;
    async fn list_contracts(
        &self,
        service: Option<crate::ids::CiId>,
        page: PageRequest,
    ) -> StoreResult<Page<crate::sla::Contract>>;

    /// Of `controls`, those some CI has implemented or verified.
    async fn implemented_controls(
        &self,
        controls: &[crate::ids::ControlId],
    ) -> StoreResult<Vec<crate::ids::ControlId>>;

    /// Keeps a generated report (immutable; a second one for the same SLA and period is a
    /// conflict); its hash goes into the audit chain.
    async fn keep_report(
        &self,
        actor: &Actor,
        sla: crate::ids::SlaId,
        period: &crate::sla_report::Period,
        content: &str,
    ) -> StoreResult<KeptReport>;
    /// A kept report and its content.
    async fn kept_report(
        &self,
        sla: crate::ids::SlaId,
        period: &crate::sla_report::Period,
    ) -> StoreResult<(KeptReport, String)>;
    /// Kept reports of every version in the SLA's series, newest period first.
    async fn list_reports(&self, sla: crate::ids::SlaId) -> StoreResult<Vec<KeptReport>>;
    /// Up to `n` kept reports of the series before `period`, newest first, with content.
    async fn report_history(
        &self,
        sla: crate::ids::SlaId,
        before: &crate::sla_report::Period,
        n: u32,
    ) -> StoreResult<Vec<(KeptReport, String)>>;

    /// Takes or renews the named lease for `holder` until `until` if it is free or expired
    /// (or already held by `holder`); false when another holder has it. Background jobs use
    /// it so one instance runs them.
    async fn take_lease(
        &self,
        name: &str,
        holder: &str,
        now: Timestamp,
        until: Timestamp,
    ) -> StoreResult<bool>;
}
