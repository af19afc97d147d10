//! The storage contract. The store crate implements it on SQLite and on PostgreSQL; the
//! server holds an `Arc<dyn Store>` chosen from the database URL.
//!
//! Every method that changes state takes the [`Actor`] and writes its audit entry in the
//! same transaction as the change.

use crate::account::{
    Credentials, Department, NewDepartment, NewUser, SecurityProfile, User, UserPatch,
};
use crate::audit::AuditEntry;
use crate::authz::Actor;
use crate::error::StoreResult;
use crate::ids::{DepartmentId, SessionId, TokenId, UserId};
use crate::page::{Page, PageRequest};
use crate::secret::{PasswordHash, Secret};
use crate::time::Timestamp;
use async_trait::async_trait;
use serde::Serialize;

/// How far a web session has come through sign-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionStage {
    /// Password accepted; the TOTP code is still due.
    NeedsTotp,
    /// Password accepted; the department requires MFA and the user has none: enrolment only.
    NeedsEnrolment,
    /// Fully signed in.
    Full,
}

impl SessionStage {
    pub fn as_str(self) -> &'static str {
        match self {
            SessionStage::NeedsTotp => "needs_totp",
            SessionStage::NeedsEnrolment => "needs_enrolment",
            SessionStage::Full => "full",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "needs_totp" => Some(Self::NeedsTotp),
            "needs_enrolment" => Some(Self::NeedsEnrolment),
            "full" => Some(Self::Full),
            _ => None,
        }
    }
}

pub struct NewSession {
    pub id: SessionId,
    /// SHA-256 of the cookie value; the value itself is never stored.
    pub token_hash: String,
    pub user_id: UserId,
    pub stage: SessionStage,
    pub csrf_token: String,
    pub user_agent: String,
    pub now: Timestamp,
}

/// A session with its user and the user's current department profile, which decides the
/// lifetime and idle timeout (so a stricter profile applies at once).
#[derive(Debug, Clone)]
pub struct SessionRecord {
    pub id: SessionId,
    pub stage: SessionStage,
    pub csrf_token: String,
    pub user_agent: String,
    pub created_at: Timestamp,
    pub last_seen_at: Timestamp,
    pub user: User,
    pub profile: SecurityProfile,
}

impl SessionRecord {
    /// Whether the session is still valid at `now` under its profile. Sessions that have not
    /// finished signing in live at most 10 minutes.
    pub fn is_live(&self, now: Timestamp) -> bool {
        let (lifetime, idle) = match self.stage {
            SessionStage::Full => (
                self.profile.session_lifetime_minutes * 60,
                self.profile.idle_timeout_minutes * 60,
            ),
            _ => (600, 600),
        };
        !self.user.disabled
            && now < self.created_at.plus_secs(lifetime)
            && now < self.last_seen_at.plus_secs(idle)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct SessionInfo {
    pub id: SessionId,
    pub stage: SessionStage,
    pub user_agent: String,
    pub created_at: Timestamp,
    pub last_seen_at: Timestamp,
}

pub struct NewToken {
    pub user_id: UserId,
    pub name: String,
    pub token_hash: String,
    pub expires_at: Option<Timestamp>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ApiToken {
    pub id: TokenId,
    pub user_id: UserId,
    pub name: String,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
    pub last_used_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
}

/// A token lookup's answer: the token and the user it acts for.
#[derive(Debug, Clone)]
pub struct TokenOwner {
    pub token: ApiToken,
    pub user: User,
}

#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub entity_type: Option<String>,
    pub entity_id: Option<String>,
    pub actor: Option<String>,
    pub action: Option<String>,
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
}

#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct PoolStats {
    pub size: u32,
    pub idle: u32,
    pub max: u32,
}

#[async_trait]
pub trait DepartmentStore {
    async fn create_department(&self, actor: &Actor, d: NewDepartment) -> StoreResult<Department>;
    async fn update_department(
        &self,
        actor: &Actor,
        id: DepartmentId,
        d: NewDepartment,
    ) -> StoreResult<Department>;
    /// Refused (conflict) while users belong to the department.
    async fn delete_department(&self, actor: &Actor, id: DepartmentId) -> StoreResult<()>;
    async fn department(&self, id: DepartmentId) -> StoreResult<Department>;
    async fn department_by_name(&self, name: &str) -> StoreResult<Department>;
    async fn list_departments(&self, page: PageRequest) -> StoreResult<Page<Department>>;
}

#[async_trait]
pub trait UserStore {
    async fn create_user(&self, actor: &Actor, u: NewUser) -> StoreResult<User>;
    async fn update_user(&self, actor: &Actor, id: UserId, patch: UserPatch) -> StoreResult<User>;
    async fn set_password(&self, actor: &Actor, id: UserId, hash: PasswordHash) -> StoreResult<()>;
    async fn user(&self, id: UserId) -> StoreResult<User>;
    async fn list_users(&self, page: PageRequest) -> StoreResult<Page<User>>;
    async fn credentials_by_email(&self, email: &str) -> StoreResult<Credentials>;
    async fn credentials(&self, id: UserId) -> StoreResult<Credentials>;
}

#[async_trait]
pub trait AuthStore {
    /// Records that a sign-in attempt (password or second factor) for `email` starts, and
    /// returns its id and the number of attempts in the window since `since`, this one
    /// included. Inserting before counting means concurrent attempts see each other, so a
    /// burst cannot slip past the limit. A successful attempt is cleared again.
    async fn register_login_attempt(
        &self,
        email: &str,
        now: Timestamp,
        since: Timestamp,
    ) -> StoreResult<(uuid::Uuid, i64)>;
    async fn clear_login_attempt(&self, id: uuid::Uuid) -> StoreResult<()>;
    /// Audits a failed login for `email` (known account or not).
    async fn record_login_failure(
        &self,
        email: &str,
        user: Option<UserId>,
        reason: &str,
        now: Timestamp,
    ) -> StoreResult<()>;
    async fn login_failures_since(&self, email: &str, since: Timestamp) -> StoreResult<i64>;
    /// Audits a refused attempt during the cooling-off period.
    async fn record_login_throttled(
        &self,
        email: &str,
        user: Option<UserId>,
        now: Timestamp,
    ) -> StoreResult<()>;
    /// Audits a successful sign-in and clears the failure count.
    async fn record_login_success(
        &self,
        user: &User,
        method: &str,
        now: Timestamp,
    ) -> StoreResult<()>;

    /// Stores a not-yet-confirmed TOTP secret for enrolment.
    async fn set_pending_totp(
        &self,
        actor: &Actor,
        user: UserId,
        secret: &Secret,
    ) -> StoreResult<()>;
    async fn pending_totp(&self, user: UserId) -> StoreResult<Option<Secret>>;
    /// Turns the pending secret on, records the accepted step and replaces recovery codes.
    async fn confirm_totp(
        &self,
        actor: &Actor,
        user: UserId,
        step: i64,
        recovery_hashes: Vec<String>,
    ) -> StoreResult<()>;
    /// Atomically records `step` as used; false if it (or a later one) was used already.
    async fn accept_totp_step(&self, user: UserId, step: i64) -> StoreResult<bool>;
    /// Marks a recovery code used; false if it is unknown or used. Audited.
    async fn use_recovery_code(
        &self,
        actor: &Actor,
        user: UserId,
        code_hash: &str,
        now: Timestamp,
    ) -> StoreResult<bool>;
    async fn remaining_recovery_codes(&self, user: UserId) -> StoreResult<i64>;
    async fn disable_totp(&self, actor: &Actor, user: UserId) -> StoreResult<()>;

    async fn create_session(&self, s: NewSession) -> StoreResult<()>;
    async fn session_by_hash(&self, token_hash: &str) -> StoreResult<SessionRecord>;
    async fn touch_session(&self, id: SessionId, now: Timestamp) -> StoreResult<()>;
    /// Ends a session server-side (logout, revocation, stage change). Audited when `actor`
    /// is a user ending one of their sessions.
    async fn delete_session(&self, actor: &Actor, user: UserId, id: SessionId) -> StoreResult<()>;
    async fn list_sessions(&self, user: UserId) -> StoreResult<Vec<SessionInfo>>;
    async fn purge_expired_sessions(&self, now: Timestamp) -> StoreResult<u64>;

    async fn create_token(
        &self,
        actor: &Actor,
        t: NewToken,
        now: Timestamp,
    ) -> StoreResult<ApiToken>;
    /// A live (unrevoked, unexpired, enabled user) token by its hash.
    async fn token_owner(&self, token_hash: &str, now: Timestamp) -> StoreResult<TokenOwner>;
    async fn touch_token(&self, id: TokenId, now: Timestamp) -> StoreResult<()>;
    async fn list_tokens(&self, user: UserId, page: PageRequest) -> StoreResult<Page<ApiToken>>;
    /// Revokes a token of `owner`. Not found if the token belongs to someone else.
    async fn revoke_token(
        &self,
        actor: &Actor,
        owner: UserId,
        id: TokenId,
        now: Timestamp,
    ) -> StoreResult<()>;
}

#[async_trait]
pub trait AuditStore {
    /// Newest first.
    async fn list_audit(
        &self,
        filter: &AuditFilter,
        page: PageRequest,
    ) -> StoreResult<Page<AuditEntry>>;
    /// Chains up to `max` committed unsealed entries; returns how many it sealed.
    async fn seal_audit(&self, max: u32) -> StoreResult<u64>;
    /// Sealed entries with `seq > after_seq`, in sequence order.
    async fn audit_chain(&self, after_seq: i64, limit: u32) -> StoreResult<Vec<AuditEntry>>;
    /// The last sealed position and hash, kept apart from the entries.
    async fn audit_head(&self) -> StoreResult<Option<(i64, String)>>;
    async fn unsealed_audit_count(&self) -> StoreResult<i64>;
}

#[async_trait]
pub trait Store:
    DepartmentStore
    + UserStore
    + AuthStore
    + AuditStore
    + CmdbStore
    + ControlStore
    + MeasureStore
    + ServiceLevelStore
    + IncidentStore
    + NotificationStore
    + ProblemStore
    + Send
    + Sync
    + 'static
{
    /// "sqlite" or "postgres".
    fn backend(&self) -> &'static str;
    async fn ping(&self) -> StoreResult<()>;
    /// Refreshes the query planner's statistics (after bulk imports).
    async fn analyze(&self) -> StoreResult<()>;
    fn pool_stats(&self) -> PoolStats;
    async fn close(&self);
}

/// A CI with its effective classification.
#[derive(Debug, Clone)]
pub struct CiRecord {
    pub ci: crate::cmdb::Ci,
    pub effective: crate::classification::Effective,
}

#[derive(Debug, Clone, Default)]
pub struct CiFilter {
    pub ci_type: Option<String>,
    pub status: Option<crate::cmdb::Lifecycle>,
    /// Full-text search over names and attribute values.
    pub q: Option<String>,
}

/// A relationship with the names of both ends, for display.
#[derive(Debug, Clone, Serialize)]
pub struct RelationshipView {
    pub rel: crate::cmdb::Relationship,
    pub source_name: String,
    pub source_type: String,
    pub target_name: String,
    pub target_type: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct CiType {
    pub name: String,
    pub label: String,
    pub builtin: bool,
}

#[async_trait]
pub trait CmdbStore {
    async fn list_ci_types(&self) -> StoreResult<Vec<CiType>>;
    async fn create_ci_type(&self, actor: &Actor, name: &str, label: &str) -> StoreResult<CiType>;

    async fn create_ci(&self, actor: &Actor, input: crate::cmdb::CiInput) -> StoreResult<CiRecord>;
    /// Replaces a CI's fields (not its classification).
    async fn update_ci(
        &self,
        actor: &Actor,
        id: crate::ids::CiId,
        input: crate::cmdb::CiInput,
    ) -> StoreResult<CiRecord>;
    /// Deletes a CI and its relationships; what depended on it is re-classified.
    async fn delete_ci(&self, actor: &Actor, id: crate::ids::CiId) -> StoreResult<()>;
    async fn ci(&self, id: crate::ids::CiId) -> StoreResult<CiRecord>;
    async fn ci_by_key(&self, external_key: &str) -> StoreResult<CiRecord>;
    /// The given CIs (missing ones are left out), in no particular order.
    async fn cis_by_ids(&self, ids: &[crate::ids::CiId]) -> StoreResult<Vec<CiRecord>>;
    async fn list_cis(&self, filter: &CiFilter, page: PageRequest) -> StoreResult<Page<CiRecord>>;
    /// Names and types of the given CIs (missing ones are left out).
    async fn ci_names(
        &self,
        ids: &[crate::ids::CiId],
    ) -> StoreResult<Vec<(crate::ids::CiId, String, String)>>;

    /// Sets the explicit classification with a justification and re-propagates.
    async fn set_classification(
        &self,
        actor: &Actor,
        id: crate::ids::CiId,
        c: crate::classification::Classification,
        justification: &str,
    ) -> StoreResult<CiRecord>;

    async fn add_relationship(
        &self,
        actor: &Actor,
        source: crate::ids::CiId,
        target: crate::ids::CiId,
        rel_type: crate::cmdb::RelType,
    ) -> StoreResult<crate::cmdb::Relationship>;
    async fn delete_relationship(
        &self,
        actor: &Actor,
        id: crate::ids::RelationshipId,
    ) -> StoreResult<()>;
    async fn relationship(&self, id: crate::ids::RelationshipId) -> StoreResult<RelationshipView>;
    async fn list_relationships(
        &self,
        ci: Option<crate::ids::CiId>,
        page: PageRequest,
    ) -> StoreResult<Page<RelationshipView>>;
    /// Every relationship with an end in `ids` (for graph walks).
    async fn edges_touching(
        &self,
        ids: &[crate::ids::CiId],
    ) -> StoreResult<Vec<crate::cmdb::Relationship>>;

    /// Recomputes every CI's effective classification from scratch; returns how many changed.
    async fn recompute_classification(&self) -> StoreResult<u64>;

    /// Creates or updates CIs by external key (every row must have one), in one transaction
    /// with one audit entry per 500 rows. Classification is not re-propagated: call
    /// `recompute_classification` after importing relationships. Returns (created, updated,
    /// unchanged).
    async fn bulk_upsert_cis(
        &self,
        actor: &Actor,
        rows: Vec<crate::cmdb::CiInput>,
    ) -> StoreResult<(usize, usize, usize)>;
    /// Adds relationships between CIs named by external key; existing ones are left alone.
    /// Per row: `Ok(true)` created, `Ok(false)` existed, `Err(reason)`.
    async fn bulk_add_relationships(
        &self,
        actor: &Actor,
        rows: Vec<(String, crate::cmdb::RelType, String)>,
    ) -> StoreResult<Vec<Result<bool, String>>>;
}

#[async_trait]
pub trait ControlStore {
    async fn import_catalog(
        &self,
        actor: &Actor,
        c: crate::oscal::Catalog,
    ) -> StoreResult<crate::controls::CatalogImport>;
    async fn import_profile(
        &self,
        actor: &Actor,
        p: crate::oscal::Profile,
        catalog: crate::ids::CatalogId,
    ) -> StoreResult<crate::controls::BaselineImport>;
    async fn list_catalogs(&self) -> StoreResult<Vec<crate::controls::CatalogInfo>>;
    async fn list_baselines(&self) -> StoreResult<Vec<crate::controls::BaselineInfo>>;
    async fn list_controls(
        &self,
        f: &crate::controls::ControlFilter,
        page: PageRequest,
    ) -> StoreResult<Page<crate::controls::Control>>;
    async fn control(&self, id: crate::ids::ControlId) -> StoreResult<crate::controls::Control>;
    /// The given controls (missing ones are left out), in no particular order.
    async fn controls_by_ids(
        &self,
        ids: &[crate::ids::ControlId],
    ) -> StoreResult<Vec<crate::controls::Control>>;
    /// Adds a hand-written control to the organisation's own catalog.
    async fn create_control(
        &self,
        actor: &Actor,
        spec: crate::controls::ControlSpec,
    ) -> StoreResult<crate::controls::Control>;
    async fn set_control_function(
        &self,
        actor: &Actor,
        id: crate::ids::ControlId,
        f: crate::controls::Function,
    ) -> StoreResult<crate::controls::Control>;
}

/// What computing one CI's gap needs from storage.
#[derive(Debug, Clone)]
pub struct GapData {
    /// Shared by every CI with the same baseline.
    pub baseline: std::sync::Arc<[crate::ids::ControlId]>,
    pub added: Vec<(crate::ids::ControlId, crate::ids::CiId)>,
    pub own: Vec<crate::measures::Implementation>,
    /// Shared by every CI that inherits from the same business services.
    pub common: std::sync::Arc<[crate::measures::Implementation]>,
}

#[async_trait]
pub trait MeasureStore {
    /// The baseline explicitly mapped to each level (low, moderate, high).
    async fn level_baselines(&self) -> StoreResult<[Option<crate::ids::BaselineId>; 3]>;
    async fn set_level_baseline(
        &self,
        actor: &Actor,
        level: crate::classification::Level,
        baseline: Option<crate::ids::BaselineId>,
    ) -> StoreResult<()>;
    async fn add_ci_control(
        &self,
        actor: &Actor,
        ci: crate::ids::CiId,
        control: crate::ids::ControlId,
        reason: &str,
    ) -> StoreResult<()>;
    async fn remove_ci_control(
        &self,
        actor: &Actor,
        ci: crate::ids::CiId,
        control: crate::ids::ControlId,
    ) -> StoreResult<()>;
    async fn put_implementation(
        &self,
        actor: &Actor,
        imp: crate::measures::Implementation,
    ) -> StoreResult<crate::measures::Implementation>;
    /// The inputs of a CI's gap: `baseline` controls, explicit additions on the CI and on
    /// everything it inherits classification from, its implementations, and inheritable
    /// implementations of business services it relies on. (One CI of `gap_data_many`.)
    async fn gap_data(
        &self,
        ci: crate::ids::CiId,
        baseline: Option<crate::ids::BaselineId>,
    ) -> StoreResult<GapData> {
        let mut all = self.gap_data_many(&[(ci, baseline)]).await?;
        all.pop().ok_or_else(|| {
            crate::StoreError::Internal("gap data for one CI came back empty".into())
        })
    }
    /// `gap_data` for many CIs at once with a handful of set-based queries (gap reports).
    async fn gap_data_many(
        &self,
        items: &[(crate::ids::CiId, Option<crate::ids::BaselineId>)],
    ) -> StoreResult<Vec<GapData>>;
    /// Stores an evidence file for an implementation; its SHA-256 goes into the audit log.
    async fn add_evidence(
        &self,
        actor: &Actor,
        ci: crate::ids::CiId,
        control: crate::ids::ControlId,
        file_name: &str,
        content_type: &str,
        content: &[u8],
    ) -> StoreResult<crate::measures::EvidenceFile>;
    async fn list_evidence(
        &self,
        ci: crate::ids::CiId,
        control: crate::ids::ControlId,
    ) -> StoreResult<Vec<crate::measures::EvidenceFile>>;
    async fn evidence(
        &self,
        id: crate::ids::EvidenceId,
    ) -> StoreResult<(crate::measures::EvidenceFile, Vec<u8>)>;
}

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

/// One incident to create or save, fully computed by the caller: priority, the security
/// recognition and flags, the procedure phase, the SLA clock. The store writes the row,
/// its CIs, the SLA's authorised users (need-to-know), the audit entry and the
/// notification events in one transaction.
#[derive(Debug, Clone)]
pub struct IncidentWrite {
    pub incident: crate::ticket::Incident,
    /// Hold intervals (on_hold periods), kept with the incident for the clock.
    pub holds: Vec<(Timestamp, Option<Timestamp>)>,
    pub actor: Actor,
    /// `incident.create`, `incident.update`, `incident.flag`, …
    pub audit_action: &'static str,
    pub changes: serde_json::Value,
    /// The authorised users of the SLAs of the incident's service.
    pub authorised_users: Vec<UserId>,
    /// [`crate::ticket::role_mask`] of the SLAs' authorised roles.
    pub authorised_roles: i64,
    /// When the clock job must look at the incident next.
    pub clock_check_at: Option<Timestamp>,
    pub events: Vec<crate::notify::Event>,
}

/// Figures of a service's incidents in a period, for SLA reports (aggregates only: no
/// content, so need-to-know does not apply).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct IncidentStats {
    pub total: i64,
    /// P1..P4.
    pub by_priority: [i64; 4],
    pub security: i64,
    /// Clocks stopped in the period, per priority P1..P4: met and missed.
    pub response_met: [i64; 4],
    pub response_missed: [i64; 4],
    pub resolution_met: [i64; 4],
    pub resolution_missed: [i64; 4],
    /// Open clocks already breached.
    pub breached_open: i64,
    /// Security incidents first contained in the period: minutes from opening.
    pub contain_minutes: Vec<i64>,
    /// Outage intervals of availability-impacting incidents (P1/P2 on the service).
    pub outages: Vec<(Timestamp, Timestamp)>,
    /// Breaches in the period.
    pub breaches: Vec<Breach>,
}

/// A clock that breached (or stopped late) in a report period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Breach {
    pub incident: crate::ids::IncidentId,
    pub reference: String,
    pub priority: crate::incident::Priority,
    /// `response` or `resolution`.
    pub clock: &'static str,
    /// Security incidents appear in reports only as counts (need-to-know).
    pub security: bool,
}

#[async_trait]
pub trait IncidentStore {
    async fn create_group(
        &self,
        actor: &Actor,
        g: crate::ticket::GroupInput,
    ) -> StoreResult<crate::ticket::Group>;
    async fn update_group(
        &self,
        actor: &Actor,
        id: crate::ids::GroupId,
        g: crate::ticket::GroupInput,
    ) -> StoreResult<crate::ticket::Group>;
    async fn delete_group(&self, actor: &Actor, id: crate::ids::GroupId) -> StoreResult<()>;
    async fn group(&self, id: crate::ids::GroupId) -> StoreResult<crate::ticket::Group>;
    async fn list_groups(&self) -> StoreResult<Vec<crate::ticket::Group>>;

    /// Creates every incident of the batch in one transaction (group commit): all or
    /// none. Numbers are assigned here, in batch order.
    async fn create_incidents(
        &self,
        batch: Vec<IncidentWrite>,
    ) -> StoreResult<Vec<crate::ticket::Incident>>;
    /// Saves a changed incident if nobody changed it since `expected_updated_at`
    /// (otherwise a conflict on `incident_version`).
    async fn save_incident(
        &self,
        w: IncidentWrite,
        expected_updated_at: Timestamp,
    ) -> StoreResult<crate::ticket::Incident>;
    /// One incident if `viewer` may see it; not found otherwise (no trace).
    async fn incident(
        &self,
        viewer: &crate::ticket::Viewer,
        id: crate::ids::IncidentId,
    ) -> StoreResult<crate::ticket::Incident>;
    async fn incident_by_number(
        &self,
        viewer: &crate::ticket::Viewer,
        number: i64,
    ) -> StoreResult<crate::ticket::Incident>;
    /// Newest first; only what `viewer` may see.
    async fn list_incidents(
        &self,
        viewer: &crate::ticket::Viewer,
        f: &crate::ticket::IncidentFilter,
        page: PageRequest,
    ) -> StoreResult<Page<crate::ticket::Incident>>;
    async fn count_incidents(
        &self,
        viewer: &crate::ticket::Viewer,
        f: &crate::ticket::IncidentFilter,
    ) -> StoreResult<i64>;
    /// Writes up to `max` incidents stored since the last call into the full-text index,
    /// on a backend that indexes behind the commit (SQLite; PostgreSQL indexes in the
    /// create's own transaction and returns 0); returns how many. A search indexes what is
    /// left first, so it finds every incident committed before it; this keeps that short.
    async fn index_search(&self, max: u32) -> StoreResult<u64>;
    /// Which of these incidents `viewer` may see (to hide the audit entries of the others).
    async fn visible_incidents(
        &self,
        viewer: &crate::ticket::Viewer,
        ids: &[crate::ids::IncidentId],
    ) -> StoreResult<Vec<crate::ids::IncidentId>>;
    /// The holds of an incident (for recomputing its clock).
    async fn incident_holds(
        &self,
        id: crate::ids::IncidentId,
    ) -> StoreResult<Vec<(Timestamp, Option<Timestamp>)>>;
    /// For the clock job only (no viewer): incidents whose clock must be looked at by `now`.
    async fn incidents_due_for_clock(
        &self,
        now: Timestamp,
        limit: u32,
    ) -> StoreResult<Vec<crate::ticket::Incident>>;
    /// For the clock job only: updates the clock columns, audit and events of an incident
    /// it recomputed, if unchanged since `expected_updated_at`; `reminded` records the
    /// major incident's update reminder slot it sent (`Major::reminded_for`).
    #[allow(clippy::too_many_arguments)]
    async fn save_clock(
        &self,
        id: crate::ids::IncidentId,
        clock: Option<crate::sla_clock::Clock>,
        clock_check_at: Option<Timestamp>,
        expected_updated_at: Timestamp,
        audit: Option<(&'static str, serde_json::Value)>,
        events: Vec<crate::notify::Event>,
        reminded: Option<Timestamp>,
    ) -> StoreResult<bool>;

    /// Replaces the SLA-derived need-to-know of every incident on `service` (its `sla`
    /// access rows and its authorised-role mask) with `users` and `roles`, after the SLAs
    /// in force on the service changed. Writes only what differs, so a repeat changes and
    /// audits nothing; returns how many rows changed (audited on the service if any).
    async fn refresh_sla_access(
        &self,
        actor: &Actor,
        service: crate::ids::CiId,
        users: &[UserId],
        roles: i64,
    ) -> StoreResult<u64>;

    /// Need-to-know list: users added explicitly (`added`) and the SLA's (`sla`).
    async fn incident_access(
        &self,
        id: crate::ids::IncidentId,
    ) -> StoreResult<Vec<(UserId, String)>>;
    async fn grant_incident_access(
        &self,
        actor: &Actor,
        id: crate::ids::IncidentId,
        user: UserId,
    ) -> StoreResult<()>;
    async fn revoke_incident_access(
        &self,
        actor: &Actor,
        id: crate::ids::IncidentId,
        user: UserId,
    ) -> StoreResult<()>;
    async fn link_incidents(
        &self,
        actor: &Actor,
        a: crate::ids::IncidentId,
        b: crate::ids::IncidentId,
        link: bool,
    ) -> StoreResult<()>;

    async fn add_note(
        &self,
        actor: &Actor,
        incident: crate::ids::IncidentId,
        note: crate::ticket::NoteInput,
        status: crate::ticket::CommStatus,
        events: Vec<crate::notify::Event>,
    ) -> StoreResult<crate::ticket::Note>;
    /// Approves (then it is sent) or rejects a draft external communication.
    async fn decide_note(
        &self,
        actor: &Actor,
        incident: crate::ids::IncidentId,
        note: crate::ids::NoteId,
        approve: bool,
        reason: &str,
        events: Vec<crate::notify::Event>,
    ) -> StoreResult<crate::ticket::Note>;
    /// The log, oldest first; `public_only` for the reporter's portal.
    async fn notes(
        &self,
        incident: crate::ids::IncidentId,
        public_only: bool,
    ) -> StoreResult<Vec<crate::ticket::Note>>;
    #[allow(clippy::too_many_arguments)]
    async fn add_attachment(
        &self,
        actor: &Actor,
        incident: crate::ids::IncidentId,
        file_name: &str,
        content_type: &str,
        content: &[u8],
        evidence: bool,
        description: &str,
    ) -> StoreResult<crate::ticket::Attachment>;
    async fn attachments(
        &self,
        incident: crate::ids::IncidentId,
    ) -> StoreResult<Vec<crate::ticket::Attachment>>;
    async fn attachment_content(
        &self,
        incident: crate::ids::IncidentId,
        id: crate::ids::AttachmentId,
    ) -> StoreResult<(crate::ticket::Attachment, Vec<u8>)>;
    async fn add_action(
        &self,
        actor: &Actor,
        incident: crate::ids::IncidentId,
        kind: crate::procedure::ActionKind,
        body: &str,
        ci: Option<crate::ids::CiId>,
    ) -> StoreResult<crate::ticket::Action>;
    async fn actions(
        &self,
        incident: crate::ids::IncidentId,
    ) -> StoreResult<Vec<crate::ticket::Action>>;

    async fn save_filter(
        &self,
        user: UserId,
        name: &str,
        query: &str,
    ) -> StoreResult<crate::ticket::SavedFilter>;
    async fn filters(&self, user: UserId) -> StoreResult<Vec<crate::ticket::SavedFilter>>;
    async fn delete_filter(&self, user: UserId, id: crate::ids::FilterId) -> StoreResult<()>;

    /// Failed implementations on these CIs: (CI, control, control label). Whether the
    /// control is required is for the caller to check against the CI's gap data.
    async fn failed_implementations(
        &self,
        cis: &[crate::ids::CiId],
    ) -> StoreResult<Vec<(crate::ids::CiId, crate::ids::ControlId, String)>>;

    /// Aggregates for an SLA report (see [`IncidentStats`]).
    async fn incident_stats(
        &self,
        service: crate::ids::CiId,
        from: Timestamp,
        to: Timestamp,
    ) -> StoreResult<IncidentStats>;

    /// Outbox: events not yet dispatched, oldest first.
    async fn pending_events(
        &self,
        limit: u32,
    ) -> StoreResult<Vec<(crate::ids::EventId, Timestamp, crate::notify::Event)>>;
    async fn mark_dispatched(&self, ids: &[crate::ids::EventId], now: Timestamp)
    -> StoreResult<()>;
}

/// A delivery the dispatcher decided on for an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDelivery {
    pub channel: crate::notify::Channel,
    /// The e-mail address, or the webhook's name.
    pub target: String,
}

/// Deliveries per status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct DeliveryCounts {
    pub pending: i64,
    pub sent: i64,
    pub failed: i64,
    pub dead: i64,
}

/// The notification outbox's far side: deliveries made from events, their attempts and
/// outcomes. Dispatching writes are bookkeeping (not audited); a person's retry is.
#[async_trait]
pub trait NotificationStore {
    /// Records an event in the outbox on its own, for changes that are not written through
    /// a store method that takes events (those write them in their own transaction).
    async fn enqueue_event(
        &self,
        event: &crate::notify::Event,
        now: Timestamp,
    ) -> StoreResult<crate::ids::EventId>;
    /// The distinct e-mail addresses of the named users and of every holder of one of the
    /// roles, as they are now; disabled accounts are left out.
    async fn recipients(
        &self,
        users: &[UserId],
        roles: &[crate::account::Role],
    ) -> StoreResult<Vec<String>>;
    /// Creates each event's deliveries (pending, due at `now`) and marks the events
    /// dispatched, all in one transaction (on SQLite a commit per event would take the one
    /// writer from incident creates each time). A delivery that exists (same event, channel,
    /// target) is left alone, so two dispatchers planning the same event never make it
    /// twice. Returns how many were created.
    async fn plan_deliveries(
        &self,
        plans: &[(crate::ids::EventId, Vec<NewDelivery>)],
        now: Timestamp,
    ) -> StoreResult<u64>;
    /// Takes up to `limit` due deliveries (pending or failed, next attempt at or before
    /// `now`), oldest due first, and holds them until `lease_until` (their next attempt is
    /// moved there), so no other dispatcher takes them meanwhile.
    async fn claim_deliveries(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
        limit: u32,
    ) -> StoreResult<Vec<crate::notify::ClaimedDelivery>>;
    /// Stores an attempt's outcome (the attempt is counted).
    async fn record_delivery(
        &self,
        id: crate::ids::DeliveryId,
        outcome: &crate::notify::Outcome,
        now: Timestamp,
    ) -> StoreResult<crate::notify::Delivery>;
    /// Newest first, optionally of one status.
    async fn list_deliveries(
        &self,
        status: Option<crate::notify::DeliveryStatus>,
        page: PageRequest,
    ) -> StoreResult<Page<crate::notify::Delivery>>;
    async fn delivery(&self, id: crate::ids::DeliveryId) -> StoreResult<crate::notify::Delivery>;
    /// Puts a failed or dead delivery back to pending, due at `now` (audited); anything
    /// else is a conflict (`delivery_not_retryable`).
    async fn retry_delivery(
        &self,
        actor: &Actor,
        id: crate::ids::DeliveryId,
        now: Timestamp,
    ) -> StoreResult<crate::notify::Delivery>;
    async fn delivery_counts(&self) -> StoreResult<DeliveryCounts>;
}

/// One problem to create or save, fully computed by the caller (lifecycle and gate rules in
/// [`crate::problem`]). The store writes the row, its CIs, the review (if any) into the
/// never-changing review history, the audit entry and the notification events in one
/// transaction. On creation the store fills in the new reference (audit `reference`, and
/// events about the problem that have none yet).
#[derive(Debug, Clone)]
pub struct ProblemWrite {
    pub problem: crate::problem::Problem,
    pub actor: Actor,
    /// `problem.create`, `problem.update`, `problem.workaround.publish`, …
    pub audit_action: &'static str,
    pub changes: serde_json::Value,
    pub events: Vec<crate::notify::Event>,
    /// A security review to add to the history.
    pub review: Option<crate::problem::Review>,
}

/// Problems, their review history and their links to incidents.
#[async_trait]
pub trait ProblemStore {
    /// Creates a problem; its number is assigned here.
    async fn create_problem(&self, w: ProblemWrite) -> StoreResult<crate::problem::Problem>;
    /// Saves a changed problem if nobody changed it since `expected_updated_at`
    /// (otherwise a conflict on `problem_version`).
    async fn save_problem(
        &self,
        w: ProblemWrite,
        expected_updated_at: Timestamp,
    ) -> StoreResult<crate::problem::Problem>;
    async fn problem(&self, id: crate::ids::ProblemId) -> StoreResult<crate::problem::Problem>;
    async fn problem_by_number(&self, number: i64) -> StoreResult<crate::problem::Problem>;
    /// Newest first.
    async fn list_problems(
        &self,
        f: &crate::problem::ProblemFilter,
        page: PageRequest,
    ) -> StoreResult<Page<crate::problem::Problem>>;
    /// Every review of the problem's fixes, oldest first.
    async fn problem_reviews(
        &self,
        id: crate::ids::ProblemId,
    ) -> StoreResult<Vec<crate::problem::Review>>;
    /// Links (or unlinks) an incident; returns whether anything changed. Unlinking what is
    /// not linked is not found. Callers check the incident is visible to the actor first.
    async fn link_problem_incident(
        &self,
        actor: &Actor,
        problem: crate::ids::ProblemId,
        incident: crate::ids::IncidentId,
        link: bool,
    ) -> StoreResult<bool>;
    /// The linked incidents `viewer` may see (need-to-know), by number; hidden ones leave
    /// no trace, not even in a count.
    async fn linked_incidents(
        &self,
        viewer: &crate::ticket::Viewer,
        problem: crate::ids::ProblemId,
    ) -> StoreResult<Vec<crate::ticket::Incident>>;
}
