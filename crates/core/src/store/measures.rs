//! Controls, catalogues and baselines; measures on CIs and the gap data.

use crate::authz::Actor;
use crate::error::StoreResult;
use crate::page::{Page, PageRequest};
use async_trait::async_trait;

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
