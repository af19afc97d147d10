//! The audit log: listing, sealing, the chain.

use crate::audit::AuditEntry;
use crate::error::StoreResult;
use crate::page::{Page, PageRequest};
use crate::time::Timestamp;
use async_trait::async_trait;

#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub entity_type: Option<String>,
    pub entity_id: Option<String>,
    pub actor: Option<String>,
    pub action: Option<String>,
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
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
