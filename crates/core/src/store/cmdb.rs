//! The CMDB: CI types, CIs, relationships, classification.

use crate::authz::Actor;
use crate::error::StoreResult;
use crate::page::{Page, PageRequest};
use async_trait::async_trait;
use serde::Serialize;

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
