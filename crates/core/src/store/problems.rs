//! Problems and known errors.

use crate::authz::Actor;
use crate::error::StoreResult;
use crate::page::{Page, PageRequest};
use crate::time::Timestamp;
use async_trait::async_trait;

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
    /// How many problems `f` selects.
    async fn count_problems(&self, f: &crate::problem::ProblemFilter) -> StoreResult<i64>;
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
